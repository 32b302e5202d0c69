"""TestState in memory (`asl.test_state`): its options go into every step and its outcome comes back
with the steps, never through the execution state; inspection data, catchers and retriers, a given
context object, and a state named inside a Map."""

from __future__ import annotations

from typing import Any

from pinflow import asl
from pinflow.asl import events, testing

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:work"
EXECUTION_KEYS = {"schema", "status", "type", "seed", "draws", "counter", "last_id", "execution", "state_machine",
                  "frames", "tasks", "timers", "invocations", "output", "error", "cause", "var_bytes"}


def test_test_state_options_and_outcome_stay_out_of_the_execution_state() -> None:
    state = {"Type": "Task", "Resource": FUNCTION, "Next": "After",
             "Retry": [{"ErrorEquals": ["Flaky"], "MaxAttempts": 2}]}

    def flaky(payload: Any) -> Any:
        raise asl.TaskError("Flaky", "try again")

    result = asl.test_state(state, {"a": 1}, variables={"v": 1}, context={"Execution": {"Name": "n"}},
                            inspection_level="DEBUG", handlers={FUNCTION: flaky})
    assert (result.status, result.error, result.cause) == ("RETRIABLE", "Flaky", "try again")
    assert result.state is not None and set(result.state) == EXECUTION_KEYS


def test_step_reports_the_outcome_of_a_tested_state() -> None:
    machine = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": 1, "Next": "B"},
                                          "B": {"Type": "Pass", "End": True}}}
    options = testing.Options("A", inspect=True)
    step = asl.step(machine, None, events.Start(input={"x": 1}, at=0.0), test=options)
    assert step.status == "SUCCEEDED" and step.state["output"] == 1
    assert step.test is not None and step.test.next_state == "B"
    assert step.test.inspection["result"] == 1
    assert asl.step(machine, None, events.Start(input={}, at=0.0)).test is None


def test_a_task_is_inspected_as_aws_does_and_a_catcher_reports_caught_error() -> None:
    state = {"Type": "Task", "Resource": FUNCTION, "InputPath": "$.in", "Parameters": {"p.$": "$.v"},
             "ResultPath": "$.out", "Catch": [{"ErrorEquals": ["Boom"], "Next": "Handler"}], "End": True}
    done = asl.test_state(state, {"in": {"v": 2}}, inspection_level="TRACE", handlers={FUNCTION: lambda p: p})
    # AWS's Task inspectionData (LocalStack's recording of TestState, test_state_context_object.snapshot.json).
    assert done.inspection_data == {
        "input": {"in": {"v": 2}}, "afterInputPath": {"v": 2}, "afterParameters": {"p": 2},
        "result": {"p": 2}, "afterResultSelector": {"p": 2}, "afterResultPath": {"in": {"v": 2}, "out": {"p": 2}},
    }

    def boom(payload: Any) -> Any:
        raise asl.TaskError("Boom", "why")

    caught = asl.test_state(state, {"in": {"v": 2}}, handlers={FUNCTION: boom})
    assert (caught.status, caught.error, caught.cause, caught.next_state) == ("CAUGHT_ERROR", "Boom", "why",
                                                                                "Handler")


def test_a_given_context_object_is_the_whole_context_object() -> None:
    # AWS's TestState: `{}` as the context gives an empty `$$` (LocalStack's recording,
    # test_state_context_object_edge_cases[EMPTY]).
    state = {"Type": "Pass", "Parameters": {"ctx.$": "$$"}, "End": True}
    assert asl.test_state(state, {}, context={}).output == {"ctx": {}}
    given = {"Execution": {"Name": "x"}}
    assert asl.test_state(state, {}, context=given).output == {"ctx": given}
    assert set(asl.test_state(state, {}).output["ctx"]) == {"Execution", "State", "StateMachine"}


def test_a_state_inside_a_map_can_be_tested_by_name() -> None:
    machine = {"StartAt": "Fan", "States": {"Fan": {"Type": "Map", "End": True, "ItemProcessor": {
        "StartAt": "Item", "States": {"Item": {"Type": "Pass", "Result": "in", "End": True}}}}}}
    result = asl.test_state(machine, {}, state_name="Item")
    assert (result.status, result.output) == ("SUCCEEDED", "in")
