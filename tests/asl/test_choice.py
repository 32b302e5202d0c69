"""Choice states in JSONPath: every comparison operator and its Path twin, the type tests, And/Or/Not,
rule order, Default and States.NoChoiceMatched."""

from __future__ import annotations

from typing import Any

import pytest

from pinflow import asl
from pinflow.asl import errors


def choice_machine(*rules: dict[str, Any], default: bool = True, **fields: Any) -> dict[str, Any]:
    choice: dict[str, Any] = {"Type": "Choice", "Choices": [dict(rule) for rule in rules], **fields}
    for index, rule in enumerate(choice["Choices"]):
        rule.setdefault("Next", "Yes" if index == 0 else f"Rule{index}")
    states: dict[str, Any] = {
        "C": choice,
        "Yes": {"Type": "Pass", "Result": "yes", "End": True},
        "No": {"Type": "Pass", "Result": "no", "End": True},
    }
    for index in range(1, len(rules)):
        states[f"Rule{index}"] = {"Type": "Pass", "Result": f"rule{index}", "End": True}
    if default:
        choice["Default"] = "No"
    return {"StartAt": "C", "States": states}


def decide(rule: dict[str, Any], input: Any) -> bool:
    result = asl.run(choice_machine(rule), input)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    return result.output == "yes"


def choose(definition: dict[str, Any], input: Any) -> Any:
    result = asl.run(definition, input)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    return result.output


