"""IAM's Query protocol parameters and shapes, shared by the IAM operations: checked names and texts,
`Tags.member.N`, `X.member.N` lists, IAM's Marker/MaxItems paging, dates and URL-encoded documents."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from pinflow import errors
from pinflow.registry import tags as tag_rules

Params = Mapping[str, str]

_NAME = re.compile(r"[\w+=,.@-]+")
_NAME_PATTERN = r"[\w+=,.@-]+"


def text(params: Params, name: str, field: str, *, required: bool = True, limit: int | None = None,
         default: str | None = None) -> str | None:
    value = params.get(name)
    if value is None:
        if required:
            raise errors.validation(field, None, "Member must not be null")
        return default
    if limit is not None and len(value) > limit:
        raise errors.validation(field, value, f"Member must have length less than or equal to {limit}")
    return value


def required(params: Params, name: str, field: str, limit: int | None = None) -> str:
    value = text(params, name, field, limit=limit)
    assert value is not None
    return value


def entity_name(params: Params, name: str, field: str, limit: int) -> str:
    """A role or policy name: required, at most `limit` characters of IAM's name alphabet."""
    value = required(params, name, field, limit)
    if not value:
        raise errors.validation(field, value, "Member must have length greater than or equal to 1")
    if not _NAME.fullmatch(value):
        raise errors.validation(field, value, f"Member must satisfy regular expression pattern: {_NAME_PATTERN}")
    return value


def path(params: Params, name: str = "Path", field: str = "path", default: str = "/") -> str:
    """A path (`/` or `/a/b/`), as IAM checks it."""
    value = text(params, name, field, required=False, limit=512, default=default)
    assert value is not None
    if not value.startswith("/") or not value.endswith("/"):
        raise errors.validation(field, value, r"Member must satisfy regular expression pattern: "
                         r"((/[A-Za-z0-9\.,\+@=_-]+)*)/")
    return value


def max_items(params: Params) -> int:
    raw = params.get("MaxItems")
    if raw is None:
        return 100
    try:
        value = int(raw)
    except ValueError:
        raise errors.validation("maxItems", raw, "Member must be an integer") from None
    if value < 1:
        raise errors.validation("maxItems", value, "Member must have value greater than or equal to 1")
    if value > 1000:
        raise errors.validation("maxItems", value, "Member must have value less than or equal to 1000")
    return value


def boolean(params: Params, name: str, default: bool = False) -> bool:
    raw = params.get(name)
    return default if raw is None else raw.lower() == "true"


def tags(params: Params) -> dict[str, str]:
    """`Tags.member.N.Key` / `Tags.member.N.Value` pairs, in N order, checked as IAM checks them: at most
    50, keys of 1-128 and values of 0-256 characters of AWS's tag alphabet (tagKeyType and tagValueType
    in IAM's model), no `aws:` key, and no two keys that differ only in case (IAM's tag keys are case
    insensitive).

    Raises:
        ValidationException: a key, a value or the list off IAM's model (IAM's ValidationError).
        InvalidInput: two keys the same but for case, or a key starting with `aws:`.
    """
    found: dict[str, str] = {}
    seen: set[str] = set()
    index = 1
    while f"Tags.member.{index}.Key" in params:
        key, value = params[f"Tags.member.{index}.Key"], params.get(f"Tags.member.{index}.Value", "")
        field = f"tags.{index}.member"
        _check_tag_text(f"{field}.key", key, 1, tag_rules.KEY_LIMIT)
        _check_tag_text(f"{field}.value", value, 0, tag_rules.VALUE_LIMIT)
        if key.lower() in seen:
            raise errors.InvalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
        if tag_rules.reserved(key):
            raise errors.InvalidInput(f"Tag key {key!r} is invalid: keys starting with 'aws:' are reserved for AWS "
                                      "use.")
        seen.add(key.lower())
        found[key] = value
        index += 1
    if len(found) > tag_rules.MAX_TAGS:
        raise errors.validation("tags", None, f"Member must have length less than or equal to {tag_rules.MAX_TAGS}",
                                sensitive=True)
    return found


def _check_tag_text(field: str, text: str, low: int, high: int) -> None:
    if len(text) < low:
        raise errors.validation(field, text, f"Member must have length greater than or equal to {low}")
    if len(text) > high:
        raise errors.validation(field, text, f"Member must have length less than or equal to {high}")
    if not tag_rules.in_alphabet(text):
        pattern = tag_rules.ALPHABET if low == 0 else tag_rules.ALPHABET[:-1] + "+"
        raise errors.validation(field, text, f"Member must satisfy regular expression pattern: {pattern}")


def members(params: Params, name: str) -> list[str]:
    """A list parameter, `<name>.member.N`, in N order."""
    found: list[str] = []
    while f"{name}.member.{len(found) + 1}" in params:
        found.append(params[f"{name}.member.{len(found) + 1}"])
    return found


def page(items: Sequence[Any], key: str, params: Params, marker_of: Any) -> dict[str, Any]:
    """One page of `items` (already in order) after the request's Marker: {key, IsTruncated, Marker?}.

    Args:
        marker_of: what identifies an item in a Marker (the item after it starts the next page).
    """
    size = max_items(params)
    marker = params.get("Marker") or None
    start = 0
    if marker is not None:
        start = next((index + 1 for index, item in enumerate(items) if str(marker_of(item)) == marker), len(items))
    chosen = list(items[start:start + size])
    answer: dict[str, Any] = {key: chosen, "IsTruncated": start + size < len(items)}
    if answer["IsTruncated"]:
        answer["Marker"] = str(marker_of(chosen[-1]))
    return answer


def iso_time(seconds: float) -> str:
    """IAM's date format: ISO 8601 in UTC, to the second."""
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def encode_policy(document: str) -> str:
    """A policy document as IAM sends it: percent-encoded (botocore unquotes and parses it)."""
    return quote(document, safe="")
