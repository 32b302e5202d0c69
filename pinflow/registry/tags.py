"""Step Functions resource tags: AWS's `[{key, value}]` lists, stored as one JSON object per resource."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pinflow import errors

MAX_TAGS = 50


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
