"""No kind of long request starves the others: Invoke, StartSyncExecution, TestState and GetActivityTask
each wait in a lane of their own, and a full lane answers with its service's refusal at once.

The function these requests call blocks on a TCP connection to the test until the test lets it go, so
"blocked" is a state the test controls rather than a duration it guesses. More requests of every kind
than the shared pool has threads (40) are held at once while other operations are called.

AWS's refusals, from each API's reference: Lambda's Invoke answers TooManyRequestsException (HTTP 429,
Reason ConcurrentInvocationLimitExceeded, "Rate Exceeded.") over its concurrency; Step Functions answers
ThrottlingException (HTTP 400, one of the common errors of every AWS API) over a rate, and
GetActivityTask ActivityWorkerLimitExceeded (HTTP 400) when too many workers poll at once.
"""

from __future__ import annotations

import io
import json
import socket
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from pinflow.api import lanes
from tests.api.conftest import RunningServer
from tests.roles import execution_role

# More than the 40 threads the shared pool has: held at once, they would take every one of them.
HELD = 45
GATE_FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:gate:1"
GATE_SOURCE = '''
import socket

def handler(event, context):
    with socket.create_connection(("127.0.0.1", event["port"])) as held:
        held.recv(1)  # until the test lets go
    return "released"
'''
PATIENT = Config(inject_host_prefix=False, retries={"max_attempts": 0}, region_name="us-east-1",
                 read_timeout=120, connect_timeout=10)
QUICK = Config(inject_host_prefix=False, retries={"max_attempts": 0}, region_name="us-east-1", read_timeout=10)


