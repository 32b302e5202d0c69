"""IAM wildcards: `*` and `?` only, exact otherwise; ARNs match as IAM matches them."""

from __future__ import annotations

import pytest

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
