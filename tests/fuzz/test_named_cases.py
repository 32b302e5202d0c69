"""The requests that broke the server before, each answered with its service's 4xx, and nothing stored.

Codes as each service names its validation errors in botocore's models and AWS's documentation:
Step Functions `ValidationException` and `SerializationException` (AWS JSON 1.0), Lambda
`InvalidParameterValueException`, `InvalidRequestContentException` and `ValidationException`, IAM
`ValidationError` (the Query protocol's name for it). Lambda's environment refusals carry Lambda's
own wording ("Lambda was unable to configure your environment variables ...", as seen in its answers).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fuzz import strategies, wire
from tests.fuzz.conftest import KEEP

DEEP = 10_000
S = "\ud800"
MACHINE = f"{strategies.MACHINE_ARN}{KEEP}machine"
ROLE = f"{strategies.ROLE_ARN}{KEEP}role"
HUGE = "99999999999999999999"  # past SQLite's (and PostgreSQL's) integers


def _sfn(operation: str, body: Any) -> wire.Request:
    return wire.json_body(wire.model("stepfunctions").operation_model(operation), body)


def _sfn_raw(operation: str, raw: bytes) -> wire.Request:
    return wire.Request("POST", "/", {"X-Amz-Target": f"AWSStepFunctions.{operation}",
                                      "Content-Type": "application/x-amz-json-1.0"}, raw)


def _lambda(operation: str, params: dict[str, Any]) -> wire.Request:
    return wire.serialize(wire.model("lambda").operation_model(operation), params)


def _lambda_raw(method: str, path: str, body: Any) -> wire.Request:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode("ascii")
    return wire.Request(method, f"/2015-03-31/functions{path}", {"Content-Type": "application/json"}, raw)


def _iam(operation: str, params: dict[str, Any]) -> wire.Request:
    return wire.serialize(wire.model("iam").operation_model(operation), params)


def _create_function(**changes: Any) -> dict[str, Any]:
    return {"FunctionName": "named", "Runtime": "python3.11", "Role": ROLE, "Handler": "app.handler",
            "Code": {"ZipFile": strategies.b64(strategies.ECHO_ZIP)}, **changes}


CASES: dict[str, tuple[str, str, wire.Request, int, str]] = {
    # JSON nested 10,000 levels: each protocol's answer to a body it cannot read.
    "sfn body nested 10,000 levels": ("stepfunctions", "ListStateMachines",
                                      _sfn_raw("ListStateMachines", b'{"a":' * DEEP + b"1" + b"}" * DEEP),
                                      400, "SerializationException"),
    "lambda body nested 10,000 levels": ("lambda", "CreateFunction",
                                         _lambda_raw("POST", "", b"[" * DEEP + b"]" * DEEP),
                                         400, "InvalidRequestContentException"),
    "lambda payload nested 10,000 levels": ("lambda", "Invoke",
                                            _lambda_raw("POST", f"/{KEEP}function/invocations",
                                                        b"[" * DEEP + b"]" * DEEP),
                                            400, "InvalidRequestContentException"),
    "iam policy nested 10,000 levels": ("iam", "PutRolePolicy", _iam("PutRolePolicy", {
        "RoleName": "fuzz-b", "PolicyName": "p", "PolicyDocument": "[" * DEEP + "]" * DEEP}),
        400, "MalformedPolicyDocument"),
    "sfn execution input nested 10,000 levels": ("stepfunctions", "StartExecution", _sfn("StartExecution", {
        "stateMachineArn": MACHINE, "input": "[" * DEEP + "]" * DEEP}), 400, "InvalidExecutionInput"),
    # Lone surrogates where they would have been stored.
    "lambda description": ("lambda", "CreateFunction", _lambda_raw("POST", "", _create_function(Description=S)),
                           400, "InvalidParameterValueException"),
    "lambda handler": ("lambda", "CreateFunction", _lambda_raw("POST", "", _create_function(Handler=f"app.{S}")),
                       400, "InvalidParameterValueException"),
    "lambda runtime": ("lambda", "CreateFunction", _lambda_raw("POST", "", _create_function(Runtime=S)),
                       400, "InvalidParameterValueException"),
    "lambda environment value": ("lambda", "UpdateFunctionConfiguration", _lambda_raw(
        "PUT", f"/{KEEP}function/configuration", {"Environment": {"Variables": {"MOOD": S}}}),
        400, "InvalidParameterValueException"),
    "lambda tag": ("lambda", "CreateFunction", _lambda_raw("POST", "", _create_function(Tags={"team": S})),
                   400, "InvalidParameterValueException"),
    "lambda alias description": ("lambda", "UpdateAlias", _lambda_raw(
        "PUT", f"/{KEEP}function/aliases/live", {"Description": S}), 400, "InvalidParameterValueException"),
    "sfn alias description": ("stepfunctions", "UpdateStateMachineAlias", _sfn("UpdateStateMachineAlias", {
        "stateMachineAliasArn": f"{MACHINE}:live", "description": S}), 400, "ValidationException"),
    "sfn tag": ("stepfunctions", "TagResource", _sfn("TagResource", {
        "resourceArn": MACHINE, "tags": [{"key": "team", "value": S}]}), 400, "ValidationException"),
    "sfn execution input": ("stepfunctions", "StartExecution", _sfn("StartExecution", {
        "stateMachineArn": MACHINE, "input": '{"a": "\\ud800"}'}), 400, "InvalidExecutionInput"),
    # Lone surrogates in ARN, enum and token members (the error message echoing them could not be encoded).
    "sfn arn member": ("stepfunctions", "DescribeStateMachine", _sfn("DescribeStateMachine", {
        "stateMachineArn": MACHINE + S}), 400, "ValidationException"),
    "sfn enum member": ("stepfunctions", "ListExecutions", _sfn("ListExecutions", {
        "stateMachineArn": MACHINE, "statusFilter": S}), 400, "ValidationException"),
    "sfn token member": ("stepfunctions", "ListStateMachines", _sfn("ListStateMachines", {"nextToken": S}),
                         400, "ValidationException"),
    "lambda qualifier token": ("lambda", "PublishVersion", _lambda_raw(
        "POST", f"/{KEEP}function/versions", {"CodeSha256": S}), 400, "InvalidParameterValueException"),
    # Version numbers larger than the store's integers: no such version.
    "lambda huge version": ("lambda", "GetFunction", _lambda("GetFunction", {
        "FunctionName": f"{KEEP}function", "Qualifier": HUGE}), 404, "ResourceNotFoundException"),
    "lambda huge version alias": ("lambda", "CreateAlias", _lambda("CreateAlias", {
        "FunctionName": f"{KEEP}function", "Name": "huge", "FunctionVersion": HUGE}),
        404, "ResourceNotFoundException"),
    "sfn huge version": ("stepfunctions", "DescribeStateMachine", _sfn("DescribeStateMachine", {
        "stateMachineArn": f"{MACHINE}:{HUGE}"}), 400, "StateMachineDoesNotExist"),
    "sfn digit that is not ASCII": ("stepfunctions", "DescribeStateMachine", _sfn("DescribeStateMachine", {
        "stateMachineArn": f"{MACHINE}:²"}), 400, "StateMachineDoesNotExist"),  # an alias name, then
    "sfn routingConfiguration [1]": ("stepfunctions", "CreateStateMachineAlias", _sfn("CreateStateMachineAlias", {
        "name": "odd", "routingConfiguration": [1]}), 400, "ValidationException"),
    # Version numbers and qualifiers of the deploy tools' operations, past the store's integers or not ASCII,
    # and IAM version ids spelled off IAM's pattern (v[1-9][0-9]*, policyVersionIdType).
    **{f"lambda {operation} qualifier {shown}": ("lambda", operation, _lambda(operation, {
        "FunctionName": f"{KEEP}function", "Qualifier": qualifier, **extra}), status, code)
       for operation, extra in (("AddPermission", {"StatementId": "s", "Action": "lambda:InvokeFunction",
                                                   "Principal": "s3.amazonaws.com"}),
                                ("GetPolicy", {}), ("RemovePermission", {"StatementId": "kept"}))
       for shown, qualifier, status, code in (("huge", "9" * 30, 404, "ResourceNotFoundException"),
                                              ("past INTEGER", "3000000000", 404, "ResourceNotFoundException"),
                                              ("²", "²", 400, "ValidationException"))},
    **{f"iam {operation} {shown}": ("iam", operation, _iam(operation, {
        "PolicyArn": f"arn:aws:iam::{strategies.ACCOUNT}:policy/{KEEP}managed", "VersionId": version}), status, code)
       for operation in ("GetPolicyVersion", "SetDefaultPolicyVersion", "DeletePolicyVersion")
       for shown, version, status, code in (("v²", "v²", 400, "ValidationError"),
                                            ("v01", "v01", 400, "ValidationError"),
                                            ("v0", "v0", 400, "ValidationError"),
                                            ("huge", "v" + "9" * 30, 404, "NoSuchEntity"),
                                            ("past INTEGER", "v3000000000", 404, "NoSuchEntity"))},
    # Environments that can never run, and runtimes that are not Lambda's.
    "lambda environment NUL": ("lambda", "CreateFunction", _lambda("CreateFunction", _create_function(
        Code={"ZipFile": strategies.ECHO_ZIP}, Environment={"Variables": {"MOOD": "a\x00b"}})),
        400, "InvalidParameterValueException"),
    "lambda environment name with =": ("lambda", "CreateFunction", _lambda("CreateFunction", _create_function(
        Code={"ZipFile": strategies.ECHO_ZIP}, Environment={"Variables": {"MO=OD": "x"}})),
        400, "ValidationException"),
    "lambda environment over 4 KB": ("lambda", "CreateFunction", _lambda("CreateFunction", _create_function(
        Code={"ZipFile": strategies.ECHO_ZIP}, Environment={"Variables": {"MOOD": "x" * 4090}})),
        400, "InvalidParameterValueException"),
    "lambda reserved environment name": ("lambda", "CreateFunction", _lambda("CreateFunction", _create_function(
        Code={"ZipFile": strategies.ECHO_ZIP}, Environment={"Variables": {"AWS_REGION": "eu-west-1"}})),
        400, "InvalidParameterValueException"),
    "lambda runtime this server does not run": ("lambda", "CreateFunction", _lambda("CreateFunction", _create_function(
        Code={"ZipFile": strategies.ECHO_ZIP}, Runtime="java21")), 400, "InvalidParameterValueException"),
    "lambda runtime ../../bin/sh": ("lambda", "CreateFunction", _lambda("CreateFunction", _create_function(
        Code={"ZipFile": strategies.ECHO_ZIP}, Runtime="../../bin/sh")), 400, "ValidationException"),
    # A path no route can match (a newline in it) is still answered in Lambda's shape.
    "lambda path holding a newline": ("lambda", "ListTags", wire.Request("GET", "/2017-03-31/tags/%0Aarn"),
                                      404, "UnknownOperationException"),
    # IAM's XML cannot carry \x00 or \x01: refused, never written into an answer.
    "iam role description with \\x00": ("iam", "CreateRole", _iam("CreateRole", {
        "RoleName": "named", "AssumeRolePolicyDocument": strategies.TRUST, "Description": "a\x00b"}),
        400, "ValidationError"),
    "iam role tag with \\x01": ("iam", "CreateRole", _iam("CreateRole", {
        "RoleName": "named", "AssumeRolePolicyDocument": strategies.TRUST,
        "Tags": [{"Key": "team", "Value": "\x01"}]}), 400, "ValidationError"),
    "iam parameter that is not UTF-8": ("iam", "CreateRole", wire.Request(
        "POST", "/", {"Content-Type": "application/x-www-form-urlencoded"},
        b"Action=CreateRole&Version=2010-05-08&RoleName=named&AssumeRolePolicyDocument=%7B%7D&Path=%ED%A0%80"),
        400, "InvalidQueryParameter"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_named_case(case: str, fuzz_server: Any) -> None:
    server = fuzz_server[0]
    service, operation, request, status, code = CASES[case]
    answered = wire.send(server.port, request)
    answer = wire.check(wire.model(service).operation_model(operation), *answered)
    assert (answer.status, answer.error_code) == (status, code), answered[2][:300]


def test_nothing_the_cases_sent_was_stored(fuzz_server: Any) -> None:
    server, protected = fuzz_server
    for case in sorted(CASES):
        wire.send(server.port, CASES[case][2])
    sfn, lam, iam = (protected.clients[name] for name in ("stepfunctions", "lambda", "iam"))
    # Every caller can still list everything (before the fix, one stored value broke these for all).
    assert "named" not in [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    assert "named" not in [r["RoleName"] for r in iam.list_roles()["Roles"]]
    assert sfn.list_state_machines()["stateMachines"]
    assert protected.read() == protected.before
