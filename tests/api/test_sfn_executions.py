"""Step Functions executions through boto3 against a real server: starting (by machine, version and
alias; idempotent by name), describing, listing with filters and pages, history, stop, redrive,
activities and task tokens, Express executions (async and sync)."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from tests.roles import execution_role

ROLE = "arn:aws:iam::123456789012:role/sfn-role"


@pytest.fixture(autouse=True)
def _execution_role(pinflow_service):
    """CreateStateMachine refuses a role Step Functions cannot assume, as on AWS."""
    execution_role(pinflow_service, ROLE.rsplit("/", 1)[-1])


def error_of(call, **params) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    response = caught.value.response
    status = response["ResponseMetadata"]["HTTPStatusCode"]
    return response["Error"]["Code"], response["Error"]["Message"], status


def machine(*states: tuple[str, dict]) -> str:
    return json.dumps({"StartAt": states[0][0], "States": dict(states)})


PASS = machine(("A", {"Type": "Pass", "Result": {"Arg1": "argument1"}, "End": True}))
WAIT = machine(("W", {"Type": "Wait", "Seconds": 600, "End": True}))


def activity_machine(activity_arn: str) -> str:
    return machine(("Work", {"Type": "Task", "Resource": activity_arn, "End": True}))


ENDED = ("SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT")


def wait_status(sfn, execution_arn: str, *, until: tuple[str, ...] = ENDED, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] in until or time.monotonic() > deadline:
            return described
        time.sleep(0.02)


def create(sfn, name: str, definition: str = PASS, **options) -> str:
    created = sfn.create_state_machine(name=name, definition=definition, roleArn=ROLE, **options)
    return created["stateMachineArn"]


def test_start_describe_history(sfn):
    arn = create(sfn, "basic")
    started = sfn.start_execution(stateMachineArn=arn, name="first", input='{"n": 1}')
    assert started["executionArn"] == "arn:aws:states:us-east-1:123456789012:execution:basic:first"
    described = wait_status(sfn, started["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert described["input"] == '{"n": 1}'
    assert described["inputDetails"] == {"included": True}
    assert json.loads(described["output"]) == {"Arg1": "argument1"}
    assert described["outputDetails"] == {"included": True}
    assert described["startDate"] == started["startDate"]
    assert described["stopDate"] >= described["startDate"]
    assert (described["redriveCount"], described["redriveStatus"], described["redriveStatusReason"]) == (
        0, "NOT_REDRIVABLE", "Execution is SUCCEEDED and cannot be redriven")
    assert "stateMachineVersionArn" not in described
    events = sfn.get_execution_history(executionArn=started["executionArn"])["events"]
    assert [e["type"] for e in events] == ["ExecutionStarted", "PassStateEntered", "PassStateExited",
                                           "ExecutionSucceeded"]
    assert [e["id"] for e in events] == [1, 2, 3, 4]
    assert events[0]["executionStartedEventDetails"] == {
        "input": '{"n":1}', "inputDetails": {"truncated": False}, "roleArn": ROLE}
    assert events[2]["stateExitedEventDetails"]["output"] == '{"Arg1":"argument1"}'
    assert events[3]["executionSucceededEventDetails"]["output"] == '{"Arg1":"argument1"}'
    for_execution = sfn.describe_state_machine_for_execution(executionArn=started["executionArn"])
    assert (for_execution["stateMachineArn"], for_execution["definition"], for_execution["roleArn"]) == (
        arn, PASS, ROLE)


def test_history_pages_reverse_and_without_data(sfn):
    states = [(f"P{i}", {"Type": "Pass", "Next": f"P{i + 1}"}) for i in range(4)]
    states.append(("P4", {"Type": "Pass", "End": True}))
    arn = create(sfn, "chain", machine(*states))
    execution = sfn.start_execution(stateMachineArn=arn, input='{"secret": 1}')["executionArn"]
    wait_status(sfn, execution)
    everything = sfn.get_execution_history(executionArn=execution)["events"]
    assert len(everything) == 12
    page = sfn.get_execution_history(executionArn=execution, maxResults=5)
    assert [e["id"] for e in page["events"]] == [1, 2, 3, 4, 5]
    following = sfn.get_execution_history(executionArn=execution, maxResults=5, nextToken=page["nextToken"])
    assert [e["id"] for e in following["events"]] == [6, 7, 8, 9, 10]
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution,
                                                                PaginationConfig={"PageSize": 5})
    assert [e["id"] for p in pages for e in p["events"]] == list(range(1, 13))
    newest = sfn.get_execution_history(executionArn=execution, reverseOrder=True, maxResults=3)
    assert [e["id"] for e in newest["events"]] == [12, 11, 10]
    older = sfn.get_execution_history(executionArn=execution, reverseOrder=True, maxResults=3,
                                      nextToken=newest["nextToken"])
    assert [e["id"] for e in older["events"]] == [9, 8, 7]
    bare = sfn.get_execution_history(executionArn=execution, includeExecutionData=False)["events"]
    assert bare[0]["executionStartedEventDetails"] == {"inputDetails": {"truncated": False}, "roleArn": ROLE}
    assert "output" not in bare[-1]["executionSucceededEventDetails"]
    assert error_of(sfn.get_execution_history, executionArn=execution, nextToken="nope")[0] == "InvalidToken"


def test_start_is_idempotent_for_a_running_execution(sfn):
    arn = create(sfn, "waits", WAIT)
    first = sfn.start_execution(stateMachineArn=arn, name="once", input="{}")
    again = sfn.start_execution(stateMachineArn=arn, name="once", input="{}")
    assert again["executionArn"] == first["executionArn"]
    assert again["startDate"] == first["startDate"]
    code, message, status = error_of(sfn.start_execution, stateMachineArn=arn, name="once",
                                     input='{"other": 1}')
    assert (code, status) == ("ExecutionAlreadyExists", 400)
    assert message == f"Execution Already Exists: '{first['executionArn']}'"
    sfn.stop_execution(executionArn=first["executionArn"])
    # Once it has ended, the name is taken for good.
    code = error_of(sfn.start_execution, stateMachineArn=arn, name="once", input="{}")[0]
    assert code == "ExecutionAlreadyExists"


def test_start_errors(sfn):
    arn = create(sfn, "errs")
    assert error_of(sfn.start_execution, stateMachineArn=arn, input="not json")[0] == "InvalidExecutionInput"
    assert error_of(sfn.start_execution, stateMachineArn=arn, input="") == (
        "InvalidExecutionInput", "Invalid State Machine Execution Input: 'Invalid execution input.'", 400)
    missing = arn + "-missing"
    assert error_of(sfn.start_execution, stateMachineArn=missing) == (
        "StateMachineDoesNotExist", f"State Machine Does Not Exist: '{missing}'", 400)
    assert error_of(sfn.start_execution, stateMachineArn="nope")[:2] == (
        "InvalidArn", "Invalid Arn: 'Invalid ARN prefix: nope'")
    assert error_of(sfn.start_execution, stateMachineArn=arn, name="bad name")[:2] == (
        "InvalidName", "Invalid Name: 'bad name'")
    # Any JSON value is an input.
    for text in ("1", '"text"', "null"):
        wait_status(sfn, sfn.start_execution(stateMachineArn=arn, input=text)["executionArn"])


def test_describe_errors(sfn):
    assert error_of(sfn.describe_execution, executionArn="invalid_state_machine_arn") == (
        "InvalidArn", "Invalid Arn: 'Invalid ARN prefix: invalid_state_machine_arn'", 400)
    missing = "arn:aws:states:us-east-1:123456789012:execution:none:none"
    assert error_of(sfn.describe_execution, executionArn=missing) == (
        "ExecutionDoesNotExist", f"Execution Does Not Exist: '{missing}'", 400)
    assert error_of(sfn.get_execution_history, executionArn=missing)[0] == "ExecutionDoesNotExist"


def test_versions_and_aliases_are_recorded_and_filter_lists(sfn):
    arn = create(sfn, "pinned", publish=True)
    sfn.update_state_machine(stateMachineArn=arn, definition=machine(
        ("A", {"Type": "Pass", "Result": "v2", "End": True})), publish=True)
    alias = sfn.create_state_machine_alias(name="prod", routingConfiguration=[
        {"stateMachineVersionArn": f"{arn}:1", "weight": 100}])["stateMachineAliasArn"]
    by_version = sfn.start_execution(stateMachineArn=f"{arn}:2")["executionArn"]
    by_alias = sfn.start_execution(stateMachineArn=alias)["executionArn"]
    plain = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    described = wait_status(sfn, by_alias)
    assert (described["stateMachineAliasArn"], described["stateMachineVersionArn"]) == (alias, f"{arn}:1")
    assert json.loads(described["output"]) == {"Arg1": "argument1"}  # version 1's definition
    assert json.loads(wait_status(sfn, by_version)["output"]) == "v2"
    wait_status(sfn, plain)
    started = sfn.get_execution_history(executionArn=by_alias)["events"][0]["executionStartedEventDetails"]
    assert (started["stateMachineAliasArn"], started["stateMachineVersionArn"]) == (alias, f"{arn}:1")

    def names(**params) -> list[str]:
        return [item["executionArn"] for item in sfn.list_executions(**params)["executions"]]

    assert names(stateMachineArn=arn) == [plain, by_alias, by_version]
    assert names(stateMachineArn=f"{arn}:1") == [by_alias]
    assert names(stateMachineArn=f"{arn}:2") == [by_version]
    assert names(stateMachineArn=alias) == [by_alias]
    item = sfn.list_executions(stateMachineArn=alias)["executions"][0]
    assert (item["stateMachineArn"], item["stateMachineAliasArn"], item["stateMachineVersionArn"]) == (
        arn, alias, f"{arn}:1")
    assert error_of(sfn.list_executions, stateMachineArn=f"{arn}:9")[0] == "StateMachineDoesNotExist"


def test_list_executions_pages_and_filters(sfn):
    arn = create(sfn, "many")
    started = [sfn.start_execution(stateMachineArn=arn, name=f"e{i}")["executionArn"] for i in range(5)]
    for execution in started:
        wait_status(sfn, execution)
    waiting = create(sfn, "waiting", WAIT)
    running = sfn.start_execution(stateMachineArn=waiting, name="running")["executionArn"]
    first = sfn.list_executions(stateMachineArn=arn, maxResults=2)
    assert [item["name"] for item in first["executions"]] == ["e4", "e3"]
    item = first["executions"][0]
    assert set(item) == {"executionArn", "stateMachineArn", "name", "status", "startDate", "stopDate",
                         "redriveCount"}
    second = sfn.list_executions(stateMachineArn=arn, maxResults=2, nextToken=first["nextToken"])
    assert [item["name"] for item in second["executions"]] == ["e2", "e1"]
    pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=arn,
                                                          PaginationConfig={"PageSize": 2})
    assert [item["name"] for page in pages for item in page["executions"]] == ["e4", "e3", "e2", "e1", "e0"]
    assert sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"] == []
    assert [i["executionArn"] for i in sfn.list_executions(stateMachineArn=waiting, statusFilter="RUNNING")[
        "executions"]] == [running]
    assert "stopDate" not in sfn.list_executions(stateMachineArn=waiting)["executions"][0]
    assert len(sfn.list_executions(stateMachineArn=arn, redriveFilter="NOT_REDRIVEN")["executions"]) == 5
    assert sfn.list_executions(stateMachineArn=arn, redriveFilter="REDRIVEN")["executions"] == []
    assert error_of(sfn.list_executions, stateMachineArn=arn, maxResults=1001)[0] == "ValidationException"
    code, message, _ = error_of(sfn.list_executions, stateMachineArn=arn, nextToken="x" * 3097)
    assert code == "ValidationException"
    assert message == (f"1 validation error detected: Value '{'x' * 3097}' at 'nextToken' failed to satisfy "
                       "constraint: Member must have length less than or equal to 3096")
    sfn.stop_execution(executionArn=running)


def test_stop_execution(sfn):
    arn = create(sfn, "stoppable", WAIT)
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    assert wait_status(sfn, execution, until=("RUNNING",))["redriveStatusReason"] == (
        "Execution is RUNNING and cannot be redriven")
    stopped = sfn.stop_execution(executionArn=execution, error="Halt", cause="by hand")
    described = sfn.describe_execution(executionArn=execution)
    assert (described["status"], described["error"], described["cause"]) == ("ABORTED", "Halt", "by hand")
    assert described["stopDate"] == stopped["stopDate"]
    assert described["redriveStatus"] == "REDRIVABLE"
    assert "redriveStatusReason" not in described
    events = sfn.get_execution_history(executionArn=execution)["events"]
    assert events[-1]["type"] == "ExecutionAborted"
    assert events[-1]["executionAbortedEventDetails"] == {"error": "Halt", "cause": "by hand"}


def _worker(sfn, activity_arn: str, answers: list) -> threading.Thread:
    """A thread that takes one activity task and answers it with answers' next item."""

    def work() -> None:
        task = sfn.get_activity_task(activityArn=activity_arn, workerName="w1")
        token = task["taskToken"]
        answer = answers.pop(0)
        if answer == "fail":
            sfn.send_task_failure(taskToken=token, error="Worker.Failed", cause="on purpose")
        else:
            sfn.send_task_heartbeat(taskToken=token)
            sfn.send_task_success(taskToken=token, output=json.dumps({"got": json.loads(task["input"])}))

    thread = threading.Thread(target=work)
    thread.start()
    return thread


