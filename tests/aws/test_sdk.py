"""SDK integrations (`arn:aws:states:::aws-sdk:<service>:<action>`) against moto's server, and against
pinflow's own Step Functions API as the `sfn` endpoint.

AWS's rules, from its "AWS SDK service integrations" page: parameters in PascalCase even where the API's
members are camelCase; errors `<ServiceName>.<ErrorName>` in PascalCase, `Exception` added where the
service's name lacks it (`AcmPca.ResourceNotFoundException`, `S3.BucketAlreadyExistsException`); an
error the SDK has no class for is the service's base exception (`S3.S3Exception`, in AWS's "Gather
Amazon S3 bucket info" tutorial). The service part is the Java SDK 2.x client's name (`DynamoDb`,
`Sfn`), and the cause reads "<message> (Service: Sfn, Status Code: 400, Request ID: ...)", as
LocalStack's snapshots record AWS (test_aws_sdk_task_service.snapshot.json:
`Sfn.InvalidTokenException`, "Invalid Token: 'Invalid token' (Service: Sfn, ...)"). Results carry the
API's members, PascalCase, without response metadata (the same snapshots: `putItem` answers `{}`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest

from pinflow.engine.integrations import aws_shapes
from pinflow.engine.integrations.aws_settings import AwsSettings
from tests.aws.conftest import AwsServer, Moto, one, output, task, unique

ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z")
SDK = "arn:aws:states:::aws-sdk:"


@pytest.mark.parametrize("service_id, name", [
    ("DynamoDB", "DynamoDb"), ("SFN", "Sfn"), ("S3", "S3"), ("ACM PCA", "AcmPca"), ("SQS", "Sqs"),
    ("CloudWatch Logs", "CloudWatchLogs"), ("Secrets Manager", "SecretsManager"), ("EventBridge", "EventBridge"),
    ("SESv2", "SesV2"), ("API Gateway", "ApiGateway"), ("Lambda", "Lambda"), ("EC2", "Ec2"),
])
def test_service_names_in_errors_are_the_java_sdk_clients(service_id: str, name: str) -> None:
    assert aws_shapes.service_error_name(service_id) == name


@pytest.mark.parametrize("shape, name", [
    ("ResourceNotFoundException", "ResourceNotFoundException"), ("NoSuchKey", "NoSuchKeyException"),
    ("BucketAlreadyExists", "BucketAlreadyExistsException"), ("InvalidToken", "InvalidTokenException"),
    ("InternalServerError", "InternalServerErrorException"), ("ServiceFault", "ServiceException"),
])
def test_error_names_end_in_exception(shape: str, name: str) -> None:
    assert aws_shapes.exception_name(shape) == name


def _failure(aws: AwsServer, resource: str, parameters: dict) -> tuple[str, str]:
    described = aws.run(one(task(resource, parameters)))
    assert described["status"] == "FAILED"
    return described["error"], described["cause"]


def test_errors_are_named_as_aws_names_them(aws: AwsServer, moto: Moto) -> None:
    bucket = unique("bucket")
    moto.client("s3").create_bucket(Bucket=bucket)
    error, cause = _failure(aws, SDK + "s3:getObject", {"Bucket": bucket, "Key": "absent"})
    assert error == "S3.NoSuchKeyException"
    assert re.fullmatch(r"The specified key does not exist\. \(Service: S3, Status Code: 404, Request ID: \S+\)",
                        cause), cause
    assert _failure(aws, SDK + "s3:headBucket", {"Bucket": unique("absent")})[0] == "S3.S3Exception"
    assert _failure(aws, SDK + "sqs:getQueueUrl", {"QueueName": unique("absent")})[0] == (
        "Sqs.QueueDoesNotExistException")
    assert _failure(aws, SDK + "dynamodb:getItem", {"TableName": unique("absent"), "Key": {"id": {"S": "x"}}})[0] == (
        "DynamoDb.ResourceNotFoundException")


def test_catch_matches_the_sdk_error_name(aws: AwsServer) -> None:
    state = task(SDK + "sqs:getQueueUrl", {"QueueName": unique("absent")},
                 Catch=[{"ErrorEquals": ["Sqs.QueueDoesNotExistException"], "Next": "Caught"}])
    definition = {"StartAt": "Call", "States": {"Call": state, "Caught": {"Type": "Pass", "End": True}}}
    result = output(aws.run(definition))
    assert result["Error"] == "Sqs.QueueDoesNotExistException"


def test_sfn_errors_match_the_recorded_aws_answer(serve: Callable[..., AwsServer]) -> None:
    endpoints: dict[str, str] = {}
    server = serve(aws=AwsSettings(endpoints=endpoints))
    endpoints["stepfunctions"] = server.running.endpoint  # pinflow's own API stands in for AWS's
    error, cause = _failure(server, SDK + "sfn:sendTaskSuccess", {"TaskToken": "NoSuchTaskToken",
                                                                 "Output": "ParameterOutput"})
    assert error == "Sfn.InvalidTokenException"
    assert re.fullmatch(r"Invalid Token: 'Invalid token' \(Service: Sfn, Status Code: 400, Request ID: \S+\)", cause)


def test_sfn_start_execution_serialises_a_json_input_and_answers_pascal_case(serve: Callable[..., AwsServer]) -> None:
    endpoints: dict[str, str] = {}
    server = serve(aws=AwsSettings(endpoints=endpoints))
    endpoints["stepfunctions"] = server.running.endpoint
    child = server.machine({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    started = output(server.run(one(task(SDK + "sfn:startExecution", {
        "StateMachineArn": child, "Input": {"key": "value"}, "Name": "TestStartTarget"}))))
    assert set(started) == {"ExecutionArn", "StartDate"}
    assert started["ExecutionArn"].endswith(":TestStartTarget") and ISO.fullmatch(started["StartDate"])
    child_run = server.finished(started["ExecutionArn"])
    assert json.loads(child_run["input"]) == {"key": "value"}  # the object went as JSON text


def test_camel_case_apis_take_and_answer_pascal_case(aws: AwsServer, moto: Moto) -> None:
    name = unique("api")
    created = moto.client("apigateway").create_rest_api(name=name)
    found = output(aws.run(one(task(SDK + "apigateway:getRestApi", {"RestApiId": created["id"]}))))
    assert found["Id"] == created["id"] and found["Name"] == name
    assert ISO.fullmatch(found["CreatedDate"]), found["CreatedDate"]
    assert "id" not in found and "SdkHttpMetadata" not in found


def test_put_item_answers_an_empty_object_and_query_goes_through_the_sdk(aws: AwsServer, moto: Moto) -> None:
    table = unique("table")
    moto.client("dynamodb").create_table(
        TableName=table, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    assert output(aws.run(one(task(SDK + "dynamodb:putItem", {"TableName": table, "Item": {"id": {"S": "a"}}})))) == {}
    queried = output(aws.run(one(task(SDK + "dynamodb:query", {
        "TableName": table, "KeyConditionExpression": "id = :id", "ExpressionAttributeValues": {":id": {"S": "a"}}}))))
    assert queried["Items"] == [{"id": {"S": "a"}}] and queried["Count"] == 1
    described = output(aws.run(one(task(SDK + "dynamodb:describeTable", {"TableName": table}))))
    assert ISO.fullmatch(described["Table"]["CreationDateTime"])


def test_wait_for_task_token_sends_then_waits(aws: AwsServer, moto: Moto) -> None:
    queue = moto.client("sqs").create_queue(QueueName=unique("tokens"))["QueueUrl"]
    machine = aws.machine(one(task(SDK + "sqs:sendMessage.waitForTaskToken", {
        "QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token"}})))
    execution = aws.start(machine)
    message = moto.client("sqs").receive_message(QueueUrl=queue, WaitTimeSeconds=10)["Messages"][0]
    assert aws.sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    aws.sfn.send_task_success(taskToken=json.loads(message["Body"])["token"], output='{"done": true}')
    assert output(aws.finished(execution)) == {"done": True}


def test_what_botocore_does_not_know_fails_with_a_clear_cause(aws: AwsServer) -> None:
    error, cause = _failure(aws, SDK + "nosuchservice:doThing", {})
    assert error == "States.Runtime" and "nosuchservice" in cause
    error, cause = _failure(aws, SDK + "s3:noSuchAction", {})
    assert error == "States.Runtime" and "noSuchAction" in cause
    error, cause = _failure(aws, SDK + "s3:getObject", {"Bucket": "b", "Key": "k", "Colour": "red"})
    assert error == "States.Runtime" and "'Colour'" in cause
