"""IAM wildcards: `*` and `?` only, exact otherwise; ARNs match as IAM matches them."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pinflow.iam import wildcard

FN = "arn:aws:lambda:us-east-1:123456789012:function:hello"


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("abc", "abc", True),
        ("abc", "abcd", False),
        ("a*c", "ac", True),
        ("a*c", "a/b:c", True),
        ("a?c", "abc", True),
        ("a?c", "ac", False),
        ("a?c", "abbc", False),
        ("[ab]", "[ab]", True),  # `[` is literal: this is not fnmatch
        ("[ab]", "a", False),
        ("a\\*", "a\\xyz", True),  # a backslash escapes nothing
        ("a.c", "abc", False),  # nor is `.` special
        ("*", "", True),
        ("Abc", "abc", False),  # case matters unless asked otherwise
    ],
)
def test_plain_matching(pattern: str, value: str, expected: bool) -> None:
    assert wildcard.matches(pattern, value) is expected


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("lambda:InvokeFunction", "lambda:invokefunction", True),
        ("LAMBDA:invoke*", "lambda:InvokeFunction", True),
        ("lambda:Get*", "lambda:InvokeFunction", False),
        ("lambda:?nvokeFunction", "lambda:InvokeFunction", True),
        ("*", "states:StartExecution", True),
        ("states:*", "lambda:InvokeFunction", False),
    ],
)
def test_actions_ignore_case(pattern: str, action: str, expected: bool) -> None:
    assert wildcard.matches_action(pattern, action) is expected


@pytest.mark.parametrize(
    ("pattern", "resource", "expected"),
    [
        # AWS: a grant on the unqualified name covers only the unqualified ARN.
        (FN, FN, True),
        (FN, f"{FN}:1", False),
        (FN, f"{FN}:$LATEST", False),
        # A grant on `hello:*` covers every version and alias, but not the unqualified ARN.
        (f"{FN}:*", f"{FN}:1", True),
        (f"{FN}:*", f"{FN}:live", True),
        (f"{FN}:*", f"{FN}:$LATEST", True),
        (f"{FN}:*", FN, False),
        (f"{FN}:1", f"{FN}:1", True),
        (f"{FN}:1", f"{FN}:12", False),
        (f"{FN}:?", f"{FN}:7", True),
        (f"{FN}:?", f"{FN}:12", False),
        # A `*` that ends a segment may reach across colons...
        (f"{FN}*", f"{FN}:1", True),
        (f"{FN}*", f"{FN}-other", True),
        ("arn:aws:lambda:*:123456789012:function:hello", FN, True),
        # ...one inside a segment may not.
        ("arn:aws:lambda:us-east-1:123456789012:function:h*o", f"{FN}:live:o", False),
        ("arn:aws:lambda:us-east-1:123456789012:function:h*o", FN, True),
        ("*", FN, True),
        # Resources are case-sensitive.
        (FN.replace("hello", "Hello"), FN, False),
        ("arn:aws:s3:::bucket/[x]", "arn:aws:s3:::bucket/[x]", True),
        ("arn:aws:s3:::bucket/[x]", "arn:aws:s3:::bucket/x", False),
    ],
)
def test_resources_match_exactly_apart_from_wildcards(pattern: str, resource: str, expected: bool) -> None:
    assert wildcard.matches_resource(pattern, resource) is expected


@pytest.mark.parametrize(
    ("pattern", "arn", "expected"),
    [
        ("arn:aws:lambda:*:*:function:hello", FN, True),
        ("arn:aws:lambda:*:*:function:*", f"{FN}:7", True),
        ("arn:aws:lambda:us-*:*:function:hello", FN, True),
        ("arn:aws:lambda:eu-*:*:function:hello", FN, False),
        ("arn:aws:lambda:*:function:hello", FN, False),  # five parts never match six
        ("*", FN, True),
    ],
)
def test_arn_condition_matching_is_per_part(pattern: str, arn: str, expected: bool) -> None:
    assert wildcard.matches_arn(pattern, arn) is expected


def _reference(pattern: str, value: str, *, segments: bool, ignore_case: bool = False) -> bool:
    """The same rules as a regular expression: right, but exponential on some inputs (small ones here)."""
    parts = []
    for index, char in enumerate(pattern):
        if char == "*":
            ends_segment = index == len(pattern) - 1 or pattern[index + 1] == ":"
            parts.append("[^:]*" if segments and not ends_segment else ".*")
        elif char == "?":
            parts.append("[^:]" if segments else ".")
        else:
            parts.append(re.escape(char))
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.fullmatch("".join(parts), value, flags) is not None


_ALPHABET = "ab:*?"


@settings(max_examples=400, deadline=None)
@given(st.text(_ALPHABET, max_size=9), st.text("ab:c", max_size=10))
def test_the_automaton_agrees_with_a_regular_expression(pattern: str, value: str) -> None:
    assert wildcard.matches(pattern, value) is _reference(pattern, value, segments=False)
    assert wildcard.matches_resource(pattern, value) is _reference(pattern, value, segments=True)


@settings(max_examples=100, deadline=None)
@given(st.text("aB:*?", max_size=8), st.text("Ab:", max_size=8))
def test_actions_agree_with_a_case_blind_regular_expression(pattern: str, value: str) -> None:
    assert wildcard.matches_action(pattern, value) is _reference(pattern, value, segments=False, ignore_case=True)


def test_many_wildcards_take_time_linear_in_the_value() -> None:
    # A backtracking matcher tries every way of splitting the value among the `*`s: minutes here.
    pattern = "arn:aws:lambda:us-east-1:123456789012:function:" + "*a" * 20 + "*b"
    resource = "arn:aws:lambda:us-east-1:123456789012:function:" + "a" * 64
    for check in (wildcard.matches_resource, wildcard.matches):
        started = time.perf_counter()
        assert check(pattern, resource + "c") is False
        assert check(pattern, resource + "b") is True
        # Generous for a shared machine: the matcher itself takes well under a millisecond.
        assert time.perf_counter() - started < 0.5