def test_activity_tasks_failure_redrive_success(sfn):
    activity = sfn.create_activity(name="work")["activityArn"]
    arn = create(sfn, "with-activity", activity_machine(activity))
    answers = ["fail", "ok"]
    worker = _worker(sfn, activity, answers)
    execution = sfn.start_execution(stateMachineArn=arn, input='{"job": 7}')["executionArn"]
    worker.join(timeout=20)
    failed = wait_status(sfn, execution)
    assert (failed["status"], failed["error"], failed["cause"]) == ("FAILED", "Worker.Failed", "on purpose")
    assert failed["redriveStatus"] == "REDRIVABLE"
    worker = _worker(sfn, activity, answers)
    redriven = sfn.redrive_execution(executionArn=execution, clientToken="once")
    # The same client token within 15 minutes is the same redrive.
    again = sfn.redrive_execution(executionArn=execution, clientToken="once")
    assert again["redriveDate"] == redriven["redriveDate"]
    worker.join(timeout=20)
    done = wait_status(sfn, execution)
    assert json.loads(done["output"]) == {"got": {"job": 7}}
    assert (done["redriveCount"], done["redriveDate"]) == (1, redriven["redriveDate"])
    types = [e["type"] for e in sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]]
    assert types.count("ActivityScheduled") == 2
    assert "ExecutionRedriven" in types
    redriven_items = sfn.list_executions(stateMachineArn=arn, redriveFilter="REDRIVEN")["executions"]
    assert [item["executionArn"] for item in redriven_items] == [execution]
    assert error_of(sfn.redrive_execution, executionArn=execution)[0] == "ExecutionNotRedrivable"


