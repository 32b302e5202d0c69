"""A start reads the registry as it is at that moment, however many starts came before it.

Where one process works on the store, what a start reads (the machine's revision and role, the pins)
is kept between starts until the registry changes (`Store.generation`): these tests change each thing
a start depends on between two starts in one process, and check the second start saw the change.
"""

from __future__ import annotations

import json

import pytest

from pinflow import arns, errors
from tests.engine.conftest import ROLE_TRUST

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
