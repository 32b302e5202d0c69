"""The history digest: each state's status as AWS's console colours it, from histories the interpreter
writes. AWS's console (Step Functions Developer Guide, "Execution Details page - Interface overview",
Graph view) colours each state In progress, Succeeded, Failed, Caught error or Cancelled, and leaves
the states not reached uncoloured."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pinflow import asl
from pinflow.console.digest import Digest
from tests import recorded

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:charge"


def digest_of(definition: dict[str, Any], given_input: Any, handler=None) -> tuple[Digest, Any]:
    result = asl.run(definition, given_input, handlers={FUNCTION: handler} if handler else {})
    digested = Digest(definition)
    digested.feed(result.history)
    return digested, result


def statuses(digested: Digest, selection=()) -> dict[str, str]:
    return {name: digested.status(name, selection)[0] for name in digested.layout.kind}


def declined(item: Any) -> Any:
    if item == "b":
        raise asl.TaskError("CardDeclined", f"card declined for {item}")
    return {"charged": item}


def test_a_caught_failure_is_caught_and_the_path_taken_succeeds() -> None:
    definition = {"StartAt": "Charge", "States": {
        "Charge": {"Type": "Task", "Resource": FUNCTION, "Next": "Done",
                   "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Refund"}]},
        "Refund": {"Type": "Pass", "End": True},
        "Done": {"Type": "Succeed"}}}
    digested, result = digest_of(definition, "b", declined)
    assert result.status == "SUCCEEDED"
    assert statuses(digested) == {"Charge": "caught", "Refund": "succeeded", "Done": "not_reached"}
    run = digested.run("Charge")
    assert run is not None and digested.types[run.failure - 1] == "LambdaFunctionFailed"


def test_a_retried_task_that_then_succeeds_is_succeeded_with_its_retries() -> None:
    calls = []

    def flaky(item: Any) -> Any:
        calls.append(item)
        if len(calls) == 1:
            raise asl.TaskError("Busy", "try again")
        return item

    definition = {"StartAt": "Charge", "States": {"Charge": {
        "Type": "Task", "Resource": FUNCTION, "End": True,
        "Retry": [{"ErrorEquals": ["Busy"], "IntervalSeconds": 1, "MaxAttempts": 2}]}}}
    digested, result = digest_of(definition, "a", flaky)
    assert result.status == "SUCCEEDED"
    run = digested.run("Charge")
    assert run is not None and (run.status, run.retries) == ("succeeded", 1)


def test_a_failed_map_iteration_fails_the_map_and_the_iterations_are_told_apart() -> None:
    definition = {"StartAt": "Lines", "States": {"Lines": {
        "Type": "Map", "MaxConcurrency": 1, "End": True,
        "ItemProcessor": {"StartAt": "Charge", "States": {"Charge": {"Type": "Task", "Resource": FUNCTION,
                                                                      "End": True}}}}}}
    digested, result = digest_of(definition, ["a", "b", "c"], declined)
    assert result.status == "FAILED"
    assert statuses(digested) == {"Lines": "failed", "Charge": "failed"}
    assert digested.iteration_statuses("Lines", ()) == {0: "succeeded", 1: "failed"}
    assert statuses(digested, (("Lines", 0),))["Charge"] == "succeeded"
    assert statuses(digested, (("Lines", 1),))["Charge"] == "failed"
    assert statuses(digested, (("Lines", 2),))["Charge"] == "not_reached"
    failing = digested.run("Charge", (("Lines", 1),))
    assert failing is not None and failing.context == (("Lines", 1),)
    # Every event of the iteration is the Charge state's, in iteration 1.
    for event_id in digested.event_ids(state="Charge", context=(("Lines", 1),)):
        assert digested.types[event_id - 1].startswith(("Task", "Lambda"))


def test_a_fail_state_in_one_branch_fails_the_parallel_and_cancels_the_other_branch() -> None:
    definition = {"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 60, "End": True}}},
        {"StartAt": "Refuse", "States": {"Refuse": {"Type": "Fail", "Error": "Refused", "Cause": "no"}}}]}}}
    digested, result = digest_of(definition, {})
    assert (result.status, result.error) == ("FAILED", "Refused")
    assert statuses(digested) == {"Both": "failed", "Hold": "cancelled", "Refuse": "failed"}


def test_nested_maps_keep_each_inner_iteration_apart() -> None:
    definition = {"StartAt": "Orders", "States": {"Orders": {
        "Type": "Map", "End": True, "ItemsPath": "$.orders",
        "ItemProcessor": {"StartAt": "Lines", "States": {"Lines": {
            "Type": "Map", "End": True, "ItemsPath": "$.lines",
            "ItemProcessor": {"StartAt": "Line", "States": {"Line": {"Type": "Pass", "End": True}}}}}}}}}
    digested, _ = digest_of(definition, {"orders": [{"lines": [1, 2]}, {"lines": [3]}]})
    assert digested.iteration_statuses("Lines", (("Orders", 0),)) == {0: "succeeded", 1: "succeeded"}
    assert digested.iteration_statuses("Lines", (("Orders", 1),)) == {0: "succeeded"}
    assert digested.status("Line") == ("succeeded", 3)
    assert digested.status("Line", (("Orders", 0),)) == ("succeeded", 2)
    assert digested.status("Line", (("Orders", 1), ("Lines", 0))) == ("succeeded", 1)


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=40), max_size=6))
def test_feeding_a_history_in_any_pieces_gives_the_same_digest(cuts: list[int]) -> None:
    definition = {"StartAt": "Lines", "States": {"Lines": {
        "Type": "Map", "Next": "After",
        "ItemProcessor": {"StartAt": "Charge", "States": {"Charge": {
            "Type": "Task", "Resource": FUNCTION, "End": True,
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Note"}]}, "Note": {"Type": "Pass", "End": True}}}},
        "After": {"Type": "Pass", "End": True}}}
    whole, result = digest_of(definition, ["a", "b", "c"], declined)
    pieces = Digest(definition)
    start = 0
    for cut in sorted(cuts):
        pieces.feed(result.history[start:cut])
        start = max(start, cut)
    pieces.feed(result.history[start:])
    pieces.feed(result.history[:5])  # events already fed are ignored
    assert (pieces.types, pieces.states, pieces.contexts) == (whole.types, whole.states, whole.contexts)
    for selection in ((), (("Lines", 1),)):
        assert statuses(pieces, selection) == statuses(whole, selection)
    assert statuses(whole, (("Lines", 1),)) == {"Lines": "succeeded", "Charge": "caught", "Note": "succeeded",
                                                "After": "succeeded"}


# --- evaluation failures: the failing state, not the one before -----------------------------------------

# An EvaluationFailed met while entering a state links to the event before its StateEntered (AWS's
# recordings: ../shared/conformance, test_base_scenarios.py::test_map_state_items_eval_jsonata_fail); it
# names its state (evaluationFailedEventDetails.state), and AWS's console puts the failure there.
JSONATA_MAP = {"QueryLanguage": "JSONata", "StartAt": "Start", "States": {
    "Start": {"Type": "Pass", "Next": "M"},
    "M": {"Type": "Map", "Items": "{% 1 %}", "End": True,
          "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}}}


def test_a_map_whose_items_fail_is_failed_and_holds_the_evaluation_failure() -> None:
    digested, result = digest_of(JSONATA_MAP, {})
    assert result.status == "FAILED"
    assert statuses(digested) == {"Start": "succeeded", "M": "failed", "P": "not_reached"}
    failed = digested.run("M")
    assert failed is not None and digested.types[failed.failure - 1] == "EvaluationFailed"
    assert digested.run("Start").failure is None  # type: ignore[union-attr]


def test_a_first_state_that_fails_to_evaluate_is_failed() -> None:
    definition = {"QueryLanguage": "JSONata", "StartAt": "P", "States": {
        "P": {"Type": "Pass", "Output": "{% $number('x') %}", "End": True}}}
    digested, _ = digest_of(definition, {})
    run = digested.run("P")
    assert run is not None and run.status == "failed"
    assert digested.types[run.failure - 1] == "EvaluationFailed"


def test_a_caught_evaluation_failure_is_caught() -> None:
    definition = json.loads(json.dumps(JSONATA_MAP))
    definition["States"]["M"].pop("End")
    definition["States"]["M"].update(Next="Done", Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Done"}])
    definition["States"]["Done"] = {"Type": "Pass", "End": True}
    digested, result = digest_of(definition, {})
    assert result.status == "SUCCEEDED"
    assert statuses(digested)["M"] == "caught"
    assert digested.types[digested.run("M").failure - 1] == "EvaluationFailed"  # type: ignore[union-attr]


def _recorded_evaluation_failures() -> list[Any]:
    if not recorded.AVAILABLE:
        return [pytest.param(None, marks=pytest.mark.skip(reason=recorded.SKIP_REASON))]
    found = [case for case in recorded.cases("executions")
             if any(event["type"] == "EvaluationFailed" for event in case["expected"].get("history") or ())]
    return [pytest.param(case, id=str(index)) for index, case in enumerate(found)]


@pytest.mark.parametrize("case", _recorded_evaluation_failures())
def test_aws_recorded_evaluation_failures_fail_the_state_they_name(case: dict[str, Any]) -> None:
    digested = Digest(case["definition"])
    digested.feed(case["expected"]["history"])
    failure = next(e for e in case["expected"]["history"] if e["type"] == "EvaluationFailed")
    named = failure["evaluationFailedEventDetails"]["state"]
    run = digested.run(named)
    assert run is not None and run.status == "failed" and run.failure == failure["id"]
    assert digested.states[failure["id"] - 1] == named
    assert [name for name, status in statuses(digested).items() if status == "failed"] == [named]


# --- the events table's pages -----------------------------------------------------------------------------


class _NoWalk(list):  # type: ignore[type-arg]
    """A list that may be indexed but not walked: a page must not read the whole history."""

    def __iter__(self) -> Any:
        raise AssertionError("walked the whole history")


def _map_history() -> tuple[Digest, Any]:
    definition = {"StartAt": "Lines", "States": {"Lines": {
        "Type": "Map", "End": True,
        "ItemProcessor": {"StartAt": "Charge", "States": {"Charge": {
            "Type": "Task", "Resource": FUNCTION, "End": True,
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Note"}]}, "Note": {"Type": "Pass", "End": True}}}}}}
    return digest_of(definition, ["a", "b", "c", "b", "d"] * 20, declined)


@settings(max_examples=60, deadline=None)
@given(kinds=st.none() | st.sets(st.sampled_from(["MapIterationStarted", "LambdaFunctionFailed",
                                                  "PassStateEntered", "NoSuchType"]), max_size=3),
       state=st.none() | st.sampled_from(["Lines", "Charge", "Note", "Elsewhere"]),
       offset=st.integers(0, 700), size=st.integers(1, 120), newest_first=st.booleans())
def test_a_page_holds_what_filtering_the_whole_history_holds(kinds: set[str] | None, state: str | None,
                                                             offset: int, size: int, newest_first: bool) -> None:
    digested, _ = _map_history()
    every = [i for i in range(1, digested.last_id + 1)
             if (kinds is None or digested.types[i - 1] in kinds)
             and (state is None or digested.states[i - 1] == state)]
    if newest_first:
        every.reverse()
    assert digested.page(types=kinds, state=state, offset=offset, size=size, newest_first=newest_first) == (
        len(every), every[offset:offset + size])


def test_a_page_reads_only_the_events_it_selects() -> None:
    digested, _ = _map_history()
    expected_types = sorted(set(digested.types))
    count = digested.last_id
    notes, failures = digested.states.count("Note"), digested.types.count("LambdaFunctionFailed")
    digested.types, digested.states, digested.contexts = (
        _NoWalk(digested.types), _NoWalk(digested.states), _NoWalk(digested.contexts))
    assert digested.page(types=None, state=None, offset=10, size=5, newest_first=True) == (
        count, [count - 10 - i for i in range(5)])
    total, ids = digested.page(types=None, state="Note", offset=0, size=3, newest_first=False)
    assert total == notes and len(ids) == 3
    assert digested.event_types() == expected_types
    assert len(digested.page(types={"LambdaFunctionFailed"}, state=None, offset=0, size=100,
                             newest_first=False)[1]) == failures