def test_task_token_errors_and_empty_activity_poll(sfn, monkeypatch):
    from pinflow.api import sfn_executions

    monkeypatch.setattr(sfn_executions, "ACTIVITY_POLL_SECONDS", 0.2)
    activity = sfn.create_activity(name="idle")["activityArn"]
    answer = sfn.get_activity_task(activityArn=activity)
    assert "taskToken" not in answer
    assert error_of(sfn.get_activity_task, activityArn=activity + "-gone")[0] == "ActivityDoesNotExist"
    # AWS's errors for SendTask*: InvalidToken, "The provided token is not valid".
    assert error_of(sfn.send_task_success, taskToken="no-such-token", output="{}")[0] == "InvalidToken"
    assert error_of(sfn.send_task_failure, taskToken="no-such-token")[0] == "InvalidToken"
    assert error_of(sfn.send_task_heartbeat, taskToken="no-such-token")[0] == "InvalidToken"


def test_long_polls_do_not_hold_up_other_operations(server, sfn, monkeypatch):
    from pinflow.api import sfn_executions

    monkeypatch.setattr(sfn_executions, "ACTIVITY_POLL_SECONDS", 3.0)
    activity = sfn.create_activity(name="busy")["activityArn"]
    clients = [server.client("stepfunctions") for _ in range(50)]
    pollers = [threading.Thread(target=lambda c=c: c.get_activity_task(activityArn=activity))
               for c in clients]
    for poller in pollers:
        poller.start()
    time.sleep(0.5)
    began = time.monotonic()
    assert sfn.list_state_machines()["stateMachines"] == []
    assert time.monotonic() - began < 2.0  # a starved pool would answer after the 3 s polls
    for poller in pollers:
        poller.join(timeout=10)
    for made in clients:
        made.close()


