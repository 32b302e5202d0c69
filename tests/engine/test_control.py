"""Execution control on the durable engine: stop, timeouts, redrive, callbacks, activities, Express,
and what a running execution protects from deletion."""

from __future__ import annotations

import json
import threading

import pytest

from pinflow import arns, errors
from tests.engine.conftest import ROLE_TRUST, function_zip, wait_until
from tests.roles import execution_role


def machine(pf, name: str, states: dict, start: str, **top) -> str:
    definition = {"StartAt": start, "States": states, **top}
    return pf.machines.create(name, json.dumps(definition), execution_role(pf, "control-role"))["stateMachineArn"]


def test_stop_execution_aborts_and_records_the_reason(open_pinflow) -> None:
    pf = open_pinflow()
    sm = machine(pf, "stoppable", {"Nap": {"Type": "Wait", "Seconds": 3600, "End": True}}, "Nap")
    arn = pf.engine.start_execution(sm, name="s1")["executionArn"]
    pf.engine.stop_execution(arn, error="Operator", cause="changed my mind")
    row = pf.engine.execution_row(arn)
    assert (row["status"], row["error"], row["cause"]) == ("ABORTED", "Operator", "changed my mind")
    last = pf.engine.history(arn, limit=100)[-1]
    assert last["type"] == "ExecutionAborted"
    assert last["executionAbortedEventDetails"] == {"error": "Operator", "cause": "changed my mind"}
    with pf.store.transaction(write=False) as tx:
        assert tx.scalar("SELECT COUNT(*) FROM timers") == 0


def test_execution_timeout_times_out(open_pinflow, clock) -> None:
    pf = open_pinflow()
    sm = machine(pf, "slow", {"Nap": {"Type": "Wait", "Seconds": 600, "End": True}}, "Nap", TimeoutSeconds=60)
    arn = pf.engine.start_execution(sm, name="t1")["executionArn"]
    clock.advance(61)
    wait_until(lambda: pf.engine.execution_row(arn)["status"] != "RUNNING")
    row = pf.engine.execution_row(arn)
    assert (row["status"], row["error"]) == ("TIMED_OUT", "States.Timeout")


def test_redrive_resumes_a_failed_execution_at_the_failed_state(open_pinflow, tmp_path) -> None:
    pf = open_pinflow()
    flag = tmp_path / "healthy"
    body = f'''
import os
def handler(event, context):
    if not os.path.exists({str(flag)!r}):
        raise RuntimeError("not yet")
    return {{"ok": event["n"]}}
'''
    pf.functions.create_function("flaky", function_zip(tmp_path, "flaky", body), handler="app.handler", publish=True)
    sm = machine(pf, "redrivable", {
        "First": {"Type": "Pass", "Result": {"n": 7}, "Next": "Call"},
        "Call": {"Type": "Task", "Resource": arns.function("flaky", "1"), "End": True},
    }, "First")
    arn = pf.engine.start_execution(sm, name="r1")["executionArn"]
    failed = pf.engine.wait_for(arn)
    assert (failed["status"], failed["error"]) == ("FAILED", "RuntimeError")
    flag.write_text("yes")
    pf.engine.redrive_execution(arn)
    done = pf.engine.wait_for(arn)
    assert done["status"] == "SUCCEEDED", (done["error"], done["cause"])
    assert json.loads(done["output"]) == {"ok": 7}
    assert done["redrive_count"] == 1
    types = [e["type"] for e in pf.engine.history(arn, limit=1000)]
    assert types.count("PassStateEntered") == 1  # the Pass before the failure is not run again
    assert "ExecutionRedriven" in types
    with pytest.raises(errors.ExecutionNotRedrivable):
        pf.engine.redrive_execution(arn)  # a SUCCEEDED execution cannot be redriven


def test_a_running_execution_cannot_be_redriven(open_pinflow) -> None:
    pf = open_pinflow()
    sm = machine(pf, "napper", {"Nap": {"Type": "Wait", "Seconds": 3600, "End": True}}, "Nap")
    arn = pf.engine.start_execution(sm, name="n1")["executionArn"]
    with pytest.raises(errors.ExecutionNotRedrivable):
        pf.engine.redrive_execution(arn)


