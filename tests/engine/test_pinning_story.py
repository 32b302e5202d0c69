"""The story pinflow exists for: a deploy while a long execution waits must not change what it runs.

Day 1: the machine waits 300 s, calls `hello` (answers "Approved") and checks for "Approved".
Day 2: `hello` answers "ThumbsUp", the Wait is gone and the check is for "ThumbsUp". The day-1
execution is still in its Wait when day 2 is deployed, and the engine is restarted meanwhile.
"""

from __future__ import annotations

import json
from pathlib import Path

from pinflow import arns
from pinflow.clock import FakeClock
from tests.engine.conftest import ROLE_TRUST, function_zip, wait_until

HELLO_V1 = 'def handler(event, context):\n    return "Approved"\n'
HELLO_V2 = 'def handler(event, context):\n    return "ThumbsUp"\n'
ROLE = arns.role("story-role")


def machine(function_arn: str, expected: str, wait: bool) -> str:
    states: dict = {
        "Hello": {"Type": "Task", "Resource": function_arn, "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$", "StringEquals": expected, "Next": "Done"}],
                  "Default": "Rejected"},
        "Done": {"Type": "Succeed"},
        "Rejected": {"Type": "Fail", "Error": "NotApproved", "Cause": "hello did not approve"},
    }
    start = "Hello"
    if wait:
        states["Wait"] = {"Type": "Wait", "Seconds": 300, "Next": "Hello"}
        start = "Wait"
    return json.dumps({"StartAt": start, "States": states})


def grant(pf, resources: list[str]) -> None:
    pf.roles.put_role_policy("story-role", "invoke", json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": resources}]}))


def play(tmp_path: Path, open_pinflow, clock: FakeClock, *, qualified: bool, narrow_role: bool = False):
    hello = arns.function("hello")
    pf = open_pinflow()
    pf.roles.create_role("story-role", ROLE_TRUST)
    grant(pf, [hello, f"{hello}:*"])
    pf.functions.create_function("hello", function_zip(tmp_path, "v1", HELLO_V1), handler="app.handler",
                                 publish=True)
    day1 = machine(f"{hello}:1" if qualified else hello, "Approved", wait=True)
    sm = pf.machines.create("story", day1, ROLE)
    first = pf.engine.start_execution(sm["stateMachineArn"], name="day-1")["executionArn"]
    assert pf.engine.execution_row(first)["status"] == "RUNNING"

    # A real restart while the day-1 execution waits: close the store, open a new engine.
    pf.close()
    pf = open_pinflow()
    pf.functions.update_function_code("hello", function_zip(tmp_path, "v2", HELLO_V2), publish=True)
    pf.machines.update(sm["stateMachineArn"], definition=machine(f"{hello}:2" if qualified else hello,
                                                                  "ThumbsUp", wait=False))
    if narrow_role:
        grant(pf, [hello, f"{hello}:2"])  # the day-2 deploy drops function:hello:* (and so hello:1)
    second = pf.engine.start_execution(sm["stateMachineArn"], name="day-2")["executionArn"]
    assert pf.engine.wait_for(second, timeout=20)["status"] == "SUCCEEDED"
    assert pf.engine.execution_row(first)["status"] == "RUNNING"

    clock.advance(301)
    wait_until(lambda: pf.engine.execution_row(first)["status"] != "RUNNING")
    return pf, pf.engine.execution_row(first)


def test_pinned_execution_runs_the_version_it_started_with(tmp_path, open_pinflow, clock):
    pf, row = play(tmp_path, open_pinflow, clock, qualified=True)
    assert row["status"] == "SUCCEEDED", (row["error"], row["cause"])
    events = pf.engine.history(row["arn"], limit=1000)
    succeeded = [e for e in events if e["type"] == "LambdaFunctionSucceeded"]
    assert succeeded[0]["lambdaFunctionSucceededEventDetails"]["output"] == "Approved"
    assert [e["type"] for e in events][-1] == "ExecutionSucceeded"


def test_unqualified_reference_picks_up_new_code_as_on_aws(tmp_path, open_pinflow, clock):
    pf, row = play(tmp_path, open_pinflow, clock, qualified=False)
    assert row["status"] == "FAILED"
    assert row["error"] == "NotApproved"
    events = pf.engine.history(row["arn"], limit=1000)
    outputs = [e["lambdaFunctionSucceededEventDetails"]["output"] for e in events
               if e["type"] == "LambdaFunctionSucceeded"]
    assert outputs == ["ThumbsUp"]


def test_narrowing_the_role_does_not_strand_a_running_execution(tmp_path, open_pinflow, clock):
    pf, row = play(tmp_path, open_pinflow, clock, qualified=True, narrow_role=True)
    assert row["status"] == "SUCCEEDED", (row["error"], row["cause"])
    # A new execution gets the new policy at once: calling hello:1 is now denied.
    hello = arns.function("hello")
    sm = pf.machines.create("old-version-caller", machine(f"{hello}:1", "Approved", wait=False), ROLE)
    started = pf.engine.start_execution(sm["stateMachineArn"], name="after-deploy")["executionArn"]
    denied = pf.engine.wait_for(started, timeout=20)
    assert denied["status"] == "FAILED"
    assert denied["error"] == "Lambda.AWSLambdaException"
    assert "is not authorized to perform: lambda:InvokeFunction" in denied["cause"]
    assert f"{hello}:1" in denied["cause"]