def test_express_async_and_sync(sfn):
    arn = create(sfn, "fast", type="EXPRESS")
    started = sfn.start_execution(stateMachineArn=arn, name="x1")
    assert started["executionArn"].startswith("arn:aws:states:us-east-1:123456789012:express:fast:x1:")
    for call in (sfn.describe_execution, sfn.stop_execution, sfn.get_execution_history):
        assert error_of(call, executionArn=started["executionArn"]) == (
            "InvalidArn", "Invalid Arn: 'Resource type not valid in this context: express'", 400)
    assert error_of(sfn.list_executions, stateMachineArn=arn) == (
        "StateMachineTypeNotSupported", "This operation is not supported by this type of state machine", 400)
    done = sfn.start_sync_execution(stateMachineArn=arn, input='{"a": 1}', name="s1")
    assert done["status"] == "SUCCEEDED"
    assert done["executionArn"].startswith("arn:aws:states:us-east-1:123456789012:express:fast:s1:")
    assert (done["name"], done["stateMachineArn"]) == ("s1", arn)
    assert (done["input"], done["inputDetails"]) == ('{"a": 1}', {"included": True})
    assert (done["output"], done["outputDetails"]) == ('{"Arg1":"argument1"}', {"included": True})
    assert done["billingDetails"] == {"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": 100}
    assert done["stopDate"] >= done["startDate"]
    quiet = sfn.start_sync_execution(stateMachineArn=arn, includedData="METADATA_ONLY")
    assert "output" not in quiet and "input" not in quiet
    failing = create(sfn, "fails", machine(("F", {"Type": "Fail", "Error": "Oops", "Cause": "bad"})),
                     type="EXPRESS")
    failed = sfn.start_sync_execution(stateMachineArn=failing)
    assert (failed["status"], failed["error"], failed["cause"]) == ("FAILED", "Oops", "bad")
    assert failed["ResponseMetadata"]["HTTPStatusCode"] == 200
    # AWS's FAILED answer carries outputDetails, without an output (LocalStack's recording of AWS,
    # express/test_express_sync.snapshot.json, test_base[BASE_RAISE_FAILURE]).
    assert failed["outputDetails"] == {"included": True} and "output" not in failed
    standard = create(sfn, "slow")
    assert error_of(sfn.start_sync_execution, stateMachineArn=standard) == (
        "StateMachineTypeNotSupported", "This operation is not supported by this type of state machine", 400)


