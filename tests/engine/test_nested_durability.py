"""A parent waiting on a `.sync` child learns of the child's end exactly once, on SQLite and PostgreSQL,
even when the server was down at that moment or the message from the child's last step was lost."""

from __future__ import annotations

import json

from pinflow import arns
from pinflow.engine import watches
from tests.engine.conftest import wait_until
from tests.roles import execution_role

NESTED = "arn:aws:states:::states:startExecution.sync:2"


def _machines(pf, wait_seconds: int) -> tuple[str, str]:
    role = execution_role(pf, "nested-role")
    pf.roles.put_role_policy("nested-role", "states", json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["states:StartExecution", "states:DescribeExecution", "states:StopExecution"],
        "Resource": "*"}]}))
    child = pf.machines.create("child", json.dumps({"StartAt": "Hold", "States": {
        "Hold": {"Type": "Wait", "Seconds": wait_seconds, "Next": "Done"},
        "Done": {"Type": "Pass", "Result": {"child": "done"}, "End": True}}}), role)["stateMachineArn"]
    parent = pf.machines.create("parent", json.dumps({"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": NESTED, "Parameters": {"StateMachineArn": child, "Input": {}},
        "OutputPath": "$.Output", "End": True}}}), role)["stateMachineArn"]
    return child, parent


def _child_of(pf, parent_arn: str) -> str:
    """The child execution a parent's task started (from its TaskSubmitted event)."""
    def submitted() -> bool:
        return any(e["type"] == "TaskSubmitted" for e in pf.engine.history(parent_arn, limit=100))

    wait_until(submitted)
    event = next(e for e in pf.engine.history(parent_arn, limit=100) if e["type"] == "TaskSubmitted")
    return str(event["taskSubmittedEventDetails"]["output"]["ExecutionArn"])


def test_the_child_ends_while_the_server_is_down(open_pinflow, clock) -> None:
    pf = open_pinflow()
    _, parent = _machines(pf, wait_seconds=300)
    run = pf.engine.start_execution(parent, name="run")["executionArn"]
    child = _child_of(pf, run)
    pf.close()
    clock.advance(600)  # the child's Wait comes due while nothing runs
    pf = open_pinflow()
    wait_until(lambda: pf.engine.execution_row(run)["status"] != "RUNNING")
    row = pf.engine.execution_row(run)
    assert (row["status"], json.loads(row["output"])) == ("SUCCEEDED", {"child": "done"})
    assert pf.engine.execution_row(child)["status"] == "SUCCEEDED"
    kinds = [e["type"] for e in pf.engine.history(run, limit=100)]
    assert kinds.count("TaskSucceeded") == 1 and kinds.count("TaskSubmitted") == 1


def test_an_end_whose_message_was_lost_is_delivered_at_start_up(open_pinflow, clock, monkeypatch) -> None:
    pf = open_pinflow()
    _, parent = _machines(pf, wait_seconds=5)
    run = pf.engine.start_execution(parent, name="run")["executionArn"]
    child = _child_of(pf, run)
    # The child's last step asks for its parent's watch once committed: a crash right then loses that.
    monkeypatch.setattr(watches, "check", lambda *args: None)
    clock.advance(10)
    wait_until(lambda: pf.engine.execution_row(child)["status"] == "SUCCEEDED")
    assert pf.engine.execution_row(run)["status"] == "RUNNING"
    pf.close()
    monkeypatch.undo()
    pf = open_pinflow()
    wait_until(lambda: pf.engine.execution_row(run)["status"] != "RUNNING")
    assert json.loads(pf.engine.execution_row(run)["output"]) == {"child": "done"}


def test_a_stop_asked_for_before_a_crash_still_stops_the_child(open_pinflow, clock, monkeypatch) -> None:
    pf = open_pinflow()
    _, parent = _machines(pf, wait_seconds=300)
    run = pf.engine.start_execution(parent, name="run")["executionArn"]
    child = _child_of(pf, run)
    monkeypatch.setattr(watches, "check", lambda *args: None)  # the stop's follow-up is lost
    pf.engine.stop_execution(run)
    assert pf.engine.execution_row(child)["status"] == "RUNNING"
    pf.close()
    monkeypatch.undo()
    pf = open_pinflow()
    wait_until(lambda: pf.engine.execution_row(child)["status"] == "ABORTED")
    assert pf.engine.execution_row(run)["status"] == "ABORTED"


def test_a_child_version_named_by_the_parent_is_held_while_the_parent_runs(open_pinflow) -> None:
    pf = open_pinflow()
    role = execution_role(pf, "held-role")
    made = pf.machines.create("held-child", json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass",
                                                                                         "End": True}}}),
                              role, publish=True)
    version = made["stateMachineVersionArn"]
    parent = pf.machines.create("held-parent", json.dumps({"StartAt": "Hold", "States": {
        "Hold": {"Type": "Wait", "Seconds": 300, "Next": "Call"},
        "Call": {"Type": "Task", "Resource": NESTED, "Parameters": {"StateMachineArn": version}, "End": True}}}),
        role)["stateMachineArn"]
    run = pf.engine.start_execution(parent, name="run")["executionArn"]
    assert version in json.loads(pf.engine.execution_row(run)["pins"])["refs"]
    assert arns.split_state_machine(version) is not None
