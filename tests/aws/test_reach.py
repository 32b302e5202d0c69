"""Where AWS calls go, and what is said when they cannot go anywhere: with neither an endpoint override nor
credentials, a Task fails with `<Service>.SdkClientException` (as the Java SDKs name an SDK that could not
send a request) whose cause names the service and the option to set; CreateStateMachine logs it (AWS's
answer has no member for warnings), ValidateStateMachineDefinition with `severity: WARNING` reports it as
a diagnostic, and `pinflow deploy --plan` prints it. Endpoint overrides come from `--aws-endpoint`, a
TOML file (`--aws-config`), or botocore's own `AWS_ENDPOINT_URL_<SERVICE>`.
"""

from __future__ import annotations

import json
import logging
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from pinflow.cli import main
from pinflow.engine.integrations import aws_settings
from pinflow.engine.integrations.aws_settings import AwsSettings
from tests.aws.conftest import AwsServer, Moto, one, output, task, unique

PUT = one(task("arn:aws:states:::dynamodb:putItem", {"TableName": "orders", "Item": {"id": {"S": "a"}}}))


def test_with_neither_endpoint_nor_credentials_the_task_names_what_to_set(serve: Callable[..., AwsServer]) -> None:
    aws = serve()
    described = aws.run(PUT)
    assert (described["status"], described["error"]) == ("FAILED", "DynamoDB.SdkClientException")
    assert "'dynamodb'" in described["cause"] and "--aws-endpoint dynamodb=URL" in described["cause"]
    assert "AWS_ACCESS_KEY_ID" in described["cause"]
    sdk = aws.run(one(task("arn:aws:states:::aws-sdk:sqs:listQueues", {})))
    assert sdk["error"] == "Sqs.SdkClientException" and "--aws-endpoint sqs=URL" in sdk["cause"]


def test_create_state_machine_logs_the_warning_and_validate_reports_it(serve: Callable[..., AwsServer],
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    aws = serve()
    with caplog.at_level(logging.WARNING, logger="pinflow.api.sfn_machines"):
        created = aws.sfn.create_state_machine(name="orders", definition=json.dumps(PUT), roleArn=aws.role())
    assert set(created) >= {"stateMachineArn", "creationDate"}  # the answer stays AWS's
    logged = [r.getMessage() for r in caplog.records if "dynamodb" in r.getMessage()]
    assert logged and "state machine orders: Call: arn:aws:states:::dynamodb:putItem" in logged[0]
    warned = aws.sfn.validate_state_machine_definition(definition=json.dumps(PUT), severity="WARNING")
    assert warned["result"] == "OK"
    assert [(d["severity"], d["code"], d["location"]) for d in warned["diagnostics"]] == [
        ("WARNING", "UNREACHABLE_SERVICE", "/States/Call/Resource")]
    assert "--aws-endpoint dynamodb=URL" in warned["diagnostics"][0]["message"]
    assert aws.sfn.validate_state_machine_definition(definition=json.dumps(PUT))["diagnostics"] == []


def test_an_endpoint_or_credentials_silence_the_warning(serve: Callable[..., AwsServer], moto: Moto,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    with_endpoint = serve(aws=AwsSettings(endpoints={"dynamodb": moto.url}))
    assert with_endpoint.sfn.validate_state_machine_definition(
        definition=json.dumps(PUT), severity="WARNING")["diagnostics"] == []
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    with_credentials = serve()
    assert with_credentials.sfn.validate_state_machine_definition(
        definition=json.dumps(PUT), severity="WARNING")["diagnostics"] == []


def test_botocore_endpoint_variables_are_honoured(serve: Callable[..., AwsServer], moto: Moto,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    table = unique("table")
    moto.client("dynamodb").create_table(
        TableName=table, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto.url)
    aws = serve()
    put = one(task("arn:aws:states:::dynamodb:putItem", {"TableName": table, "Item": {"id": {"S": "a"}}}))
    assert output(aws.run(put))["SdkHttpMetadata"]["HttpStatusCode"] == 200


def test_the_deploy_plan_warns_before_the_first_run(serve: Callable[..., AwsServer], tmp_path: Path) -> None:
    aws = serve()
    project = tmp_path / "serverless.yml"
    project.write_text(textwrap.dedent("""
        service: shop
        provider:
          name: aws
        stepFunctions:
          stateMachines:
            orders:
              name: orders
              definition:
                StartAt: Save
                States:
                  Save:
                    Type: Task
                    Resource: arn:aws:states:::dynamodb:putItem
                    Parameters:
                      TableName: orders
                      Item:
                        id:
                          S: a
                    End: true
    """).lstrip())
    result = CliRunner().invoke(main, ["deploy", "--plan", "--endpoint", aws.running.endpoint,
                                       "--config", str(project)])
    assert result.exit_code == 0, result.output
    assert "warning: orders: Save: arn:aws:states:::dynamodb:putItem will fail with SdkClientException" in \
        " ".join(result.output.split())


def test_the_config_file_names_endpoints_region_and_profile(tmp_path: Path) -> None:
    path = tmp_path / "aws.toml"
    path.write_text('region = "eu-west-1"\n[endpoints]\nsqs = "http://127.0.0.1:9324"\neventbridge = '
                    '"http://127.0.0.1:4566/"\n"*" = "http://127.0.0.1:4566"\n')
    settings = aws_settings.read(path).with_endpoints(aws_settings.parse_endpoints(["sqs=http://127.0.0.1:1"]))
    assert settings.region == "eu-west-1"
    assert settings.endpoint("sqs") == "http://127.0.0.1:1"  # the command line wins over the file
    assert settings.endpoint("events") == "http://127.0.0.1:4566"  # an SDK integration's name, translated
    assert settings.endpoint("kinesis") == "http://127.0.0.1:4566"  # `*`


@pytest.mark.parametrize("text, complaint", [
    ('[endpoints]\nsqs = "ftp://x"\n', r"endpoints\.sqs: .* an http\(s\) URL"),
    ('regions = "x"\n', "unknown setting regions"),
    ("[endpoints\n", "aws.toml"),
])
def test_a_bad_config_file_is_refused(tmp_path: Path, text: str, complaint: str) -> None:
    path = tmp_path / "aws.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=complaint):
        aws_settings.read(path)


def test_the_server_refuses_a_malformed_endpoint_option(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["server", "--isolation", "none", "--data-dir", str(tmp_path / "d"),
                                       "--aws-endpoint", "sqs"])
    assert result.exit_code == 2 and "--aws-endpoint: expected SERVICE=URL" in result.output


def test_nested_tasks_are_located_by_json_pointer(serve: Callable[..., AwsServer]) -> None:
    aws = serve()
    inner = {"StartAt": "Send", "States": {"Send": task("arn:aws:states:::sqs:sendMessage",
                                                        {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/1/q",
                                                         "MessageBody": "x"})}}
    definition = {"StartAt": "Fan", "States": {
        "Fan": {"Type": "Parallel", "Branches": [inner], "Next": "Each"},
        "Each": {"Type": "Map", "ItemProcessor": {
            "StartAt": "Save", "States": {"Save": PUT["States"]["Call"]}}, "End": True}}}
    warned = aws.sfn.validate_state_machine_definition(definition=json.dumps(definition), severity="WARNING")
    assert [d["location"] for d in warned["diagnostics"]] == [
        "/States/Fan/Branches/0/States/Send/Resource", "/States/Each/ItemProcessor/States/Save/Resource"]