def test_sync_execution_with_default_host_prefix_config(endpoint):
    """botocore would send StartSyncExecution to sync-127.0.0.1; with the prefix resolved to this
    server (as wildcard DNS would), the Host header `sync-...` does not matter."""
    import boto3
    from botocore.config import Config

    sfn = boto3.client("stepfunctions", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="a", aws_secret_access_key="b",
                       config=Config(retries={"max_attempts": 0}))
    arn = create(sfn, "prefixed", type="EXPRESS")
    host = endpoint.split("//", 1)[1]

    def to_loopback(request, **_):
        # What a wildcard DNS entry does: sync-<host> reaches <host>; the Host header keeps the prefix.
        request.headers["Host"] = "sync-" + host
        request.url = request.url.replace("//sync-" + host, "//" + host)

    sfn.meta.events.register_first("before-send.sfn.StartSyncExecution", to_loopback)
    seen = []
    sfn.meta.events.register("request-created.sfn.StartSyncExecution",
                             lambda request, **_: seen.append(request.url))
    assert sfn.start_sync_execution(stateMachineArn=arn)["status"] == "SUCCEEDED"
    assert seen and "//sync-" in seen[0]
    sfn.close()


def test_host_prefix_off_from_the_environment(endpoint, monkeypatch):
    """AWS_DISABLE_HOST_PREFIX_INJECTION=true does what Config(inject_host_prefix=False) does."""
    import boto3
    from botocore.config import Config

    monkeypatch.setenv("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")
    sfn = boto3.client("stepfunctions", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="a", aws_secret_access_key="b",
                       config=Config(retries={"max_attempts": 0}))
    arn = create(sfn, "unprefixed", type="EXPRESS")
    assert sfn.start_sync_execution(stateMachineArn=arn)["status"] == "SUCCEEDED"
    state = json.dumps({"Type": "Pass", "End": True})
    assert sfn.test_state(definition=state, input="{}")["status"] == "SUCCEEDED"
    sfn.close()


