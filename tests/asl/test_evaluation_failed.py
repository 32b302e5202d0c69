"""Where an EvaluationFailed event links (previousEventId): by when AWS evaluates the failing field, never
by how it failed.

Seen in AWS's recordings (../shared/conformance, e.g. test_base_scenarios.py::test_map_state_items_eval_
jsonata_fail and test_assign_reference_variables.py::test_undefined_reference): a Pass state's Output and a
Map state's Items, evaluated as the state is entered, link their EvaluationFailed to the event before
the StateEntered (the event the StateEntered links to); a Wait state's Timestamp
(test_base_scenarios.py::test_wait_timestamp_jsonata) links to WaitStateEntered: a Wait works out when
to wake after it is entered. A field fails when it is evaluated, so every kind of failure of the same
field (no value, a function's error, a value of the wrong type, text that is not a timestamp) links to
the same event; AWS recorded one kind per field, the rule covers the others.
"""

from __future__ import annotations

from typing import Any

import pytest

from pinflow import asl

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:echo"
FAILURES = ["{% $states.input.missing %}", "{% $number('x') %}", "{% 'nope' %}", "{% -1 %}", "{% [1] %}"]


def _links(state: dict[str, Any]) -> tuple[int, dict[int, str], dict[str, Any]]:
    """Run `state` after a first Pass; the EvaluationFailed's previousEventId, the events by id, and its
    details."""
    definition = {"QueryLanguage": "JSONata", "StartAt": "First", "States": {
        "First": {"Type": "Pass", "Next": "S"}, "S": {**state, "End": True}}}
    if state["Type"] == "Choice":
        definition["States"]["S"].pop("End")
    result = asl.run(definition, {}, handlers={FUNCTION: lambda payload: payload})
    failed = [event for event in result.history if event["type"] == "EvaluationFailed"]
    assert len(failed) == 1, [event["type"] for event in result.history]
    return failed[0]["previousEventId"], {e["id"]: e["type"] for e in result.history}, \
        failed[0]["evaluationFailedEventDetails"]


@pytest.mark.parametrize("expression", FAILURES)
@pytest.mark.parametrize("field", ["Seconds", "Timestamp"])
def test_a_wait_field_fails_after_wait_state_entered(field: str, expression: str) -> None:
    previous, types, details = _links({"Type": "Wait", field: expression})
    assert types[previous] == "WaitStateEntered"
    assert details["location"] == field


@pytest.mark.parametrize("expression", FAILURES[:2])
def test_a_wait_output_fails_after_wait_state_entered(expression: str) -> None:
    previous, types, _ = _links({"Type": "Wait", "Seconds": 0, "Output": expression})
    assert types[previous] == "WaitStateEntered"


PROCESSOR = {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}
BRANCHES = [{"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}]
ENTERING = [
    # (state, expression): every field that can fail by each kind of failure it admits.
    *[(state, expression) for expression in FAILURES[:2] for state in (
        {"Type": "Pass", "Output": expression},
        {"Type": "Pass", "Assign": {"v": expression}},
        {"Type": "Map", "Items": expression, "ItemProcessor": PROCESSOR},
        {"Type": "Map", "Items": [1], "ItemSelector": {"v": expression}, "ItemProcessor": PROCESSOR},
        {"Type": "Task", "Resource": FUNCTION, "Arguments": {"a": expression}},
        {"Type": "Parallel", "Arguments": {"a": expression}, "Branches": BRANCHES},
        {"Type": "Choice", "Choices": [{"Condition": expression, "Next": "First"}]},
    )],
    ({"Type": "Map", "Items": "{% 'nope' %}", "ItemProcessor": PROCESSOR}, "wrong type"),
    ({"Type": "Map", "Items": [1], "MaxConcurrency": "{% -1 %}", "ItemProcessor": PROCESSOR}, "wrong type"),
    ({"Type": "Choice", "Choices": [{"Condition": "{% 'nope' %}", "Next": "First"}]}, "wrong type"),
]


@pytest.mark.parametrize(("state", "why"), ENTERING, ids=[f"{s['Type']}-{i}" for i, (s, _) in enumerate(ENTERING)])
def test_a_field_evaluated_while_entering_fails_before_state_entered(state: dict[str, Any], why: str) -> None:
    previous, types, _ = _links(state)
    # The first Pass's exit: the event the state's StateEntered links to.
    assert types[previous] == "PassStateExited"


def test_a_result_field_fails_after_the_results_event() -> None:
    previous, types, details = _links({"Type": "Task", "Resource": FUNCTION, "Output": "{% $number('x') %}"})
    assert types[previous] == "LambdaFunctionSucceeded"
    assert details["location"] == "Output"
