"""The workflow AWS users write most (DynamoDB, SNS, SQS with a task token, EventBridge, S3 through the SDK
integration), run by a pinflow server against moto's server as the AWS endpoint, through boto3.

Each result is checked against the shape AWS documents or recorded:
- DynamoDB, optimized ("Perform DynamoDB CRUD operations"): the API's response plus SdkHttpMetadata
  (AllHttpHeaders, HttpHeaders, HttpStatusCode) and SdkResponseMetadata, and the error
  `DynamoDB.ConditionalCheckFailedException` with the Java SDK 1.x's cause, as LocalStack's snapshots
  of AWS record them (tests/aws/services/stepfunctions/v2/services/test_dynamodb_task_service.snapshot.json);
- SNS and SQS ("Publish to SNS", "Send to SQS"): `MessageId` (and `MD5OfMessageBody`), a JSON message
  sent as JSON text, `.waitForTaskToken` ending with SendTaskSuccess's output;
- EventBridge ("Add EventBridge events"): `Entries` with `EventId`, `FailedEntryCount`; `Detail` sent as
  JSON text and the machine's and execution's ARNs added to `Resources`;
- S3 through `aws-sdk:` ("AWS SDK service integrations"): PascalCase members, `Body` as text, a JSON
  body stored as JSON text, no response metadata, as LocalStack's aws-sdk snapshots record them
  (test_aws_sdk_task_service.snapshot.json: test_s3_get_object, test_s3_put_object);
- the history: TaskScheduled names `resourceType` `dynamodb` / `aws-sdk:s3` and `resource` `putItem`
  / `putObject`, as in those snapshots.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from tests.aws import workflow
from tests.aws.conftest import AwsServer, Moto, output

CAUSE = re.compile(r"The conditional request failed \(Service: AmazonDynamoDBv2; Status Code: 400; "
                   r"Error Code: ConditionalCheckFailedException; Request ID: \S+; Proxy: null\)")
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z")


def _consume(moto: Moto, aws: AwsServer, queue: str, seen: list[dict[str, Any]]) -> None:
    """Read the callback message and answer it with SendTaskSuccess, as a worker would."""
    for _ in range(60):
        messages = moto.client("sqs").receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", [])
        if messages:
            body = json.loads(messages[0]["Body"])
            seen.append(body)
            aws.sfn.send_task_success(taskToken=body["token"], output=json.dumps({"approved": body["order"]}))
            return


def test_the_workflow_runs_against_the_aws_endpoint_with_aws_shapes(aws: AwsServer, moto: Moto) -> None:
    r = workflow.resources(moto)
    seen: list[dict[str, Any]] = []
    consumer = threading.Thread(target=_consume, args=(moto, aws, r["callbacks_url"], seen))
    consumer.start()
    machine = aws.machine(workflow.definition(r))
    execution = aws.start(machine, {"id": "o1"})
    described = aws.finished(execution)
    consumer.join(timeout=60)
    result = output(described)

    put = result["put"]
    assert set(put) == {"SdkHttpMetadata", "SdkResponseMetadata"}
    assert put["SdkHttpMetadata"]["HttpStatusCode"] == 200
    assert put["SdkResponseMetadata"]["RequestId"]
    assert all(isinstance(v, list) for v in put["SdkHttpMetadata"]["AllHttpHeaders"].values())
    assert all(isinstance(v, str) for v in put["SdkHttpMetadata"]["HttpHeaders"].values())
    assert result["caught"]["Error"] == "DynamoDB.ConditionalCheckFailedException"
    assert CAUSE.fullmatch(result["caught"]["Cause"]), result["caught"]["Cause"]
    assert result["get"]["Item"] == {"id": {"S": "o1"}, "total": {"N": "42"}}

    assert isinstance(result["published"]["MessageId"], str)
    delivered = moto.client("sqs").receive_message(QueueUrl=r["subscriber_url"], WaitTimeSeconds=5)["Messages"]
    assert json.loads(delivered[0]["Body"]) == {"order": "o1"}  # a JSON Message goes out as JSON text

    assert result["event"]["FailedEntryCount"] == 0
    assert isinstance(result["event"]["Entries"][0]["EventId"], str)
    routed = json.loads(moto.client("sqs").receive_message(QueueUrl=r["events_url"], WaitTimeSeconds=5)
                        ["Messages"][0]["Body"])
    assert routed["detail"] == {"order": "o1"}
    assert routed["detail-type"] == "OrderPlaced"
    assert routed["resources"] == [machine, execution]

    assert "SdkHttpMetadata" not in result["written"] and result["written"]["ETag"]
    stored = moto.client("s3").get_object(Bucket=r["bucket"], Key="orders/o1.json")["Body"].read()
    assert stored == b'{"order":"o1"}'
    read = result["read"]
    assert read["Body"] == '{"order":"o1"}'
    assert read["ContentLength"] == len(stored)
    assert ISO.fullmatch(read["LastModified"]), read["LastModified"]
    assert read["ETag"] == result["written"]["ETag"]
    assert "SdkHttpMetadata" not in read

    assert seen and seen[0]["order"] == "o1"
    assert result["answer"] == {"approved": "o1"}

    scheduled = [e["taskScheduledEventDetails"] for e in aws.history(execution) if e["type"] == "TaskScheduled"]
    assert [(d["resourceType"], d["resource"]) for d in scheduled] == [
        ("dynamodb", "putItem"), ("dynamodb", "putItem"), ("dynamodb", "getItem"), ("sns", "publish"),
        ("events", "putEvents"), ("aws-sdk:s3", "putObject"), ("aws-sdk:s3", "getObject"),
        ("sqs", "sendMessage.waitForTaskToken")]
    failed = [e for e in aws.history(execution) if e["type"] == "TaskFailed"]
    assert [e["taskFailedEventDetails"]["error"] for e in failed] == ["DynamoDB.ConditionalCheckFailedException"]