COMPARISONS = [
    ("StringEquals", "abc", "abc", True),
    ("StringEquals", "abc", "abd", False),
    ("StringEquals", 1, "1", False),
    ("StringEquals", None, "null", False),
    ("StringLessThan", "abc", "abd", True),
    ("StringLessThan", "abd", "abc", False),
    ("StringLessThan", "a", "a", False),
    ("StringLessThan", "Z", "a", True),  # by code point: upper case sorts first
    ("StringLessThan", "\u00e9", "z", False),
    ("StringGreaterThan", "b", "a", True),
    ("StringGreaterThan", "a", "a", False),
    ("StringLessThanEquals", "a", "a", True),
    ("StringLessThanEquals", "b", "a", False),
    ("StringGreaterThanEquals", "a", "a", True),
    ("StringGreaterThanEquals", "a", "b", False),
    ("NumericEquals", 1, 1.0, True),
    ("NumericEquals", 1, 2, False),
    ("NumericEquals", "1", 1, False),
    ("NumericEquals", True, 1, False),  # a boolean is not a number
    ("NumericLessThan", 1, 2, True),
    ("NumericLessThan", 2, 1, False),
    ("NumericLessThan", -0.5, 0, True),
    ("NumericGreaterThan", 2.5, 2, True),
    ("NumericGreaterThan", None, 1, False),
    ("NumericLessThanEquals", 2, 2, True),
    ("NumericLessThanEquals", 3, 2, False),
    ("NumericGreaterThanEquals", 2, 2.0, True),
    ("NumericGreaterThanEquals", 1, 2, False),
    ("BooleanEquals", True, True, True),
    ("BooleanEquals", False, False, True),
    ("BooleanEquals", False, True, False),
    ("BooleanEquals", 1, True, False),
    ("BooleanEquals", "true", True, False),
    ("TimestampEquals", "2024-01-01T00:00:00Z", "2024-01-01T01:00:00+01:00", True),
    ("TimestampEquals", "2024-01-01T00:00:00Z", "2024-01-01T00:00:01Z", False),
    ("TimestampEquals", "not a time", "not a time", False),
    ("TimestampEquals", "2024-01-01t00:00:00z", "2024-01-01t00:00:00z", False),  # lower-case t and z
    ("TimestampLessThan", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00.001Z", True),
    ("TimestampLessThan", "2024-01-02T00:00:00Z", "2024-01-01T00:00:00Z", False),
    ("TimestampGreaterThan", "2024-01-02T00:00:00Z", "2024-01-01T23:59:59Z", True),
    ("TimestampGreaterThan", 5, "2024-01-01T23:59:59Z", False),
    ("TimestampLessThanEquals", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", True),
    ("TimestampLessThanEquals", "2024-01-01T00:00:01Z", "2024-01-01T00:00:00Z", False),
    ("TimestampGreaterThanEquals", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", True),
    ("TimestampGreaterThanEquals", "2023-12-31T23:59:59Z", "2024-01-01T00:00:00Z", False),
]


@pytest.mark.parametrize(("operator", "value", "operand", "expected"), COMPARISONS)
def test_comparison(operator: str, value: Any, operand: Any, expected: bool) -> None:
    assert decide({"Variable": "$.value", operator: operand}, {"value": value}) is expected


@pytest.mark.parametrize(("operator", "value", "operand", "expected"), COMPARISONS)
def test_path_twin_compares_with_the_value_at_another_path(
        operator: str, value: Any, operand: Any, expected: bool) -> None:
    rule = {"Variable": "$.value", f"{operator}Path": "$.other.operand"}
    assert decide(rule, {"value": value, "other": {"operand": operand}}) is expected


def test_path_twin_with_a_missing_operand_fails_with_states_runtime() -> None:
    result = asl.run(choice_machine({"Variable": "$.value", "NumericEqualsPath": "$.nope"}), {"value": 1})
    assert result.status == "FAILED"
    assert result.error == errors.RUNTIME


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("*.log", "app.log", True),
        ("*.log", "app.log.gz", False),
        ("log*", "app.log", False),
        ("a*c*e", "abcde", True),
        ("*", "", True),
        ("exact", "exact", True),
        ("A*", "abc", False),  # case-sensitive
        (r"a\*b", "a*b", True),  # an escaped star is literal
        (r"a\*b", "axxb", False),
        ("a\\\\b", "a\\b", True),  # an escaped backslash is literal
        ("a\\\\*", "a\\bc", True),
        ("a.c", "abc", False),  # regex characters mean themselves
        ("*", 5, False),
    ],
)
def test_string_matches(pattern: str, value: Any, expected: bool) -> None:
    assert decide({"Variable": "$.value", "StringMatches": pattern}, {"value": value}) is expected


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("IsNull", None, True),
        ("IsNull", 0, False),
        ("IsNull", "null", False),
        ("IsNumeric", 1, True),
        ("IsNumeric", 1.5, True),
        ("IsNumeric", "1", False),
        ("IsNumeric", True, False),
        ("IsString", "", True),
        ("IsString", 1, False),
        ("IsString", None, False),
        ("IsBoolean", False, True),
        ("IsBoolean", 0, False),
        ("IsBoolean", "true", False),
        ("IsTimestamp", "2024-01-01T00:00:00Z", True),
        ("IsTimestamp", "2024-01-01T00:00:00.123456+02:00", True),
        ("IsTimestamp", "2024-01-01", False),
        ("IsTimestamp", "2024-01-01 00:00:00Z", False),
        ("IsTimestamp", 1704067200, False),
    ],
)
def test_type_tests(operator: str, value: Any, expected: bool) -> None:
    assert decide({"Variable": "$.value", operator: True}, {"value": value}) is expected
    assert decide({"Variable": "$.value", operator: False}, {"value": value}) is (not expected)


@pytest.mark.parametrize(
    ("input", "expected"),
    [
        ({"value": 1}, True),
        ({"value": None}, True),  # present, though null
        ({"other": 1}, False),
        ({}, False),
    ],
)
def test_is_present_is_false_for_a_missing_field_instead_of_an_error(input: Any, expected: bool) -> None:
    assert decide({"Variable": "$.value", "IsPresent": True}, input) is expected
    assert decide({"Variable": "$.value", "IsPresent": False}, input) is (not expected)


def test_is_present_on_a_missing_nested_field() -> None:
    assert decide({"Variable": "$.a.b.c", "IsPresent": False}, {"a": {"x": 1}}) is True
    assert decide({"Variable": "$.a.b.c", "IsPresent": True}, {"a": "scalar"}) is False


