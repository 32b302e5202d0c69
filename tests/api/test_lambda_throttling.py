"""Reserved concurrency is enforced as Lambda enforces it: a function runs at most its reserved number of
invocations at once (all its versions together); one more synchronous Invoke is refused with 429
TooManyRequestsException (reason ReservedFunctionConcurrentInvocationLimitExceeded), 0 refuses every
one, and a Task calling a throttled function fails with `Lambda.TooManyRequestsException`, which Retry
and Catch see as on AWS."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.api.test_lambda_functions import zip_of
from tests.roles import execution_role

ROLE = "arn:aws:iam::123456789012:role/lambda-role"
SLOW = "import time\ndef handler(event, context):\n    time.sleep(event.get('sleep', 0))\n    return 'done'\n"


def _create(lam, name: str) -> None:
    lam.create_function(FunctionName=name, Runtime="python3.11", Handler="app.handler", Role=ROLE,
                        Code={"ZipFile": zip_of(SLOW)}, Publish=True, Timeout=30)


def _invoke(lam, name: str, payload: dict) -> str | dict:
    try:
        answer = lam.invoke(FunctionName=name, Payload=json.dumps(payload).encode())
    except ClientError as exc:
        return exc.response
    return json.loads(answer["Payload"].read())


@pytest.fixture
def slow_lam(server):
    config = Config(read_timeout=60, retries={"max_attempts": 0}, region_name="us-east-1")
    client = server.client("lambda", config=config)
    yield client
    client.close()


def test_reserved_concurrency_zero_throttles_every_invocation(slow_lam) -> None:
    _create(slow_lam, "off")
    slow_lam.put_function_concurrency(FunctionName="off", ReservedConcurrentExecutions=0)
    refused = _invoke(slow_lam, "off", {})
    assert isinstance(refused, dict) and refused["Error"]["Code"] == "TooManyRequestsException"
    assert refused["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert refused["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    slow_lam.delete_function_concurrency(FunctionName="off")
    assert _invoke(slow_lam, "off", {}) == "done"


def test_one_more_invocation_than_reserved_is_refused_across_versions(pinflow_service, slow_lam) -> None:
    _create(slow_lam, "one")
    slow_lam.put_function_concurrency(FunctionName="one", ReservedConcurrentExecutions=1)
    assert _invoke(slow_lam, "one", {}) == "done"
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(_invoke, slow_lam, "one:1", {"sleep": 3})
        deadline = time.monotonic() + 20
        while not pinflow_service.invoker._in_flight.get("one"):  # the first holds the one slot
            assert time.monotonic() < deadline
            time.sleep(0.01)
        second = pool.submit(_invoke, slow_lam, "one", {"sleep": 0})
        outcomes = [first.result(), second.result()]
    assert outcomes[0] == "done"
    assert isinstance(outcomes[1], dict) and outcomes[1]["Error"]["Code"] == "TooManyRequestsException"
    assert _invoke(slow_lam, "one", {}) == "done"  # the slot is free again


def test_a_task_on_a_throttled_function_fails_with_lambda_s_error_and_retry_and_catch_see_it(
        pinflow_service, slow_lam, sfn) -> None:
    _create(slow_lam, "throttled")
    slow_lam.put_function_concurrency(FunctionName="throttled", ReservedConcurrentExecutions=0)
    role = execution_role(pinflow_service, "throttle-role")
    definition = {"StartAt": "Call", "States": {
        "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                 "Parameters": {"FunctionName": "throttled", "Payload": {}},
                 "Retry": [{"ErrorEquals": ["Lambda.TooManyRequestsException"], "IntervalSeconds": 1,
                            "MaxAttempts": 1}],
                 "Catch": [{"ErrorEquals": ["Lambda.TooManyRequestsException"], "Next": "Throttled"}],
                 "End": True},
        "Throttled": {"Type": "Pass", "End": True}}}
    machine = sfn.create_state_machine(name="throttle", roleArn=role, definition=json.dumps(definition))
    arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], input="{}")["executionArn"]
    deadline = time.monotonic() + 30
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert described["status"] == "SUCCEEDED"
    events = sfn.get_execution_history(executionArn=arn)["events"]
    failures = [e["taskFailedEventDetails"] for e in events if e["type"] == "TaskFailed"]
    assert [f["error"] for f in failures] == ["Lambda.TooManyRequestsException"] * 2  # the try and its retry
    assert "Status Code: 429" in failures[0]["cause"]
    assert json.loads(described["output"])["Error"] == "Lambda.TooManyRequestsException"
