"""IAM for AWS service integrations: each call needs `<prefix>:<Operation>` on the resource its parameters
name, derived as the Service Authorization Reference writes each service's ARNs
(`arn:aws:dynamodb:REGION:ACCOUNT:table/NAME`, `arn:aws:sqs:REGION:ACCOUNT:NAME`, `arn:aws:s3:::BUCKET/KEY`,
`arn:aws:events:REGION:ACCOUNT:event-bus/NAME`), checked against the execution's role before the call,
and held for a running execution like a pinned function version (docs/pinning.md). A refusal is named
like the service's own errors (DynamoDB answers AccessDeniedException, which its model does not know:
`DynamoDB.AmazonDynamoDBException` optimized, `DynamoDb.DynamoDbException` through the SDK). Deploy's
generated role grants what the serverless-step-functions plugin grants (lib/deploy/stepFunctions/
iamStrategies/*.js) for these integrations.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from pinflow.deploy import roles
from pinflow.engine.integrations import aws_iam
from tests.aws import workflow
from tests.aws.conftest import AwsServer, Moto, output, task, unique


def _table(moto: Moto) -> str:
    name = unique("table")
    moto.client("dynamodb").create_table(
        TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    return name


def _put(table: str, resource: str = "arn:aws:states:::dynamodb:putItem") -> dict[str, Any]:
    return {"StartAt": "Call", "States": {"Call": task(resource, {"TableName": table, "Item": {"id": {"S": "a"}}})}}


def test_the_role_must_allow_the_action_on_the_table(aws: AwsServer, moto: Moto) -> None:
    table = _table(moto)
    other = aws.role([{"Effect": "Allow", "Action": "dynamodb:PutItem",
                       "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/other"}])
    refused = aws.run(_put(table), role=other)
    assert (refused["status"], refused["error"]) == ("FAILED", "DynamoDB.AmazonDynamoDBException")
    assert f"is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:123456789012:" \
           f"table/{table}" in refused["cause"]
    assert "(Service: AmazonDynamoDBv2; Status Code: 400; Error Code: AccessDeniedException;" in refused["cause"]
    sdk = aws.run(_put(table, "arn:aws:states:::aws-sdk:dynamodb:putItem"), role=other)
    assert sdk["error"] == "DynamoDb.DynamoDbException"
    assert moto.client("dynamodb").scan(TableName=table)["Count"] == 0  # nothing was sent
    allowed = aws.role([{"Effect": "Allow", "Action": "dynamodb:PutItem",
                         "Resource": f"arn:aws:dynamodb:us-east-1:123456789012:table/{table}"}])
    assert aws.run(_put(table), role=allowed)["status"] == "SUCCEEDED"


def test_a_running_execution_keeps_access_to_the_table_it_names(aws: AwsServer, moto: Moto) -> None:
    table = _table(moto)
    name = unique("narrowed")
    role = str(aws.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"])
    allowing = [{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": f"arn:aws:dynamodb:*:*:table/{table}"}]
    aws.iam.put_role_policy(RoleName=name, PolicyName="p",
                            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": allowing}))
    definition = {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 1, "Next": "Call"},
                                                "Call": _put(table)["States"]["Call"]}}
    machine = aws.machine(definition, role)
    running = aws.start(machine)
    aws.iam.delete_role_policy(RoleName=name, PolicyName="p")  # a deploy narrows the role meanwhile
    started_after = aws.start(machine)
    assert aws.finished(running)["status"] == "SUCCEEDED"  # held: it started allowed
    assert aws.finished(started_after)["error"] == "DynamoDB.AmazonDynamoDBException"


@pytest.mark.parametrize("service, params, expected", [
    ("dynamodb", {"TableName": "orders", "IndexName": "byDate"},
     "arn:aws:dynamodb:eu-west-1:111:table/orders/index/byDate"),
    ("sqs", {"QueueUrl": "https://sqs.us-east-2.amazonaws.com/222/jobs"}, "arn:aws:sqs:us-east-2:222:jobs"),
    ("s3", {"Bucket": "b1", "Key": "a/b.json"}, "arn:aws:s3:::b1/a/b.json"),
    ("events", {"Entries": [{"Source": "x"}]}, "arn:aws:events:eu-west-1:111:event-bus/default"),
    ("lambda", {"FunctionName": "f", "Qualifier": "3"}, "arn:aws:lambda:us-east-1:123456789012:function:f:3"),
    ("bedrock-runtime", {"modelId": "m.v1"}, "arn:aws:bedrock:eu-west-1::foundation-model/m.v1"),
    ("rekognition", {"Image": {}}, "*"),
])
def test_resource_arns_follow_each_services_authorization_reference(service: str, params: dict, expected: str) -> None:
    assert aws_iam.resource(service, params, "eu-west-1", "111") == expected


def test_sdk_operations_authorised_as_other_actions() -> None:
    assert aws_iam.action("s3", "ListObjectsV2") == "s3:ListBucket"
    assert aws_iam.action("lambda", "Invoke") == "lambda:InvokeFunction"
    assert aws_iam.action("monitoring", "PutMetricData") == "cloudwatch:PutMetricData"
    assert aws_iam.action("states", "StartExecution") == "states:StartExecution"


def test_the_generated_role_grants_what_the_plugin_grants() -> None:
    names = {"table": "orders", "topic_arn": "arn:aws:sns:us-east-1:123456789012:orders", "events": "shop",
             "bucket": "orders-bucket", "callbacks_url": "https://sqs.us-east-1.amazonaws.com/123456789012/callbacks"}
    definition = workflow.definition(names)
    definition["States"]["Job"] = task("arn:aws:states:::glue:startJobRun.sync", {"JobName": "nightly"})
    definition["States"]["Ask"]["Next"] = "Job"
    definition["States"]["Ask"].pop("End")
    statements = roles.machine_role("flow", definition, [], "123456789012", "us-east-1").statements
    granted = {(action, json.dumps(s["Resource"], sort_keys=True)) for s in statements for action in s["Action"]}
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/orders"
    expected = {
        ("dynamodb:PutItem", json.dumps([table])), ("dynamodb:GetItem", json.dumps([table])),  # dynamodb.js
        ("sns:Publish", json.dumps([names["topic_arn"]])),  # sns.js
        ("sqs:SendMessage", json.dumps(["arn:aws:sqs:us-east-1:123456789012:callbacks"])),  # sqs.js, from the URL
        ("events:PutEvents", json.dumps(["arn:aws:events:us-east-1:123456789012:event-bus/default"])),  # eventbridge.js
        ("s3:PutObject", json.dumps(["arn:aws:s3:::orders-bucket/orders/o1.json"])),  # s3.js
        ("s3:GetObject", json.dumps(["arn:aws:s3:::orders-bucket/orders/o1.json"])),
    } | {(action, json.dumps("*")) for action in ("glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns",
                                                 "glue:BatchStopJobRun")}  # glue.js
    assert granted == expected


def test_computed_resources_are_granted_widely_as_the_plugin_does() -> None:
    definition = {"StartAt": "A", "States": {
        "A": {**task("arn:aws:states:::sns:publish", {"TopicArn.$": "$.topic", "Message": "x"}), "End": False},
        "B": task("arn:aws:states:::dynamodb:getItem", {"TableName.$": "$.table", "Key": {}})}}
    definition["States"]["A"] = {k: v for k, v in definition["States"]["A"].items() if k != "End"} | {"Next": "B"}
    statements = roles.machine_role("flow", definition, [], "123456789012").statements
    by_action = {action: s["Resource"] for s in statements for action in s["Action"]}
    assert by_action["sns:Publish"] == "*"
    assert by_action["dynamodb:GetItem"] == ["arn:aws:dynamodb:us-east-1:123456789012:table/*"]


def test_generated_roles_deploy_and_run(aws: AwsServer, moto: Moto) -> None:
    """The plan's role is what an execution then runs with: the workflow succeeds under it."""
    table = _table(moto)
    statements = roles.machine_role("flow", _put(table), [], "123456789012").statements
    role = aws.role(list(statements))
    assert output(aws.run(_put(table), role=role))["SdkHttpMetadata"]["HttpStatusCode"] == 200
