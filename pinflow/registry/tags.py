"""Resource tags: what every AWS service here allows in a tag, and Step Functions' `[{key, value}]` lists,
stored as one JSON object per resource.

Each service words its refusals its own way (its API layer or registry does); what a tag may hold is
the same everywhere: at most 50 per resource, a key of 1-128 and a value of 0-256 characters from
AWS's tag alphabet (TagKey and TagValue in Lambda's and IAM's models), and no key starting with `aws:`,
which AWS keeps for itself.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pinflow import errors

MAX_TAGS = 50
KEY_LIMIT = 128
VALUE_LIMIT = 256
# The tag alphabet as the service models write it (Unicode letters, separators and numbers, and _.:/=+-@).
ALPHABET = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*"
_SIGNS = frozenset("_.:/=+-@")
RESERVED_PREFIX = "aws:"


def in_alphabet(text: str) -> bool:
    """Whether every character of `text` is in AWS's tag alphabet (ALPHABET)."""
    return all(char in _SIGNS or unicodedata.category(char)[0] in "LZN" for char in text)


def good_key(key: object) -> bool:
    """A key of 1-128 characters of the tag alphabet."""
    return isinstance(key, str) and 1 <= len(key) <= KEY_LIMIT and in_alphabet(key)


def good_value(value: object) -> bool:
    """A value of 0-256 characters of the tag alphabet."""
    return isinstance(value, str) and len(value) <= VALUE_LIMIT and in_alphabet(value)


def reserved(key: str) -> bool:
    """Whether `key` starts with `aws:` (in any case), which only AWS may use."""
    return key[:len(RESERVED_PREFIX)].lower() == RESERVED_PREFIX


def from_list(tags: Sequence[Mapping[str, Any]] | Mapping[str, str] | None) -> dict[str, str]:
    """Tags as a dict, from AWS's list shape (or a dict already)."""
    if not tags:
        return {}
    if isinstance(tags, Mapping):
        return {str(k): str(v) for k, v in tags.items()}
    return {str(tag["key"]): str(tag.get("value", "")) for tag in tags}


def to_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    """Tags in AWS's list shape, sorted by key."""
    return [{"key": key, "value": tags[key]} for key in sorted(tags)]


def load(text: str | None) -> dict[str, str]:
    return dict(json.loads(text)) if text else {}


def merged(current: Mapping[str, str], added: Mapping[str, str], resource_arn: str) -> dict[str, str]:
    """`current` with `added` applied; refused past AWS's 50 tags per resource.

    Raises:
        TooManyTags: the result would hold more than 50 tags.
    """
    result = {**current, **added}
    check_count(result, resource_arn)
    return result


def without(current: Mapping[str, str], keys: Iterable[str]) -> dict[str, str]:
    removed = set(keys)
    return {key: value for key, value in current.items() if key not in removed}


def check_count(tags: Mapping[str, str], resource_arn: str) -> None:
    if len(tags) > MAX_TAGS:
        raise errors.TooManyTags(f"Too many tags: resource {resource_arn} may have at most {MAX_TAGS} tags",
                                 resourceName=resource_arn)
