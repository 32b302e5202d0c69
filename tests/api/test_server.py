"""`pinflow server` as a process: ready quickly, one debug line per request, a clean stop on SIGTERM and
SIGINT, loopback unless authentication is on, data kept across restarts."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from tests.roles import STATES_TRUST

_SCRIPT = Path(sys.executable).parent / "pinflow"
_MODULE = [sys.executable, "-c", "from pinflow.cli import main; main()"]
PINFLOW = [str(_SCRIPT)] if _SCRIPT.exists() else _MODULE
CONFIG = Config(inject_host_prefix=False, retries={"max_attempts": 0}, region_name="us-east-1")
PASS = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers(port: int) -> bool:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", data=b"{}", method="POST",
                                     headers={"X-Amz-Target": "AWSStepFunctions.ListStateMachines"})
    try:
        with urllib.request.urlopen(request, timeout=1) as answer:
            return answer.status == 200
    except OSError:
        return False


class Server:
    """A `pinflow server` child process."""

    def __init__(self, tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.log = tmp_path / f"server-{self.port}.log"
        command = [*PINFLOW, "server", "--port", str(self.port), *args]
        if "--db" not in args and "--data-dir" not in args:
            command += ["--data-dir", str(tmp_path / "data")]
        self.began = time.monotonic()
        with self.log.open("w") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                            env={**os.environ, **(env or {})})

    def wait_ready(self, timeout: float = 10) -> float:
        while time.monotonic() - self.began < timeout:
            if answers(self.port):
                return time.monotonic() - self.began
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {self.output()}")
            time.sleep(0.01)
        raise AssertionError(f"server not ready: {self.output()}")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=15)

    def output(self) -> str:
        return self.log.read_text()

    def client(self, service: str = "stepfunctions", key_id: str = "a", secret: str = "b"):
        made = boto3.client(service, endpoint_url=f"http://127.0.0.1:{self.port}", config=CONFIG,
                            aws_access_key_id=key_id, aws_secret_access_key=secret)
        _made.append(made)
        return made


_made: list = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _made:
        _made.pop().close()


@pytest.fixture
def started(tmp_path) -> Iterator[Server]:
    server = Server(tmp_path, "--log-level", "debug")
    yield server
    if server.process.poll() is None:
        server.process.kill()
        server.process.wait()


def test_ready_within_two_seconds_and_logs_each_request(started):
    assert started.wait_ready() < 2.0
    sfn = started.client()
    started.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument=STATES_TRUST)
    sfn.create_state_machine(name="logged", definition=PASS, roleArn="arn:aws:iam::123456789012:role/r")
    sfn.list_state_machines()
    assert started.stop() == 0
    lines = [line for line in started.output().splitlines() if "pinflow.api" in line]
    assert any("POST / CreateStateMachine 200" in line for line in lines), lines
    assert any("POST / ListStateMachines 200" in line for line in lines), lines
    assert all(" DEBUG " in line for line in lines)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stops_cleanly(started, sig):
    started.wait_ready()
    assert started.stop(sig) == 0
    output = started.output()
    assert "stopped" in output.splitlines()[-1]
    assert "Traceback" not in output


def test_data_survives_a_restart(tmp_path):
    first = Server(tmp_path)
    first.wait_ready()
    first.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument=STATES_TRUST)
    arn = first.client().create_state_machine(name="kept", definition=PASS,
                                              roleArn="arn:aws:iam::123456789012:role/r")["stateMachineArn"]
    execution = first.client().start_execution(stateMachineArn=arn, name="one")["executionArn"]
    assert first.stop() == 0
    second = Server(tmp_path)
    second.wait_ready()
    try:
        sfn = second.client()
        assert [m["name"] for m in sfn.list_state_machines()["stateMachines"]] == ["kept"]
        assert sfn.describe_execution(executionArn=execution)["status"] == "SUCCEEDED"
    finally:
        assert second.stop() == 0


def test_sync_host_prefix_is_served(started):
    started.wait_ready()
    request = urllib.request.Request(f"http://127.0.0.1:{started.port}/", data=b"{}", method="POST", headers={
        "X-Amz-Target": "AWSStepFunctions.ListStateMachines", "Host": f"sync-127.0.0.1:{started.port}"})
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert json.loads(answer.read()) == {"stateMachines": []}


def test_refuses_a_public_address_without_authentication(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "PINFLOW_ACCESS_KEYS"}
    command = [*PINFLOW, "server", "--host", "0.0.0.0", "--port", str(free_port()),
               "--data-dir", str(tmp_path / "data")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, env=env)
    assert result.returncode == 2
    assert "refusing to listen on 0.0.0.0 without authentication" in result.stderr
    result = subprocess.run([*PINFLOW, "server", "--data-dir", str(tmp_path / "a"), "--db", "sqlite:///x.db"],
                            capture_output=True, text=True, timeout=30, env=env)
    assert result.returncode == 2


def test_public_address_with_authentication(tmp_path):
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"AKIDSERVER": "secret"}))
    server = Server(tmp_path, "--host", "0.0.0.0", "--auth", str(keys))
    try:
        deadline = time.monotonic() + 10
        sfn = server.client(key_id="AKIDSERVER", secret="secret")
        while True:
            try:
                assert sfn.list_state_machines()["stateMachines"] == []
                break
            except Exception:
                if time.monotonic() > deadline or server.process.poll() is not None:
                    raise
                time.sleep(0.05)
        assert not answers(server.port)  # unsigned: refused
    finally:
        assert server.stop() == 0
    assert "SigV4 signatures verified" in server.output()


def test_refuses_a_malformed_http_task_hosts_pattern(tmp_path):
    command = [*PINFLOW, "server", "--port", str(free_port()), "--data-dir", str(tmp_path / "data"),
               "--http-task-hosts", "public,127.0.0.1:notaport"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "--http-task-hosts" in result.stderr