def test_wait_for_task_token_completes_through_send_task_success(open_pinflow, tmp_path) -> None:
    pf = open_pinflow()
    pf.functions.create_function("notify", function_zip(tmp_path, "notify", (
        "def handler(event, context):\n    return None\n")), handler="app.handler", publish=True)
    sm = machine(pf, "approval", {
        "Ask": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token"}},
                "HeartbeatSeconds": 600, "End": True},
    }, "Ask")
    arn = pf.engine.start_execution(sm, name="a1")["executionArn"]
    scheduled = next(e for e in pf.engine.history(arn, limit=100) if e["type"] == "TaskScheduled")
    token = json.loads(scheduled["taskScheduledEventDetails"]["parameters"])["Payload"]["token"]
    pf.engine.send_task_heartbeat(token)
    pf.engine.send_task_success(token, json.dumps({"approved": True}))
    row = pf.engine.wait_for(arn)
    assert row["status"] == "SUCCEEDED"
    assert json.loads(row["output"]) == {"approved": True}
    # AWS (SendTaskSuccess/Failure/Heartbeat's errors): TaskTimedOut when "the task associated with the
    # token has already been closed", InvalidToken when "the provided token is not valid".
    with pytest.raises(errors.TaskTimedOut):
        pf.engine.send_task_success(token, "{}")  # already answered
    with pytest.raises(errors.TaskTimedOut):
        pf.engine.send_task_heartbeat(token)
    with pytest.raises(errors.InvalidToken):
        pf.engine.send_task_failure("not-a-token", "E")
    with pytest.raises(errors.InvalidToken):
        pf.engine.send_task_success(token[:-4], "{}")  # a token cut short is no token


def test_send_task_failure_fails_the_task_with_the_given_error(open_pinflow) -> None:
    pf = open_pinflow()
    activity = pf.activities.create("reviewers")["activityArn"]
    sm = machine(pf, "reviewed", {"Review": {"Type": "Task", "Resource": activity, "End": True}}, "Review")
    arn = pf.engine.start_execution(sm, name="f1", input=json.dumps({"doc": 1}))["executionArn"]
    task = pf.engine.get_activity_task(activity, worker_name="w1", wait_seconds=5)
    assert json.loads(task["input"]) == {"doc": 1}
    pf.engine.send_task_failure(task["taskToken"], error="Rejected", cause="too long")
    row = pf.engine.wait_for(arn)
    assert (row["status"], row["error"], row["cause"]) == ("FAILED", "Rejected", "too long")
    types = [e["type"] for e in pf.engine.history(arn, limit=100)]
    assert types[:5] == ["ExecutionStarted", "TaskStateEntered", "ActivityScheduled", "ActivityStarted",
                         "ActivityFailed"]


def test_get_activity_task_long_polls_until_a_task_arrives(open_pinflow) -> None:
    pf = open_pinflow()
    activity = pf.activities.create("pollers")["activityArn"]
    sm = machine(pf, "polled", {"Work": {"Type": "Task", "Resource": activity, "End": True}}, "Work")
    got: dict = {}
    poller = threading.Thread(target=lambda: got.update(pf.engine.get_activity_task(activity, wait_seconds=10)))
    poller.start()
    arn = pf.engine.start_execution(sm, name="p1")["executionArn"]
    poller.join(timeout=15)
    assert got.get("taskToken")
    pf.engine.send_task_success(got["taskToken"], json.dumps("done"))
    assert pf.engine.wait_for(arn)["status"] == "SUCCEEDED"
    assert pf.engine.get_activity_task(activity, wait_seconds=0.2) == {}


def test_start_execution_is_idempotent_by_name_for_a_running_execution(open_pinflow) -> None:
    pf = open_pinflow()
    sm = machine(pf, "idem", {"Nap": {"Type": "Wait", "Seconds": 3600, "End": True}}, "Nap")
    first = pf.engine.start_execution(sm, name="same", input='{"a": 1}')
    again = pf.engine.start_execution(sm, name="same", input='{"a": 1}')
    assert again == first
    with pytest.raises(errors.ExecutionAlreadyExists):
        pf.engine.start_execution(sm, name="same", input='{"a": 2}')


