"""Distributed Map through boto3 against a real server: Map Runs (DescribeMapRun, ListMapRuns,
UpdateMapRun), their child executions (ListExecutions by mapRunArn, their own histories), MaxConcurrency,
tolerated failures and stopping the parent; AWS's shapes and errors."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.api.conftest import CLIENT_CONFIG
from tests.roles import execution_role

ROLE = "arn:aws:iam::123456789012:role/sfn-role"
ENDED = ("SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT")
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture(autouse=True)
def _execution_role(pinflow_service):
    execution_role(pinflow_service, ROLE.rsplit("/", 1)[-1])


def distributed(states: dict[str, Any], start: str, **fields: Any) -> str:
    processor = {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                 "StartAt": start, "States": states}
    return json.dumps({"StartAt": "Each", "States": {
        "Each": {"Type": "Map", "ItemProcessor": processor, "End": True, **fields}}})


PASS_ITEMS = ({"Work": {"Type": "Pass", "End": True}}, "Work")
FLAKY_ITEMS = ({
    "Check": {"Type": "Choice", "Choices": [{"Variable": "$.fail", "BooleanEquals": True, "Next": "Break"}],
              "Default": "Ok"},
    "Break": {"Type": "Fail", "Error": "ItemFailed", "Cause": "bad item"},
    "Ok": {"Type": "Pass", "OutputPath": "$.n", "End": True}}, "Check")


def create(sfn, name: str, definition: str) -> str:
    return sfn.create_state_machine(name=name, definition=definition, roleArn=ROLE)["stateMachineArn"]


def wait_status(sfn, execution_arn: str, *, until: tuple[str, ...] = ENDED, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] in until or time.monotonic() > deadline:
            return described
        time.sleep(0.02)


def history_types(sfn, execution_arn: str) -> list[str]:
    return [e["type"] for e in sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]]


def map_run_of(sfn, execution_arn: str) -> str:
    runs = sfn.list_map_runs(executionArn=execution_arn)["mapRuns"]
    assert len(runs) == 1
    return runs[0]["mapRunArn"]


def error_of(call, **params) -> tuple[str, int]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_a_distributed_map_runs_each_item_as_a_child_execution(sfn) -> None:
    machine = create(sfn, "dmap", distributed(*PASS_ITEMS, Label="Items",
                                              ItemSelector={"v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"}))
    started = sfn.start_execution(stateMachineArn=machine, input=json.dumps(["a", "b", "c"]))
    parent = started["executionArn"]
    described = wait_status(sfn, parent)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == [{"v": "a", "i": 0}, {"v": "b", "i": 1}, {"v": "c", "i": 2}]
    # AWS's parent history: a Map Run, no iteration events.
    assert history_types(sfn, parent) == [
        "ExecutionStarted", "MapStateEntered", "MapStateStarted", "MapRunStarted", "MapRunSucceeded",
        "MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"]
    events = sfn.get_execution_history(executionArn=parent)["events"]
    run_arn = events[3]["mapRunStartedEventDetails"]["mapRunArn"]
    assert re.fullmatch(rf"arn:aws:states:us-east-1:123456789012:mapRun:dmap/Items:{UUID}", run_arn)

    runs = sfn.list_map_runs(executionArn=parent)["mapRuns"]
    assert [(r["mapRunArn"], r["executionArn"], r["stateMachineArn"]) for r in runs] == [
        (run_arn, parent, "arn:aws:states:us-east-1:123456789012:stateMachine:dmap/Items")]
    assert "stopDate" in runs[0]

    run = sfn.describe_map_run(mapRunArn=run_arn)
    assert run["status"] == "SUCCEEDED"
    assert run["executionArn"] == parent
    assert (run["maxConcurrency"], run["toleratedFailureCount"], run["toleratedFailurePercentage"]) == (0, 0, 0.0)
    counts = {"pending": 0, "running": 0, "succeeded": 3, "failed": 0, "timedOut": 0, "aborted": 0, "total": 3,
              "resultsWritten": 0, "failuresNotRedrivable": 0, "pendingRedrive": 0}
    assert run["itemCounts"] == counts
    assert run["executionCounts"] == counts
    assert run["stopDate"] >= run["startDate"]

    children = sfn.list_executions(mapRunArn=run_arn)["executions"]
    assert len(children) == 3
    for child in children:
        assert re.fullmatch(rf"arn:aws:states:us-east-1:123456789012:execution:dmap/Items:{UUID}",
                            child["executionArn"])
        assert child["stateMachineArn"] == "arn:aws:states:us-east-1:123456789012:stateMachine:dmap/Items"
        assert child["status"] == "SUCCEEDED"
        # Each child has a history of its own.
        assert history_types(sfn, child["executionArn"]) == [
            "ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
        assert sfn.describe_execution(executionArn=child["executionArn"])["mapRunArn"] == run_arn
    inputs = sorted(json.loads(sfn.describe_execution(executionArn=c["executionArn"])["input"])["i"]
                    for c in children)
    assert inputs == [0, 1, 2]
    # The parent's machine lists the parent only.
    assert [e["executionArn"] for e in sfn.list_executions(stateMachineArn=machine)["executions"]] == [parent]
    # ListExecutions filters children by status.
    assert sfn.list_executions(mapRunArn=run_arn, statusFilter="FAILED")["executions"] == []


def test_the_map_run_label_defaults_to_the_state_name(sfn) -> None:
    machine = create(sfn, "unlabelled", distributed(*PASS_ITEMS))
    parent = sfn.start_execution(stateMachineArn=machine, input="[1]")["executionArn"]
    assert wait_status(sfn, parent)["status"] == "SUCCEEDED"
    assert re.fullmatch(rf"arn:aws:states:us-east-1:123456789012:mapRun:unlabelled/Each:{UUID}",
                        map_run_of(sfn, parent))


def test_failures_within_the_tolerated_count_leave_their_error_in_the_output(sfn) -> None:
    machine = create(sfn, "tolerant", distributed(*FLAKY_ITEMS, ToleratedFailureCount=1, MaxConcurrency=1))
    items = [{"n": 0, "fail": False}, {"n": 1, "fail": True}, {"n": 2, "fail": False}]
    parent = sfn.start_execution(stateMachineArn=machine, input=json.dumps(items))["executionArn"]
    described = wait_status(sfn, parent)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == [0, {"Error": "ItemFailed", "Cause": "bad item"}, 2]
    run = sfn.describe_map_run(mapRunArn=map_run_of(sfn, parent))
    assert (run["status"], run["toleratedFailureCount"], run["maxConcurrency"]) == ("SUCCEEDED", 1, 1)
    assert (run["itemCounts"]["succeeded"], run["itemCounts"]["failed"]) == (2, 1)
    failed = sfn.list_executions(mapRunArn=run["mapRunArn"], statusFilter="FAILED")["executions"]
    assert len(failed) == 1
    child = sfn.describe_execution(executionArn=failed[0]["executionArn"])
    assert (child["error"], child["cause"]) == ("ItemFailed", "bad item")


@pytest.mark.parametrize(("fields", "over", "succeeded"), [
    ({"ToleratedFailureCount": 1}, 2, 0),  # more than 1 failure: at the second item
    ({"ToleratedFailurePercentage": 50}, 3, 1),  # more than 50% of 4 items: at the fourth
    ({}, 1, 0),  # no threshold: any failure, at the first item
])
def test_failures_over_the_threshold_fail_the_map_run(sfn, fields: dict[str, Any], over: int,
                                                      succeeded: int) -> None:
    machine = create(sfn, "intolerant", distributed(*FLAKY_ITEMS, MaxConcurrency=1, **fields))
    items = [{"n": 0, "fail": True}, {"n": 1, "fail": True}, {"n": 2, "fail": False}, {"n": 3, "fail": True}]
    parent = sfn.start_execution(stateMachineArn=machine, input=json.dumps(items))["executionArn"]
    described = wait_status(sfn, parent)
    assert described["status"] == "FAILED"
    assert described["error"] == "States.ExceedToleratedFailureThreshold"
    types = history_types(sfn, parent)
    assert types[-4:] == ["MapRunStarted", "MapRunFailed", "MapStateFailed", "ExecutionFailed"]
    events = sfn.get_execution_history(executionArn=parent)["events"]
    assert events[-3]["mapRunFailedEventDetails"]["error"] == "States.ExceedToleratedFailureThreshold"
    run = sfn.describe_map_run(mapRunArn=map_run_of(sfn, parent))
    assert run["status"] == "FAILED"
    # One at a time: the run fails as soon as one failure too many is counted, and starts no more.
    counts = run["itemCounts"]
    assert (counts["failed"], counts["succeeded"], counts["running"]) == (over, succeeded, 0)
    assert counts["pending"] == 4 - over - succeeded
    assert len(sfn.list_executions(mapRunArn=run["mapRunArn"])["executions"]) == over + succeeded


def _activity_machine(sfn, name: str, **fields: Any) -> tuple[str, str]:
    activity = sfn.create_activity(name=f"{name}-work")["activityArn"]
    states = {"Work": {"Type": "Task", "Resource": activity, "End": True}}
    return create(sfn, name, distributed(states, "Work", **fields)), activity


def _counts(sfn, run_arn: str) -> tuple[int, int, int]:
    counts = sfn.describe_map_run(mapRunArn=run_arn)["itemCounts"]
    return counts["pending"], counts["running"], counts["succeeded"]


def _wait_counts(sfn, run_arn: str, expected: tuple[int, int, int]) -> None:
    deadline = time.monotonic() + 10
    while _counts(sfn, run_arn) != expected and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _counts(sfn, run_arn) == expected


def test_max_concurrency_and_update_map_run(sfn) -> None:
    machine, activity = _activity_machine(sfn, "throttled", MaxConcurrency=1)
    parent = sfn.start_execution(stateMachineArn=machine, input="[1, 2, 3]")["executionArn"]
    deadline = time.monotonic() + 10
    while not sfn.list_map_runs(executionArn=parent)["mapRuns"] and time.monotonic() < deadline:
        time.sleep(0.02)
    run_arn = map_run_of(sfn, parent)
    _wait_counts(sfn, run_arn, (2, 1, 0))
    assert sfn.describe_map_run(mapRunArn=run_arn)["status"] == "RUNNING"
    assert "stopDate" not in sfn.describe_map_run(mapRunArn=run_arn)

    sfn.update_map_run(mapRunArn=run_arn, maxConcurrency=3, toleratedFailurePercentage=10.5)
    described = sfn.describe_map_run(mapRunArn=run_arn)
    assert (described["maxConcurrency"], described["toleratedFailurePercentage"]) == (3, 10.5)
    _wait_counts(sfn, run_arn, (0, 3, 0))

    for _ in range(3):
        task = sfn.get_activity_task(activityArn=activity, workerName="w")
        sfn.send_task_success(taskToken=task["taskToken"], output=task["input"])
    described = wait_status(sfn, parent)
    assert described["status"] == "SUCCEEDED"
    assert sorted(json.loads(described["output"])) == [1, 2, 3]
    assert _counts(sfn, run_arn) == (0, 0, 3)


def test_stopping_the_parent_aborts_its_map_run_and_children(sfn) -> None:
    machine, _ = _activity_machine(sfn, "stopped", MaxConcurrency=2)
    parent = sfn.start_execution(stateMachineArn=machine, input="[1, 2, 3]")["executionArn"]
    deadline = time.monotonic() + 10
    while not sfn.list_map_runs(executionArn=parent)["mapRuns"] and time.monotonic() < deadline:
        time.sleep(0.02)
    run_arn = map_run_of(sfn, parent)
    _wait_counts(sfn, run_arn, (1, 2, 0))
    sfn.stop_execution(executionArn=parent)
    assert wait_status(sfn, parent)["status"] == "ABORTED"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        children = sfn.list_executions(mapRunArn=run_arn)["executions"]
        if all(c["status"] == "ABORTED" for c in children):
            break
        time.sleep(0.02)
    assert [c["status"] for c in children] == ["ABORTED", "ABORTED"]
    run = sfn.describe_map_run(mapRunArn=run_arn)
    assert run["status"] == "ABORTED"
    assert run["itemCounts"]["aborted"] == 2


def test_map_run_errors(sfn, server) -> None:
    missing = "arn:aws:states:us-east-1:123456789012:mapRun:nope/Each:4a5b6c7d-0000-4000-8000-000000000000"
    assert error_of(sfn.describe_map_run, mapRunArn=missing) == ("ResourceNotFound", 400)
    assert error_of(sfn.update_map_run, mapRunArn=missing, maxConcurrency=1) == ("ResourceNotFound", 400)
    assert error_of(sfn.list_executions, mapRunArn=missing) == ("ResourceNotFound", 400)
    bad = "arn:aws:states:us-east-1:123456789012:stateMachine:nope"
    assert error_of(sfn.describe_map_run, mapRunArn=bad) == ("InvalidArn", 400)
    # Values botocore would refuse before sending: the server refuses them too.
    raw = server.client("stepfunctions", config=CLIENT_CONFIG.merge(Config(parameter_validation=False)))
    try:
        assert error_of(raw.update_map_run, mapRunArn=missing, toleratedFailurePercentage=101) == (
            "ValidationException", 400)
        assert error_of(raw.update_map_run, mapRunArn=missing, maxConcurrency=-1) == ("ValidationException", 400)
    finally:
        raw.close()
    execution = "arn:aws:states:us-east-1:123456789012:execution:nope:nothing"
    assert error_of(sfn.list_map_runs, executionArn=execution) == ("ExecutionDoesNotExist", 400)


def _work(sfn, activity: str, *, fail: bool = False) -> Any:
    task = sfn.get_activity_task(activityArn=activity, workerName="w")
    if fail:
        sfn.send_task_failure(taskToken=task["taskToken"], error="Broken", cause="try again")
    else:
        sfn.send_task_success(taskToken=task["taskToken"], output=task["input"])
    return json.loads(task["input"])


def test_redriving_the_parent_redrives_the_unsuccessful_children(sfn) -> None:
    machine, activity = _activity_machine(sfn, "redriven", MaxConcurrency=1)
    parent = sfn.start_execution(stateMachineArn=machine, input="[1, 2, 3]")["executionArn"]
    assert _work(sfn, activity) == 1
    assert _work(sfn, activity, fail=True) == 2
    described = wait_status(sfn, parent)
    assert (described["status"], described["error"]) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    run_arn = map_run_of(sfn, parent)
    assert sfn.describe_map_run(mapRunArn=run_arn)["status"] == "FAILED"
    failed = sfn.list_executions(mapRunArn=run_arn, statusFilter="FAILED")["executions"]
    assert len(failed) == 1

    sfn.redrive_execution(executionArn=parent)
    assert _work(sfn, activity) == 2  # the failed child, again
    assert _work(sfn, activity) == 3  # the one never started
    described = wait_status(sfn, parent)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == [1, 2, 3]
    types = history_types(sfn, parent)
    assert types[-9:] == ["MapRunFailed", "MapStateFailed", "ExecutionFailed", "ExecutionRedriven",
                          "MapRunRedriven", "MapRunSucceeded", "MapStateSucceeded", "MapStateExited",
                          "ExecutionSucceeded"]
    # The same child execution ran again, its redrive in its own history.
    child = failed[0]["executionArn"]
    assert sfn.describe_execution(executionArn=child)["status"] == "SUCCEEDED"
    assert "ExecutionRedriven" in history_types(sfn, child)
    assert len(sfn.list_executions(mapRunArn=run_arn)["executions"]) == 3
    redriven = sfn.list_executions(mapRunArn=run_arn, redriveFilter="REDRIVEN")["executions"]
    assert [c["executionArn"] for c in redriven] == [child]
    assert len(sfn.list_executions(mapRunArn=run_arn, redriveFilter="NOT_REDRIVEN")["executions"]) == 2
    run = sfn.describe_map_run(mapRunArn=run_arn)
    assert (run["status"], run["redriveCount"], run["itemCounts"]["succeeded"], run["itemCounts"]["failed"]) == (
        "SUCCEEDED", 1, 3, 0)
    assert "redriveDate" in run


def test_with_an_item_batcher_items_and_executions_are_counted_apart(sfn) -> None:
    machine = create(sfn, "batched", distributed(*PASS_ITEMS, ItemBatcher={"MaxItemsPerBatch": 2}))
    parent = sfn.start_execution(stateMachineArn=machine, input="[1, 2, 3, 4, 5]")["executionArn"]
    described = wait_status(sfn, parent)
    assert json.loads(described["output"]) == [{"Items": [1, 2]}, {"Items": [3, 4]}, {"Items": [5]}]
    run = sfn.describe_map_run(mapRunArn=map_run_of(sfn, parent))
    assert (run["itemCounts"]["total"], run["itemCounts"]["succeeded"]) == (5, 5)
    assert (run["executionCounts"]["total"], run["executionCounts"]["succeeded"]) == (3, 3)


def test_express_children_run_in_memory_and_are_counted(sfn) -> None:
    processor = {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                 "StartAt": FLAKY_ITEMS[1], "States": FLAKY_ITEMS[0]}
    definition = json.dumps({"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "ItemProcessor": processor, "ToleratedFailureCount": 1, "End": True}}})
    machine = create(sfn, "express-children", definition)
    items = [{"n": 0, "fail": False}, {"n": 1, "fail": True}, {"n": 2, "fail": False}]
    parent = sfn.start_execution(stateMachineArn=machine, input=json.dumps(items))["executionArn"]
    described = wait_status(sfn, parent)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == [0, {"Error": "ItemFailed", "Cause": "bad item"}, 2]
    assert history_types(sfn, parent)[3:5] == ["MapRunStarted", "MapRunSucceeded"]
    run = sfn.describe_map_run(mapRunArn=map_run_of(sfn, parent))
    assert (run["status"], run["executionCounts"]["succeeded"], run["executionCounts"]["failed"]) == (
        "SUCCEEDED", 2, 1)


def test_a_map_run_child_is_redriven_through_its_parent_only(sfn) -> None:
    # AWS: a Map Run's unsuccessful children are redriven by redriving the parent workflow.
    machine, activity = _activity_machine(sfn, "childredrive", MaxConcurrency=1, ToleratedFailureCount=1)
    parent = sfn.start_execution(stateMachineArn=machine, input="[1, 2, 3]")["executionArn"]
    assert _work(sfn, activity, fail=True) == 1
    run_arn = map_run_of(sfn, parent)
    deadline = time.monotonic() + 10
    while not sfn.list_executions(mapRunArn=run_arn, statusFilter="FAILED")["executions"]:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    failed = sfn.list_executions(mapRunArn=run_arn, statusFilter="FAILED")["executions"][0]["executionArn"]
    with pytest.raises(ClientError) as caught:
        sfn.redrive_execution(executionArn=failed)
    assert caught.value.response["Error"]["Code"] == "ExecutionNotRedrivable"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert failed in caught.value.response["Error"]["Message"]
    assert sfn.describe_execution(executionArn=failed)["status"] == "FAILED"
    # The run goes on as if nothing was asked: two more items, then the parent, once.
    assert sorted([_work(sfn, activity), _work(sfn, activity)]) == [2, 3]
    described = wait_status(sfn, parent)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == [{"Error": "Broken", "Cause": "try again"}, 2, 3]
    run = sfn.describe_map_run(mapRunArn=run_arn)
    assert {k: run["executionCounts"][k] for k in ("running", "succeeded", "failed", "total")} == {
        "running": 0, "succeeded": 2, "failed": 1, "total": 3}


def test_update_map_run_refuses_a_completed_run_and_an_empty_update(sfn, server) -> None:
    machine = create(sfn, "updatedone", distributed(*PASS_ITEMS))
    parent = sfn.start_execution(stateMachineArn=machine, input="[1]")["executionArn"]
    assert wait_status(sfn, parent)["status"] == "SUCCEEDED"
    run_arn = map_run_of(sfn, parent)
    with pytest.raises(ClientError) as caught:
        sfn.update_map_run(mapRunArn=run_arn, maxConcurrency=5)
    error = caught.value.response["Error"]
    assert (error["Code"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]) == ("ValidationException", 400)
    assert caught.value.response["reason"] == "CANNOT_UPDATE_COMPLETED_MAP_RUN"
    assert sfn.describe_map_run(mapRunArn=run_arn)["maxConcurrency"] == 0
    with pytest.raises(ClientError) as caught:
        sfn.update_map_run(mapRunArn=run_arn)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert caught.value.response["reason"] == "MISSING_REQUIRED_PARAMETER"
    # AWS's members: maxConcurrency an Integer, toleratedFailureCount a Long.
    raw = server.client("stepfunctions", config=CLIENT_CONFIG.merge(Config(parameter_validation=False)))
    try:
        assert error_of(raw.update_map_run, mapRunArn=run_arn, maxConcurrency=2**31) == ("ValidationException", 400)
        assert error_of(raw.update_map_run, mapRunArn=run_arn, toleratedFailureCount=2**63) == (
            "ValidationException", 400)
    finally:
        raw.close()


def test_with_an_item_batcher_the_thresholds_count_items(sfn) -> None:
    # AWS: ToleratedFailureCount is "the maximum number of failed items"; a failed batch fails each of its items.
    states = {"Check": {"Type": "Choice", "Choices": [
        {"Variable": "$.Items[0].fail", "BooleanEquals": True, "Next": "Break"}], "Default": "Ok"},
        "Break": {"Type": "Fail", "Error": "ItemFailed", "Cause": "bad batch"},
        "Ok": {"Type": "Pass", "End": True}}
    machine = create(sfn, "batchthreshold", distributed(states, "Check", ItemBatcher={"MaxItemsPerBatch": 2},
                                                        ToleratedFailureCount=1, MaxConcurrency=1))
    items = [{"fail": True}, {"fail": True}, {"fail": False}, {"fail": False}]
    parent = sfn.start_execution(stateMachineArn=machine, input=json.dumps(items))["executionArn"]
    described = wait_status(sfn, parent)
    assert (described["status"], described["error"]) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    run = sfn.describe_map_run(mapRunArn=map_run_of(sfn, parent))
    assert (run["itemCounts"]["failed"], run["executionCounts"]["failed"]) == (2, 1)


def test_redriving_a_stopped_parent_redrives_its_map_run(sfn) -> None:
    # AWS: a redriven parent redrives the Map Run it did not exit (no MapStateExited), rerunning only the
    # unsuccessful children; the succeeded ones are not run again.
    machine, activity = _activity_machine(sfn, "stopredrive", MaxConcurrency=1)
    parent = sfn.start_execution(stateMachineArn=machine, input="[1, 2, 3]")["executionArn"]
    assert _work(sfn, activity) == 1
    run_arn = map_run_of(sfn, parent)
    _wait_counts(sfn, run_arn, (1, 1, 1))
    sfn.stop_execution(executionArn=parent)
    assert wait_status(sfn, parent)["status"] == "ABORTED"
    deadline = time.monotonic() + 10
    while sfn.describe_map_run(mapRunArn=run_arn)["executionCounts"]["aborted"] != 1:
        assert time.monotonic() < deadline
        time.sleep(0.02)

    sfn.redrive_execution(executionArn=parent)
    assert _work(sfn, activity) == 2  # the aborted child, again
    assert _work(sfn, activity) == 3  # the one never started
    described = wait_status(sfn, parent)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == [1, 2, 3]
    assert [r["mapRunArn"] for r in sfn.list_map_runs(executionArn=parent)["mapRuns"]] == [run_arn]
    types = history_types(sfn, parent)
    assert types.count("MapRunStarted") == 1
    assert types[-6:] == ["ExecutionRedriven", "MapRunRedriven", "MapRunSucceeded", "MapStateSucceeded",
                          "MapStateExited", "ExecutionSucceeded"]
    run = sfn.describe_map_run(mapRunArn=run_arn)
    assert (run["status"], run["redriveCount"]) == ("SUCCEEDED", 1)
    assert {k: run["executionCounts"][k] for k in ("succeeded", "aborted", "total")} == {
        "succeeded": 3, "aborted": 0, "total": 3}
    assert len(sfn.list_executions(mapRunArn=run_arn)["executions"]) == 3


def test_a_redriven_map_run_redrives_its_children_within_max_concurrency(sfn) -> None:
    machine, activity = _activity_machine(sfn, "redriveconc", MaxConcurrency=1, ToleratedFailureCount=2)
    parent = sfn.start_execution(stateMachineArn=machine, input="[1, 2, 3, 4]")["executionArn"]
    assert [_work(sfn, activity, fail=True) for _ in range(3)] == [1, 2, 3]
    assert wait_status(sfn, parent)["status"] == "FAILED"
    run_arn = map_run_of(sfn, parent)

    sfn.redrive_execution(executionArn=parent)
    _wait_counts(sfn, run_arn, (3, 1, 0))
    counts = sfn.describe_map_run(mapRunArn=run_arn)["executionCounts"]
    assert (counts["pendingRedrive"], counts["failed"], counts["total"]) == (2, 0, 4)
    # One at a time: the unsuccessful children first, then the item never started.
    assert [_work(sfn, activity) for _ in range(4)] == [1, 2, 3, 4]
    described = wait_status(sfn, parent)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == [1, 2, 3, 4]
    run = sfn.describe_map_run(mapRunArn=run_arn)
    assert (run["executionCounts"]["succeeded"], run["executionCounts"]["pendingRedrive"]) == (4, 0)
    assert len(sfn.list_executions(mapRunArn=run_arn)["executions"]) == 4


def test_the_machine_of_a_map_run_child_is_its_map_runs(sfn) -> None:
    # AWS: DescribeStateMachineForExecution of a child names its Map Run and label.
    machine = create(sfn, "childmachine", distributed(*PASS_ITEMS, Label="Items"))
    parent = sfn.start_execution(stateMachineArn=machine, input="[1]")["executionArn"]
    assert wait_status(sfn, parent)["status"] == "SUCCEEDED"
    run_arn = map_run_of(sfn, parent)
    child = sfn.list_executions(mapRunArn=run_arn)["executions"][0]["executionArn"]
    described = sfn.describe_state_machine_for_execution(executionArn=child)
    assert described["stateMachineArn"] == "arn:aws:states:us-east-1:123456789012:stateMachine:childmachine/Items"
    assert (described["mapRunArn"], described["label"]) == (run_arn, "Items")
    assert json.loads(described["definition"]) == {"StartAt": PASS_ITEMS[1], "States": PASS_ITEMS[0]}
    of_parent = sfn.describe_state_machine_for_execution(executionArn=parent)
    assert of_parent["stateMachineArn"] == machine
    assert "mapRunArn" not in of_parent and "label" not in of_parent


def test_redriving_the_parent_runs_failed_express_children_again(sfn) -> None:
    processor = {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                 "StartAt": FLAKY_ITEMS[1], "States": FLAKY_ITEMS[0]}
    definition = json.dumps({"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "ItemProcessor": processor, "MaxConcurrency": 1, "End": True}}})
    machine = create(sfn, "express-redriven", definition)
    items = [{"n": 0, "fail": False}, {"n": 1, "fail": True}, {"n": 2, "fail": False}]
    parent = sfn.start_execution(stateMachineArn=machine, input=json.dumps(items))["executionArn"]
    assert wait_status(sfn, parent)["status"] == "FAILED"
    run_arn = map_run_of(sfn, parent)
    sfn.redrive_execution(executionArn=parent)
    # The failed item runs again (as a new Express execution) and fails again, so the run fails again.
    assert wait_status(sfn, parent)["status"] == "FAILED"
    types = history_types(sfn, parent)
    assert types[-5:] == ["ExecutionRedriven", "MapRunRedriven", "MapRunFailed", "MapStateFailed", "ExecutionFailed"]
    run = sfn.describe_map_run(mapRunArn=run_arn)
    assert (run["status"], run["redriveCount"]) == ("FAILED", 1)
    counts = run["executionCounts"]
    assert (counts["succeeded"], counts["failed"], counts["running"], counts["pending"]) == (1, 1, 0, 1)
