"""A policy written to be slow to match, evaluated by a real server while other calls come in."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pinflow.service import Pinflow
from tests.api.conftest import RunningServer

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
# A name of 63 `a`s and a `c`: the Resource below almost matches it in C(64, 21) ways.
NAME = "a" * 63 + "c"
MANY_STARS = "arn:aws:lambda:us-east-1:123456789012:function:" + "*a" * 20 + "*b"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    pf = Pinflow.open(data_dir=tmp_path / "data")
    running = RunningServer(pf)
    yield running
    running.stop()
    pf.close()


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 'ran'\n")
    return buffer.getvalue()


def test_a_many_wildcard_policy_is_decided_in_milliseconds_while_other_calls_answer(
    server: RunningServer,
) -> None:
    iam, lam, sfn = server.client("iam"), server.client("lambda"), server.client("stepfunctions")
    try:
        role = iam.create_role(RoleName="stars", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        iam.put_role_policy(RoleName="stars", PolicyName="invoke", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": MANY_STARS}]}))
        function_arn = lam.create_function(FunctionName=NAME, Runtime="python3.11", Role=role,
                                           Handler="app.handler", Code={"ZipFile": _zip()})["FunctionArn"]
        definition = {"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": function_arn,
                                                             "End": True}}}
        machine = sfn.create_state_machine(name="stars", definition=json.dumps(definition),
                                           roleArn=role)["stateMachineArn"]
        latencies: list[float] = []
        done = threading.Event()

        def other_caller() -> None:
            while not done.is_set():
                began = time.perf_counter()
                sfn.list_state_machines()
                latencies.append(time.perf_counter() - began)

        caller = threading.Thread(target=other_caller)
        caller.start()
        try:
            began = time.perf_counter()
            execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
            while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
                assert time.perf_counter() - began < 10, "the policy is still being evaluated"
                time.sleep(0.005)
            decided = time.perf_counter() - began
        finally:
            done.set()
            caller.join()
        # The Resource does not cover the name (it would need a final `b`): AccessDenied, as on AWS.
        assert described["status"] == "FAILED"
        assert described["error"] == "Lambda.AWSLambdaException"
        assert "is not authorized to perform: lambda:InvokeFunction" in described["cause"]
        # Generous bounds for a shared machine; a backtracking matcher takes minutes on this policy.
        assert decided < 2.0
        assert latencies and max(latencies) < 1.0
    finally:
        for client in (iam, lam, sfn):
            client.close()