def test_versions_a_running_execution_needs_cannot_be_deleted(open_pinflow, tmp_path, clock) -> None:
    pf = open_pinflow()
    pf.functions.create_function("held", function_zip(tmp_path, "held", (
        "def handler(event, context):\n    return 1\n")), handler="app.handler", publish=True)
    definition = {"StartAt": "Nap", "States": {
        "Nap": {"Type": "Wait", "Seconds": 3600, "Next": "Call"},
        "Call": {"Type": "Task", "Resource": arns.function("held", "1"), "End": True}}}
    created = pf.machines.create("holder", json.dumps(definition), execution_role(pf, "control-role"), publish=True)
    arn = pf.engine.start_execution(created["stateMachineVersionArn"], name="h1")["executionArn"]
    with pytest.raises(errors.ResourceConflictException, match="h1"):
        pf.functions.delete_function("held", qualifier="1")
    with pytest.raises(errors.ConflictException, match="h1"):
        pf.machines.delete_version(created["stateMachineVersionArn"])
    pf.engine.stop_execution(arn)
    # An aborted execution can be redriven for 14 days, on the same versions: they stay held.
    with pytest.raises(errors.ResourceConflictException, match="redriven"):
        pf.functions.delete_function("held", qualifier="1")
    clock.advance(14 * 24 * 3600 + 1)
    pf.engine.release_expired_refs()
    with pytest.raises(errors.ExecutionNotRedrivable):
        pf.engine.redrive_execution(arn)
    pf.functions.delete_function("held", qualifier="1")
    pf.machines.delete_version(created["stateMachineVersionArn"])


def test_a_succeeded_execution_lets_go_of_its_versions(open_pinflow, tmp_path) -> None:
    pf = open_pinflow()
    pf.functions.create_function("quick", function_zip(tmp_path, "quick", (
        "def handler(event, context):\n    return 1\n")), handler="app.handler", publish=True)
    definition = {"StartAt": "Call", "States": {
        "Call": {"Type": "Task", "Resource": arns.function("quick", "1"), "End": True}}}
    role = execution_role(pf, "control-role")
    sm = pf.machines.create("quick-caller", json.dumps(definition), role)["stateMachineArn"]
    arn = pf.engine.start_execution(sm, name="q1")["executionArn"]
    assert pf.engine.wait_for(arn)["status"] == "SUCCEEDED"
    pf.functions.delete_function("quick", qualifier="1")


@pytest.mark.parametrize(("end", "status"), [({"Type": "Succeed"}, "SUCCEEDED"),
                                             ({"Type": "Fail", "Error": "Nope", "Cause": "no"}, "FAILED")])
def test_an_execution_that_ends_in_its_first_step(open_pinflow, tmp_path, end, status) -> None:
    # It is described with its outcome at once; if it succeeded it holds nothing (the version its
    # definition names can go), if it failed it keeps what a redrive would run.
    pf = open_pinflow()
    pf.functions.create_function("unreached", function_zip(tmp_path, "unreached", (
        "def handler(event, context):\n    return 1\n")), handler="app.handler", publish=True)
    definition = {"StartAt": "Pick", "States": {
        "Pick": {"Type": "Choice", "Choices": [{"Variable": "$.call", "BooleanEquals": True, "Next": "Call"}],
                 "Default": "Shape"},
        "Call": {"Type": "Task", "Resource": arns.function("unreached", "1"), "End": True},
        "Shape": {"Type": "Pass", "Parameters": {"kept.$": "$.keep"}, "Next": "End"},
        "End": end}}
    sm = machine(pf, "at-once", definition["States"], "Pick")
    started = pf.engine.start_execution(sm, name="e1", input='{"call": false, "keep": 7}')
    row = pf.engine.described_row(started["executionArn"])
    assert row["status"] == status
    assert row["started_at"] == started["startDate"] <= row["stopped_at"]
    if status == "SUCCEEDED":
        assert (json.loads(row["output"]), row["error"]) == ({"kept": 7}, None)
        pf.functions.delete_function("unreached", qualifier="1")
    else:
        assert (row["output"], row["error"], row["cause"]) == (None, "Nope", "no")
        with pytest.raises(errors.ResourceConflictException, match="redriven"):
            pf.functions.delete_function("unreached", qualifier="1")
    assert [e["type"] for e in pf.engine.history(started["executionArn"], limit=100)][-1] == \
        f"Execution{status.capitalize()}"


