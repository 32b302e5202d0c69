"""State machine roles: Step Functions refuses a role it cannot assume, and no path turns IAM off
silently (only `--permissive-iam`, which every answer announces)."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from pinflow.service import Pinflow
from tests.api.conftest import RunningServer
from tests.roles import STATES_TRUST, execution_role

PASS = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
MISSING = "arn:aws:iam::123456789012:role/not-there"
# What Step Functions answers when it cannot assume the role: Terraform's aws_sfn_state_machine
# retries CreateStateMachine on exactly this AccessDeniedException while a new role propagates.
CANNOT_ASSUME = ("Neither the global service principal states.amazonaws.com, nor the regional one is authorized "
                 "to assume the provided role.")


def error_of(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response = info.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def test_a_role_that_does_not_exist_is_refused(sfn):
    with pytest.raises(ClientError) as info:
        sfn.create_state_machine(name="m", definition=PASS, roleArn=MISSING)
    assert error_of(info) == ("AccessDeniedException", 400, CANNOT_ASSUME)
    assert info.value.response["ResponseMetadata"]["HTTPHeaders"]["x-pinflow-iam"] == "enforced"
    assert sfn.list_state_machines()["stateMachines"] == []


def test_update_state_machine_refuses_it_too(server, sfn):
    arn = sfn.create_state_machine(name="m", definition=PASS,
                                   roleArn=execution_role(server.pf, "good"))["stateMachineArn"]
    with pytest.raises(ClientError) as info:
        sfn.update_state_machine(stateMachineArn=arn, roleArn=MISSING)
    assert error_of(info) == ("AccessDeniedException", 400, CANNOT_ASSUME)
    assert sfn.describe_state_machine(stateMachineArn=arn)["roleArn"].endswith("role/good")


def test_a_role_with_another_path_or_account_is_not_the_same_role(server, sfn):
    execution_role(server.pf, "flow")
    for other in ("arn:aws:iam::123456789012:role/team/flow", "arn:aws:iam::999999999999:role/flow"):
        with pytest.raises(ClientError) as info:
            sfn.create_state_machine(name="m", definition=PASS, roleArn=other)
        assert error_of(info)[0] == "AccessDeniedException"


def _function(pf: Pinflow) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 'hi'\n")
    pf.functions.create_function("hello", buffer.getvalue(), handler="app.handler", publish=True)


def _run(sfn, machine: str) -> dict:
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    deadline = time.monotonic() + 20
    while True:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described
        time.sleep(0.05)


CALL = json.dumps({"StartAt": "Call", "States": {"Call": {
    "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:hello:1", "End": True}}})


def test_a_role_deleted_after_creation_denies_every_call(server, iam, sfn):
    _function(server.pf)
    iam.create_role(RoleName="gone", AssumeRolePolicyDocument=STATES_TRUST)
    iam.put_role_policy(RoleName="gone", PolicyName="all", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:*", "Resource": "*"}]}))
    machine = sfn.create_state_machine(name="m", definition=CALL,
                                       roleArn="arn:aws:iam::123456789012:role/gone")["stateMachineArn"]
    assert _run(sfn, machine)["status"] == "SUCCEEDED"
    iam.delete_role_policy(RoleName="gone", PolicyName="all")
    iam.delete_role(RoleName="gone")
    denied = _run(sfn, machine)
    # Not "no role, so no check": a role that does not exist allows nothing.
    assert (denied["status"], denied["error"]) == ("FAILED", "Lambda.AWSLambdaException")


@pytest.fixture
def permissive(tmp_path) -> Iterator[RunningServer]:
    pf = Pinflow.open(data_dir=tmp_path / "permissive", permissive_iam=True)
    running = RunningServer(pf)
    yield running
    running.stop()
    pf.close()


def test_permissive_iam_is_explicit_and_announced(permissive):
    sfn = permissive.client("stepfunctions")
    try:
        created = sfn.create_state_machine(name="m", definition=CALL, roleArn=MISSING)
        assert created["ResponseMetadata"]["HTTPHeaders"]["x-pinflow-iam"] == "permissive"
        _function(permissive.pf)
        assert _run(sfn, created["stateMachineArn"])["status"] == "SUCCEEDED"
        # Roles the server has are still enforced, and still refused when Step Functions cannot assume them.
        iam = permissive.client("iam")
        iam.create_role(RoleName="lambda-only", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "lambda.amazonaws.com"}}]}))
        with pytest.raises(ClientError) as info:
            sfn.create_state_machine(name="n", definition=CALL, roleArn="arn:aws:iam::123456789012:role/lambda-only")
        assert error_of(info)[0] == "AccessDeniedException"
        iam.close()
    finally:
        sfn.close()


def test_the_server_flag(tmp_path):
    from tests.api.test_server import Server

    server = Server(tmp_path, "--permissive-iam")
    try:
        server.wait_ready()
        sfn = server.client()
        created = sfn.create_state_machine(name="m", definition=PASS, roleArn=MISSING)
        assert created["ResponseMetadata"]["HTTPHeaders"]["x-pinflow-iam"] == "permissive"
        sfn.close()
    finally:
        assert server.stop() == 0
    assert "IAM permissive: roles this server does not have are accepted and not enforced" in server.output()
