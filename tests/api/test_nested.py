"""Nested state machines through boto3 against a real server: `arn:aws:states:::states:startExecution` in
each pattern, as AWS documents them in "Start a new AWS Step Functions state machine from a running
execution" (docs.aws.amazon.com/step-functions/latest/dg/connect-stepfunctions.html): request-response
answers StartExecution's response; `.sync` gives the child's DescribeExecution with `Output` as JSON text,
`.sync:2` with `Output` as JSON; `.waitForTaskToken` waits for SendTaskSuccess. A child that fails fails
the parent's Task with `States.TaskFailed` and the child's description as the cause; stopping the parent
or timing out its Task stops a `.sync` child. The histories are AWS's: TaskScheduled, TaskStarted,
(TaskSubmitted for `.sync`,) TaskSucceeded, each with resourceType `states` and the resource named after
the action and pattern (`startExecution.sync:2`), as AWS's recorded histories show them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pinflow.service import Pinflow
from tests.api.conftest import RunningServer

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
NESTED = "arn:aws:states:::states:startExecution"


def _role(iam: Any, name: str, statements: list[dict[str, Any]]) -> str:
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    if statements:
        iam.put_role_policy(RoleName=name, PolicyName="nested",
                            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    return str(arn)


ALL_STATES = [{"Effect": "Allow", "Action": ["states:StartExecution", "states:DescribeExecution",
                                             "states:StopExecution"], "Resource": "*"}]


def _machine(sfn: Any, name: str, definition: dict[str, Any], role: str) -> str:
    return str(sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=role)["stateMachineArn"])


def _parent(resource: str, child_arn: str, **task: Any) -> dict[str, Any]:
    call = {"Type": "Task", "Resource": resource, "End": True, "Parameters": {
        "StateMachineArn": child_arn,
        "Input": {"n.$": "$.n", "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"}}}
    call.update(task)
    return {"StartAt": "Call", "States": {"Call": call}}


CHILD = {"StartAt": "Double", "States": {"Double": {"Type": "Pass", "End": True, "Parameters": {
    "doubled.$": "States.MathAdd($.n, $.n)", "by.$": "$.AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"}}}}
WAITING_CHILD = {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 30, "End": True}}}
FAILING_CHILD = {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Child.Broke", "Cause": "on purpose"}}}


def _finished(sfn: Any, arn: str, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return dict(described)
        time.sleep(0.02)


def _events(sfn: Any, arn: str) -> list[dict[str, Any]]:
    return list(sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"])


def _children(sfn: Any, child_machine: str) -> list[dict[str, Any]]:
    return list(sfn.list_executions(stateMachineArn=child_machine)["executions"])


def test_request_response_answers_start_executions_response(sfn, iam) -> None:
    role = _role(iam, "parent-rr", ALL_STATES)
    child = _machine(sfn, "child-rr", CHILD, role)
    parent = _machine(sfn, "parent-rr", _parent(NESTED, child), role)
    run = sfn.start_execution(stateMachineArn=parent, input='{"n": 21}')["executionArn"]
    described = _finished(sfn, run)
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    (started,) = _children(sfn, child)
    assert output["ExecutionArn"] == started["executionArn"]
    assert isinstance(output["StartDate"], int)  # the SDK's epoch milliseconds
    assert output["SdkHttpMetadata"]["HttpStatusCode"] == 200 and output["SdkResponseMetadata"]["RequestId"]
    # The child's input is the Input parameter: the parent linked itself as AWS's docs say to.
    child_run = sfn.describe_execution(executionArn=started["executionArn"])
    assert json.loads(child_run["input"]) == {"n": 21, "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": run}
    types = [(e["type"], (e.get("taskScheduledEventDetails") or e.get("taskStartedEventDetails")
                          or e.get("taskSucceededEventDetails") or {}).get("resource")) for e in _events(sfn, run)]
    assert types[2:5] == [("TaskScheduled", "startExecution"), ("TaskStarted", "startExecution"),
                          ("TaskSucceeded", "startExecution")]
    assert _events(sfn, run)[2]["taskScheduledEventDetails"]["resourceType"] == "states"


def test_sync_gives_the_childs_description_with_output_as_json_text(sfn, iam) -> None:
    role = _role(iam, "parent-sync", ALL_STATES)
    child = _machine(sfn, "child-sync", CHILD, role)
    parent = _machine(sfn, "parent-sync", _parent(f"{NESTED}.sync", child), role)
    run = sfn.start_execution(stateMachineArn=parent, input='{"n": 4}')["executionArn"]
    described = _finished(sfn, run)
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    assert output["Status"] == "SUCCEEDED"
    assert isinstance(output["Output"], str) and json.loads(output["Output"]) == {"doubled": 8, "by": run}
    assert isinstance(output["Input"], str)
    assert output["StateMachineArn"] == child and output["ExecutionArn"].startswith(child.replace(
        ":stateMachine:", ":execution:"))
    events = _events(sfn, run)
    kinds = [e["type"] for e in events]
    assert kinds[2:6] == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]
    submitted = events[4]["taskSubmittedEventDetails"]
    assert (submitted["resourceType"], submitted["resource"]) == ("states", "startExecution.sync")
    assert json.loads(submitted["output"])["ExecutionArn"] == output["ExecutionArn"]


def test_sync2_gives_input_and_output_as_json(sfn, iam) -> None:
    role = _role(iam, "parent-sync2", ALL_STATES)
    child = _machine(sfn, "child-sync2", CHILD, role)
    parent = _machine(sfn, "parent-sync2", _parent(f"{NESTED}.sync:2", child, OutputPath="$.Output"), role)
    run = sfn.start_execution(stateMachineArn=parent, input='{"n": 5}')["executionArn"]
    described = _finished(sfn, run)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"doubled": 10, "by": run}
    scheduled = _events(sfn, run)[2]["taskScheduledEventDetails"]
    assert scheduled["resource"] == "startExecution.sync:2"


def test_a_failing_child_fails_the_task_with_states_task_failed_and_catch_sees_it(sfn, iam) -> None:
    role = _role(iam, "parent-fail", ALL_STATES)
    child = _machine(sfn, "child-fail", FAILING_CHILD, role)
    definition = _parent(f"{NESTED}.sync:2", child)
    definition["States"]["Call"]["Catch"] = [{"ErrorEquals": ["States.TaskFailed"], "Next": "Caught"}]
    del definition["States"]["Call"]["End"]
    definition["States"]["Call"]["Next"] = "Caught"
    definition["States"]["Caught"] = {"Type": "Pass", "End": True}
    parent = _machine(sfn, "parent-fail", definition, role)
    run = sfn.start_execution(stateMachineArn=parent, input='{"n": 1}')["executionArn"]
    described = _finished(sfn, run)
    assert described["status"] == "SUCCEEDED"
    caught = json.loads(described["output"])
    assert caught["Error"] == "States.TaskFailed"
    cause = json.loads(caught["Cause"])
    assert (cause["Status"], cause["Error"], cause["Cause"]) == ("FAILED", "Child.Broke", "on purpose")
    failed = next(e for e in _events(sfn, run) if e["type"] == "TaskFailed")["taskFailedEventDetails"]
    assert (failed["error"], failed["resourceType"], failed["resource"]) == (
        "States.TaskFailed", "states", "startExecution.sync:2")


def test_wait_for_task_token_waits_for_send_task_success(sfn, iam) -> None:
    role = _role(iam, "parent-token", ALL_STATES)
    child = _machine(sfn, "child-token", WAITING_CHILD, role)
    definition = {"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": f"{NESTED}.waitForTaskToken", "End": True,
        "Parameters": {"StateMachineArn": child, "Input": {"token.$": "$$.Task.Token"}}}}}
    parent = _machine(sfn, "parent-token", definition, role)
    run = sfn.start_execution(stateMachineArn=parent)["executionArn"]
    deadline = time.monotonic() + 10
    while not _children(sfn, child):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    (started,) = _children(sfn, child)
    token = json.loads(sfn.describe_execution(executionArn=started["executionArn"])["input"])["token"]
    assert sfn.describe_execution(executionArn=run)["status"] == "RUNNING"
    sfn.send_task_success(taskToken=token, output='{"approved": true}')
    described = _finished(sfn, run)
    assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED", {"approved": True})


def test_stopping_the_parent_stops_its_sync_child(sfn, iam) -> None:
    role = _role(iam, "parent-stop", ALL_STATES)
    child = _machine(sfn, "child-stop", WAITING_CHILD, role)
    parent = _machine(sfn, "parent-stop", _parent(f"{NESTED}.sync:2", child), role)
    run = sfn.start_execution(stateMachineArn=parent, input='{"n": 1}')["executionArn"]
    deadline = time.monotonic() + 10
    while not _children(sfn, child):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    sfn.stop_execution(executionArn=run, error="Operator", cause="changed my mind")
    (started,) = _children(sfn, child)
    assert _finished(sfn, started["executionArn"])["status"] == "ABORTED"


def test_a_timed_out_sync_task_stops_its_child(sfn, iam) -> None:
    role = _role(iam, "parent-timeout", ALL_STATES)
    child = _machine(sfn, "child-timeout", WAITING_CHILD, role)
    parent = _machine(sfn, "parent-timeout", _parent(f"{NESTED}.sync", child, TimeoutSeconds=1), role)
    run = sfn.start_execution(stateMachineArn=parent, input='{"n": 1}')["executionArn"]
    described = _finished(sfn, run)
    assert (described["status"], described["error"]) == ("FAILED", "States.Timeout")
    (started,) = _children(sfn, child)
    assert _finished(sfn, started["executionArn"])["status"] == "ABORTED"


def test_the_role_must_allow_start_execution_on_the_child(sfn, iam) -> None:
    role = _role(iam, "parent-denied", [{"Effect": "Allow", "Action": "states:StartExecution",
                                         "Resource": "arn:aws:states:us-east-1:123456789012:stateMachine:other"}])
    child = _machine(sfn, "child-denied", CHILD, role)
    parent = _machine(sfn, "parent-denied", _parent(NESTED, child), role)
    run = sfn.start_execution(stateMachineArn=parent, input='{"n": 1}')["executionArn"]
    described = _finished(sfn, run)
    assert described["status"] == "FAILED"
    assert described["error"] == "StepFunctions.AWSStepFunctionsException"
    assert "is not authorized to perform: states:StartExecution on resource: " + child in described["cause"]
    assert _children(sfn, child) == []


def test_sync_needs_describe_and_stop_on_the_child_execution(sfn, iam) -> None:
    role = _role(iam, "parent-sync-denied", [{"Effect": "Allow", "Action": "states:StartExecution", "Resource": "*"}])
    child = _machine(sfn, "child-sync-denied", CHILD, role)
    parent = _machine(sfn, "parent-sync-denied", _parent(f"{NESTED}.sync", child), role)
    run = sfn.start_execution(stateMachineArn=parent, input='{"n": 1}')["executionArn"]
    described = _finished(sfn, run)
    assert described["status"] == "FAILED"
    assert "states:DescribeExecution" in described["cause"]


def test_a_version_arn_starts_that_version_and_an_unknown_machine_fails_as_aws_says(sfn, iam) -> None:
    role = _role(iam, "parent-version", ALL_STATES)
    made = sfn.create_state_machine(name="child-version", definition=json.dumps(CHILD), roleArn=role, publish=True)
    sfn.update_state_machine(stateMachineArn=made["stateMachineArn"], definition=json.dumps(FAILING_CHILD))
    parent = _machine(sfn, "parent-version", _parent(f"{NESTED}.sync:2", made["stateMachineVersionArn"]), role)
    run = sfn.start_execution(stateMachineArn=parent, input='{"n": 2}')["executionArn"]
    described = _finished(sfn, run)
    assert described["status"] == "SUCCEEDED"  # version 1 doubles; the current revision would fail
    assert json.loads(described["output"])["StateMachineVersionArn"] == made["stateMachineVersionArn"]
    missing = _machine(sfn, "parent-missing", _parent(NESTED, made["stateMachineArn"] + "-gone"), role)
    failed = _finished(sfn, sfn.start_execution(stateMachineArn=missing, input='{"n": 2}')["executionArn"])
    # As AWS records it: StepFunctions.StateMachineDoesNotExistException, "(Service: AWSStepFunctions; ...)".
    assert failed["error"] == "StepFunctions.StateMachineDoesNotExistException"
    assert failed["cause"].startswith("State Machine Does Not Exist: ")
    assert "Service: AWSStepFunctions" in failed["cause"]


@pytest.fixture
def restartable(tmp_path: Path) -> Iterator[list[Any]]:
    """A server that can be stopped and started again on the same data (a real restart)."""
    running: list[Any] = []

    def start() -> RunningServer:
        pf = Pinflow.open(data_dir=tmp_path / "data")
        server = RunningServer(pf)
        running.append((pf, server))
        return server

    yield [start]
    for pf, server in running:
        server.stop()
        pf.close()


def test_a_parent_waiting_on_a_sync_child_resumes_after_a_restart(restartable) -> None:
    (start,) = restartable
    server = start()
    sfn, iam = server.client("stepfunctions"), server.client("iam")
    role = _role(iam, "parent-restart", ALL_STATES)
    child_definition = {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 2, "Next": "Done"},
                                                      "Done": {"Type": "Pass", "Result": {"child": "done"},
                                                               "End": True}}}
    child = _machine(sfn, "child-restart", child_definition, role)
    parent = _machine(sfn, "parent-restart", _parent(f"{NESTED}.sync:2", child, OutputPath="$.Output"), role)
    run = sfn.start_execution(stateMachineArn=parent, input='{"n": 1}')["executionArn"]
    deadline = time.monotonic() + 10
    while not _children(sfn, child):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    sfn.close()
    iam.close()
    server.stop()
    server.pf.close()  # down while the child's Wait comes due: its end happens after the restart
    time.sleep(2.5)
    server = start()
    sfn = server.client("stepfunctions")
    described = _finished(sfn, run)
    assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED", {"child": "done"})
    sfn.close()


def test_an_express_child_runs_to_its_end_for_a_sync_task(sfn, iam) -> None:
    role = _role(iam, "parent-express", ALL_STATES)
    child = str(sfn.create_state_machine(name="child-express", definition=json.dumps(CHILD), roleArn=role,
                                         type="EXPRESS")["stateMachineArn"])
    parent = _machine(sfn, "parent-express", _parent(f"{NESTED}.sync:2", child), role)
    run = sfn.start_execution(stateMachineArn=parent, input='{"n": 3}')["executionArn"]
    described = _finished(sfn, run)
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert (output["Status"], output["Output"]) == ("SUCCEEDED", {"doubled": 6, "by": run})
    assert ":express:child-express:" in output["ExecutionArn"]