def test_express_sync_execution_returns_the_outcome(open_pinflow) -> None:
    from pinflow.engine import express

    pf = open_pinflow()
    shape = {"Type": "Pass", "Parameters": {"twice.$": "States.MathAdd($.n, $.n)"}, "End": True}
    definition = {"StartAt": "Shape", "States": {"Shape": shape}}
    role = execution_role(pf, "control-role")
    sm = pf.machines.create("quick", json.dumps(definition), role, type="EXPRESS")["stateMachineArn"]
    target = pf.machines.resolve_start(sm, rng=__import__("random").Random(1))
    result = express.start_sync(pf.engine, target, "q1", {"n": 21})
    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"]) == {"twice": 42}
    assert ":express:quick:q1:" in result["executionArn"]


def test_a_callback_function_is_not_invoked_again_after_a_restart(open_pinflow, tmp_path) -> None:
    pf = open_pinflow()
    calls = tmp_path / "calls"
    body = f'''
def handler(event, context):
    with open({str(calls)!r}, "a") as f:
        f.write(context.aws_request_id + "\\n")
'''
    pf.functions.create_function("mailer", function_zip(tmp_path, "mailer", body), handler="app.handler", publish=True)
    sm = machine(pf, "mailed", {
        "Ask": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "mailer:1", "Payload": {"token.$": "$$.Task.Token"}}, "End": True},
    }, "Ask")
    arn = pf.engine.start_execution(sm, name="m1")["executionArn"]
    wait_until(lambda: calls.exists() and calls.read_text().count("\n") == 1)
    wait_until(lambda: _claimed(pf, arn))
    for _ in range(2):
        pf.close()
        pf = open_pinflow()
    assert pf.engine.execution_row(arn)["status"] == "RUNNING"
    assert calls.read_text().count("\n") == 1


def _claimed(pf, arn: str) -> bool:
    with pf.store.transaction(write=False) as tx:
        return tx.scalar("SELECT COUNT(*) FROM outbox WHERE execution = ? AND claimed_at IS NOT NULL", (arn,)) == 1


def test_a_redrive_that_fails_again_counts_once(open_pinflow) -> None:
    pf = open_pinflow()
    sm = machine(pf, "failing", {"Nope": {"Type": "Fail", "Error": "E"}}, "Nope")
    arn = pf.engine.start_execution(sm, name="f1")["executionArn"]
    assert pf.engine.wait_for(arn)["status"] == "FAILED"
    pf.engine.redrive_execution(arn)
    assert pf.engine.wait_for(arn)["status"] == "FAILED"
    assert pf.engine.execution_row(arn)["redrive_count"] == 1


def test_an_alias_on_latest_is_not_pinned(open_pinflow, tmp_path) -> None:
    pf = open_pinflow()
    pf.functions.create_function("moving", function_zip(tmp_path, "m1", (
        "def handler(event, context):\n    return 'one'\n")), handler="app.handler")
    pf.functions.create_alias("moving", "live", "$LATEST")
    sm = machine(pf, "on-latest", {
        "Nap": {"Type": "Wait", "Seconds": 3600, "Next": "Call"},
        "Call": {"Type": "Task", "Resource": arns.function("moving", "live"), "End": True}}, "Nap")
    arn = pf.engine.start_execution(sm, name="l1")["executionArn"]
    row = pf.engine.execution_row(arn)
    assert json.loads(row["pins"])["aliases"] == {}
    with pf.store.transaction(write=False) as tx:
        assert tx.all("SELECT ref FROM execution_refs WHERE execution = ?", (arn,)) == []


