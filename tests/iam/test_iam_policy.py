"""Parsing policy documents, and refusing malformed ones with IAM's MalformedPolicyDocument wording."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pinflow.iam import policy

FN = "arn:aws:lambda:us-east-1:123456789012:function:hello"


def _doc(*statements: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements), **top}


def test_parse_lists_and_single_strings() -> None:
    parsed = policy.parse_policy(
        json.dumps(
            _doc(
                {
                    "Sid": "A",
                    "Effect": "Allow",
                    "Action": "lambda:InvokeFunction",
                    "Resource": [FN, f"{FN}:*"],
                },
                {"Effect": "Deny", "NotAction": ["states:*"], "NotResource": "*"},
            )
        ),
        name="role-policy",
    )
    assert parsed.name == "role-policy"
    first, second = parsed.statements
    assert first == policy.Statement(
        effect="Allow",
        actions=("lambda:InvokeFunction",),
        resources=(FN, f"{FN}:*"),
        sid="A",
        pointer="/Statement/0",
    )
    assert second.not_action and second.not_resource
    assert second.actions == ("states:*",) and second.resources == ("*",)


def test_a_single_statement_object_is_accepted() -> None:
    parsed = policy.parse_policy(
        {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}
    )
    assert len(parsed.statements) == 1
    assert parsed.statements[0].pointer == "/Statement"


def test_policy_from_statements_sets_the_version() -> None:
    parsed = policy.policy_from_statements([{"Effect": "Allow", "Action": "lambda:*", "Resource": FN}])
    assert parsed.version == "2012-10-17"


def test_conditions_are_parsed_with_their_values_as_text() -> None:
    parsed = policy.parse_policy(
        _doc(
            {
                "Effect": "Allow",
                "Action": "*",
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": True}, "NumericLessThan": {"n": [5, "6"]}},
            }
        )
    )
    values = {c.key: c.values for c in parsed.statements[0].conditions}
    assert values == {"aws:SecureTransport": ("true",), "n": ("5", "6")}


@pytest.mark.parametrize(
    ("document", "message", "pointer"),
    [
        ("{not json", "This policy contains invalid Json", ""),
        ([], "Syntax errors in policy.", ""),
        (
            _doc({"Effect": "Allow", "Action": "*", "Resource": "*"}, Extra=1),
            "Syntax errors in policy.",
            "/Extra",
        ),
        ({"Version": "2012-10-17"}, "Syntax errors in policy.", ""),
        (_doc(), "Syntax errors in policy.", "/Statement"),
        ({"Version": "2012-10-17", "Statement": "x"}, "Syntax errors in policy.", "/Statement"),
        (_doc("x"), "Syntax errors in policy.", "/Statement/0"),  # type: ignore[arg-type]
        (_doc({"Action": "*", "Resource": "*"}), "Syntax errors in policy.", "/Statement/0/Effect"),
        (
            _doc({"Effect": "Permit", "Action": "*", "Resource": "*"}),
            "Syntax errors in policy.",
            "/Statement/0/Effect",
        ),
        (
            _doc({"Effect": "Allow", "Action": 3, "Resource": "*"}),
            "Syntax errors in policy.",
            "/Statement/0/Action",
        ),
        (
            _doc({"Effect": "Allow", "Action": ["a:b", 1], "Resource": "*"}),
            "Syntax errors in policy.",
            "/Statement/0/Action",
        ),
        (
            _doc({"Effect": "Allow", "Action": "*", "NotAction": "*", "Resource": "*"}),
            "Syntax errors in policy.",
            "/Statement/0",
        ),
        (
            _doc({"Effect": "Allow", "Action": "*", "Resource": "*", "Bogus": 1}),
            "Syntax errors in policy.",
            "/Statement/0/Bogus",
        ),
        (
            _doc(
                {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringSorta": {"k": "v"}}}
            ),
            "Syntax errors in policy.",
            "/Statement/0/Condition/StringSorta",
        ),
        (
            {"Version": "2012-10-18", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}},
            "Syntax errors in policy.",
            "/Version",
        ),
        (
            {"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}},
            "Policy document must be version 2012-10-17 or greater.",
            "/Version",
        ),
        (
            {"Version": "2008-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}},
            "Policy document must be version 2012-10-17 or greater.",
            "/Version",
        ),
        (
            _doc({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}),
            "Policy document should not specify a principal.",
            "/Statement/0",
        ),
        (
            _doc({"Effect": "allow", "Action": "*", "Resource": "*"}),
            "The policy failed legacy parsing",
            "/Statement/0/Effect",
        ),
        (
            _doc(
                {"Sid": "S", "Effect": "Allow", "Action": "*", "Resource": "*"},
                {"Sid": "S", "Effect": "Deny", "Action": "*", "Resource": "*"},
            ),
            "Statement IDs (SID) in a single policy must be unique.",
            "/Statement/1/Sid",
        ),
        (
            _doc({"Effect": "Allow", "Resource": "*"}),
            "Policy statement must contain actions.",
            "/Statement/0",
        ),
        (
            _doc({"Effect": "Allow", "Action": [], "Resource": "*"}),
            "Policy statement must contain actions.",
            "/Statement/0",
        ),
        (
            _doc({"Effect": "Allow", "Action": "*"}),
            "Policy statement must contain resources.",
            "/Statement/0",
        ),
        (
            _doc({"Effect": "Allow", "Action": "*", "Resource": "hello"}),
            'Resource hello must be in ARN format or "*".',
            "/Statement/0/Resource",
        ),
        (
            _doc({"Effect": "Allow", "Action": "*", "Resource": "arn:nope:lambda:::x"}),
            'Partition "nope" is not valid for resource "arn:nope:lambda:::x".',
            "/Statement/0/Resource",
        ),
        (
            _doc({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:*:us-east-1:1:function:x"}),
            "Resource vendor must be fully qualified and cannot contain regexes.",
            "/Statement/0/Resource",
        ),
        (
            _doc({"Effect": "Allow", "Action": "InvokeFunction", "Resource": "*"}),
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
            "/Statement/0/Action",
        ),
        (
            _doc({"Effect": "Allow", "Action": "lambda:Invoke:Function", "Resource": "*"}),
            "Actions/Condition can contain only one colon.",
            "/Statement/0/Action",
        ),
        (
            _doc({"Effect": "Allow", "NotAction": "lam bda:Invoke", "Resource": "*"}),
            "Vendor lam bda is not valid",
            "/Statement/0/NotAction",
        ),
    ],
)
def test_malformed_documents_are_refused_with_iams_message(document: Any, message: str, pointer: str) -> None:
    with pytest.raises(policy.MalformedPolicyDocument) as caught:
        policy.parse_policy(document if isinstance(document, str) else json.dumps(document))
    assert caught.value.message == message
    assert caught.value.pointer == pointer
    assert caught.value.code == "MalformedPolicyDocument"
    assert str(caught.value).startswith(message)
