"""Retry and Catch: back-off timing on the virtual clock, retrier order and counters, catcher output,
and the errors AWS never lets a Retry or Catch handle."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pinflow import asl
from pinflow.asl import errors

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:flaky"
START = 1_700_000_000.0


def task_machine(**fields: Any) -> dict[str, Any]:
    states: dict[str, Any] = {
        "T": {"Type": "Task", "Resource": FUNCTION, **fields, "End": True},
        "Caught": {"Type": "Pass", "End": True},
        "Other": {"Type": "Pass", "Result": "other", "End": True},
    }
    return {"StartAt": "T", "States": states}


def failing(*outcomes: Any) -> tuple[Callable[[Any], Any], list[Any]]:
    """A handler that raises each TaskError in `outcomes` in turn, then returns the payload."""
    calls: list[Any] = []
    queue: Iterator[Any] = iter(outcomes)

    def handler(payload: Any) -> Any:
        calls.append(payload)
        outcome = next(queue, None)
        if isinstance(outcome, Exception):
            raise outcome
        return payload if outcome is None else outcome

    return handler, calls


def always(error: str, cause: str = "it broke") -> tuple[Callable[[Any], Any], list[Any]]:
    return failing(*[asl.TaskError(error, cause) for _ in range(100)])


def delays(result: asl.Result) -> list[float]:
    """Seconds between consecutive schedulings of the task (the back-offs)."""
    times = [event["timestamp"] for event in result.history if event["type"] == "LambdaFunctionScheduled"]
    return [later - earlier for earlier, later in itertools.pairwise(times)]


def run(definition: dict[str, Any], handler: Callable[[Any], Any], input: Any = None,
        **kwargs: Any) -> asl.Result:
    return asl.run(definition, {"in": 1} if input is None else input, handlers={FUNCTION: handler},
                   **kwargs)


# --- Retry -----------------------------------------------------------------------------------------


def test_retry_defaults_one_second_doubling_three_attempts() -> None:
    handler, calls = always("Boom")
    result = run(task_machine(Retry=[{"ErrorEquals": ["Boom"]}]), handler)
    assert result.status == "FAILED"
    assert (result.error, result.cause) == ("Boom", "it broke")
    assert len(calls) == 4
    assert delays(result) == [1, 2, 4]


def test_interval_and_backoff_rate() -> None:
    handler, calls = always("Boom")
    retry = [{"ErrorEquals": ["Boom"], "IntervalSeconds": 3, "BackoffRate": 1.5, "MaxAttempts": 4}]
    result = run(task_machine(Retry=retry), handler)
    assert len(calls) == 5
    assert delays(result) == [3, 4.5, 6.75, 10.125]


def test_backoff_rate_one_keeps_the_interval() -> None:
    handler, _ = always("Boom")
    retry = [{"ErrorEquals": ["Boom"], "IntervalSeconds": 5, "BackoffRate": 1.0, "MaxAttempts": 3}]
    assert delays(run(task_machine(Retry=retry), handler)) == [5, 5, 5]


def test_retry_then_success_gives_the_successful_output() -> None:
    handler, calls = failing(asl.TaskError("Boom"), asl.TaskError("Boom"), {"ok": True})
    result = run(task_machine(Retry=[{"ErrorEquals": ["Boom"], "IntervalSeconds": 2}]), handler)
    assert result.status == "SUCCEEDED"
    assert result.output == {"ok": True}
    assert len(calls) == 3
    assert result.history[-1]["timestamp"] == START + 2 + 4


def test_max_attempts_zero_never_retries() -> None:
    handler, calls = always("Boom")
    result = run(task_machine(Retry=[{"ErrorEquals": ["Boom"], "MaxAttempts": 0}]), handler)
    assert result.status == "FAILED"
    assert len(calls) == 1


def test_max_delay_seconds_caps_the_backoff() -> None:
    handler, _ = always("Boom")
    retry = [{"ErrorEquals": ["Boom"], "IntervalSeconds": 10, "BackoffRate": 3, "MaxAttempts": 4,
              "MaxDelaySeconds": 40}]
    assert delays(run(task_machine(Retry=retry), handler)) == [10, 30, 40, 40]


def test_full_jitter_waits_a_random_time_up_to_the_computed_delay() -> None:
    retry = [{"ErrorEquals": ["Boom"], "IntervalSeconds": 8, "BackoffRate": 2, "MaxAttempts": 4,
              "JitterStrategy": "FULL"}]
    ceilings = [8, 16, 32, 64]
    seen: list[list[float]] = []
    for seed in range(20):
        handler, _ = always("Boom")
        waits = delays(run(task_machine(Retry=retry), handler, seed=seed))
        assert len(waits) == 4
        assert all(0 <= wait <= ceiling for wait, ceiling in zip(waits, ceilings, strict=True))
        seen.append(waits)
    # The draws are random: not every wait sits at its ceiling, and seeds differ.
    assert any(waits != ceilings for waits in seen)
    assert len({tuple(waits) for waits in seen}) > 1


def test_full_jitter_is_reproducible_from_the_seed() -> None:
    retry = [{"ErrorEquals": ["Boom"], "MaxAttempts": 3, "JitterStrategy": "FULL"}]
    first = delays(run(task_machine(Retry=retry), always("Boom")[0], seed=7))
    second = delays(run(task_machine(Retry=retry), always("Boom")[0], seed=7))
    assert first == second


def test_full_jitter_respects_max_delay_seconds() -> None:
    retry = [{"ErrorEquals": ["Boom"], "IntervalSeconds": 100, "MaxAttempts": 3, "MaxDelaySeconds": 5,
              "JitterStrategy": "FULL"}]
    for seed in range(10):
        waits = delays(run(task_machine(Retry=retry), always("Boom")[0], seed=seed))
        assert all(0 <= wait <= 5 for wait in waits)


def test_the_first_matching_retrier_applies_and_does_not_fall_through_when_exhausted() -> None:
    handler, calls = always("A")
    retry = [
        {"ErrorEquals": ["B"], "MaxAttempts": 10},
        {"ErrorEquals": ["A"], "MaxAttempts": 1, "IntervalSeconds": 2},
        {"ErrorEquals": ["States.ALL"], "MaxAttempts": 10, "IntervalSeconds": 100},
    ]
    result = run(task_machine(Retry=retry), handler)
    assert result.status == "FAILED"
    assert len(calls) == 2
    assert delays(result) == [2]


def test_each_retrier_keeps_its_own_attempt_counter() -> None:
    outcomes = [asl.TaskError(name) for name in ("A", "B", "A", "B", "A")]
    handler, calls = failing(*outcomes)
    retry = [
        {"ErrorEquals": ["A"], "MaxAttempts": 2, "IntervalSeconds": 1, "BackoffRate": 10},
        {"ErrorEquals": ["B"], "MaxAttempts": 2, "IntervalSeconds": 3, "BackoffRate": 2},
    ]
    result = run(task_machine(Retry=retry), handler)
    assert result.status == "FAILED"
    assert result.error == "A"
    assert len(calls) == 5
    # A's back-off grows with A's own count, B's with B's: A1, B1, A2, B2.
    assert delays(result) == [1, 3, 10, 6]


def test_retry_count_is_in_the_context_object_of_each_attempt() -> None:
    handler, calls = failing(asl.TaskError("Boom"), asl.TaskError("Boom"))
    definition = task_machine(Parameters={"attempt.$": "$$.State.RetryCount"},
                              Retry=[{"ErrorEquals": ["Boom"]}])
    assert run(definition, handler).status == "SUCCEEDED"
    assert calls == [{"attempt": 0}, {"attempt": 1}, {"attempt": 2}]


def test_retry_counters_reset_when_the_state_is_entered_again() -> None:
    # Each visit fails once then succeeds; with MaxAttempts 1 every visit must still get its retry.
    handler, calls = failing(asl.TaskError("Boom"), {"round": 1}, asl.TaskError("Boom"), {"round": 2})
    definition = {"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": FUNCTION, "Retry": [{"ErrorEquals": ["Boom"], "MaxAttempts": 1}],
              "Next": "Again"},
        "Again": {"Type": "Choice", "Choices": [{"Variable": "$.round", "NumericEquals": 1, "Next": "T"}],
                  "Default": "Done"},
        "Done": {"Type": "Succeed"},
    }}
    result = run(definition, handler)
    assert result.status == "SUCCEEDED"
    assert result.output == {"round": 2}
    assert len(calls) == 4


def test_an_error_from_a_handler_exception_is_named_after_its_class() -> None:
    def handler(payload: Any) -> Any:
        raise ValueError("bad value")

    result = run(task_machine(), handler)
    assert (result.status, result.error, result.cause) == ("FAILED", "ValueError", "bad value")


# --- Catch ---------------------------------------------------------------------------------------------


def test_catch_result_path_places_the_error_output_in_the_input() -> None:
    handler, _ = always("Boom", "why")
    catch = [{"ErrorEquals": ["Boom"], "ResultPath": "$.error", "Next": "Caught"}]
    result = run(task_machine(Catch=catch), handler, {"keep": 1})
    assert result.status == "SUCCEEDED"
    assert result.output == {"keep": 1, "error": {"Error": "Boom", "Cause": "why"}}


def test_catch_without_result_path_outputs_the_error_output() -> None:
    handler, _ = always("Boom", "why")
    result = run(task_machine(Catch=[{"ErrorEquals": ["Boom"], "Next": "Caught"}]), handler, {"keep": 1})
    assert result.output == {"Error": "Boom", "Cause": "why"}


def test_catch_result_path_null_keeps_the_input() -> None:
    handler, _ = always("Boom")
    catch = [{"ErrorEquals": ["Boom"], "ResultPath": None, "Next": "Caught"}]
    assert run(task_machine(Catch=catch), handler, {"keep": 1}).output == {"keep": 1}


def test_catchers_are_scanned_in_order() -> None:
    handler, _ = always("Boom")
    catch = [
        {"ErrorEquals": ["Other"], "Next": "Other"},
        {"ErrorEquals": ["Boom"], "ResultPath": "$.e", "Next": "Caught"},
        {"ErrorEquals": ["States.ALL"], "Next": "Other"},
    ]
    assert run(task_machine(Catch=catch), handler, {}).output == {"e": {"Error": "Boom", "Cause": "it broke"}}


def test_retriers_run_before_catchers() -> None:
    handler, calls = always("Boom")
    definition = task_machine(Retry=[{"ErrorEquals": ["Boom"], "MaxAttempts": 2}],
                              Catch=[{"ErrorEquals": ["Boom"], "Next": "Caught"}])
    result = run(definition, handler)
    assert result.status == "SUCCEEDED"
    assert len(calls) == 3


def test_states_all_catches_any_error() -> None:
    handler, _ = always("Some.Custom.Error")
    result = run(task_machine(Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]), handler)
    assert result.output == {"Error": "Some.Custom.Error", "Cause": "it broke"}


def test_states_task_failed_matches_any_error_but_states_timeout() -> None:
    catch = [{"ErrorEquals": ["States.TaskFailed"], "Next": "Caught"},
             {"ErrorEquals": ["States.Timeout"], "Next": "Other"}]
    custom = run(task_machine(Catch=catch), always("Custom")[0])
    assert custom.output == {"Error": "Custom", "Cause": "it broke"}
    assert run(task_machine(Catch=catch), always("States.Timeout")[0]).output == "other"


def test_states_task_failed_does_not_retry_a_timeout() -> None:
    handler, calls = always("States.Timeout")
    result = run(task_machine(Retry=[{"ErrorEquals": ["States.TaskFailed"]}]), handler)
    assert result.status == "FAILED"
    assert len(calls) == 1


@pytest.mark.parametrize("error_equals", [["States.ALL"], ["States.Runtime"], ["States.TaskFailed"]])
def test_states_runtime_is_never_caught_or_retried(error_equals: list[str]) -> None:
    handler, calls = failing()
    definition = task_machine(Parameters={"x.$": "$.missing"},
                              Retry=[{"ErrorEquals": error_equals}],
                              Catch=[{"ErrorEquals": error_equals, "Next": "Caught"}])
    result = run(definition, handler)
    assert result.status == "FAILED"
    assert result.error == errors.RUNTIME
    assert calls == []


@pytest.mark.parametrize("error_equals", [["States.ALL"], ["States.DataLimitExceeded"]])
def test_states_data_limit_exceeded_is_never_caught_or_retried(error_equals: list[str]) -> None:
    calls: list[Any] = []

    def huge(payload: Any) -> Any:
        calls.append(payload)
        return "x" * 300_000

    definition = task_machine(Retry=[{"ErrorEquals": error_equals}],
                              Catch=[{"ErrorEquals": error_equals, "Next": "Caught"}])
    result = run(definition, huge)
    assert result.status == "FAILED"
    assert result.error == errors.DATA_LIMIT_EXCEEDED
    assert len(calls) == 1


def test_an_unhandled_error_fails_the_execution_with_its_name_and_cause() -> None:
    handler, _ = always("Boom", "details")
    result = run(task_machine(Catch=[{"ErrorEquals": ["Other"], "Next": "Caught"}]), handler)
    assert (result.status, result.error, result.cause) == ("FAILED", "Boom", "details")
    assert result.history[-1]["type"] == "ExecutionFailed"
    assert result.history[-1]["executionFailedEventDetails"] == {"error": "Boom", "cause": "details"}