def test_delete_stops_running_executions(sfn):
    arn = create(sfn, "doomed", WAIT)
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    wait_status(sfn, execution, until=("RUNNING",))
    sfn.delete_state_machine(stateMachineArn=arn)
    assert wait_status(sfn, execution)["status"] == "ABORTED"
    deadline = time.monotonic() + 10
    while sfn.list_state_machines()["stateMachines"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sfn.list_state_machines()["stateMachines"] == []
    # The name is free again.
    create(sfn, "doomed", WAIT)


def test_a_token_answered_once_is_closed(sfn):
    # AWS (SendTaskSuccess's errors): TaskTimedOut, "the task associated with the token has already been
    # closed"; text that was never a token is InvalidToken.
    activity = sfn.create_activity(name="once")["activityArn"]
    arn = create(sfn, "answered-once", activity_machine(activity))
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    token = sfn.get_activity_task(activityArn=activity, workerName="w1")["taskToken"]
    sfn.send_task_success(taskToken=token, output="{}")
    assert wait_status(sfn, execution)["status"] == "SUCCEEDED"
    assert error_of(sfn.send_task_success, taskToken=token, output="{}")[0] == "TaskTimedOut"
    assert error_of(sfn.send_task_heartbeat, taskToken=token)[0] == "TaskTimedOut"
    assert error_of(sfn.send_task_failure, taskToken="x" + token)[0] == "InvalidToken"


def test_starts_large_and_many_at_once(sfn):
    # A large input is handled away from the event loop, small ones on it; either way the answer comes
    # once the start is durable, and starts racing for one name get one execution.
    arn = create(sfn, "sizes")
    big = json.dumps({"blob": "x" * 200_000})
    started = sfn.start_execution(stateMachineArn=arn, input=big)
    described = wait_status(sfn, started["executionArn"])
    assert (described["status"], described["input"]) == ("SUCCEEDED", big)
    assert json.loads(described["output"]) == {"Arg1": "argument1"}

    waits = create(sfn, "racing", WAIT)
    with ThreadPoolExecutor(max_workers=8) as pool:
        distinct = list(pool.map(lambda i: sfn.start_execution(stateMachineArn=arn, name=f"n{i}"), range(24)))
        same = list(pool.map(lambda _: sfn.start_execution(stateMachineArn=waits, name="one", input="{}"), range(8)))
    assert len({s["executionArn"] for s in distinct}) == 24
    for s in distinct:
        assert sfn.describe_execution(executionArn=s["executionArn"])["status"] in ("RUNNING", "SUCCEEDED")
    assert len({(s["executionArn"], s["startDate"]) for s in same}) == 1
    sfn.stop_execution(executionArn=same[0]["executionArn"])


def test_a_machine_whose_first_step_is_slow_starts_off_the_event_loop(sfn, pinflow_service, monkeypatch):
    # Starts run their first step where the request arrives, on the event loop, while that is quick; once
    # a machine's first step has held the loop past the limit in starts one after another, or far past
    # it once, its later starts run on the shared pool and the loop goes on serving other requests
    # meanwhile. A single start a little slow (a collector's pass, a cold cache) between quick ones moves
    # nothing.
    from pinflow.api import sfn_executions

    # Limits well above a collector's pass, so that only the starts made slow here are slow.
    monkeypatch.setattr(sfn_executions, "SLOW_START_SECONDS", 0.04)
    monkeypatch.setattr(sfn_executions, "LONG_START_SECONDS", 0.2)
    monkeypatch.setattr(sfn_executions, "_SLOW_STARTS", set())
    monkeypatch.setattr(sfn_executions, "_STRIKES", {})
    ran_on: dict[str, str] = {}
    engine = pinflow_service.engine
    original = engine.start_execution_async

    def recording(*args, **kwargs):
        name = kwargs.get("name", "")
        ran_on[name] = threading.current_thread().name
        busy = {"hiccup-1": 0.06, "hiccup-3": 0.06}.get(name, {"slow": 0.06, "long": 0.25}.get(name.split("-")[0], 0))
        busy_until = time.thread_time() + busy
        while time.thread_time() < busy_until:  # a long first step: CPU on the thread that runs it
            pass
        return original(*args, **kwargs)

    monkeypatch.setattr(engine, "start_execution_async", recording)
    machines = {prefix: create(sfn, f"{prefix}-first-step") for prefix in ("quick", "hiccup", "slow", "long")}
    for prefix, arn in machines.items():
        for n in range(1, 5):
            wait_status(sfn, sfn.start_execution(stateMachineArn=arn, name=f"{prefix}-{n}")["executionArn"])
    loop_thread = ran_on["quick-1"]
    assert not loop_thread.startswith("pinflow-api")
    on_loop = [name for name, thread in ran_on.items() if thread == loop_thread]
    assert on_loop == ["quick-1", "quick-2", "quick-3", "quick-4", "hiccup-1", "hiccup-2", "hiccup-3",
                       "hiccup-4", "slow-1", "slow-2", "long-1"]
    assert all(ran_on[name].startswith("pinflow-api") for name in ("slow-3", "slow-4", "long-2", "long-3", "long-4"))
