"""Starts and Task calls read the registry as it is at that moment, however many came before them.

Where one process works on the store, what a start reads (the machine's revision and role, the pins)
and what a Task call reads (its role's grants, the function version it runs) is kept until the
registry changes (`pinflow.store.kept`): these tests change each thing between two reads in one
process, and check the second read saw the change.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from pinflow import arns, errors
from tests.engine.conftest import ROLE_TRUST, function_zip

ROLE = arns.role("reads-role")
OTHER_ROLE = arns.role("reads-other-role")


def pass_machine(result: str) -> str:
    return json.dumps({"StartAt": "Answer", "States": {"Answer": {"Type": "Pass", "Result": result, "End": True}}})


def allow(pf, role: str, action: str) -> None:
    pf.roles.put_role_policy(role, "calls", json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": action, "Resource": "*"}]}))


def pins_of(pf, execution_arn: str) -> dict:
    return json.loads(pf.engine.execution_row(execution_arn)["pins"])


def output_of(pf, execution_arn: str) -> str:
    return json.loads(pf.engine.wait_for(execution_arn, timeout=20)["output"])


@pytest.fixture
def pf(open_pinflow):
    pf = open_pinflow()
    for role in ("reads-role", "reads-other-role"):
        pf.roles.create_role(role, ROLE_TRUST)
    allow(pf, "reads-role", "lambda:InvokeFunction")
    return pf


def test_a_start_after_an_update_runs_the_new_definition_and_role(pf) -> None:
    machine = pf.machines.create("reads", pass_machine("first"), ROLE)["stateMachineArn"]
    first = pf.engine.start_execution(machine, name="before")["executionArn"]
    assert output_of(pf, first) == "first"

    pf.machines.update(machine, definition=pass_machine("second"), role_arn=OTHER_ROLE)
    second = pf.engine.start_execution(machine, name="after")["executionArn"]
    assert output_of(pf, second) == "second"
    assert pf.engine.execution_row(second)["role_arn"] == OTHER_ROLE
    assert pf.engine.execution_row(first)["role_arn"] == ROLE


def test_a_start_after_a_role_change_pins_the_role_s_new_policies(pf) -> None:
    machine = pf.machines.create("reads", pass_machine("x"), ROLE)["stateMachineArn"]
    first = pf.engine.start_execution(machine, name="before")["executionArn"]
    assert [s["Action"] for d in pins_of(pf, first)["policies"] for s in d["Statement"]] == ["lambda:InvokeFunction"]

    allow(pf, "reads-role", "sns:Publish")
    second = pf.engine.start_execution(machine, name="narrowed")["executionArn"]
    assert [s["Action"] for d in pins_of(pf, second)["policies"] for s in d["Statement"]] == ["sns:Publish"]

    pf.policies.attach_role_policy("reads-role", "arn:aws:iam::aws:policy/service-role/AWSLambdaRole")
    third = pf.engine.start_execution(machine, name="attached")["executionArn"]
    assert len(pins_of(pf, third)["policies"]) == 2

    pf.roles.delete_role_policy("reads-role", "calls")
    pf.policies.detach_role_policy("reads-role", "arn:aws:iam::aws:policy/service-role/AWSLambdaRole")
    fourth = pf.engine.start_execution(machine, name="emptied")["executionArn"]
    assert pins_of(pf, fourth)["policies"] == []


def test_a_start_after_a_delete_is_refused(pf) -> None:
    machine = pf.machines.create("reads", pass_machine("x"), ROLE)["stateMachineArn"]
    output_of(pf, pf.engine.start_execution(machine, name="before")["executionArn"])
    pf.machines.delete(machine)
    with pytest.raises(errors.ServiceError) as refused:
        pf.engine.start_execution(machine, name="after")
    assert refused.value.code == "StateMachineDoesNotExist"


def test_only_registry_writes_move_the_store_s_generation(pf) -> None:
    machine = pf.machines.create("reads", pass_machine("x"), ROLE)["stateMachineArn"]
    before = pf.store.generation
    for i in range(3):
        output_of(pf, pf.engine.start_execution(machine, name=f"run-{i}")["executionArn"])
    assert pf.store.generation == before  # executions, their histories and work change no registry row
    pf.machines.tag_resource(machine, [{"key": "team", "value": "a"}])
    assert pf.store.generation > before


def task_machine(function_arn: str, wait: bool) -> str:
    states: dict = {"Call": {"Type": "Task", "Resource": function_arn, "End": True}}
    if wait:
        states["Wait"] = {"Type": "Wait", "Seconds": 60, "Next": "Call"}
    return json.dumps({"StartAt": "Wait" if wait else "Call", "States": states})


def test_a_call_after_the_role_lost_its_grant_is_denied(pf, tmp_path, clock) -> None:
    hello = arns.function("hello")
    pf.functions.create_function("hello", function_zip(tmp_path, "v1", "def handler(e, c):\n    return 1\n"),
                                 handler="app.handler")
    now = pf.machines.create("now", task_machine(hello, wait=False), ROLE)["stateMachineArn"]
    later = pf.machines.create("later", task_machine(hello, wait=True), ROLE)["stateMachineArn"]
    assert pf.engine.wait_for(pf.engine.start_execution(now, name="a")["executionArn"])["status"] == "SUCCEEDED"
    waiting = pf.engine.start_execution(later, name="b")["executionArn"]

    allow(pf, "reads-role", "sns:Publish")  # the grant to invoke is gone; `hello` unqualified pins nothing
    clock.advance(61)
    ended = pf.engine.wait_for(waiting, timeout=20)
    assert ended["status"] == "FAILED"
    assert ended["error"] == "Lambda.AWSLambdaException"
    assert "AccessDeniedException" in ended["cause"]


@pytest.mark.parametrize("change", ["detach", "new default version", "trust"])
def test_a_call_after_a_managed_grant_went_is_denied(pf, tmp_path, clock, change) -> None:
    # A call allowed before is remembered only while nothing the role's grants come from has changed.
    hello = arns.function("hello")
    pf.functions.create_function("hello", function_zip(tmp_path, "v1", "def handler(e, c):\n    return 1\n"),
                                 handler="app.handler")
    pf.roles.delete_role_policy("reads-role", "calls")
    invoke = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"}]})
    policy = pf.policies.create_policy("invoke-all", invoke)["Arn"]
    pf.policies.attach_role_policy("reads-role", policy)
    now = pf.machines.create("now", task_machine(hello, wait=False), ROLE)["stateMachineArn"]
    later = pf.machines.create("later", task_machine(hello, wait=True), ROLE)["stateMachineArn"]
    for name in ("a", "b"):
        assert pf.engine.wait_for(pf.engine.start_execution(now, name=name)["executionArn"])["status"] == "SUCCEEDED"
    waiting = pf.engine.start_execution(later, name="c")["executionArn"]

    if change == "detach":
        pf.policies.detach_role_policy("reads-role", policy)
    elif change == "new default version":
        pf.policies.create_policy_version(policy, json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}]}), set_as_default=True)
    else:  # Step Functions may no longer assume the role
        pf.roles.update_assume_role_policy("reads-role", json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    clock.advance(61)
    ended = pf.engine.wait_for(waiting, timeout=20)
    assert (ended["status"], ended["error"]) == ("FAILED", "Lambda.AWSLambdaException")
    assert "AccessDeniedException" in ended["cause"]


def test_a_grant_with_a_time_condition_is_evaluated_at_each_call(pf, tmp_path, clock) -> None:
    hello = arns.function("hello")
    pf.functions.create_function("hello", function_zip(tmp_path, "v1", "def handler(e, c):\n    return 1\n"),
                                 handler="app.handler")
    until = datetime.fromtimestamp(int(clock()) + 30, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    pf.roles.put_role_policy("reads-role", "calls", json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*",
         "Condition": {"DateLessThan": {"aws:CurrentTime": until}}}]}))
    now = pf.machines.create("now", task_machine(hello, wait=False), ROLE)["stateMachineArn"]
    later = pf.machines.create("later", task_machine(hello, wait=True), ROLE)["stateMachineArn"]
    assert pf.engine.wait_for(pf.engine.start_execution(now, name="a")["executionArn"])["status"] == "SUCCEEDED"
    waiting = pf.engine.start_execution(later, name="b")["executionArn"]

    clock.advance(61)  # past the grant's end, with no change to the role
    ended = pf.engine.wait_for(waiting, timeout=20)
    assert ended["status"] == "FAILED"
    assert ended["error"] == "Lambda.AWSLambdaException"
    assert "AccessDeniedException" in ended["cause"]


def test_a_call_after_latest_changed_runs_the_new_code(pf, tmp_path) -> None:
    hello = arns.function("hello")
    pf.functions.create_function("hello", function_zip(tmp_path, "v1", "def handler(e, c):\n    return 1\n"),
                                 handler="app.handler")
    machine = pf.machines.create("calls", task_machine(hello, wait=False), ROLE)["stateMachineArn"]
    first = pf.engine.start_execution(machine, name="first")["executionArn"]
    assert json.loads(pf.engine.wait_for(first)["output"]) == 1

    pf.functions.update_function_code("hello", function_zip(tmp_path, "v2", "def handler(e, c):\n    return 2\n"))
    second = pf.engine.start_execution(machine, name="second")["executionArn"]
    assert json.loads(pf.engine.wait_for(second)["output"]) == 2


def test_a_start_naming_a_deleted_function_version_is_refused(pf, tmp_path) -> None:
    pf.functions.create_function("hello", function_zip(tmp_path, "v1", "def handler(e, c):\n    return 1\n"),
                                 handler="app.handler", publish=True)
    pf.functions.delete_function("hello", "1")
    machine = pf.machines.create("calls", task_machine(arns.function("hello", "1"), wait=False), ROLE)
    for name in ("first", "second"):  # the second start after nothing changed in the registry
        with pytest.raises(errors.ServiceError) as refused:
            pf.engine.start_execution(machine["stateMachineArn"], name=name)
        assert refused.value.code == "ResourceNotFound"


def test_a_start_naming_a_deleted_machine_version_is_refused(pf) -> None:
    child = pf.machines.create("child", pass_machine("x"), ROLE, publish=True)
    pf.machines.delete_version(child["stateMachineVersionArn"])
    parent = pf.machines.create("parent", json.dumps({"StartAt": "Run", "States": {"Run": {
        "Type": "Task", "Resource": "arn:aws:states:::states:startExecution",
        "Parameters": {"StateMachineArn": child["stateMachineVersionArn"]}, "End": True}}}), ROLE)
    for name in ("first", "second"):
        with pytest.raises(errors.ServiceError) as refused:
            pf.engine.start_execution(parent["stateMachineArn"], name=name)
        assert refused.value.code == "StateMachineDoesNotExist"
