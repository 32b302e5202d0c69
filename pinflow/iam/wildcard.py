"""IAM wildcard matching: `*` is any run of characters, `?` one character, and nothing else is special.

This is not fnmatch: `[`, `]` and `\\` are literal characters, as in IAM. Actions compare without
regard to case; resources and ARNs compare case-sensitively.
"""

from __future__ import annotations

import functools
import re

# Compiled patterns are cached: policies are few and the same patterns are checked on every call.
_CACHE_SIZE = 4096


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _plain(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _resource(pattern: str) -> re.Pattern[str]:
    parts = []
    last = len(pattern) - 1
    for index, char in enumerate(pattern):
        if char == "*":
            # IAM: a `*` that ends an ARN segment may reach past the colons that follow;
            # inside a segment it stays within the segment.
            ends_segment = index == last or pattern[index + 1] == ":"
            parts.append(".*" if ends_segment else "[^:]*")
        elif char == "?":
            parts.append("[^:]")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL)


def matches(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """Whether `value` matches the whole of `pattern`, `*` and `?` being the only wildcards.

    Args:
        pattern: the pattern, e.g. `states:Describe*`.
        value: the string to test.
        ignore_case: compare letters without regard to case.
    """
    if "*" not in pattern and "?" not in pattern:
        return pattern.lower() == value.lower() if ignore_case else pattern == value
    return _plain(pattern, ignore_case).fullmatch(value) is not None


def matches_action(pattern: str, action: str) -> bool:
    """Whether an action such as `lambda:InvokeFunction` matches an Action entry (case-insensitive)."""
    return matches(pattern, action, ignore_case=True)


def matches_resource(pattern: str, resource: str) -> bool:
    """Whether a resource ARN matches a policy's Resource entry, as IAM compares them.

    The comparison is exact and case-sensitive apart from wildcards: a grant on
    `...:function:hello` does not cover `...:function:hello:1`, while `...:function:hello:*`
    covers every version and alias but not the unqualified ARN. A `*` that ends a segment may
    cover further segments (`...:function:hello*` covers `...:function:hello:1`); `*` and `?`
    elsewhere stay within their segment.
    """
    if "*" not in pattern and "?" not in pattern:
        return pattern == resource
    return _resource(pattern).fullmatch(resource) is not None


def matches_arn(pattern: str, arn: str) -> bool:
    """Whether `arn` matches `pattern` as the ArnEquals/ArnLike condition operators compare them.

    Each of the six colon-separated parts is matched on its own (the last part, the resource,
    may hold colons of its own), case-sensitively, with `*` and `?` wildcards.
    """
    if pattern == "*":
        return True
    pattern_parts = pattern.split(":", 5)
    arn_parts = arn.split(":", 5)
    if len(pattern_parts) != 6 or len(arn_parts) != 6:
        return False
    return all(matches(p, a) for p, a in zip(pattern_parts, arn_parts, strict=True))
