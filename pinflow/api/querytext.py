"""The Query protocol's parameters and XML text (IAM): refused when XML cannot carry them, cleaned when it must.

IAM answers in XML 1.0, which cannot carry most control characters (not even escaped), so a value
holding one would make every later answer that includes it unreadable. `parameters` decodes a
request strictly and `check_text` refuses such values with IAM's validation error; `xml_text`
makes any stored text writable (a value kept before these checks included).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from pinflow import errors

# Characters XML 1.0 does not allow anywhere (tab, newline and carriage return are allowed).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class InvalidQueryParameter(errors.ServiceError):
    """The query string or form body is not percent-encoded UTF-8 (AWS's common Query error)."""

    code = "InvalidQueryParameter"
    status = 400


def parameters(body: bytes, query_string: str) -> dict[str, str]:
    """A request's parameters: the query string's, then the form body's.

    Raises:
        InvalidQueryParameter: a name or value is not UTF-8 once percent-decoded.
    """
    try:
        found = dict(parse_qsl(query_string, keep_blank_values=True, errors="strict"))
        found.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict"))
    except UnicodeDecodeError:
        raise InvalidQueryParameter("The request's parameters must be percent-encoded UTF-8 text.") from None
    return found


def check_text(params: Mapping[str, str], service: str, action: str) -> None:
    """Refuse a parameter holding a character XML cannot carry, as a validation error of its member.

    Args:
        params: the request's parameters.
        service: the botocore service name, whose model gives the member's pattern for the message.
        action: the operation named by the request.

    Raises:
        ValidationException: with IAM's wording (the API layer names it ValidationError).
    """
    for name, value in params.items():
        if _NOT_XML.search(name) or _NOT_XML.search(value):
            pattern = _pattern(service, action, name) if not _NOT_XML.search(name) else None
            constraint = (f"Member must satisfy regular expression pattern: {pattern}" if pattern else
                          "Member must not contain control characters")
            raise errors.ValidationException(
                f"1 validation error detected: Value at '{member_path(name)}' failed to satisfy constraint: "
                f"{constraint}")


def xml_text(text: str) -> str:
    """`text` with every character XML cannot carry replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def member_path(parameter: str) -> str:
    """A Query parameter as AWS names it in validation messages: `Tags.member.1.Key` -> `tags.1.member.key`."""
    parts = [_NOT_XML.sub("?", part) for part in parameter.split(".")]
    shown: list[str] = []
    index = 0
    while index < len(parts):
        part = parts[index]
        if part == "member" and index + 1 < len(parts) and parts[index + 1].isdigit():
            shown += [parts[index + 1], "member"]
            index += 2
            continue
        shown.append(part[:1].lower() + part[1:])
        index += 1
    return ".".join(shown)


@functools.lru_cache(maxsize=256)
def _pattern(service: str, action: str, parameter: str) -> str | None:
    """The pattern botocore's model gives the member a parameter names, if any (loaded on first need)."""
    shape = _input_shape(service, action)
    parts = parameter.split(".")
    index = 0
    while shape is not None and index < len(parts):
        kind = shape.type_name
        if kind == "structure":
            shape = shape.members.get(parts[index])
            index += 1
        elif kind == "list":
            index += 2 if parts[index] == "member" else 1
            shape = shape.member
        else:
            return None
    if shape is None or shape.type_name != "string":
        return None
    pattern = shape.metadata.get("pattern")
    return str(pattern) if pattern else None


def _input_shape(service: str, action: str) -> Any:
    from botocore.model import OperationNotFoundError

    try:
        return _service_model(service).operation_model(action).input_shape
    except OperationNotFoundError:
        return None


@functools.cache
def _service_model(service: str) -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(service)
