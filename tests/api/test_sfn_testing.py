"""ValidateStateMachineDefinition and TestState through boto3 against a real server, checked against
AWS-recorded cases (../shared/conformance) and AWS's documented shapes."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.roles import execution_role

CONFORMANCE = Path(__file__).resolve().parents[2].parent / "shared" / "conformance"


def cases(name: str) -> list[dict]:
    path = CONFORMANCE / name
    if not path.exists():
        pytest.skip(f"{path} is not here")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def recorded_test_state_cases() -> list:
    """The recorded TestState cases as parameters (none when the recordings are not here)."""
    path = CONFORMANCE / "test_state.jsonl"
    if not path.exists():
        return []
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        found.append(pytest.param(case, id=case["id"].split("::")[-2]))
    return found


def text(definition) -> str:
    return definition if isinstance(definition, str) else json.dumps(definition)


def unchecked_client(endpoint: str):
    """A client that sends what botocore would refuse (AWS answers an empty definition, for one)."""
    config = Config(inject_host_prefix=False, parameter_validation=False, retries={"max_attempts": 0})
    return boto3.client("stepfunctions", endpoint_url=endpoint, region_name="us-east-1", config=config,
                        aws_access_key_id="a", aws_secret_access_key="b")


def test_validate_matches_aws_recordings(endpoint):
    sfn = unchecked_client(endpoint)
    recorded = [case for case in cases("validation.jsonl")
                if case["expected"]["status"].startswith("VALIDATE")]
    assert recorded
    for case in recorded:
        answer = sfn.validate_state_machine_definition(definition=text(case["definition"]),
                                                       type=case.get("type", "STANDARD"))
        expected = case["expected"]
        assert answer["result"] == ("OK" if expected["status"] == "VALIDATE_OK" else "FAIL"), case["id"]
        assert answer["diagnostics"] == expected["diagnostics"], case["id"]
        assert answer["truncated"] is False
    sfn.close()


def test_validate_severity_and_truncation(sfn):
    # Two problems: a missing target, and an unreachable state.
    definition = json.dumps({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "Nowhere"}, "B": {"Type": "Pass", "End": True},
        "C": {"Type": "Pass", "End": True}}})
    full = sfn.validate_state_machine_definition(definition=definition)
    assert full["result"] == "FAIL"
    assert len(full["diagnostics"]) >= 2
    assert all(d["severity"] == "ERROR" for d in full["diagnostics"])
    one = sfn.validate_state_machine_definition(definition=definition, maxResults=1)
    assert (len(one["diagnostics"]), one["truncated"]) == (1, True)
    warned = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"x": "$.y"},
                                                          "End": True}}})
    errors_only = sfn.validate_state_machine_definition(definition=warned)
    with_warnings = sfn.validate_state_machine_definition(definition=warned, severity="WARNING")
    assert (errors_only["result"], errors_only["diagnostics"]) == ("OK", [])
    assert with_warnings["result"] == "OK"
    assert [d["severity"] for d in with_warnings["diagnostics"]] == ["WARNING"]
    express = json.dumps({"StartAt": "A", "States": {"A": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "f", "Payload": {"t.$": "$$.Task.Token"}}, "End": True}}})
    assert sfn.validate_state_machine_definition(definition=express)["result"] == "OK"
    assert sfn.validate_state_machine_definition(definition=express, type="EXPRESS")["result"] == "FAIL"


@pytest.mark.parametrize("case", recorded_test_state_cases())
def test_test_state_matches_aws_recordings(sfn, case):
    params = {"definition": text(case["definition"]), "input": json.dumps(case["input"]),
              "inspectionLevel": case["inspection_level"]}
    if case.get("variables") is not None:
        params["variables"] = json.dumps(case["variables"])
    if case.get("context") is not None:
        params["context"] = json.dumps(case["context"])
    answer = sfn.test_state(**params)
    expected = case["expected"]
    assert answer["status"] == expected["status"]
    assert json.loads(answer["output"]) == expected["output"]
    if "inspectionData" in expected:
        assert {key: json.loads(value) for key, value in answer["inspectionData"].items()} == (
            expected["inspectionData"])
    else:
        assert "inspectionData" not in answer


def test_test_state_next_state_variables_and_errors(sfn):
    state = {"Type": "Pass", "Parameters": {"v.$": "$x"}, "Next": "After"}
    answer = sfn.test_state(definition=json.dumps(state), input="{}", variables='{"x": 42}')
    assert (answer["status"], json.loads(answer["output"]), answer["nextState"]) == (
        "SUCCEEDED", {"v": 42}, "After")
    failed = sfn.test_state(definition=json.dumps({"Type": "Fail", "Error": "Boom", "Cause": "why"}))
    assert (failed["status"], failed["error"], failed["cause"]) == ("FAILED", "Boom", "why")
    assert "output" not in failed
    with pytest.raises(ClientError) as caught:
        sfn.test_state(definition=json.dumps({"Type": "Nope"}))
    assert caught.value.response["Error"]["Code"] == "InvalidDefinition"
    with pytest.raises(ClientError) as caught:
        sfn.test_state(definition=json.dumps({"Type": "Pass", "End": True}), input="not json")
    assert caught.value.response["Error"]["Code"] == "InvalidExecutionInput"
    machine = json.dumps({"StartAt": "One", "States": {"One": {"Type": "Pass", "Next": "Two"},
                                                       "Two": {"Type": "Pass", "Result": 2, "End": True}}})
    two = sfn.test_state(definition=machine, stateName="Two", input="{}")
    assert (two["status"], json.loads(two["output"])) == ("SUCCEEDED", 2)


def test_test_state_mocks(sfn):
    task = {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:absent",
            "ResultSelector": {"doubled.$": "$.n"}, "Next": "Next"}
    mocked = sfn.test_state(definition=json.dumps(task), input="{}", mock={"result": '{"n": 2}'},
                            inspectionLevel="DEBUG")
    assert (mocked["status"], json.loads(mocked["output"]), mocked["nextState"]) == (
        "SUCCEEDED", {"doubled": 2}, "Next")
    assert json.loads(mocked["inspectionData"]["result"]) == {"n": 2}
    caught = dict(task, Catch=[{"ErrorEquals": ["Custom.Error"], "Next": "Handler"}])
    answer = sfn.test_state(definition=json.dumps(caught), input="{}",
                            mock={"errorOutput": {"error": "Custom.Error", "cause": "mocked"}})
    assert (answer["status"], answer["error"], answer["cause"], answer["nextState"]) == (
        "CAUGHT_ERROR", "Custom.Error", "mocked", "Handler")
    retried = dict(task, Retry=[{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}])
    answer = sfn.test_state(definition=json.dumps(retried), input="{}",
                            mock={"errorOutput": {"error": "Custom.Error", "cause": "again"}})
    assert (answer["status"], answer["error"]) == ("RETRIABLE", "Custom.Error")


def test_test_state_calls_a_real_function(server, sfn):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return {'hello': event['name']}\n")
    server.pf.functions.create_function("greeter", buffer.getvalue(), handler="app.handler", publish=True)
    task = {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:greeter:1",
            "End": True}
    answer = sfn.test_state(definition=json.dumps(task), input='{"name": "Ada"}',
                            roleArn=execution_role(server.pf, "tester"))
    assert (answer["status"], json.loads(answer["output"])) == ("SUCCEEDED", {"hello": "Ada"})
    missing = dict(task, Resource="arn:aws:lambda:us-east-1:123456789012:function:nobody")
    answer = sfn.test_state(definition=json.dumps(missing), input="{}", roleArn=execution_role(server.pf, "tester"))
    assert (answer["status"], answer["error"]) == ("FAILED", "Lambda.ResourceNotFoundException")


def _refusal(sfn, **request) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        sfn.test_state(**request)
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


MACHINE = json.dumps({"StartAt": "Fan", "States": {
    "Fan": {"Type": "Map", "ItemProcessor": {"StartAt": "Item", "States": {
        "Item": {"Type": "Pass", "Parameters": {"v.$": "$"}, "End": True}}}, "Next": "Done"},
    "Done": {"Type": "Succeed"}}})


def test_test_state_refuses_a_state_name_the_definition_lacks(sfn):
    # AWS's answer (LocalStack's recording, test_test_state_machine_scenarios.snapshot.json,
    # test_base_state_name_validation_failures[dne]).
    assert _refusal(sfn, definition=MACHINE, stateName="dne", input="{}") == (
        "ValidationException", "State not found in definition")
    # A state inside a Map is one of the machine's states (the same recordings, BASE_MAP_STATE_MACHINE).
    inner = sfn.test_state(definition=MACHINE, stateName="Item", input='{"Value": 1}')
    assert (inner["status"], json.loads(inner["output"])) == ("SUCCEEDED", {"v": {"Value": 1}})


def test_test_state_refuses_a_mock_on_a_state_that_takes_none(sfn):
    # AWS's answers (LocalStack's recording, test_state_mock_validation.snapshot.json).
    for kind, state in (("Pass", {"Type": "Pass", "End": True}), ("Succeed", {"Type": "Succeed"}),
                        ("Fail", {"Type": "Fail", "Error": "E"})):
        assert _refusal(sfn, definition=json.dumps(state), input="{}", mock={"result": "{}"}) == (
            "ValidationException", f"State type '{kind}' is not supported when a mock is specified")
    task = json.dumps({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
                       "End": True})
    assert _refusal(sfn, definition=task, input="{}",
                    mock={"result": "{}", "errorOutput": {"error": "E", "cause": "c"}}) == (
        "ValidationException", "A test mock should have only one of the following fields: [result, errorOutput].")
    assert _refusal(sfn, definition=task, input="{}", mock={"result": "{}"}, revealSecrets=True,
                    roleArn="arn:aws:iam::123456789012:role/r") == (
        "ValidationException", "TestState does not support RevealSecrets when a mock is specified.")


def test_test_state_checks_the_context_object_as_aws_does(sfn):
    # AWS's answers (LocalStack's recording, test_state_context_object.snapshot.json).
    task = {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f", "End": True,
            "ResultPath": "$.out", "Parameters": {"ctx.$": "$$"}}
    invalid = "Invalid Context object provided: "
    for context, why in (
            ({"Pokedex": {}}, "Field 'Pokedex' is not allowed"),
            ({"Execution": {"pokemon": 1}}, "Field 'pokemon' is not allowed"),
            ({"Execution": {"Id": 1}}, "Execution.Id must be a string"),
            ({"Map": {"Item": {"Index": 0}}}, "'Map' field is not supported when mocking a Context object"),
            ({"Task": {"Token": "abc"}}, "Context object contains 'Task' when state is not a Task state with a "
                                         "'.sync' or '.waitForTaskToken' service integration pattern")):
        assert _refusal(sfn, definition=json.dumps(task), input="{}", mock={"result": "{}"},
                        context=json.dumps(context)) == ("ValidationException", invalid + why)
    # The context given stands for the whole context object: an empty one gives an empty `$$`.
    answer = sfn.test_state(definition=json.dumps(task), input="{}", mock={"result": '"r"'}, context="{}",
                            inspectionLevel="DEBUG")
    assert json.loads(answer["inspectionData"]["afterParameters"]) == {"ctx": {}}


def test_test_state_inspects_a_task_as_aws_does(sfn):
    # AWS's inspectionData for a Task (LocalStack's recording, test_state_context_object.snapshot.json,
    # test_state_task_context_object): input, afterInputPath, afterParameters, result,
    # afterResultSelector, afterResultPath.
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "InputPath": "$.call", "Parameters": {"FunctionName.$": "$.FunctionName", "Payload": {"k": 1}},
            "ResultSelector": {"got.$": "$.answer"}, "ResultPath": "$.result", "End": True}
    answer = sfn.test_state(definition=json.dumps(task), input='{"call": {"FunctionName": "f"}}',
                            mock={"result": '{"answer": 42}'}, inspectionLevel="TRACE")
    data = {key: json.loads(value) for key, value in answer["inspectionData"].items()}
    assert data == {
        "input": {"call": {"FunctionName": "f"}},
        "afterInputPath": {"FunctionName": "f"},
        "afterParameters": {"FunctionName": "f", "Payload": {"k": 1}},
        "result": {"answer": 42},
        "afterResultSelector": {"got": 42},
        "afterResultPath": {"call": {"FunctionName": "f"}, "result": {"got": 42}},
    }
