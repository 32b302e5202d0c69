"""A real pinflow server on an ephemeral port, and boto3 clients pointed at it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import uvicorn
from botocore.config import Config

from pinflow.service import Pinflow

CLIENT_CONFIG = Config(inject_host_prefix=False, retries={"max_attempts": 0}, region_name="us-east-1")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RunningServer:
    """uvicorn serving pinflow's app in a thread; `stop()` shuts it down."""

    def __init__(self, pf: Pinflow, **app_options: object) -> None:
        from pinflow.api import wire
        from pinflow.api.app import create_app

        self.pf = pf
        self.port = _free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        # Served as `pinflow server` serves it: proxy headers applied by the app, each answer written once.
        app_options.setdefault("forwarded_allow_ips", "127.0.0.1,::1")
        config = uvicorn.Config(create_app(pf, **app_options), host="127.0.0.1", port=self.port,
                                log_level="warning", lifespan="off", proxy_headers=False,
                                http=wire.CoalescingHttpTools)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.01)

    def client(self, service: str, **options: object):
        options.setdefault("config", CLIENT_CONFIG)
        return boto3.client(service, endpoint_url=self.endpoint, aws_access_key_id="test",
                            aws_secret_access_key="test", **options)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def pinflow_service(tmp_path: Path) -> Iterator[Pinflow]:
    pf = Pinflow.open(data_dir=tmp_path / "data")
    yield pf
    pf.close()


@pytest.fixture
def server(pinflow_service: Pinflow) -> Iterator[RunningServer]:
    running = RunningServer(pinflow_service)
    yield running
    running.stop()


@pytest.fixture
def endpoint(server: RunningServer) -> str:
    return server.endpoint


def _closing(client):
    yield client
    client.close()  # an unclosed client's socket would warn (an error under -W error) later


@pytest.fixture
def sfn(server: RunningServer):
    yield from _closing(server.client("stepfunctions"))


@pytest.fixture
def lam(server: RunningServer):
    yield from _closing(server.client("lambda"))


@pytest.fixture
def iam(server: RunningServer):
    yield from _closing(server.client("iam"))
