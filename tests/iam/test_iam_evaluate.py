"""Evaluating policies: exact-ARN grants for Lambda, explicit Deny wins, default deny, conditions."""

from __future__ import annotations

from typing import Any

import pytest

from pinflow.iam import evaluate, policy

FN = "arn:aws:lambda:us-east-1:123456789012:function:hello"
INVOKE = "lambda:InvokeFunction"
ROLE = "arn:aws:sts::123456789012:assumed-role/StatesRole/session"


def _policy(*statements: dict[str, Any], name: str = "p") -> policy.Policy:
    return policy.policy_from_statements(list(statements), name=name)


def _allow(resource: str | list[str], action: str | list[str] = INVOKE, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


@pytest.mark.parametrize(
    ("granted", "called", "allowed"),
    [
        (FN, FN, True),
        (FN, f"{FN}:1", False),
        (FN, f"{FN}:$LATEST", False),
        (f"{FN}:*", f"{FN}:1", True),
        (f"{FN}:*", f"{FN}:live", True),
        (f"{FN}:*", f"{FN}:$LATEST", True),
        (f"{FN}:*", FN, False),
        (f"{FN}:1", f"{FN}:1", True),
        (f"{FN}:1", f"{FN}:2", False),
        (f"{FN}:$LATEST", f"{FN}:$LATEST", True),
        (f"{FN}:$LATEST", FN, False),
    ],
)
def test_lambda_grants_match_the_exact_arn(granted: str, called: str, allowed: bool) -> None:
    assert evaluate.is_allowed([_policy(_allow(granted))], INVOKE, called).allowed is allowed


def test_the_pair_fn_and_fn_star_covers_every_qualifier() -> None:
    both = [_policy(_allow([FN, f"{FN}:*"]))]
    for called in (FN, f"{FN}:1", f"{FN}:live", f"{FN}:$LATEST"):
        assert evaluate.is_allowed(both, INVOKE, called)


def test_explicit_deny_wins_over_any_allow() -> None:
    allow = _policy(_allow("*", "lambda:*"), name="broad")
    deny = _policy({"Sid": "NoOld", "Effect": "Deny", "Action": INVOKE, "Resource": f"{FN}:1"}, name="guard")
    decision = evaluate.is_allowed([allow, deny], INVOKE, f"{FN}:1")
    assert not decision.allowed
    assert decision.reason == evaluate.EXPLICIT_DENY
    assert decision.deciding_policy is deny
    assert decision.deciding_statement is not None and decision.deciding_statement.sid == "NoOld"
    assert decision.denial_message(ROLE) == (
        f"User: {ROLE} is not authorized to perform: {INVOKE} on resource: {FN}:1 "
        "with an explicit deny in an identity-based policy"
    )
    assert evaluate.is_allowed([allow, deny], INVOKE, f"{FN}:2").allowed


def test_nothing_allowed_means_denied() -> None:
    decision = evaluate.is_allowed([], INVOKE, FN)
    assert not decision
    assert decision.reason == evaluate.IMPLICIT_DENY
    assert decision.deciding_statement is None
    assert decision.denial_message(ROLE) == (
        f"User: {ROLE} is not authorized to perform: {INVOKE} on resource: {FN} "
        f"because no identity-based policy allows the {INVOKE} action"
    )


def test_an_allow_names_its_statement() -> None:
    granting = _policy(_allow("*", "states:*"), _allow(f"{FN}:*", Sid="Versions"))
    decision = evaluate.is_allowed([granting], INVOKE, f"{FN}:3")
    assert decision.allowed and decision.reason == evaluate.ALLOWED
    assert decision.deciding_statement is not None and decision.deciding_statement.sid == "Versions"


def test_actions_ignore_case_and_take_wildcards() -> None:
    granting = [_policy(_allow(FN, "LAMBDA:invoke*"))]
    assert evaluate.is_allowed(granting, "lambda:InvokeFunction", FN)
    assert not evaluate.is_allowed(granting, "lambda:GetFunction", FN)


def test_question_mark_is_one_character_and_bracket_is_literal() -> None:
    granting = [_policy(_allow([f"{FN}:?", "arn:aws:s3:::b/[1]"], ["lambda:*", "s3:GetObject"]))]
    assert evaluate.is_allowed(granting, INVOKE, f"{FN}:7")
    assert not evaluate.is_allowed(granting, INVOKE, f"{FN}:12")
    assert evaluate.is_allowed(granting, "s3:GetObject", "arn:aws:s3:::b/[1]")
    assert not evaluate.is_allowed(granting, "s3:GetObject", "arn:aws:s3:::b/1")


def test_not_action_and_not_resource() -> None:
    everything_but = [_policy({"Effect": "Allow", "NotAction": "iam:*", "NotResource": f"{FN}:secret"})]
    assert evaluate.is_allowed(everything_but, INVOKE, f"{FN}:1")
    assert not evaluate.is_allowed(everything_but, "iam:CreateRole", f"{FN}:1")
    assert not evaluate.is_allowed(everything_but, INVOKE, f"{FN}:secret")


def test_conditions_narrow_a_statement() -> None:
    qualified = [
        _policy(
            _allow(
                "arn:aws:states:us-east-1:123456789012:stateMachine:orders",
                "states:StartExecution",
                Condition={"StringEquals": {"states:StateMachineQualifier": ["prod", "3"]}},
            )
        )
    ]
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:orders"
    start = "states:StartExecution"
    assert evaluate.is_allowed(qualified, start, machine, context={"states:StateMachineQualifier": "prod"})
    assert evaluate.is_allowed(qualified, start, machine, context={"States:stateMachineQualifier": "3"})
    assert not evaluate.is_allowed(qualified, start, machine, context={"states:StateMachineQualifier": "dev"})
    assert not evaluate.is_allowed(qualified, start, machine)  # a missing key fails the condition


@pytest.mark.parametrize(
    ("condition", "context", "holds"),
    [
        ({"StringNotEquals": {"k": "a"}}, {}, True),  # negated operators hold for a missing key
        ({"StringNotEquals": {"k": ["a", "b"]}}, {"k": "b"}, False),
        ({"StringEqualsIfExists": {"k": "a"}}, {}, True),
        ({"StringLike": {"k": "ab*"}}, {"k": "abc"}, True),
        ({"StringEqualsIgnoreCase": {"k": "ABC"}}, {"k": "abc"}, True),
        ({"ArnLike": {"k": "arn:aws:lambda:*:*:function:*"}}, {"k": FN}, True),
        ({"NumericLessThan": {"k": 5}}, {"k": "4"}, True),
        ({"NumericLessThan": {"k": 5}}, {"k": "five"}, False),
        ({"DateGreaterThan": {"k": "2020-01-01T00:00:00Z"}}, {"k": "2021-06-01T00:00:00Z"}, True),
        ({"Bool": {"k": True}}, {"k": "true"}, True),
        ({"Null": {"k": "true"}}, {}, True),
        ({"Null": {"k": "false"}}, {}, False),
        ({"IpAddress": {"k": "10.0.0.0/8"}}, {"k": "10.1.2.3"}, True),
        ({"ForAnyValue:StringEquals": {"k": ["a", "b"]}}, {"k": ["z", "b"]}, True),
        ({"ForAllValues:StringEquals": {"k": ["a", "b"]}}, {"k": ["a", "z"]}, False),
        ({"ForAllValues:StringEquals": {"k": ["a", "b"]}}, {}, True),
    ],
)
def test_condition_operators(condition: dict[str, Any], context: dict[str, Any], holds: bool) -> None:
    granting = [_policy(_allow(FN, Condition=condition))]
    assert evaluate.is_allowed(granting, INVOKE, FN, context=context).allowed is holds
