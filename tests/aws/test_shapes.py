"""From a Task's parameters to botocore's request and back, by the operation's model, as Step Functions
does it (AWS's "AWS SDK service integrations": PascalCase parameters even for camelCase APIs, `EqualsValue`
for an `Equals` member; LocalStack's aws-sdk snapshots of AWS: an object given for a text member, and any
value given as S3's body, sent as JSON text)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pinflow.engine.integrations import aws_client, aws_shapes


def _input(service: str, operation: str):
    return aws_client.operation_model(service, operation).input_shape


def test_pascal_case_parameters_find_camel_case_members() -> None:
    request = aws_shapes.to_request(_input("apigateway", "GetResource"), {"RestApiId": "a1", "ResourceId": "r1"})
    assert request == {"restApiId": "a1", "resourceId": "r1"}


def test_objects_for_text_members_and_any_s3_body_go_as_json_text() -> None:
    request = aws_shapes.to_request(_input("stepfunctions", "StartExecution"),
                                    {"StateMachineArn": "arn", "Input": {"key": "value"}})
    assert request["input"] == '{"key":"value"}'
    body = aws_shapes.to_request(_input("s3", "PutObject"), {"Bucket": "b", "Key": "k", "Body": "text data"})["Body"]
    assert body == b'"text data"'  # AWS stores a JSON string quoted (snapshot test_s3_put_object[str])


@pytest.mark.parametrize("parameters, complaint", [
    ({"TableName": "t", "Colour": "red"}, "The field 'Colour' is not supported"),
    ({"TableName": "t", "Key": {"id": {"S": "a", "Bogus": 1}}}, "'Key.id.Bogus'"),
    ({"RequestItems": {"t": "not a list"}}, "must be an array"),
])
def test_what_the_operation_does_not_take_is_named(parameters: dict, complaint: str) -> None:
    operation = "BatchWriteItem" if "RequestItems" in parameters else "GetItem"
    with pytest.raises(aws_shapes.BadParameters, match=complaint):
        aws_shapes.to_request(_input("dynamodb", operation), parameters)


def test_results_are_pascal_case_but_map_keys_stay_as_they_are() -> None:
    shape = aws_client.operation_model("apigateway", "GetRestApis").output_shape
    moment = datetime(2024, 5, 23, 19, 12, 25, 123000, tzinfo=UTC)
    answer = {"items": [{"id": "a1", "createdDate": moment, "tags": {"camelKey": "v"}}]}
    assert aws_shapes.from_response(shape, answer, aws_shapes.SDK) == {
        "Items": [{"Id": "a1", "CreatedDate": "2024-05-23T19:12:25.123Z", "Tags": {"camelKey": "v"}}]}
    assert aws_shapes.from_response(shape, answer, aws_shapes.OPTIMIZED)["Items"][0]["CreatedDate"] == 1716491545123


def test_blobs_are_base64_in_sdk_results() -> None:
    shape = aws_client.operation_model("kms", "Encrypt").output_shape
    assert aws_shapes.from_response(shape, {"CiphertextBlob": b"\x00\x01"}, aws_shapes.SDK) == {
        "CiphertextBlob": "AAE="}
