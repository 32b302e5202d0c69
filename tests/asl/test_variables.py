"""Workflow variables (`Assign`) in both query languages, with AWS's scoping rules."""

from __future__ import annotations

from typing import Any

import pytest

from pinflow import asl


def run(states: dict[str, Any], start: str, input: Any = None, **top: Any) -> asl.Result:
    return asl.run({"StartAt": start, "States": states, **top}, {} if input is None else input)


def test_a_value_assigned_in_a_state_is_visible_from_the_next_state_on() -> None:
    result = run({
        "Set": {"Type": "Pass", "Assign": {"x": 1}, "Next": "Read"},
        "Read": {"Type": "Pass", "Parameters": {"x.$": "$x"}, "End": True},
    }, "Set")
    assert result.output == {"x": 1}


def test_assign_reads_the_values_from_state_entry() -> None:
    # Every expression of an Assign sees the variables as they were on entry: swapping works.
    result = run({
        "Init": {"Type": "Pass", "Assign": {"a": 1, "b": 2}, "Next": "Swap"},
        "Swap": {"Type": "Pass", "Assign": {"a.$": "$b", "b.$": "$a"}, "Next": "Show"},
        "Show": {"Type": "Pass", "Parameters": {"a.$": "$a", "b.$": "$b"}, "End": True},
    }, "Init")
    assert result.output == {"a": 2, "b": 1}


def test_jsonata_output_and_assign_are_evaluated_in_parallel() -> None:
    result = run({
        "Init": {"Type": "Pass", "Assign": {"n": 1}, "Next": "Bump"},
        "Bump": {"Type": "Pass", "Assign": {"n": "{% $n + 1 %}"}, "Output": {"n": "{% $n %}"}, "Next": "Show"},
        "Show": {"Type": "Pass", "Output": {"before": "{% $states.input.n %}", "after": "{% $n %}"}, "End": True},
    }, "Init", QueryLanguage="JSONata")
    assert result.output == {"before": 1, "after": 2}


def test_an_unassigned_variable_fails_the_execution_with_states_runtime() -> None:
    result = run({"Read": {"Type": "Pass", "Parameters": {"x.$": "$never"}, "End": True}}, "Read")
    assert result.status == "FAILED"
    assert result.error == "States.Runtime"


def test_a_choice_rule_assign_replaces_the_state_assign() -> None:
    result = run({
        "Pick": {"Type": "Choice", "Assign": {"picked": "default"},
                 "Choices": [{"Condition": "{% $states.input.go %}", "Next": "Show",
                              "Assign": {"picked": "rule"}}],
                 "Default": "Show"},
        "Show": {"Type": "Pass", "Output": "{% $picked %}", "End": True},
    }, "Pick", {"go": True}, QueryLanguage="JSONata")
    assert result.output == "rule"


