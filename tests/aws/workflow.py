"""The workflow the AWS integration tests run: against moto's server, or answered by a mock configuration."""

from __future__ import annotations

import json
from typing import Any

from tests.aws.conftest import Moto, unique


def resources(moto: Moto) -> dict[str, str]:
    """A table, a topic with a queue subscribed, a callback queue, a rule sending events to a queue, a bucket."""
    names = {key: unique(key) for key in ("table", "topic", "subscriber", "callbacks", "events", "bucket")}
    moto.client("dynamodb").create_table(
        TableName=names["table"], KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    sqs, sns, events = moto.client("sqs"), moto.client("sns"), moto.client("events")
    queues = {key: sqs.create_queue(QueueName=names[key])["QueueUrl"] for key in ("subscriber", "callbacks", "events")}
    arn = {key: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
           for key, url in queues.items()}
    topic = sns.create_topic(Name=names["topic"])["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn["subscriber"],
                  Attributes={"RawMessageDelivery": "true"})
    events.put_rule(Name=names["events"], EventPattern=json.dumps({"source": [names["events"]]}))
    events.put_targets(Rule=names["events"], Targets=[{"Id": "q", "Arn": arn["events"]}])
    moto.client("s3").create_bucket(Bucket=names["bucket"])
    return {**names, "topic_arn": topic, **{f"{key}_url": url for key, url in queues.items()}}


def definition(r: dict[str, str]) -> dict[str, Any]:
    def step(resource: str, parameters: dict[str, Any], result: str, following: str | None, **more: Any) -> dict:
        state = {"Type": "Task", "Resource": resource, "Parameters": parameters, "ResultPath": f"$.{result}", **more}
        return {**state, "Next": following} if following else {**state, "End": True}

    item = {"id": {"S.$": "$.id"}, "total": {"N": "42"}}
    return {"StartAt": "Put", "States": {
        "Put": step("arn:aws:states:::dynamodb:putItem", {"TableName": r["table"], "Item": item}, "put", "PutAgain"),
        "PutAgain": step("arn:aws:states:::dynamodb:putItem", {
            "TableName": r["table"], "Item": item, "ConditionExpression": "attribute_not_exists(id)"}, "again", "Get",
            Catch=[{"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "ResultPath": "$.caught",
                    "Next": "Get"}]),
        "Get": step("arn:aws:states:::dynamodb:getItem", {"TableName": r["table"], "Key": {"id": {"S.$": "$.id"}}},
                    "get", "Publish"),
        "Publish": step("arn:aws:states:::sns:publish", {"TopicArn": r["topic_arn"], "Message": {"order.$": "$.id"}},
                        "published", "Event"),
        "Event": step("arn:aws:states:::events:putEvents", {"Entries": [
            {"Source": r["events"], "DetailType": "OrderPlaced", "Detail": {"order.$": "$.id"}}]}, "event", "Write"),
        "Write": step("arn:aws:states:::aws-sdk:s3:putObject", {"Bucket": r["bucket"], "Key": "orders/o1.json",
                                                                 "Body": {"order.$": "$.id"}}, "written", "Read"),
        "Read": step("arn:aws:states:::aws-sdk:s3:getObject", {"Bucket": r["bucket"], "Key": "orders/o1.json"},
                     "read", "Ask"),
        "Ask": step("arn:aws:states:::sqs:sendMessage.waitForTaskToken", {
            "QueueUrl": r["callbacks_url"], "MessageBody": {"token.$": "$$.Task.Token", "order.$": "$.id"}},
            "answer", None),
    }}
