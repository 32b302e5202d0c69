"""S3 for Step Functions' item readers and writers: `arn:aws:states:::s3:getObject|putObject|listObjectsV2`,
and a streaming interface to the same calls for Distributed Map.

`open_object` streams an object (it is never read into memory whole: chunks and lines come as the
body is read), `list_objects` pages through ListObjectsV2 lazily, `put_object` writes one; their
failures are TaskErrors named as the SDK integration names S3's errors (`S3.NoSuchKeyException`,
`S3.NoSuchBucketException`, `S3.S3Exception`). As a Task's Resource (a pinflow extension: AWS takes
these ARNs in ItemReader and ResultWriter only), each action answers as `aws-sdk:s3:<action>` does.

IAM, as AWS's Distributed Map documentation asks: `s3:GetObject` on `arn:aws:s3:::BUCKET/KEY`,
`s3:PutObject` likewise, `s3:ListBucket` on `arn:aws:s3:::BUCKET`. The generated role grants what
the serverless-step-functions plugin grants (iamStrategies/s3.js): the action on the object named
(`BUCKET/*` when the key is computed), and `s3:Get*`/`s3:List*` on the bucket and its objects for
listObjectsV2.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

from pinflow.asl.validation import resources
from pinflow.engine.integrations import aws_client, aws_iam, aws_service, aws_shapes, base
from pinflow.engine.integrations.aws_client import CallFailed

if TYPE_CHECKING:
    from pinflow.engine.runner import Engine

SERVICE = "s3"
ACTIONS = {"getObject": "GetObject", "putObject": "PutObject", "listObjectsV2": "ListObjectsV2"}
CHUNK = 64 * 1024


class ObjectStream:
    """An S3 object being read: `size`, `content_type`, `etag`, and its body as chunks or lines.

    Use as a context manager (the connection is released on exit). Reading fails with a TaskError
    named as S3's errors are when the connection breaks."""

    def __init__(self, response: dict[str, Any]) -> None:
        self._body = response["Body"]
        self.size = int(response.get("ContentLength") or 0)
        self.content_type = str(response.get("ContentType") or "")
        self.etag = str(response.get("ETag") or "")

    def read(self, amount: int | None = None) -> bytes:
        try:
            return bytes(self._body.read(amount))
        except Exception as exc:  # noqa: BLE001 - urllib3 and botocore raise several kinds when a read breaks
            raise base.TaskError("S3.SdkClientException", f"Unable to read the object: {exc}") from None

    def iter_chunks(self, size: int = CHUNK) -> Iterator[bytes]:
        while True:
            chunk = self.read(size)
            if not chunk:
                return
            yield chunk

    def iter_lines(self, size: int = CHUNK) -> Iterator[bytes]:
        """Lines without their ending (`\\n` or `\\r\\n`), read a chunk at a time."""
        # The part of a line read so far grows in place: a long line costs its length, not its
        # length times its chunks.
        pending = bytearray()
        for chunk in self.iter_chunks(size):
            lines = chunk.split(b"\n")
            if len(lines) == 1:
                pending += chunk
                continue
            pending += lines[0]
            lines[0] = bytes(pending)
            pending = bytearray(lines.pop())
            for line in lines:
                yield line[:-1] if line.endswith(b"\r") else line
        if pending:
            tail = bytes(pending)
            yield tail[:-1] if tail.endswith(b"\r") else tail

    def close(self) -> None:
        self._body.close()

    def __enter__(self) -> ObjectStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _call(engine: Engine, operation: str, params: Mapping[str, Any], region: str | None) -> dict[str, Any]:
    try:
        return engine.aws.call(SERVICE, operation, params, engine.aws.region(region)).response
    except CallFailed as failed:
        raise aws_service.sdk_failure(SERVICE, failed) from None


def open_object(engine: Engine, bucket: str, key: str, *, version_id: str | None = None,
                region: str | None = None) -> ObjectStream:
    """Start reading an object; its body is streamed from S3 as it is read."""
    params = {"Bucket": bucket, "Key": key, **({"VersionId": version_id} if version_id else {})}
    return ObjectStream(_call(engine, "GetObject", params, region))


