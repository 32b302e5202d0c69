"""A moto server on loopback as the stand-in AWS endpoint (started once for the session, by the tests), a
pinflow server whose AWS integrations call it, and boto3 clients of both.

moto keeps its state in this process for the whole session: tests name what they create uniquely.
AWS credentials and config of the machine are hidden from every test here, so that a developer's own
account is never called and "no credentials" means none.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from pinflow.engine.integrations.aws_settings import AwsSettings
from pinflow.service import Pinflow
from tests.api.conftest import CLIENT_CONFIG, RunningServer

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
REGION = "us-east-1"


@pytest.fixture(autouse=True)
def no_aws_account(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Neither credentials nor configuration from this machine (nor the instance metadata service)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


class Moto:
    """moto's server: its URL, and boto3 clients of the services it serves."""

    def __init__(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        # Batch jobs run in Docker by default; here they succeed at once (moto's documented switch).
        request = urllib.request.Request(f"{self.url}/moto-api/config", method="POST",
                                         data=json.dumps({"batch": {"use_docker": False}}).encode())
        urllib.request.urlopen(request, timeout=10).close()
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service, endpoint_url=self.url, region_name=REGION, aws_access_key_id="moto",
                aws_secret_access_key="moto", config=CLIENT_CONFIG)
        return self._clients[service]

    def stop(self) -> None:
        for client in self._clients.values():
            client.close()
        self.server.stop()


@pytest.fixture(scope="session")
def moto() -> Iterator[Moto]:
    running = Moto()
    yield running
    running.stop()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class AwsServer:
    """A pinflow server (a `RunningServer`) and helpers to run a definition on it and read the outcome."""

    def __init__(self, running: RunningServer) -> None:
        self.running = running
        self.pf: Pinflow = running.pf
        self.sfn = running.client("stepfunctions")
        self.iam = running.client("iam")

    def role(self, statements: list[dict[str, Any]] | None = None) -> str:
        name = unique("role")
        arn = self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        statements = statements if statements is not None else [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
        if statements:
            self.iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": statements}))
        return str(arn)

    def machine(self, definition: dict[str, Any], role: str | None = None, name: str | None = None,
                kind: str = "STANDARD") -> str:
        return str(self.sfn.create_state_machine(name=name or unique("machine"), definition=json.dumps(definition),
                                                 roleArn=role or self.role(), type=kind)["stateMachineArn"])

    def start(self, machine_arn: str, value: Any = None) -> str:
        return str(self.sfn.start_execution(stateMachineArn=machine_arn,
                                            input=json.dumps({} if value is None else value))["executionArn"])

    def finished(self, execution_arn: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            described: dict[str, Any] = self.sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                return described
            if time.monotonic() > deadline:
                raise AssertionError(f"{execution_arn} still running")
            time.sleep(0.02)

    def run(self, definition: dict[str, Any], value: Any = None, role: str | None = None) -> dict[str, Any]:
        return self.finished(self.start(self.machine(definition, role), value))

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        return list(self.sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"])

    def close(self) -> None:
        self.sfn.close()
        self.iam.close()
        self.running.stop()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., AwsServer]]:
    """Start pinflow servers with the given options (`aws`, `mock_config`, `http_hosts`, ...)."""
    started: list[AwsServer] = []

    def start(**options: Any) -> AwsServer:
        options.setdefault("isolation", "none")
        pf = Pinflow.open(data_dir=tmp_path / f"data{len(started)}", **options)
        server = AwsServer(RunningServer(pf))
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()
        server.pf.close()


@pytest.fixture
def aws(serve: Callable[..., AwsServer], moto: Moto) -> AwsServer:
    """A pinflow server whose AWS integrations call moto's server (`*` overridden to it)."""
    return serve(aws=AwsSettings(endpoints={"*": moto.url}))


def task(resource: str, parameters: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    state: dict[str, Any] = {"Type": "Task", "Resource": resource, "End": True}
    if parameters is not None:
        state["Parameters"] = parameters
    state.update(fields)
    return state


def one(state: dict[str, Any]) -> dict[str, Any]:
    """A machine of one state named `Call`."""
    return {"StartAt": "Call", "States": {"Call": state}}


def output(described: dict[str, Any]) -> Any:
    assert described["status"] == "SUCCEEDED", (described.get("error"), described.get("cause"))
    return json.loads(described["output"])


def without_metadata(value: dict[str, Any]) -> dict[str, Any]:
    return {key: item for key, item in value.items() if key not in ("SdkHttpMetadata", "SdkResponseMetadata")}
