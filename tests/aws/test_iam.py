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
from tests.aws.conftest import AwsServer, Moto, one, output, task, unique


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


def test_a_copy_needs_to_read_its_source_as_well_as_write_its_destination(aws: AwsServer, moto: Moto) -> None:
    """AWS's CopyObject asks `s3:GetObject` on the source object and `s3:PutObject` on the destination
    (S3 API reference, CopyObject: "Permissions"); a role that may only write the destination must not
    read another bucket through a copy."""
    s3 = moto.client("s3")
    secret, public = unique("secret"), unique("public")
    for bucket in (secret, public):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=secret, Key="payroll.csv", Body=b"salaries")
    copy = one(task("arn:aws:states:::aws-sdk:s3:copyObject",
                    {"Bucket": public, "Key": "leak.csv", "CopySource": f"{secret}/payroll.csv"}))
    writes_only = aws.role([{"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{public}/*"}])
    refused = aws.run(copy, role=writes_only)
    assert refused["status"] == "FAILED" and refused["error"].startswith("S3.")
    assert f"s3:GetObject on resource: arn:aws:s3:::{secret}/payroll.csv" in refused["cause"]
    assert "leak.csv" not in {o["Key"] for o in s3.list_objects_v2(Bucket=public).get("Contents", [])}
    both = aws.role([{"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{public}/*"},
                     {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{secret}/*"}])
    assert aws.run(copy, role=both)["status"] == "SUCCEEDED"
    assert s3.get_object(Bucket=public, Key="leak.csv")["Body"].read() == b"salaries"


@pytest.mark.parametrize("operation, params, expected", [
    ("CopyObject", {"Bucket": "dst", "Key": "k", "CopySource": "src/a%20b.txt"},
     [("s3:PutObject", "arn:aws:s3:::dst/k"), ("s3:GetObject", "arn:aws:s3:::src/a b.txt")]),
    ("CopyObject", {"Bucket": "dst", "Key": "k", "CopySource": "/src/a.txt?versionId=v1"},
     [("s3:PutObject", "arn:aws:s3:::dst/k"), ("s3:GetObjectVersion", "arn:aws:s3:::src/a.txt")]),
    ("UploadPartCopy", {"Bucket": "dst", "Key": "k", "CopySource": {"Bucket": "src", "Key": "a"}},
     [("s3:PutObject", "arn:aws:s3:::dst/k"), ("s3:GetObject", "arn:aws:s3:::src/a")]),
    ("CopyObject", {"Bucket": "dst", "Key": "k", "CopySource": "nokey"},
     [("s3:PutObject", "arn:aws:s3:::dst/k"), ("s3:GetObject", "*")]),
])
def test_s3_calls_that_read_one_object_and_write_another_need_both(operation: str, params: dict,
                                                                   expected: list) -> None:
    assert aws_iam.permissions("s3", "s3", operation, params, "eu-west-1", "111") == expected


def test_calls_naming_several_tables_or_buses_need_each() -> None:
    table = "arn:aws:dynamodb:eu-west-1:111:table/"
    assert aws_iam.permissions("dynamodb", "dynamodb", "BatchWriteItem", {"RequestItems": {"a": [], "b": []}},
                               "eu-west-1", "111") == [("dynamodb:BatchWriteItem", table + "a"),
                                                       ("dynamodb:BatchWriteItem", table + "b")]
    assert aws_iam.permissions("dynamodb", "dynamodb", "TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": "a"}}, {"ConditionCheck": {"TableName": "b"}}, {"Delete": {"TableName": "a"}}]},
        "eu-west-1", "111") == [("dynamodb:PutItem", table + "a"), ("dynamodb:ConditionCheckItem", table + "b"),
                                ("dynamodb:DeleteItem", table + "a")]
    assert aws_iam.permissions("events", "events", "PutEvents", {"Entries": [{"EventBusName": "x"}, {}]},
                               "eu-west-1", "111") == [
        ("events:PutEvents", "arn:aws:events:eu-west-1:111:event-bus/default"),
        ("events:PutEvents", "arn:aws:events:eu-west-1:111:event-bus/x")]


def test_a_transaction_across_tables_is_refused_when_one_table_is_not_allowed(aws: AwsServer, moto: Moto) -> None:
    allowed, other = _table(moto), _table(moto)
    items = [{"Put": {"TableName": allowed, "Item": {"id": {"S": "a"}}}},
             {"Put": {"TableName": other, "Item": {"id": {"S": "b"}}}}]
    definition = one(task("arn:aws:states:::aws-sdk:dynamodb:transactWriteItems", {"TransactItems": items}))
    role = aws.role([{"Effect": "Allow", "Action": "dynamodb:PutItem",
                      "Resource": f"arn:aws:dynamodb:us-east-1:123456789012:table/{allowed}"}])
    refused = aws.run(definition, role=role)
    assert refused["error"] == "DynamoDb.DynamoDbException"
    assert f"dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/{other}" in refused["cause"]
    assert moto.client("dynamodb").scan(TableName=other)["Count"] == 0


def test_the_generated_role_lets_a_copy_read_its_source() -> None:
    definition = one(task("arn:aws:states:::aws-sdk:s3:copyObject",
                          {"Bucket": "dst", "Key": "out.csv", "CopySource": "src/in.csv"}))
    statements = roles.machine_role("flow", definition, [], "123456789012").statements
    granted = {(action, json.dumps(s["Resource"])) for s in statements for action in s["Action"]}
    assert ("s3:PutObject", json.dumps(["arn:aws:s3:::dst/out.csv"])) in granted
    assert ("s3:GetObject", json.dumps(["arn:aws:s3:::src/in.csv"])) in granted