def test_a_role_created_after_the_start_does_not_strand_pinned_calls(open_pinflow, tmp_path, clock) -> None:
    # Only a permissive server lets a machine name a role that does not exist yet.
    pf = open_pinflow(permissive_iam=True)
    pf.functions.create_function("graced", function_zip(tmp_path, "g", (
        "def handler(event, context):\n    return 'ok'\n")), handler="app.handler", publish=True)
    role = arns.role("late-role")
    definition = {"StartAt": "Nap", "States": {
        "Nap": {"Type": "Wait", "Seconds": 60, "Next": "Call"},
        "Call": {"Type": "Task", "Resource": arns.function("graced", "1"), "End": True}}}
    sm = pf.machines.create("late", json.dumps(definition), role)["stateMachineArn"]
    arn = pf.engine.start_execution(sm, name="g1")["executionArn"]
    # The role appears mid-run with a policy that does not grant graced:1.
    pf.roles.create_role("late-role", ROLE_TRUST)
    pf.roles.put_role_policy("late-role", "narrow", json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": arns.function("other")}]}))
    clock.advance(61)
    row = pf.engine.wait_for(arn)
    assert row["status"] == "SUCCEEDED", (row["error"], row["cause"])
    fresh = pf.engine.start_execution(sm, name="g2")["executionArn"]
    clock.advance(61)
    denied = pf.engine.wait_for(fresh)
    assert (denied["status"], denied["error"]) == ("FAILED", "Lambda.AWSLambdaException")


@pytest.mark.parametrize("machine_type", ["STANDARD", "EXPRESS"])
def test_a_task_cancelled_in_the_step_that_asked_for_it_never_runs(open_pinflow, tmp_path, clock,
                                                                  machine_type) -> None:
    # Parallel of [Task, Fail], caught, and the execution goes on: the Fail ends the Parallel in the same
    # step, so AWS never starts the Task. Standard (outbox rows) and Express (the in-memory loop) follow
    # the one rule.
    from pinflow.engine import express

    pf = open_pinflow()
    calls = tmp_path / "calls"
    body = f'''
def handler(event, context):
    with open({str(calls)!r}, "a") as f:
        f.write("called\\n")
'''
    pf.functions.create_function("sidecar", function_zip(tmp_path, "sidecar", body), handler="app.handler",
                                 publish=True)
    branches = [
        {"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": arns.function("sidecar", "1"),
                                                "End": True}}},
        {"StartAt": "Stop", "States": {"Stop": {"Type": "Fail", "Error": "Stop"}}},
    ]
    definition = {"StartAt": "Both", "States": {
        "Both": {"Type": "Parallel", "Branches": branches, "Next": "After",
                 "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "After"}]},
        "After": {"Type": "Wait", "Seconds": 1, "End": True}}}
    role = execution_role(pf, "control-role")
    sm = pf.machines.create(f"cancelled-{machine_type.lower()}", json.dumps(definition), role,
                            type=machine_type)["stateMachineArn"]
    if machine_type == "EXPRESS":
        target = pf.machines.resolve_start(sm, rng=__import__("random").Random(1))
        assert express.start_sync(pf.engine, target, "c1", {})["status"] == "SUCCEEDED"
    else:
        arn = pf.engine.start_execution(sm, name="c1")["executionArn"]
        clock.advance(2)
        assert pf.engine.wait_for(arn)["status"] == "SUCCEEDED"
    assert not calls.exists()


def test_a_token_whose_task_timed_out_answers_task_timed_out(open_pinflow, clock) -> None:
    pf = open_pinflow()
    activity = pf.activities.create("slowpokes")["activityArn"]
    sm = machine(pf, "timing-out", {"Review": {"Type": "Task", "Resource": activity, "TimeoutSeconds": 5,
                                               "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Late"}],
                                               "Next": "Late"},
                                    "Late": {"Type": "Wait", "Seconds": 3600, "End": True}}, "Review")
    arn = pf.engine.start_execution(sm, name="t1")["executionArn"]
    token = pf.engine.get_activity_task(activity, wait_seconds=5)["taskToken"]
    clock.advance(6)
    wait_until(lambda: any(e["type"] == "ActivityTimedOut" for e in pf.engine.history(arn, limit=100)))
    # The execution still runs (it waits in Late); the task it gave the token for has closed.
    assert pf.engine.execution_row(arn)["status"] == "RUNNING"
    with pytest.raises(errors.TaskTimedOut):
        pf.engine.send_task_success(token, "{}")
