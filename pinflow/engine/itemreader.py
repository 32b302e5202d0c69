"""A Distributed Map's ItemReader, carried out through the S3 integration's streaming reads.

`s3:getObject` reads one object as ReaderConfig.InputType says: JSON (an array), JSONL (one value a
line), CSV (a header from the first row or CSVHeaders, any of AWS's CSVDelimiter names; every value
a string); `s3:listObjectsV2` lists a prefix, each object an item shaped as AWS's documentation shows
(Etag, Key, LastModified in epoch seconds, Size, StorageClass). ReaderConfig.MaxItems (already worked
out by the interpreter) stops reading early. The S3 calls need the same IAM actions as the S3
integration's (s3:GetObject, s3:ListBucket).
"""

from __future__ import annotations

import codecs
import csv
import datetime
import json
from collections.abc import Iterator
from typing import Any

from pinflow.engine.integrations import aws_service, base, s3

DELIMITERS = {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ", "TAB": "\t"}


def read(call: base.Call) -> list[Any]:
    """The items an ItemReader names (raises base.TaskError when they cannot be read)."""
    command = call.command
    config = command.reader or {}
    limit = config.get("MaxItems") or None  # 0: no limit, as AWS's samples use it
    parameters = call.parameters
    region = call.engine.aws.region(None, aws_service.place(call)[0])
    action = command.resource.rsplit(":", 1)[-1]
    bucket = parameters.get("Bucket")
    if not isinstance(bucket, str):
        raise base.TaskError("States.ItemReaderFailed", "The ItemReader's parameters need a Bucket")
    if action == "listObjectsV2":
        found = (_listed(item) for item in s3.list_objects(call.engine, bucket, str(parameters.get("Prefix") or ""),
                                                              region=region))
        return _take(found, limit)
    key = parameters.get("Key")
    if not isinstance(key, str):
        raise base.TaskError("States.ItemReaderFailed", "The ItemReader's parameters need a Key")
    kind = str(config.get("InputType") or "JSON")
    with s3.open_object(call.engine, bucket, key, version_id=parameters.get("VersionId"), region=region) as stream:
        if kind == "JSON":
            try:
                value = json.loads(stream.read())
            except ValueError as exc:
                raise base.TaskError("States.ItemReaderFailed", f"The object is not JSON: {exc}") from None
            if not isinstance(value, list):
                raise base.TaskError("States.ItemReaderFailed", "The JSON object must contain an array")
            return value[:limit] if limit else value
        lines = _text_lines(stream.iter_lines())
        if kind == "JSONL":
            return _take(_json_lines(lines), limit)
        if kind == "CSV":
            return _take(_csv_rows(lines, config), limit)
    raise base.TaskError("States.ItemReaderFailed", f"The InputType {kind} is not supported by this server")


def _take(items: Iterator[Any], limit: int | None) -> list[Any]:
    out = []
    for item in items:
        out.append(item)
        if limit and len(out) >= limit:
            break
    return out


def _text_lines(lines: Iterator[bytes]) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    for line in lines:
        try:
            yield decoder.decode(line + b"\n")
        except UnicodeDecodeError as exc:
            raise base.TaskError("States.ItemReaderFailed", f"The object is not UTF-8 text: {exc}") from None


def _json_lines(lines: Iterator[str]) -> Iterator[Any]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except ValueError as exc:
            raise base.TaskError("States.ItemReaderFailed", f"Line {number} is not JSON: {exc}") from None


def _csv_rows(lines: Iterator[str], config: dict[str, Any]) -> Iterator[dict[str, str]]:
    delimiter = DELIMITERS.get(str(config.get("CSVDelimiter") or "COMMA"), ",")
    rows = csv.reader(lines, delimiter=delimiter)
    if config.get("CSVHeaderLocation") == "GIVEN":
        headers = [str(h) for h in config.get("CSVHeaders") or ()]
    else:
        headers = next(rows, [])
    for row in rows:
        if not row:
            continue
        yield dict(zip(headers, row, strict=False))


def _listed(item: dict[str, Any]) -> dict[str, Any]:
    modified = item.get("LastModified")
    if isinstance(modified, str):
        stamp = datetime.datetime.fromisoformat(modified.replace("Z", "+00:00"))
        modified_value: Any = int(stamp.timestamp())
    else:
        modified_value = modified
    return {"Etag": item.get("ETag"), "Key": item.get("Key"), "LastModified": modified_value,
            "Size": item.get("Size"), "StorageClass": item.get("StorageClass")}
