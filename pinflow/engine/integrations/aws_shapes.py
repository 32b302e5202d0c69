"""From a Task's parameters to botocore's request, and from botocore's answer to the Task's result, by the
operation's shapes in botocore's models; and the names AWS gives services and errors.

Step Functions runs its integrations on AWS's Java SDKs, and it shows: parameters are the API's members
written in PascalCase (`RestApiId` for API Gateway's `restApiId`), results come back with PascalCase
members too, and errors are named after the SDK's exception classes. Two styles differ in details:
- SDK integrations (`aws-sdk:`, the Java SDK 2.x): timestamps as ISO 8601 text in UTC, a streamed body
  (S3's GetObject `Body`) as text, any other blob as base64; errors `<Service>.<Exception>`
  ("Handling errors" in AWS's "AWS SDK service integrations" page).
- Optimized integrations (the Java SDK 1.x): timestamps as epoch milliseconds.
Values of string members given as JSON objects are sent as JSON text, and so is a streamed body (S3's
PutObject `Body`: a JSON string is stored quoted, as AWS recorded it).
"""

from __future__ import annotations

import base64
import json
import re
import threading
from datetime import UTC, datetime
from typing import Any

SDK, OPTIMIZED = "sdk", "optimized"


# --- names ----------------------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    """A name split into words as AWS's Java SDK 2.x code generator splits it (`DynamoDB` -> Dynamo, DB;
    `SESv2` -> SES, v2; `ACM PCA` -> ACM, PCA)."""
    text = re.sub(r"[^A-Za-z0-9]+", " ", text)
    text = re.sub(r"([^a-z]{2,})v([0-9]+)", r"\1 v\2 ", text)
    text = re.sub(r"([^A-Z]{2,})V([0-9]+)", r"\1 V\2 ", text)
    text = re.sub(r"(?<=[a-z])(?=[A-Z](?:[a-zA-Z]|[0-9]))", " ", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", text)
    text = re.sub(r"([0-9])([a-zA-Z])", r"\1 \2", text)
    return text.split()


def pascal(text: str) -> str:
    """Each word lower-cased then capitalised: `DynamoDB` -> `DynamoDb`, `SFN` -> `Sfn`."""
    return "".join(word[:1].upper() + word[1:].lower() for word in _words(text))


def service_error_name(service_id: str) -> str:
    """The name SDK integrations give a service in error names: its Java SDK 2.x client name
    (`DynamoDb`, `Sfn`, `S3`, `CloudWatchLogs`, `AcmPca`, `SesV2`)."""
    name = pascal(service_id)
    for prefix in ("Amazon", "Aws"):
        if name.startswith(prefix) and len(name) > len(prefix):
            name = name[len(prefix):]
    if name.endswith("Service") and len(name) > len("Service"):
        name = name[: -len("Service")]
    return name


def exception_name(shape_name: str) -> str:
    """An error shape's exception class name in the Java SDKs: `Fault` becomes `Exception`, and
    `Exception` is added where missing (S3's `NoSuchKey` -> `NoSuchKeyException`)."""
    if shape_name.endswith("Fault"):
        return pascal(shape_name[: -len("Fault")]) + "Exception"
    if shape_name.endswith("Exception"):
        return pascal(shape_name)
    return pascal(shape_name) + "Exception"


def error_shape(service_model: Any, code: str) -> str | None:
    """The error shape an error code names in a service's model (codes of the Query protocol such as
    `AWS.SimpleQueueService.NonExistentQueue` are the shape's `error.code`), or None when unmodelled."""
    for shape in service_model.error_shapes:
        if shape.name == code or shape.metadata.get("error", {}).get("code") == code:
            return str(shape.name)
    return None


# --- requests -------------------------------------------------------------------------------------------


class BadParameters(ValueError):
    """Parameters the operation does not take; the message names the field."""


def to_request(shape: Any, value: Any, where: str = "") -> Any:
    """A Task's parameters as botocore takes them for `shape` (an operation's input shape)."""
    if shape is None:
        return value
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise BadParameters(f"The field '{where or 'Parameters'}' must be an object")
        members = _members(shape)
        request = {}
        for key, item in value.items():
            member = members.get(key) or members.get(key.lower())
            if member is None and key.endswith("EqualsValue"):
                member = members.get(key[: -len("Value")].lower())
            if member is None:
                raise BadParameters(f"The field '{_join(where, key)}' is not supported by Step Functions")
            request[member] = to_request(shape.members[member], item, _join(where, key))
        return request
    if kind == "list":
        if not isinstance(value, list):
            raise BadParameters(f"The field '{where}' must be an array")
        return [to_request(shape.member, item, f"{where}[{index}]") for index, item in enumerate(value)]
    if kind == "map":
        if not isinstance(value, dict):
            raise BadParameters(f"The field '{where}' must be an object")
        return {key: to_request(shape.value, item, _join(where, key)) for key, item in value.items()}
    if kind == "string":
        return value if isinstance(value, str) else _json(value)
    if kind == "blob":
        if shape.serialization.get("streaming"):
            return _json(value).encode("utf-8")
        return value.encode("utf-8") if isinstance(value, str) else _json(value).encode("utf-8")
    return value


_members_cache: dict[int, dict[str, str]] = {}
_members_lock = threading.Lock()


def _members(shape: Any) -> dict[str, str]:
    """A structure's member names, found by their own name or case-insensitively (PascalCase for camel)."""
    key = id(shape)
    found = _members_cache.get(key)
    if found is None:
        found = {}
        for name in shape.members:
            found[name] = name
            found.setdefault(name.lower(), name)
        with _members_lock:
            _members_cache[key] = found
    return found


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# --- results --------------------------------------------------------------------------------------------


def from_response(shape: Any, value: Any, style: str) -> Any:
    """botocore's parsed answer as Step Functions returns it in `style` (SDK or OPTIMIZED)."""
    if value is None:
        return None
    if hasattr(value, "read"):  # a streamed body (S3's GetObject)
        data = value.read()
        return data.decode("utf-8", errors="replace")
    if shape is None:
        return plain(value, style)
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        return {_capitalised(key): from_response(shape.members.get(key), item, style)
                for key, item in value.items() if key != "ResponseMetadata"}
    if kind == "list" and isinstance(value, list):
        return [from_response(shape.member, item, style) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {key: from_response(shape.value, item, style) for key, item in value.items()}
    return plain(value, style)


def plain(value: Any, style: str) -> Any:
    """A value with no shape to go by: timestamps and bytes as the style writes them, containers walked."""
    if isinstance(value, datetime):
        return timestamp(value, style)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {key: plain(item, style) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item, style) for item in value]
    return value


def timestamp(moment: datetime, style: str) -> Any:
    """ISO 8601 in UTC with milliseconds when there are any (SDK), or epoch milliseconds (optimized)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if style == OPTIMIZED:
        return round(moment.timestamp() * 1000)
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    millis = moment.microsecond // 1000
    return f"{text}.{millis:03d}Z" if millis else f"{text}Z"


def _capitalised(name: str) -> str:
    return name[:1].upper() + name[1:]