def test_a_missing_variable_under_any_other_operator_fails_with_states_runtime() -> None:
    result = asl.run(choice_machine({"Variable": "$.missing", "StringEquals": "x"}), {"present": 1})
    assert result.status == "FAILED"
    assert result.error == errors.RUNTIME
    assert result.cause is not None and "$.missing" in result.cause


def test_variable_may_read_the_context_object() -> None:
    rule = {"Variable": "$$.Execution.Input.flag", "BooleanEquals": True}
    assert decide(rule, {"flag": True}) is True


def test_variable_may_read_a_workflow_variable() -> None:
    definition = choice_machine({"Variable": "$limit", "NumericGreaterThan": 10})
    definition["StartAt"] = "Set"
    definition["States"]["Set"] = {"Type": "Pass", "Assign": {"limit.$": "$.n"}, "Next": "C"}
    assert choose(definition, {"n": 11}) == "yes"
    assert choose(definition, {"n": 10}) == "no"


# --- And, Or, Not -----------------------------------------------------------------------------------


def test_and_or_not() -> None:
    rule = {
        "And": [
            {"Variable": "$.n", "NumericGreaterThanEquals": 10},
            {"Or": [{"Variable": "$.kind", "StringEquals": "a"},
                    {"Variable": "$.kind", "StringEquals": "b"}]},
            {"Not": {"Variable": "$.blocked", "BooleanEquals": True}},
        ]
    }
    assert decide(rule, {"n": 10, "kind": "b", "blocked": False}) is True
    assert decide(rule, {"n": 9, "kind": "b", "blocked": False}) is False
    assert decide(rule, {"n": 10, "kind": "c", "blocked": False}) is False
    assert decide(rule, {"n": 10, "kind": "a", "blocked": True}) is False


def test_not_with_is_present() -> None:
    assert decide({"Not": {"Variable": "$.x", "IsPresent": True}}, {}) is True


def test_and_and_or_short_circuit() -> None:
    # The second operand would fail (a missing Variable); evaluation stops before it.
    missing = {"Variable": "$.missing", "StringEquals": "x"}
    assert decide({"And": [{"Variable": "$.n", "NumericEquals": 0}, missing]}, {"n": 1}) is False
    assert decide({"Or": [{"Variable": "$.n", "NumericEquals": 1}, missing]}, {"n": 1}) is True


# --- rule order, Default, no match -------------------------------------------------------------


def test_the_first_matching_rule_wins() -> None:
    definition = choice_machine(
        {"Variable": "$.n", "NumericGreaterThan": 0},
        {"Variable": "$.n", "NumericGreaterThan": 5},
    )
    assert choose(definition, {"n": 10}) == "yes"


def test_a_later_rule_is_tried_when_an_earlier_one_does_not_match() -> None:
    definition = choice_machine(
        {"Variable": "$.n", "NumericGreaterThan": 100},
        {"Variable": "$.n", "NumericGreaterThan": 5},
    )
    assert choose(definition, {"n": 10}) == "rule1"


def test_default_when_nothing_matches() -> None:
    assert choose(choice_machine({"Variable": "$.n", "NumericEquals": 1}), {"n": 2}) == "no"


def test_no_match_and_no_default_fails_with_no_choice_matched() -> None:
    result = asl.run(choice_machine({"Variable": "$.n", "NumericEquals": 1}, default=False), {"n": 2})
    assert result.status == "FAILED"
    assert result.error == errors.NO_CHOICE_MATCHED


def test_input_path_and_output_path_shape_what_the_rules_see_and_what_the_next_state_gets() -> None:
    definition = choice_machine({"Variable": "$.n", "NumericEquals": 1},
                                InputPath="$.inner", OutputPath="$.keep")
    definition["States"]["Yes"] = {"Type": "Pass", "End": True}
    assert choose(definition, {"inner": {"n": 1, "keep": {"k": True}}, "n": 2}) == {"k": True}


def test_choice_passes_its_input_through_unchanged() -> None:
    definition = choice_machine({"Variable": "$.n", "NumericEquals": 1})
    definition["States"]["Yes"] = {"Type": "Pass", "End": True}
    assert choose(definition, {"n": 1, "other": [1]}) == {"n": 1, "other": [1]}
