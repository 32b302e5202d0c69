"""Mocked integrations: Step Functions Local's mock configuration file, read unchanged, as AWS documents it
("Using mocked service integrations for testing in Step Functions Local" and "Configuration file for
mocked service integrations"): `StateMachines` -> `TestCases` (state -> mocked response) and
`MockedResponses` (`Return`/`Throw` by invocation: `"0"`, `"1-2"`), the test case chosen by
`<state machine ARN>#<test case>` at StartExecution, `SFN_MOCK_CONFIG` naming the file. The
responses follow the state's invocations in the execution: a Retry and a loop that comes back to the
state alike take the next answer. The workflow of test_workflow.py runs here
with no AWS endpoint and no credentials at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pinflow.cli import main
from pinflow.engine.integrations import mock
from tests.aws import workflow
from tests.aws.conftest import AwsServer, one, output, task

NAMES = {"table": "orders", "topic_arn": "arn:aws:sns:us-east-1:123456789012:orders", "events": "shop",
         "bucket": "orders-bucket", "callbacks_url": "https://sqs.us-east-1.amazonaws.com/123456789012/callbacks"}
META = {"SdkHttpMetadata": {"HttpStatusCode": 200}, "SdkResponseMetadata": {"RequestId": "mocked"}}
CONFIG = {
    "StateMachines": {
        "OrderFlow": {"TestCases": {
            "HappyPath": {"Put": "PutOk", "PutAgain": "ConditionFails", "Get": "Found", "Publish": "Published",
                          "Event": "EventSent", "Write": "Written", "Read": "ReadBack", "Ask": "Approved"},
            "ThrottledTwice": {"Put": "ThrottledTwiceThenOk", "PutAgain": "ConditionFails", "Get": "Found",
                               "Publish": "Published", "Event": "EventSent", "Write": "Written", "Read": "ReadBack",
                               "Ask": "Approved"},
        }},
        "Hybrid": {"TestCases": {"Calls": {"Function": "FunctionAnswer", "Child": "ChildDone"}}},
    },
    "MockedResponses": {
        "PutOk": {"0": {"Return": META}},
        "ThrottledTwiceThenOk": {
            "0-1": {"Throw": {"Error": "DynamoDB.ProvisionedThroughputExceededException", "Cause": "slow down"}},
            "2": {"Return": META}},
        "ConditionFails": {"0": {"Throw": {"Error": "DynamoDB.ConditionalCheckFailedException",
                                           "Cause": "The conditional request failed"}}},
        "Found": {"0": {"Return": {"Item": {"id": {"S": "o1"}, "total": {"N": "42"}}}}},
        "Published": {"0": {"Return": {"MessageId": "m-1"}}},
        "EventSent": {"0": {"Return": {"Entries": [{"EventId": "e-1"}], "FailedEntryCount": 0}}},
        "Written": {"0": {"Return": {"ETag": "\"abc\""}}},
        "ReadBack": {"0": {"Return": {"Body": "{\"order\":\"o1\"}", "ContentLength": 14}}},
        "Approved": {"0": {"Return": {"approved": "o1"}}},
        "FunctionAnswer": {"0": {"Return": {"greeting": "hi"}}},
        "ChildDone": {"0": {"Return": {"Status": "SUCCEEDED", "Output": "{\"n\":2}"}}},
    },
}
RETRY = [{"ErrorEquals": ["DynamoDB.ProvisionedThroughputExceededException"], "IntervalSeconds": 1,
          "BackoffRate": 1, "MaxAttempts": 3}]


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "MockConfigFile.json"
    path.write_text(json.dumps(CONFIG), encoding="utf-8")
    return path


@pytest.fixture
def mocked(serve: Callable[..., AwsServer], config_file: Path) -> AwsServer:
    """A server with the mock configuration and no AWS endpoint (nor credentials: see conftest)."""
    return serve(mock_config=config_file)


def _definition() -> dict[str, Any]:
    definition = workflow.definition(NAMES)
    definition["States"]["Put"]["Retry"] = RETRY
    return definition


def test_the_workflow_runs_on_mocked_answers_with_no_endpoint(mocked: AwsServer) -> None:
    machine = mocked.machine(_definition(), name="OrderFlow")
    execution = mocked.start(f"{machine}#HappyPath", {"id": "o1"})
    result = output(mocked.finished(execution))
    assert result["put"] == META
    assert result["caught"] == {"Error": "DynamoDB.ConditionalCheckFailedException",
                                "Cause": "The conditional request failed"}
    assert result["get"]["Item"]["total"] == {"N": "42"}
    assert result["published"] == {"MessageId": "m-1"}
    assert result["read"]["Body"] == '{"order":"o1"}'
    assert result["answer"] == {"approved": "o1"}  # a mocked .waitForTaskToken ends with its answer at once
    # The history is the integrations' usual one: TaskScheduled, TaskStarted, then the mocked outcome.
    kinds = [e["type"] for e in mocked.history(execution) if e["type"].startswith("Task") and "State" not in e["type"]]
    assert kinds == ["TaskScheduled", "TaskStarted", "TaskSucceeded"] + [
        "TaskScheduled", "TaskStarted", "TaskFailed"] + ["TaskScheduled", "TaskStarted", "TaskSucceeded"] * 6


def test_a_test_case_fails_dynamodb_twice_then_succeeds_under_the_retry(mocked: AwsServer) -> None:
    machine = mocked.machine(_definition(), name="OrderFlow")
    execution = mocked.start(f"{machine}#ThrottledTwice", {"id": "o1"})
    result = output(mocked.finished(execution))
    assert result["put"] == META
    events = mocked.history(execution)
    put = events[: next(i for i, e in enumerate(events) if e.get("stateExitedEventDetails", {}).get("name") == "Put")]
    outcomes = [(e["type"], e.get("taskFailedEventDetails", {}).get("error")) for e in put
                if e["type"] in ("TaskFailed", "TaskSucceeded")]
    assert outcomes == [("TaskFailed", "DynamoDB.ProvisionedThroughputExceededException")] * 2 + [
        ("TaskSucceeded", None)]
    scheduled = [e for e in put if e["type"] == "TaskScheduled"]
    assert len(scheduled) == 3 and all(e["taskScheduledEventDetails"]["resource"] == "putItem" for e in scheduled)


def test_lambda_and_nested_state_machines_are_mocked_with_their_own_events(mocked: AwsServer) -> None:
    definition = {"StartAt": "Function", "States": {
        "Function": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:absent",
                     "ResultPath": "$.function", "Next": "Child"},
        "Child": task("arn:aws:states:::states:startExecution.sync:2", {
            "StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:absent"}, ResultPath="$.child")}}
    machine = mocked.machine(definition, name="Hybrid")
    execution = mocked.start(f"{machine}#Calls")
    result = output(mocked.finished(execution))
    assert result["function"] == {"greeting": "hi"} and result["child"]["Status"] == "SUCCEEDED"
    kinds = [e["type"] for e in mocked.history(execution)]
    lambda_events = [k for k in kinds if k.startswith("LambdaFunction")]
    assert lambda_events == ["LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded"]
    assert "TaskSucceeded" in kinds


def test_without_a_test_case_the_calls_are_made_and_fail_naming_what_to_set(mocked: AwsServer) -> None:
    described = mocked.run(one(task("arn:aws:states:::sns:publish", {"TopicArn": NAMES["topic_arn"],
                                                                   "Message": "hi"})))
    assert described["status"] == "FAILED"
    assert described["error"] == "SNS.SdkClientException"
    assert "'sns'" in described["cause"] and "--aws-endpoint sns=URL" in described["cause"]


def test_an_unknown_test_case_is_refused_at_start(mocked: AwsServer) -> None:
    machine = mocked.machine(_definition(), name="OrderFlow")
    with pytest.raises(mocked.sfn.exceptions.ClientError) as refused:
        mocked.start(f"{machine}#NoSuchCase")
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "NoSuchCase" in refused.value.response["Error"]["Message"]


def test_express_start_sync_execution_takes_a_test_case(mocked: AwsServer) -> None:
    definition = one(task("arn:aws:lambda:us-east-1:123456789012:function:absent"))
    definition["States"]["Function"] = definition["States"].pop("Call")
    definition["StartAt"] = "Function"
    machine = mocked.machine(definition, name="Hybrid", kind="EXPRESS")
    answer = mocked.sfn.start_sync_execution(stateMachineArn=f"{machine}#Calls", input="{}")
    assert answer["status"] == "SUCCEEDED" and json.loads(answer["output"]) == {"greeting": "hi"}


def test_test_state_mock_answers_through_the_same_seam(mocked: AwsServer) -> None:
    state = task("arn:aws:states:::dynamodb:getItem", {"TableName": "orders", "Key": {"id": {"S": "o1"}}})
    answered = mocked.sfn.test_state(definition=json.dumps(state), roleArn=mocked.role(),
                                     mock={"errorOutput": {"error": "DynamoDB.ResourceNotFoundException",
                                                           "cause": "no table"}})
    assert (answered["status"], answered["error"], answered["cause"]) == (
        "FAILED", "DynamoDB.ResourceNotFoundException", "no table")


@pytest.mark.parametrize("responses, complaint", [
    ({"R": {"0": {"Return": 1}, "2": {"Return": 2}}}, "expected 1"),
    ({"R": {"0": {"Return": 1, "Throw": {"Error": "E", "Cause": "c"}}}}, "exactly one of Return and Throw"),
    ({"R": {"x": {"Return": 1}}}, "a number"),
    ({"R": {"0": {"Throw": {"Cause": "c"}}}}, "Error and Cause"),
])
def test_a_malformed_file_is_refused_naming_the_place(tmp_path: Path, responses: dict, complaint: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"StateMachines": {"M": {"TestCases": {"T": {"S": "R"}}}},
                                "MockedResponses": responses}))
    with pytest.raises(ValueError, match=complaint) as refused:
        mock.MockConfig.load(path)
    assert "MockedResponses.R" in str(refused.value)


def test_an_invocation_past_the_last_answer_fails_the_task() -> None:
    response = mock.Response("R", (mock.Mocked(result=1),))
    assert response.answer(0, "S").result == 1
    assert response.answer(1, "S").error == "States.Runtime"


def test_pinflow_run_uses_the_mock_configuration_and_a_test_case(tmp_path: Path, config_file: Path) -> None:
    machine = tmp_path / "OrderFlow.asl.json"
    machine.write_text(json.dumps(_definition()))
    result = CliRunner().invoke(main, ["run", str(machine), "--input", '{"id": "o1"}', "--mock-config",
                                       str(config_file), "--test-case", "ThrottledTwice", "--history"])
    assert result.exit_code == 0, result.output
    assert "TaskFailed" in result.output
    final = json.loads(result.output[result.output.rindex("\n{"):])
    assert final["answer"] == {"approved": "o1"} and final["put"] == META


def test_pinflow_run_names_a_test_case_it_cannot_find(tmp_path: Path, config_file: Path) -> None:
    machine = tmp_path / "Other.json"
    machine.write_text(json.dumps(_definition()))
    result = CliRunner().invoke(main, ["run", str(machine), "--mock-config", str(config_file),
                                       "--test-case", "Other#HappyPath"])
    assert result.exit_code == 2
    assert "no test case 'HappyPath' for the state machine 'Other'" in result.output


def test_the_server_reads_sfn_mock_config_and_refuses_a_malformed_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = CliRunner().invoke(main, ["server", "--isolation", "none", "--data-dir", str(tmp_path / "d")],
                                env={mock.ENV: str(bad)})
    assert result.exit_code == 2
    assert "--mock-config" in result.output and "bad.json" in result.output


def test_a_loop_that_comes_back_to_a_mocked_state_takes_its_next_answer(serve: Callable[..., AwsServer],
                                                                          tmp_path: Path) -> None:
    """A polling loop (Task, Choice back to the Task) gets "0", then "1", then "2": each entry of the state
    is its next invocation, though no entry is a retry; a Retry on the way counts too."""
    config = {
        "StateMachines": {"Poller": {"TestCases": {"Polls": {"Check": "PendingThenDone"}}}},
        "MockedResponses": {"PendingThenDone": {
            "0": {"Return": {"status": "PENDING"}},
            "1": {"Throw": {"Error": "Busy", "Cause": "try again"}},
            "2": {"Return": {"status": "PENDING"}},
            "3": {"Return": {"status": "DONE"}}}},
    }
    path = tmp_path / "loop.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    server = serve(mock_config=path)
    definition = {"StartAt": "Check", "States": {
        "Check": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:glue:getJobRun",
                  "Parameters": {"JobName": "j", "RunId": "r"}, "ResultPath": "$.check", "Next": "Done?",
                  "Retry": [{"ErrorEquals": ["Busy"], "IntervalSeconds": 1, "MaxAttempts": 1}]},
        "Done?": {"Type": "Choice", "Choices": [
            {"Variable": "$.check.status", "StringEquals": "DONE", "Next": "Finished"}], "Default": "Check"},
        "Finished": {"Type": "Succeed"}}}
    machine = server.machine(definition, name="Poller")
    arn = server.sfn.start_execution(stateMachineArn=f"{machine}#Polls", input="{}")["executionArn"]
    described = server.finished(arn)
    assert output(described)["check"] == {"status": "DONE"}
    kinds = [e["type"] for e in server.history(arn) if e["type"] in ("TaskSucceeded", "TaskFailed")]
    assert kinds == ["TaskSucceeded", "TaskFailed", "TaskSucceeded", "TaskSucceeded"]
