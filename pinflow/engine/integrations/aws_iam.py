"""The IAM action and resource ARN an AWS service call needs, derived from its parameters as each
service's page of AWS's Service Authorization Reference ("Actions, resources, and condition keys")
writes its resource types; `*` where the call names no resource pinflow can derive.

Actions are `<prefix>:<Operation>`, the prefix being the service's signing name (with AWS's few
exceptions), except where an operation is authorised as another action (S3's ListObjectsV2 is
`s3:ListBucket`, Lambda's Invoke is `lambda:InvokeFunction`).

A call that reads or writes more than one resource needs a permission on each (`permissions`): S3's
CopyObject and UploadPartCopy need `s3:PutObject` on the destination and `s3:GetObject` on the source
(`s3:GetObjectVersion` when CopySource names a version); DynamoDB's BatchGetItem and BatchWriteItem
their action on every table named, TransactGetItems and TransactWriteItems the action of each item
(`dynamodb:GetItem`, `PutItem`, `UpdateItem`, `DeleteItem`, `ConditionCheckItem`) on its table;
EventBridge's PutEvents `events:PutEvents` on every event bus its entries name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from pinflow import arns

ANY = "*"
_PREFIXES = {"monitoring": "cloudwatch", "iotdata": "iot"}
_ACTIONS = {
    ("s3", "ListObjectsV2"): "s3:ListBucket", ("s3", "ListObjects"): "s3:ListBucket",
    ("s3", "HeadObject"): "s3:GetObject", ("s3", "HeadBucket"): "s3:ListBucket",
    ("s3", "ListObjectVersions"): "s3:ListBucketVersions", ("s3", "GetObjectAttributes"): "s3:GetObject",
    ("lambda", "Invoke"): "lambda:InvokeFunction", ("lambda", "InvokeAsync"): "lambda:InvokeFunction",
    ("bedrock", "InvokeModel"): "bedrock:InvokeModel",
    # S3 authorises copies and multipart uploads as writes of the destination object.
    ("s3", "CopyObject"): "s3:PutObject", ("s3", "UploadPartCopy"): "s3:PutObject",
    ("s3", "UploadPart"): "s3:PutObject", ("s3", "CreateMultipartUpload"): "s3:PutObject",
    ("s3", "CompleteMultipartUpload"): "s3:PutObject", ("s3", "AbortMultipartUpload"): "s3:AbortMultipartUpload",
    ("s3", "DeleteObjects"): "s3:DeleteObject",
}
_TRANSACT = {"Get": "dynamodb:GetItem", "Put": "dynamodb:PutItem", "Update": "dynamodb:UpdateItem",
             "Delete": "dynamodb:DeleteItem", "ConditionCheck": "dynamodb:ConditionCheckItem"}


def action(signing_name: str, operation: str) -> str:
    """The IAM action of a botocore operation of the service signed as `signing_name`."""
    prefix = _PREFIXES.get(signing_name, signing_name)
    return _ACTIONS.get((prefix, operation), f"{prefix}:{operation}")


def permissions(service: str, signing_name: str, operation: str, params: Mapping[str, Any], region: str,
                account: str) -> list[tuple[str, str]]:
    """Every (action, resource ARN) one call needs: the operation's action on what it names, and for a
    call that touches several resources, a permission on each (see the module docstring)."""
    first = (action(signing_name, operation), resource(service, params, region, account))
    extra = _EXTRA.get((service, operation))
    found = extra(params, region, account) if extra is not None else None
    if found is None:
        return [first]
    if service == "s3":
        return [first, *found]
    return found or [first]


def resource(service: str, params: Mapping[str, Any], region: str, account: str) -> str:
    """The ARN of what a call to `service` (botocore's name) names in `params` (botocore's members), or `*`."""
    derive = _RESOURCES.get(service)
    found = derive(params, region, account) if derive is not None else None
    return found if isinstance(found, str) and found else ANY


def _text(params: Mapping[str, Any], *names: str) -> str | None:
    for name in names:
        value = params.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def _arn_or(value: str | None, build: Callable[[str], str]) -> str | None:
    if value is None:
        return None
    return value if value.startswith("arn:") else build(value)


def dynamodb_table(table: str, region: str, account: str, index: str | None = None) -> str:
    """`arn:aws:dynamodb:REGION:ACCOUNT:table/NAME[/index/INDEX]` (a table given as an ARN is kept)."""
    base = table if table.startswith("arn:") else f"arn:aws:dynamodb:{region}:{account}:table/{table}"
    return f"{base}/index/{index}" if index else base


def _dynamodb(params: Mapping[str, Any], region: str, account: str) -> str | None:
    table = _text(params, "TableName", "TableArn", "ResourceArn")
    return dynamodb_table(table, region, account, _text(params, "IndexName")) if table else None


def s3_object(bucket: str, key: str | None) -> str:
    """`arn:aws:s3:::BUCKET[/KEY]` (S3's ARNs name neither region nor account)."""
    return f"arn:aws:s3:::{bucket}/{key}" if key is not None else f"arn:aws:s3:::{bucket}"


def _s3(params: Mapping[str, Any], region: str, account: str) -> str | None:
    bucket = _text(params, "Bucket")
    return s3_object(bucket, _text(params, "Key")) if bucket else None


def sqs_queue(url: str, region: str, account: str) -> str:
    """The ARN of the queue a QueueUrl names: `https://sqs.REGION.amazonaws.com/ACCOUNT/NAME` (the URL's
    region and account when it has them, else the call's)."""
    parts = urlsplit(url)
    path = [unquote(part) for part in parts.path.split("/") if part]
    host = (parts.hostname or "").split(".")
    if len(host) >= 3 and host[0] == "sqs" and host[1] != "amazonaws":
        region = host[1]
    if len(path) >= 2 and path[-2].isdigit():
        account = path[-2]
    name = path[-1] if path else url
    return f"arn:aws:sqs:{region}:{account}:{name}"


def _sqs(params: Mapping[str, Any], region: str, account: str) -> str | None:
    url = _text(params, "QueueUrl")
    if url:
        return sqs_queue(url, region, account)
    name = _text(params, "QueueName")
    return f"arn:aws:sqs:{region}:{account}:{name}" if name else None


def _sns(params: Mapping[str, Any], region: str, account: str) -> str | None:
    return _text(params, "TopicArn", "TargetArn", "ResourceArn")


def _lambda(params: Mapping[str, Any], region: str, account: str) -> str | None:
    name = _text(params, "FunctionName")
    if not name:
        return None
    ref = arns.split_function(name, _text(params, "Qualifier"))
    return ref.arn if ref is not None else None


def _states(params: Mapping[str, Any], region: str, account: str) -> str | None:
    return _text(params, "stateMachineArn", "executionArn", "activityArn", "StateMachineArn", "ExecutionArn")


def event_bus(name: str | None, region: str, account: str) -> str:
    """`arn:aws:events:REGION:ACCOUNT:event-bus/NAME` (`default` when none is named; an ARN is kept)."""
    name = name or "default"
    return name if name.startswith("arn:") else f"arn:aws:events:{region}:{account}:event-bus/{name}"


def _events(params: Mapping[str, Any], region: str, account: str) -> str | None:
    """PutEvents: the event bus its entries name (when they all name one); rule operations: the rule."""
    entries = params.get("Entries")
    if isinstance(entries, list):
        buses = {event_bus(e.get("EventBusName") if isinstance(e, dict) else None, region, account)
                 for e in entries or [{}]}
        return buses.pop() if len(buses) == 1 else None
    rule, bus = _text(params, "Rule"), _text(params, "EventBusName")
    if rule:
        on_bus = f"{bus}/" if bus and bus != "default" else ""
        return f"arn:aws:events:{region}:{account}:rule/{on_bus}{rule}"
    return event_bus(bus, region, account) if bus else None


def _glue(params: Mapping[str, Any], region: str, account: str) -> str | None:
    job = _text(params, "JobName")
    return f"arn:aws:glue:{region}:{account}:job/{job}" if job else None


def athena_workgroup(name: str | None, region: str, account: str) -> str:
    return f"arn:aws:athena:{region}:{account}:workgroup/{name or 'primary'}"


def _athena(params: Mapping[str, Any], region: str, account: str) -> str | None:
    if "QueryExecutionId" in params and "WorkGroup" not in params:
        return None  # the work group of an existing query is not in the call
    return athena_workgroup(_text(params, "WorkGroup"), region, account)


def _batch(params: Mapping[str, Any], region: str, account: str) -> str | None:
    queue = _text(params, "jobQueue")
    return _arn_or(queue, lambda name: f"arn:aws:batch:{region}:{account}:job-queue/{name}")


def _ecs(params: Mapping[str, Any], region: str, account: str) -> str | None:
    definition = _text(params, "taskDefinition")
    return _arn_or(definition, lambda name: f"arn:aws:ecs:{region}:{account}:task-definition/{name}")


def bedrock_model(model: str, region: str) -> str:
    """`arn:aws:bedrock:REGION::foundation-model/ID` (a model given as an ARN is kept)."""
    return model if model.startswith("arn:") else f"arn:aws:bedrock:{region}::foundation-model/{model}"


def _bedrock(params: Mapping[str, Any], region: str, account: str) -> str | None:
    model = _text(params, "modelId")
    return bedrock_model(model, region) if model else None


def _secretsmanager(params: Mapping[str, Any], region: str, account: str) -> str | None:
    secret = _text(params, "SecretId")
    return secret if secret and secret.startswith("arn:") else None


def _kms(params: Mapping[str, Any], region: str, account: str) -> str | None:
    key = _text(params, "KeyId")
    if key is None:
        return None
    if key.startswith("arn:"):
        return key
    return None if key.startswith("alias/") else f"arn:aws:kms:{region}:{account}:key/{key}"


_RESOURCES: dict[str, Callable[[Mapping[str, Any], str, str], str | None]] = {
    "dynamodb": _dynamodb, "s3": _s3, "sqs": _sqs, "sns": _sns, "lambda": _lambda, "stepfunctions": _states,
    "events": _events, "glue": _glue, "athena": _athena, "batch": _batch, "ecs": _ecs,
    "bedrock-runtime": _bedrock, "secretsmanager": _secretsmanager, "kms": _kms,
}


def _copy_source(params: Mapping[str, Any], region: str, account: str) -> list[tuple[str, str]] | None:
    """The object CopySource names (`bucket/key[?versionId=v]`, URL-encoded, or {Bucket, Key, VersionId}):
    reading it is `s3:GetObject`, or `s3:GetObjectVersion` for a version. A source that cannot be read
    stands as `*`, so only a role that may read anything is allowed the call."""
    source = params.get("CopySource")
    bucket = key = version = None
    if isinstance(source, Mapping):
        bucket, key, version = source.get("Bucket"), source.get("Key"), source.get("VersionId")
    elif isinstance(source, str):
        path, _, query = source.lstrip("/").partition("?")
        bucket, _, key = unquote(path).partition("/")
        for pair in query.split("&"):
            name, _, value = pair.partition("=")
            if name == "versionId" and value:
                version = unquote(value)
        if ":accesspoint/" in bucket or bucket.startswith("arn:"):
            # `arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME/object/KEY`: the access point's object ARN
            arn = unquote(path)
            return [("s3:GetObjectVersion" if version else "s3:GetObject", arn)]
    if not isinstance(bucket, str) or not bucket or not isinstance(key, str) or not key:
        return [("s3:GetObject", ANY)]
    return [("s3:GetObjectVersion" if version else "s3:GetObject", s3_object(bucket, key))]


def _tables(action_name: str) -> Callable[[Mapping[str, Any], str, str], list[tuple[str, str]] | None]:
    def every(params: Mapping[str, Any], region: str, account: str) -> list[tuple[str, str]] | None:
        items = params.get("RequestItems")
        if not isinstance(items, Mapping) or not items:
            return None
        return [(action_name, dynamodb_table(str(table), region, account)) for table in items]
    return every


def _transact(params: Mapping[str, Any], region: str, account: str) -> list[tuple[str, str]] | None:
    items = params.get("TransactItems")
    if not isinstance(items, list) or not items:
        return None
    found: list[tuple[str, str]] = []
    for item in items:
        for kind, body in (item.items() if isinstance(item, Mapping) else ()):
            table = body.get("TableName") if isinstance(body, Mapping) else None
            if kind in _TRANSACT:
                named = dynamodb_table(table, region, account) if isinstance(table, str) and table else ANY
                if (_TRANSACT[kind], named) not in found:
                    found.append((_TRANSACT[kind], named))
    return found or None


def _put_events(params: Mapping[str, Any], region: str, account: str) -> list[tuple[str, str]] | None:
    entries = params.get("Entries")
    if not isinstance(entries, list):
        return None
    buses = sorted({event_bus(e.get("EventBusName") if isinstance(e, Mapping) else None, region, account)
                    for e in entries or [{}]})
    return [("events:PutEvents", bus) for bus in buses]


_EXTRA: dict[tuple[str, str], Callable[[Mapping[str, Any], str, str], list[tuple[str, str]] | None]] = {
    ("s3", "CopyObject"): _copy_source, ("s3", "UploadPartCopy"): _copy_source,
    ("dynamodb", "BatchGetItem"): _tables("dynamodb:BatchGetItem"),
    ("dynamodb", "BatchWriteItem"): _tables("dynamodb:BatchWriteItem"),
    ("dynamodb", "TransactGetItems"): _transact, ("dynamodb", "TransactWriteItems"): _transact,
    ("events", "PutEvents"): _put_events,
}