def test_a_catcher_assign_sets_variables_with_the_error_output() -> None:
    result = run({
        "Try": {"Type": "Parallel", "Branches": [{"StartAt": "Boom", "States": {
            "Boom": {"Type": "Fail", "Error": "Oops", "Cause": "bad"}}}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Show", "Assign": {"why.$": "$.Cause"}}],
            "End": True},
        "Show": {"Type": "Pass", "Parameters": {"why.$": "$why"}, "End": True},
    }, "Try")
    assert result.output == {"why": "bad"}


def test_parallel_branches_read_outer_variables_and_keep_their_own_to_themselves() -> None:
    result = run({
        "Outer": {"Type": "Pass", "Assign": {"base": 10}, "Next": "Fork"},
        "Fork": {"Type": "Parallel", "End": True, "Branches": [
            {"StartAt": "B1", "States": {
                "B1": {"Type": "Pass", "Assign": {"mine": 1}, "Next": "B1b"},
                "B1b": {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($base, $mine)"}, "End": True}}},
            {"StartAt": "B2", "States": {
                "B2": {"Type": "Pass", "Parameters": {"base.$": "$base"}, "End": True}}},
        ]},
    }, "Outer")
    assert result.output == [{"sum": 11}, {"base": 10}]


def test_a_branch_variable_does_not_leak_to_a_sibling_branch() -> None:
    result = run({"Fork": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "Set", "States": {"Set": {"Type": "Pass", "Assign": {"secret": 1}, "End": True}}},
        {"StartAt": "Wait", "States": {
            "Wait": {"Type": "Wait", "Seconds": 1, "Next": "Peek"},
            "Peek": {"Type": "Pass", "Parameters": {"s.$": "$secret"}, "End": True}}},
    ]}}, "Fork")
    assert result.status == "FAILED"
    assert result.error == "States.Runtime"


def test_map_iterations_each_have_their_own_scope() -> None:
    result = run({
        "Outer": {"Type": "Pass", "Assign": {"factor": 3}, "Next": "Each"},
        "Each": {"Type": "Map", "ItemsPath": "$.items", "End": True, "ItemProcessor": {"StartAt": "Keep", "States": {
            "Keep": {"Type": "Pass", "Assign": {"item.$": "$"}, "Next": "Use"},
            "Use": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($item, $factor)"}, "End": True}}}},
    }, "Outer", {"items": [1, 2, 3]})
    assert result.output == [{"v": 4}, {"v": 5}, {"v": 6}]


def test_distributed_map_iterations_cannot_read_outer_variables() -> None:
    result = run({
        "Outer": {"Type": "Pass", "Assign": {"factor": 3}, "Next": "Each"},
        "Each": {"Type": "Map", "ItemsPath": "$.items", "End": True, "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Use", "States": {"Use": {"Type": "Pass", "Parameters": {"f.$": "$factor"}, "End": True}}}},
    }, "Outer", {"items": [1]})
    assert result.status == "FAILED"


def test_an_inner_scope_cannot_assign_a_name_an_outer_scope_assigns() -> None:
    definition = {"StartAt": "Outer", "States": {
        "Outer": {"Type": "Pass", "Assign": {"total": 0}, "Next": "Fork"},
        "Fork": {"Type": "Parallel", "End": True, "Branches": [{"StartAt": "Inner", "States": {
            "Inner": {"Type": "Pass", "Assign": {"total": 1}, "End": True}}}]}}}
    problems = [d for d in asl.validate(definition) if d.severity == "ERROR"]
    assert [(d.code, d.location) for d in problems] == [
        ("SCHEMA_VALIDATION_FAILED", "/States/Fork/Branches[0]/States/Inner/Assign/total")]


def test_a_distributed_map_may_reuse_an_outer_name_it_cannot_see() -> None:
    definition = {"StartAt": "Outer", "States": {
        "Outer": {"Type": "Pass", "Assign": {"total": 0}, "Next": "Each"},
        "Each": {"Type": "Map", "End": True, "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Inner", "States": {"Inner": {"Type": "Pass", "Assign": {"total": 1}, "End": True}}}}}}
    assert [d for d in asl.validate(definition) if d.severity == "ERROR"] == []


@pytest.mark.parametrize(("assign", "reason"), [
    ({"big": "x" * 262_145}, "variable"),
    ({"a": "x" * 140_000, "b": "y" * 140_000}, "assignment"),
])
def test_variable_size_limits(assign: dict[str, str], reason: str) -> None:
    result = run({"Set": {"Type": "Pass", "Assign": assign, "End": True}}, "Set")
    assert result.status == "FAILED"
    assert result.error == "States.Runtime"
    assert reason in result.cause


def test_assigned_variables_show_on_the_exited_event() -> None:
    result = run({"Set": {"Type": "Pass", "Assign": {"x": {"y": 1}}, "End": True}}, "Set")
    exited = next(e for e in result.history if e["type"] == "PassStateExited")
    assert exited["stateExitedEventDetails"]["assignedVariables"] == {"x": '{"y":1}'}


def test_a_value_is_not_visible_within_the_assign_that_sets_it() -> None:
    result = run({"Set": {"Type": "Pass", "Assign": {"x": 1, "y.$": "$x"}, "End": True}}, "Set")
    assert result.status == "FAILED"
    assert result.error == "States.Runtime"