def list_objects(engine: Engine, bucket: str, prefix: str = "", *, region: str | None = None,
                 page_size: int = 1000) -> Iterator[dict[str, Any]]:
    """Every object under `prefix`, as ListObjectsV2's `Contents` items in the SDK integration's shape
    (Key, Size, ETag, LastModified as ISO 8601, StorageClass), a page fetched when the last one is used."""
    shape = aws_client.operation_model(SERVICE, "ListObjectsV2").output_shape.members["Contents"]
    token: str | None = None
    while True:
        params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": page_size}
        if token:
            params["ContinuationToken"] = token
        page = _call(engine, "ListObjectsV2", params, region)
        yield from aws_shapes.from_response(shape, page.get("Contents") or [], aws_shapes.SDK)
        token = page.get("NextContinuationToken")
        if not page.get("IsTruncated") or not token:
            return


def put_object(engine: Engine, bucket: str, key: str, body: bytes | IO[bytes], *,
               content_type: str | None = None, region: str | None = None) -> dict[str, Any]:
    """Write an object (`body` may be a file, read as it is sent); PutObject's answer in the SDK's shape."""
    params: dict[str, Any] = {"Bucket": bucket, "Key": key, "Body": body}
    if content_type:
        params["ContentType"] = content_type
    answer = _call(engine, "PutObject", params, region)
    shape = aws_client.operation_model(SERVICE, "PutObject").output_shape
    return dict(aws_shapes.from_response(shape, answer, aws_shapes.SDK) or {})


class S3(aws_service.AwsBacked):
    name = "s3"
    patterns = frozenset(base.SUFFIXES[s] for action in ACTIONS for s in resources.patterns("s3", action))

    def serves(self, resource: str) -> bool:
        found = aws_service.split(resource)
        return found is not None and found[1] == "s3" and found[2] in ACTIONS

    def aws_service(self, resource: str) -> str | None:
        return SERVICE

    def _operation(self, call: base.Call) -> str:
        found = aws_service.split(call.command.resource)
        assert found is not None
        return ACTIONS[found[2]]

    def needs(self, call: base.Call) -> Sequence[base.Need]:
        operation = self._operation(call)
        region, account = aws_service.place(call)
        params = aws_service.convert(SERVICE, operation, call.parameters)
        return aws_service.needs(SERVICE, operation, params, region, account)

    def start(self, call: base.Call) -> base.Started:
        operation = self._operation(call)
        params = aws_service.convert(SERVICE, operation, call.parameters)
        region = call.engine.aws.region(None, aws_service.place(call)[0])
        try:
            reply = call.engine.aws.call(SERVICE, operation, params, region)
        except CallFailed as failed:
            raise aws_service.sdk_failure(SERVICE, failed) from None
        shape = aws_client.operation_model(SERVICE, operation).output_shape
        return base.Done(call.succeeded(aws_shapes.from_response(shape, reply.response, aws_shapes.SDK) or {}))

    def denied(self, call: base.Call, message: str) -> Any:
        failed = aws_service.sdk_failure(SERVICE, aws_service.denial(SERVICE, call, message))
        return call.failed(failed.error, failed.cause)

    def references(self, state_path: str, state: dict[str, Any]) -> list[base.Reference]:
        found = aws_service.split(state["Resource"])
        if found is None or found[1] != "s3" or found[2] not in ACTIONS:
            return []
        return aws_service.references(state_path, SERVICE, ACTIONS[found[2]], state)

    def grants(self, references: Sequence[base.Reference], computed: Sequence[base.Computed],
               patterns: frozenset[str], context: Mapping[str, str]) -> list[dict[str, Any]]:
        objects = [ref for ref in references if ref.name != "s3:ListBucket"]
        statements = aws_service.grants_for(objects, context)
        for ref in references:
            if ref.name == "s3:ListBucket":
                bucket = ref.text
                targets = "*" if bucket == "*" else [bucket, f"{bucket}/*"]
                statements += [{"Effect": "Allow", "Action": ["s3:Get*"], "Resource": targets},
                               {"Effect": "Allow", "Action": ["s3:List*"], "Resource": targets}]
        return statements


def object_arn(bucket: str, key: str | None = None) -> str:
    """The ARN IAM authorises S3 object (or bucket) calls against."""
    return aws_iam.s3_object(bucket, key)