class Gate:
    """A loopback listener that holds every connection until `release()`, and closes later ones at once."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._held: list[socket.socket] = []
        self._released = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            if self._released.is_set():
                connection.close()
            else:
                self._held.append(connection)

    def release(self) -> None:
        self._released.set()
        for connection in self._held:
            connection.close()

    def close(self) -> None:
        self.release()
        self._listener.close()


@pytest.fixture
def gate() -> Iterator[Gate]:
    made = Gate()
    yield made
    made.close()


def _zipped(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


class Setup:
    """The gate function, an Express machine and a TestState definition that call it, and an activity."""

    def __init__(self, server: RunningServer, gate: Gate) -> None:
        self.server = server
        self.event = {"port": gate.port}
        self._clients: list[Any] = []
        server.pf.functions.create_function("gate", _zipped(GATE_SOURCE), handler="app.handler", timeout=120,
                                            publish=True)
        self.role = execution_role(server.pf, "lanes")
        task = {"Type": "Task", "Resource": GATE_FUNCTION, "End": True}
        self.task = json.dumps(task)
        sfn = self.client("stepfunctions", QUICK)
        self.express = sfn.create_state_machine(
            name="express-gate", type="EXPRESS", roleArn=self.role,
            definition=json.dumps({"StartAt": "Call", "States": {"Call": task}}))["stateMachineArn"]
        self.activity = sfn.create_activity(name="work")["activityArn"]
        self.standard = sfn.create_state_machine(name="feeds-workers", roleArn=self.role, definition=json.dumps(
            {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": self.activity, "End": True}}}))[
            "stateMachineArn"]

    def client(self, service: str, config: Config = QUICK) -> Any:
        made = self.server.client(service, config=config)
        self._clients.append(made)
        return made

    def calls(self) -> dict[str, Callable[[Any], Any]]:
        """One call of each long kind, given a client of its service."""
        payload = json.dumps(self.event).encode()
        return {
            "Invoke": lambda lam: lam.invoke(FunctionName=GATE_FUNCTION, Payload=payload),
            "StartSyncExecution": lambda sfn: sfn.start_sync_execution(stateMachineArn=self.express,
                                                                       input=json.dumps(self.event)),
            "TestState": lambda sfn: sfn.test_state(definition=self.task, roleArn=self.role,
                                                    input=json.dumps(self.event)),
            "GetActivityTask": lambda sfn: sfn.get_activity_task(activityArn=self.activity, workerName="w"),
        }

    def close(self) -> None:
        for made in self._clients:
            made.close()


@pytest.fixture
def setup(server: RunningServer, gate: Gate) -> Iterator[Setup]:
    made = Setup(server, gate)
    yield made
    made.close()


def _hold(setup: Setup, kind: str, count: int, outcomes: list[Any]) -> list[threading.Thread]:
    """Start `count` calls of `kind` in threads, each with its own client; their outcomes go to `outcomes`."""
    call = setup.calls()[kind]
    service = "lambda" if kind == "Invoke" else "stepfunctions"

    def one() -> None:
        client = setup.client(service, PATIENT)
        try:
            outcomes.append(call(client))
        except ClientError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=one, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads


def _until(check: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        busy = (lanes.INVOKE.busy, lanes.SYNC.busy, lanes.POLLS.busy)
        assert time.monotonic() < deadline, f"the requests did not all start: lanes busy {busy}"
        time.sleep(0.05)


def _lane_of(kind: str) -> lanes.Lane:
    return {"Invoke": lanes.INVOKE, "GetActivityTask": lanes.POLLS}.get(kind, lanes.SYNC)


@pytest.mark.slow
def test_every_long_kind_held_at_once_and_other_operations_still_answer(setup: Setup, gate: Gate) -> None:
    outcomes: dict[str, list[Any]] = {kind: [] for kind in setup.calls()}
    threads = [thread for kind in outcomes for thread in _hold(setup, kind, HELD, outcomes[kind])]
    # Every one of them is in its lane, waiting (on the gate, or for one of the function's workers).
    _until(lambda: (lanes.INVOKE.busy, lanes.SYNC.busy, lanes.POLLS.busy) == (HELD, 2 * HELD, HELD), 15)

    sfn, lam, iam = (setup.client(service, QUICK) for service in ("stepfunctions", "lambda", "iam"))
    assert [m["name"] for m in sfn.list_state_machines()["stateMachines"]] == ["express-gate", "feeds-workers"]
    assert lam.get_account_settings()["AccountLimit"]["ConcurrentExecutions"] == 1000
    assert [f["FunctionName"] for f in lam.list_functions()["Functions"]] == ["gate"]
    assert "lanes" in [r["RoleName"] for r in iam.list_roles()["Roles"]]
    started = sfn.start_execution(stateMachineArn=setup.standard, input="{}")["executionArn"]
    assert sfn.describe_execution(executionArn=started)["status"] == "RUNNING"

    # Let everything go: the function returns, and each poller gets a task of its own.
    gate.release()
    for _ in range(HELD - 1):
        sfn.start_execution(stateMachineArn=setup.standard, input="{}")
    for thread in threads:
        thread.join(timeout=120)
    assert [o["Payload"].read() for o in outcomes["Invoke"]] == [b'"released"'] * HELD
    assert [(o["status"], o["output"]) for o in outcomes["StartSyncExecution"]] == [("SUCCEEDED", '"released"')] * HELD
    assert [(o["status"], o["output"]) for o in outcomes["TestState"]] == [("SUCCEEDED", '"released"')] * HELD
    assert all("taskToken" in o for o in outcomes["GetActivityTask"]), outcomes["GetActivityTask"]
    assert len({o["taskToken"] for o in outcomes["GetActivityTask"]}) == HELD


@pytest.mark.parametrize("kind, code, status, message", [
    ("Invoke", "TooManyRequestsException", 429, "Rate Exceeded."),
    ("StartSyncExecution", "ThrottlingException", 400, "Rate exceeded"),
    ("TestState", "ThrottlingException", 400, "Rate exceeded"),
    ("GetActivityTask", "ActivityWorkerLimitExceeded", 400,
     "The maximum number of workers concurrently polling for activity tasks has been reached."),
])
def test_a_full_lane_refuses_at_once_as_the_service_does(setup: Setup, gate: Gate, monkeypatch: pytest.MonkeyPatch,
                                                         kind: str, code: str, status: int, message: str) -> None:
    small = lanes.Lane(f"test-{kind}", 2, _lane_of(kind)._refusal)
    name = {"Invoke": "INVOKE", "GetActivityTask": "POLLS"}.get(kind, "SYNC")
    monkeypatch.setattr(lanes, name, small)
    outcomes: list[Any] = []
    threads = _hold(setup, kind, 2, outcomes)
    _until(lambda: small.busy == 2)

    client = setup.client("lambda" if kind == "Invoke" else "stepfunctions", QUICK)
    with pytest.raises(ClientError) as refused:
        setup.calls()[kind](client)
    error = refused.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Message"]) == (
        code, status, message)
    if kind == "Invoke":
        assert error["Reason"] == "ConcurrentInvocationLimitExceeded"
    assert outcomes == []  # the two held ones still wait: the refusal did not queue behind them

    gate.release()
    sfn = setup.client("stepfunctions", QUICK)
    for _ in range(2):
        sfn.start_execution(stateMachineArn=setup.standard, input="{}")
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 2 and not any(isinstance(o, ClientError) for o in outcomes), outcomes
    _until(lambda: small.busy == 0)
    # Freed, the lane takes requests again.
    if kind == "GetActivityTask":
        sfn.start_execution(stateMachineArn=setup.standard, input="{}")
    assert setup.calls()[kind](setup.client("lambda" if kind == "Invoke" else "stepfunctions", PATIENT))
