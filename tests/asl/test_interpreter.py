"""The decider as its drivers see it: `step` events in, commands and history out; the context object;
Wait, task timeouts, stops, execution timeouts and redrives; a state that survives JSON between steps."""

from __future__ import annotations

import copy
import heapq
import json
import re
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from pinflow import asl
from pinflow.asl import commands, errors, events, timestamps

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:work"
CALLBACK = "arn:aws:states:::lambda:invoke.waitForTaskToken"
ACTIVITY = "arn:aws:states:us-east-1:123456789012:activity:review"
START = 1_700_000_000.0


def chain(*states: tuple[str, dict[str, Any]], **top: Any) -> dict[str, Any]:
    """A machine of states run one after the other, the last one ending it."""
    built: dict[str, Any] = {}
    for index, (name, state) in enumerate(states):
        state = dict(state)
        if state["Type"] not in ("Choice", "Succeed", "Fail"):
            if index + 1 < len(states):
                state.setdefault("Next", states[index + 1][0])
            else:
                state["End"] = True
        built[name] = state
    return {"StartAt": states[0][0], "States": built, **top}


def start(definition: dict[str, Any], input: Any = None, at: float = START, **kwargs: Any) -> asl.Step:
    return asl.step(definition, None, events.Start(input={} if input is None else input, at=at, **kwargs))


def roundtrip(state: dict[str, Any]) -> dict[str, Any]:
    """The state as a durable engine stores and loads it; it must come back unchanged."""
    loaded: dict[str, Any] = json.loads(json.dumps(state))
    assert loaded == state
    return loaded


def then(definition: dict[str, Any], previous: asl.Step, event: events.Event) -> asl.Step:
    return asl.step(definition, roundtrip(previous.state), event)


def invoked(step: asl.Step) -> list[commands.InvokeTask]:
    return [command for command in step.commands if isinstance(command, commands.InvokeTask)]


def timers(step: asl.Step) -> list[commands.StartTimer]:
    return [command for command in step.commands if isinstance(command, commands.StartTimer)]


def types(history: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in history]


def drive(definition: dict[str, Any], input: Any, handlers: Mapping[str, Callable[[Any], Any]],
          seed: int = 0) -> tuple[str, Any, list[dict[str, Any]]]:
    """Run an execution through `step` alone, storing the state as JSON between steps.

    Events are delivered in the order the in-memory driver uses (task answers first, then timers by
    due time), so the history must equal `asl.run`'s.
    """
    execution = {"Id": "arn:aws:states:us-east-1:123456789012:execution:state-machine:execution",
                 "Name": "execution", "RoleArn": "arn:aws:iam::123456789012:role/state-machine-role"}
    machine = {"Id": "arn:aws:states:us-east-1:123456789012:stateMachine:state-machine",
               "Name": "state-machine"}
    stored = None
    event: events.Event | None = events.Start(input=input, at=START, execution=execution,
                                              state_machine=machine, seed=seed)
    history: list[dict[str, Any]] = []
    inbox: deque[events.Event] = deque()
    due: dict[str, float] = {}
    queue: list[tuple[float, int, str]] = []
    sequence = 0
    status = "RUNNING"
    while event is not None:
        now = event.at
        result = asl.step(definition, None if stored is None else json.loads(stored), event)
        json.dumps(result.history)
        history.extend(result.history)
        stored = json.dumps(result.state)
        status = result.status
        if status != "RUNNING":
            return status, result.state["output"] if status == "SUCCEEDED" else result.state["error"], history
        for command in result.commands:
            if isinstance(command, commands.StartTimer):
                sequence += 1
                due[command.timer_id] = command.due_at
                heapq.heappush(queue, (command.due_at, sequence, command.timer_id))
            elif isinstance(command, commands.CancelTimer):
                due.pop(command.timer_id, None)
            elif isinstance(command, commands.InvokeTask):
                try:
                    output = handlers[command.resource](command.payload)
                    inbox.append(events.TaskSucceeded(command.task_id, output, now))
                except asl.TaskError as exc:
                    inbox.append(events.TaskFailed(command.task_id, exc.error, exc.cause, now))
        event = None
        if inbox:
            event = inbox.popleft()
        while event is None and queue:
            at, _, timer_id = heapq.heappop(queue)
            if due.get(timer_id) == at:
                del due[timer_id]
                event = events.TimerFired(timer_id, at)
    return status, None, history


# --- history ------------------------------------------------------------------------------------------------


def test_history_of_a_simple_chain() -> None:
    definition = chain(("A", {"Type": "Pass", "Result": 1, "ResultPath": "$.a"}),
                       ("W", {"Type": "Wait", "Seconds": 5}),
                       ("Done", {"Type": "Succeed"}))
    result = asl.run(definition, {"x": 0})
    assert types(result.history) == [
        "ExecutionStarted", "PassStateEntered", "PassStateExited", "WaitStateEntered", "WaitStateExited",
        "SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded",
    ]
    assert [event["id"] for event in result.history] == list(range(1, 9))
    # AWS links ExecutionStarted and the first StateEntered to no event (0); each other event to the one
    # before it (the AWS-recorded histories in the conformance cases).
    assert [event["previousEventId"] for event in result.history] == [0, 0, 2, 3, 4, 5, 6, 7]
    first = result.history[0]
    assert first["executionStartedEventDetails"]["input"] == {"x": 0}
    entered = result.history[1]
    assert entered["stateEnteredEventDetails"] == {
        "name": "A", "input": {"x": 0}, "inputDetails": {"truncated": False}}
    exited = result.history[2]
    assert exited["stateExitedEventDetails"]["name"] == "A"
    assert exited["stateExitedEventDetails"]["output"] == {"x": 0, "a": 1}
    assert result.history[-1]["executionSucceededEventDetails"]["output"] == {"x": 0, "a": 1}
    assert [event["timestamp"] for event in result.history] == [START] * 4 + [START + 5] * 4


def test_history_ids_are_consecutive_and_point_back_within_concurrent_frames() -> None:
    processor = {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}
    definition = chain(("M", {"Type": "Map", "ItemProcessor": processor}))
    history = asl.run(definition, [1, 2, 3]).history
    assert [event["id"] for event in history] == list(range(1, len(history) + 1))
    assert history[0]["previousEventId"] == history[1]["previousEventId"] == 0
    ids = {event["id"] for event in history}
    for event in history[2:]:
        assert event["previousEventId"] in ids
        assert event["previousEventId"] < event["id"]


def test_a_fail_state_has_no_exited_event() -> None:
    result = asl.run(chain(("F", {"Type": "Fail", "Error": "E", "Cause": "C"})), {})
    assert types(result.history) == ["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]
    assert result.history[-1]["executionFailedEventDetails"] == {"error": "E", "cause": "C"}


def test_assigned_variables_are_recorded_on_the_exited_event() -> None:
    result = asl.run(chain(("A", {"Type": "Pass", "Assign": {"x": {"k": [1]}, "y.$": "$.v"}})), {"v": "s"})
    details = result.history[2]["stateExitedEventDetails"]
    assert details["assignedVariables"] == {"x": '{"k":[1]}', "y": '"s"'}
    assert details["assignedVariablesDetails"] == {"truncated": False}


def test_task_history_for_a_lambda_function() -> None:
    definition = chain(("T", {"Type": "Task", "Resource": FUNCTION}))
    result = asl.run(definition, {"a": 1}, handlers={FUNCTION: lambda p: 2})
    assert types(result.history) == [
        "ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted",
        "LambdaFunctionSucceeded", "TaskStateExited", "ExecutionSucceeded",
    ]
    scheduled = result.history[2]["lambdaFunctionScheduledEventDetails"]
    assert scheduled["resource"] == FUNCTION
    assert scheduled["input"] == {"a": 1}
    assert result.history[4]["lambdaFunctionSucceededEventDetails"]["output"] == 2


def test_task_history_for_a_service_integration() -> None:
    resource = "arn:aws:states:::lambda:invoke"
    definition = chain(("T", {"Type": "Task", "Resource": resource, "Parameters": {"FunctionName": "f"}}))
    result = asl.run(definition, {}, handlers={resource: lambda p: {"Payload": 1}})
    assert types(result.history)[2:5] == ["TaskScheduled", "TaskStarted", "TaskSucceeded"]
    scheduled = result.history[2]["taskScheduledEventDetails"]
    assert (scheduled["resourceType"], scheduled["resource"]) == ("lambda", "invoke")
    assert json.loads(scheduled["parameters"]) == {"FunctionName": "f"}


# --- the context object -------------------------------------------------------------------------------------


def test_context_object_fields() -> None:
    template = {
        "id.$": "$$.Execution.Id", "name.$": "$$.Execution.Name", "input.$": "$$.Execution.Input",
        "start.$": "$$.Execution.StartTime", "role.$": "$$.Execution.RoleArn",
        "machine.$": "$$.StateMachine.Id", "machine_name.$": "$$.StateMachine.Name",
        "state.$": "$$.State.Name", "entered.$": "$$.State.EnteredTime",
    }
    definition = chain(("Wait", {"Type": "Wait", "Seconds": 10}),
                       ("Read", {"Type": "Pass", "Parameters": template}))
    output = asl.run(definition, {"k": "v"}, name="exec-1", state_machine_name="orders",
                     start_time=START + 0.123).output
    assert output == {
        "id": "arn:aws:states:us-east-1:123456789012:execution:orders:exec-1",
        "name": "exec-1",
        "input": {"k": "v"},
        "start": "2023-11-14T22:13:20.123Z",
        "role": "arn:aws:iam::123456789012:role/orders-role",
        "machine": "arn:aws:states:us-east-1:123456789012:stateMachine:orders",
        "machine_name": "orders",
        "state": "Read",
        "entered": "2023-11-14T22:13:30.123Z",
    }


def test_the_retry_count_is_in_the_context_object_of_task_states_only() -> None:
    # AWS's recording of `"InputPath": "$$"` in a Pass state (conformance case
    # context_object/test_context_object.py::test_input_path[$$]) has State {Name, EnteredTime} only;
    # AWS documents $$.State.RetryCount for Task states' retries.
    definition = chain(("Read", {"Type": "Pass", "InputPath": "$$.State"}),
                       ("Call", {"Type": "Task", "Resource": FUNCTION, "Parameters": {"state.$": "$$.State"},
                                 "Retry": [{"ErrorEquals": ["Again"], "IntervalSeconds": 1}]}))
    calls: list[Any] = []

    def handler(payload: Any) -> Any:
        calls.append(payload)
        if len(calls) == 1:
            raise asl.TaskError("Again", "once")
        return payload

    result = asl.run(definition, {}, handlers={FUNCTION: handler})
    assert result.status == "SUCCEEDED"
    assert sorted(result.history[2]["stateExitedEventDetails"]["output"]) == ["EnteredTime", "Name"]
    assert [call["state"]["RetryCount"] for call in calls] == [0, 1]


def test_wait_for_task_token_puts_the_token_in_the_context_object() -> None:
    parameters = {"FunctionName": "f", "Payload": {"token.$": "$$.Task.Token"}}
    definition = chain(("Ask", {"Type": "Task", "Resource": CALLBACK, "Parameters": parameters}))
    step = start(definition)
    [command] = invoked(step)
    assert command.pattern == "wait_for_task_token"
    assert command.task_token
    assert command.payload == {"FunctionName": "f", "Payload": {"token": command.task_token}}
    done = then(definition, step, events.TaskSucceeded(command.task_id, {"approved": True}, START + 60))
    assert done.status == "SUCCEEDED"
    assert done.state["output"] == {"approved": True}


def test_task_tokens_differ_between_tasks_and_repeat_with_the_seed() -> None:
    definition = chain(("A", {"Type": "Task", "Resource": CALLBACK, "Parameters": {"t.$": "$$.Task.Token"}}))
    first, second = invoked(start(definition, seed=1)), invoked(start(definition, seed=1))
    other = invoked(start(definition, seed=2))
    assert first[0].task_token == second[0].task_token
    assert first[0].task_token != other[0].task_token


def test_an_activity_waits_for_a_worker() -> None:
    definition = chain(("Review", {"Type": "Task", "Resource": ACTIVITY, "Parameters": {"doc": 1}}))
    step = start(definition)
    [command] = invoked(step)
    assert command.pattern == "wait_for_task_token" and command.task_token
    assert types(step.history)[-1] == "ActivityScheduled"
    step = then(definition, step, events.TaskStarted(command.task_id, START + 1, worker_name="w-1"))
    assert types(step.history) == ["ActivityStarted"]
    assert step.history[0]["activityStartedEventDetails"] == {"workerName": "w-1"}
    # A second poll reporting the same task adds nothing.
    assert then(definition, step, events.TaskStarted(command.task_id, START + 2)).history == []
    step = then(definition, step, events.TaskSucceeded(command.task_id, "ok", START + 3))
    assert types(step.history) == ["ActivitySucceeded", "TaskStateExited", "ExecutionSucceeded"]


# --- Wait ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("wait", "input", "due"), [
    ({"Seconds": 10}, {}, START + 10),
    ({"SecondsPath": "$.s"}, {"s": 7}, START + 7),
    ({"Timestamp": "2023-11-14T22:14:00Z"}, {}, START + 40),
    ({"Timestamp": "2023-11-14T23:14:00.5+01:00"}, {}, START + 40.5),
    ({"TimestampPath": "$.until"}, {"until": "2023-11-15T00:00:00Z"}, START + 6400),
])
def test_wait_starts_a_timer_due_at_the_right_time(wait: dict[str, Any], input: Any, due: float) -> None:
    definition = chain(("W", {"Type": "Wait", **wait}), ("After", {"Type": "Pass"}))
    step = start(definition, input)
    assert step.status == "RUNNING"
    [timer] = timers(step)
    assert timer.due_at == due
    assert types(step.history)[-1] == "WaitStateEntered"
    done = then(definition, step, events.TimerFired(timer.timer_id, due))
    assert done.status == "SUCCEEDED"
    assert done.state["output"] == input
    assert [event["timestamp"] for event in done.history] == [due] * len(done.history)


@pytest.mark.parametrize("wait", [{"Seconds": 0}, {"Timestamp": "2020-01-01T00:00:00Z"},
                                  {"TimestampPath": "$.t"}])
def test_a_wait_already_due_continues_at_once(wait: dict[str, Any]) -> None:
    step = start(chain(("W", {"Type": "Wait", **wait})), {"t": "2001-01-01T00:00:00Z"})
    assert step.status == "SUCCEEDED"
    assert timers(step) == []


def test_a_timer_that_is_not_pending_changes_nothing() -> None:
    definition = chain(("W", {"Type": "Wait", "Seconds": 10}))
    step = start(definition)
    before = copy.deepcopy(step.state)
    other = then(definition, step, events.TimerFired("no-such-timer", START + 10))
    assert other.status == "RUNNING" and other.history == [] and other.commands == []
    assert other.state == before


def test_a_long_wait_runs_at_once_on_the_virtual_clock() -> None:
    five_days = 5 * 24 * 3600
    result = asl.run(chain(("W", {"Type": "Wait", "Seconds": five_days}), ("End", {"Type": "Pass"})), {})
    assert result.status == "SUCCEEDED"
    assert result.history[-1]["timestamp"] == START + five_days


@pytest.mark.parametrize(("value", "cause"), [
    (-1, "The SecondsPath parameter references a negative value: $.s == -1"),
    (1.5, "The SecondsPath parameter cannot be parsed as a long value: $.s == 1.5"),
    (None, "The SecondsPath parameter cannot be parsed as a long value: $.s == null"),
])
def test_seconds_path_must_be_a_non_negative_integer(value: Any, cause: str) -> None:
    result = asl.run(chain(("W", {"Type": "Wait", "SecondsPath": "$.s"})), {"s": value})
    assert (result.status, result.error) == ("FAILED", errors.RUNTIME)
    prefix = "An error occurred while executing the state 'W' (entered at the event id #2)."
    assert result.cause == f"{prefix} {cause}"


def test_timestamp_path_must_be_an_rfc3339_timestamp() -> None:
    result = asl.run(chain(("W", {"Type": "Wait", "TimestampPath": "$.t"})), {"t": "2016-12-05 21:29:29Z"})
    assert (result.status, result.error) == ("FAILED", errors.RUNTIME)
    assert result.cause is not None and result.cause.endswith(
        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format "
        "string: $.t == 2016-12-05 21:29:29Z")


# --- tasks --------------------------------------------------------------------------------------------------


def test_task_handlers_receive_the_payload_and_give_the_result() -> None:
    calls: list[Any] = []

    def handler(payload: Any) -> Any:
        calls.append(payload)
        return {"doubled": payload["n"] * 2}

    definition = chain(("T", {"Type": "Task", "Resource": FUNCTION}))
    result = asl.run(definition, {"n": 21}, handlers={FUNCTION: handler})
    assert calls == [{"n": 21}]
    assert result.output == {"doubled": 42}


def test_task_error_from_a_handler() -> None:
    def handler(payload: Any) -> Any:
        raise asl.TaskError("Custom.Error", "what went wrong")

    result = asl.run(chain(("T", {"Type": "Task", "Resource": FUNCTION})), {}, handlers={FUNCTION: handler})
    assert (result.status, result.error, result.cause) == ("FAILED", "Custom.Error", "what went wrong")
    assert types(result.history)[-2] == "LambdaFunctionFailed"


def test_task_timeout_fires_as_states_timeout() -> None:
    definition = chain(("T", {"Type": "Task", "Resource": FUNCTION, "TimeoutSeconds": 5}))
    step = start(definition)
    [command] = invoked(step)
    assert command.timeout_seconds == 5
    assert commands.StartTimer(f"{command.task_id}/timeout", START + 5) in step.commands
    assert step.history[2]["lambdaFunctionScheduledEventDetails"]["timeoutInSeconds"] == 5
    timed_out = then(definition, step, events.TimerFired(f"{command.task_id}/timeout", START + 5))
    assert (timed_out.status, timed_out.state["error"]) == ("FAILED", errors.TIMEOUT)
    assert types(timed_out.history) == ["LambdaFunctionTimedOut", "ExecutionFailed"]
    # The task's answer, arriving after the timeout, is ignored.
    late = then(definition, timed_out, events.TaskSucceeded(command.task_id, "late", START + 6))
    assert late.status == "FAILED" and late.history == []


def test_timeout_seconds_path() -> None:
    definition = chain(("T", {"Type": "Task", "Resource": FUNCTION, "TimeoutSecondsPath": "$.limit"}))
    [command] = invoked(start(definition, {"limit": 3}))
    assert command.timeout_seconds == 3


def test_a_task_timeout_is_caught_by_states_timeout_but_not_by_states_task_failed() -> None:
    definition = chain(
        ("T", {"Type": "Task", "Resource": FUNCTION, "TimeoutSeconds": 5, "Next": "Done",
               "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "Wrong"},
                         {"ErrorEquals": ["States.Timeout"], "ResultPath": "$.error", "Next": "Done"}]}),
        ("Wrong", {"Type": "Fail", "Error": "Wrong"}),
        ("Done", {"Type": "Pass"}),
    )
    step = start(definition, {"a": 1})
    [command] = invoked(step)
    done = then(definition, step, events.TimerFired(f"{command.task_id}/timeout", START + 5))
    assert done.status == "SUCCEEDED"
    assert done.state["output"] == {"a": 1, "error": {"Error": errors.TIMEOUT, "Cause": None}}


def test_a_task_that_answers_in_time_cancels_its_timers() -> None:
    task = {"Type": "Task", "Resource": FUNCTION, "TimeoutSeconds": 5, "HeartbeatSeconds": 2}
    definition = chain(("T", task))
    step = start(definition)
    [command] = invoked(step)
    assert commands.StartTimer(f"{command.task_id}/heartbeat", START + 2) in step.commands
    done = then(definition, step, events.TaskSucceeded(command.task_id, 1, START + 1))
    assert done.status == "SUCCEEDED"
    assert commands.CancelTimer(f"{command.task_id}/timeout") in done.commands
    assert commands.CancelTimer(f"{command.task_id}/heartbeat") in done.commands


def test_a_missed_heartbeat_fails_with_states_heartbeat_timeout() -> None:
    task = {"Type": "Task", "Resource": CALLBACK, "TimeoutSeconds": 60, "HeartbeatSeconds": 10}
    definition = chain(("T", task))
    step = start(definition)
    [command] = invoked(step)
    done = then(definition, step, events.TimerFired(f"{command.task_id}/heartbeat", START + 10))
    assert (done.status, done.state["error"]) == ("FAILED", errors.HEARTBEAT_TIMEOUT)
    assert "TaskTimedOut" in types(done.history)


def test_a_repeated_task_answer_is_ignored() -> None:
    definition = chain(("T", {"Type": "Task", "Resource": FUNCTION}), ("W", {"Type": "Wait", "Seconds": 10}))
    step = start(definition)
    [command] = invoked(step)
    first = then(definition, step, events.TaskSucceeded(command.task_id, {"n": 1}, START + 1))
    assert types(first.history)[-1] == "WaitStateEntered"
    before = copy.deepcopy(first.state)
    again = then(definition, first, events.TaskSucceeded(command.task_id, {"n": 2}, START + 2))
    assert again.history == [] and again.commands == []
    assert again.state == before
    failed_late = then(definition, first, events.TaskFailed(command.task_id, "E", None, START + 2))
    assert failed_late.history == [] and failed_late.state == before


def test_an_answer_for_an_unknown_task_is_ignored() -> None:
    definition = chain(("T", {"Type": "Task", "Resource": FUNCTION}))
    step = start(definition)
    other = then(definition, step, events.TaskSucceeded("t-unknown", 1, START + 1))
    assert other.status == "RUNNING" and other.history == [] and other.commands == []


# --- stopping, timing out, redriving ------------------------------------------------------------------------


def test_stop_requested_aborts_and_cancels_pending_work() -> None:
    definition = chain(("T", {"Type": "Task", "Resource": FUNCTION}))
    step = start(definition)
    [command] = invoked(step)
    stopped = then(definition, step, events.StopRequested(at=START + 1, error="Halt", cause="by hand"))
    assert stopped.status == "ABORTED"
    assert commands.CancelTask(command.task_id) in stopped.commands
    assert types(stopped.history) == ["ExecutionAborted"]
    assert stopped.history[0]["executionAbortedEventDetails"] == {"error": "Halt", "cause": "by hand"}
    late = then(definition, stopped, events.TaskSucceeded(command.task_id, 1, START + 2))
    assert late.status == "ABORTED" and late.history == []


def test_stop_requested_during_a_wait_cancels_its_timer() -> None:
    definition = chain(("W", {"Type": "Wait", "Seconds": 100}))
    step = start(definition)
    [timer] = timers(step)
    stopped = then(definition, step, events.StopRequested(at=START + 1))
    assert stopped.status == "ABORTED"
    assert commands.CancelTimer(timer.timer_id) in stopped.commands
    assert stopped.history[0].get("executionAbortedEventDetails", {}) == {}


def test_execution_timeout_seconds_times_the_execution_out() -> None:
    definition = chain(("W", {"Type": "Wait", "Seconds": 60}), TimeoutSeconds=10)
    step = start(definition)
    assert commands.StartTimer(commands.EXECUTION_TIMEOUT_TIMER, START + 10) in step.commands
    result = asl.run(definition, {})
    assert (result.status, result.error) == ("TIMED_OUT", errors.TIMEOUT)
    assert result.history[-1]["type"] == "ExecutionTimedOut"
    assert result.history[-1]["timestamp"] == START + 10


def test_an_execution_that_ends_in_time_is_not_timed_out() -> None:
    result = asl.run(chain(("W", {"Type": "Wait", "Seconds": 5}), TimeoutSeconds=10), {})
    assert result.status == "SUCCEEDED"


def failing_then_redriven() -> tuple[dict[str, Any], asl.Step, commands.InvokeTask]:
    definition = chain(
        ("Prepare", {"Type": "Pass", "Result": "p", "ResultPath": "$.prepared"}),
        ("Charge", {"Type": "Task", "Resource": FUNCTION,
                    "Parameters": {"in.$": "$", "redrives.$": "$$.Execution.RedriveCount"},
                    "Retry": [{"ErrorEquals": ["Flaky"], "MaxAttempts": 1}]}),
        ("After", {"Type": "Pass"}),
    )
    step = start(definition, {"order": 1})
    [command] = invoked(step)
    step = then(definition, step, events.TaskFailed(command.task_id, "Flaky", "1", START + 1))
    [timer] = timers(step)
    step = then(definition, step, events.TimerFired(timer.timer_id, timer.due_at))
    [command] = invoked(step)
    step = then(definition, step, events.TaskFailed(command.task_id, "Flaky", "2", START + 3))
    assert (step.status, step.state["error"]) == ("FAILED", "Flaky")
    return definition, step, command


def test_redrive_resumes_a_failed_execution_at_the_failed_state() -> None:
    definition, failed, _ = failing_then_redriven()
    redriven = then(definition, failed, events.Redrive(at=START + 100))
    assert redriven.status == "RUNNING"
    assert types(redriven.history)[:2] == ["ExecutionRedriven", "TaskStateEntered"]
    assert redriven.history[0]["executionRedrivenEventDetails"] == {"redriveCount": 1}
    assert "PassStateEntered" not in types(redriven.history)
    [command] = invoked(redriven)
    assert command.payload == {"in": {"order": 1, "prepared": "p"}, "redrives": 1}
    # The retrier's counter starts again: one more retry is allowed.
    again = then(definition, redriven, events.TaskFailed(command.task_id, "Flaky", "3", START + 101))
    assert again.status == "RUNNING" and timers(again)
    [timer] = timers(again)
    again = then(definition, again, events.TimerFired(timer.timer_id, timer.due_at))
    [command] = invoked(again)
    done = then(definition, again, events.TaskSucceeded(command.task_id, "charged", START + 103))
    assert done.status == "SUCCEEDED"
    assert done.state["output"] == "charged"


def test_history_ids_continue_across_a_redrive() -> None:
    definition, failed, _ = failing_then_redriven()
    last = failed.state["last_id"]
    redriven = then(definition, failed, events.Redrive(at=START + 100))
    assert redriven.history[0]["id"] == last + 1


def test_redrive_of_a_succeeded_execution_changes_nothing() -> None:
    definition = chain(("A", {"Type": "Pass"}))
    done = start(definition)
    assert done.status == "SUCCEEDED"
    again = then(definition, done, events.Redrive(at=START + 1))
    assert again.status == "SUCCEEDED" and again.history == [] and again.commands == []


def test_a_map_state_in_progress_survives_json_unchanged() -> None:
    processor = {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": FUNCTION, "End": True}}}
    definition = chain(("M", {"Type": "Map", "ItemProcessor": processor}))
    step = start(definition, [0, 1])
    first = invoked(step)[0]
    step = then(definition, step, events.TaskSucceeded(first.task_id, "done", START + 1))
    roundtrip(step.state)


def test_redrive_of_a_map_reruns_only_the_unsuccessful_iterations() -> None:
    processor = {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": FUNCTION, "End": True}}}
    definition = chain(("M", {"Type": "Map", "ItemProcessor": processor}))
    step = start(definition, [0, 1, 2])
    first, second, third = invoked(step)
    step = then(definition, step, events.TaskSucceeded(first.task_id, "done-0", START + 1))
    step = then(definition, step, events.TaskFailed(second.task_id, "E", None, START + 2))
    assert step.status == "FAILED"
    assert commands.CancelTask(third.task_id) in step.commands
    step = then(definition, step, events.Redrive(at=START + 10))
    rerun = invoked(step)
    assert [command.payload for command in rerun] == [1, 2]
    for command in rerun:
        answer = events.TaskSucceeded(command.task_id, f"redo-{command.payload}", START + 11)
        step = then(definition, step, answer)
    assert step.status == "SUCCEEDED"
    assert step.state["output"] == ["done-0", "redo-1", "redo-2"]


def test_redrive_after_a_stop_inside_a_map_starts_clean_iterations() -> None:
    processor = {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": FUNCTION, "End": True}}}
    definition = chain(("M", {"Type": "Map", "ItemProcessor": processor}))
    step = start(definition, [0, 1])
    step = then(definition, step, events.StopRequested(at=START + 1))
    assert step.status == "ABORTED"
    step = then(definition, step, events.Redrive(at=START + 2))
    rerun = invoked(step)
    assert [command.payload for command in rerun] == [0, 1]
    failed = then(definition, step, events.TaskFailed(rerun[0].task_id, "E", None, START + 3))
    aborted = [event["mapIterationAbortedEventDetails"]["index"] for event in failed.history
               if event["type"] == "MapIterationAborted"]
    assert aborted == [1]


def test_events_after_the_end_change_nothing() -> None:
    definition = chain(("A", {"Type": "Pass"}))
    done = start(definition)
    late: list[events.Event] = [events.TimerFired("x", START), events.StopRequested(at=START),
                                events.TaskSucceeded("t", 1, START)]
    for event in late:
        after = then(definition, done, event)
        assert after.status == "SUCCEEDED" and after.history == [] and after.commands == []


# --- driving with the state stored as JSON ------------------------------------------------------------------


def flaky(failures: int) -> Callable[[Any], Any]:
    count = [0]

    def handler(payload: Any) -> Any:
        count[0] += 1
        if count[0] <= failures:
            raise asl.TaskError("Flaky", f"attempt {count[0]}")
        return {"ok": payload}

    return handler


DRIVEN = {
    "wait_retry_catch": (chain(
        ("W", {"Type": "Wait", "SecondsPath": "$.s"}),
        ("T", {"Type": "Task", "Resource": FUNCTION,
               "Retry": [{"ErrorEquals": ["Flaky"], "MaxAttempts": 2, "JitterStrategy": "FULL"}],
               "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "C"}]}),
        ("C", {"Type": "Pass", "Parameters": {"err.$": "$.err.Error", "in.$": "$$.Execution.Input"}}),
    ), {"s": 30}, lambda: flaky(5)),
    "map_parallel": (chain(
        ("M", {"Type": "Map", "ItemsPath": "$.xs", "MaxConcurrency": 2,
               "ItemSelector": {"i.$": "$$.Map.Item.Index"},
               "ItemProcessor": {"StartAt": "P", "States": {"P": {
                   "Type": "Parallel", "End": True, "Branches": [
                   {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": FUNCTION, "End": True}}},
                   {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3, "End": True}}},
               ]}}}}),
    ), {"xs": [1, 2, 3, 4, 5]}, lambda: flaky(0)),
    "choice_loop_with_variables": (chain(
        ("Init", {"Type": "Pass", "Assign": {"n": 0}}),
        ("Loop", {"Type": "Choice", "Choices": [{"Variable": "$n", "NumericLessThan": 3, "Next": "Inc"}],
                  "Default": "Done"}),
        ("Inc", {"Type": "Pass", "Assign": {"n.$": "States.MathAdd($n, 1)"}, "Next": "Loop"}),
        ("Done", {"Type": "Pass", "Parameters": {"n.$": "$n"}}),
    ), {}, lambda: flaky(0)),
    "callback_with_timeout": (chain(
        ("Ask", {"Type": "Task", "Resource": CALLBACK, "TimeoutSeconds": 100,
                 "Parameters": {"token.$": "$$.Task.Token"}, "ResultSelector": {"got.$": "$.ok.token"}}),
    ), {}, lambda: flaky(1)),
}


@pytest.mark.parametrize("name", sorted(DRIVEN))
def test_driving_through_json_gives_the_same_execution_as_run(name: str) -> None:
    definition, input, handler = DRIVEN[name]
    resources = (FUNCTION, CALLBACK)
    status, _, history = drive(definition, input, dict.fromkeys(resources, handler()), seed=3)
    result = asl.run(definition, input, handlers=dict.fromkeys(resources, handler()), seed=3)
    assert status == result.status
    assert history == result.history


def test_a_state_of_an_unknown_schema_is_refused() -> None:
    step = start(chain(("W", {"Type": "Wait", "Seconds": 1})))
    state = roundtrip(step.state)
    state["schema"] = asl.SCHEMA_VERSION + 1
    with pytest.raises(ValueError, match="schema"):
        asl.step(chain(("W", {"Type": "Wait", "Seconds": 1})), state, events.TimerFired("x", START))


def test_a_parsed_definition_runs_like_its_source() -> None:
    definition = chain(("A", {"Type": "Pass", "Result": 1}))
    assert asl.run(asl.parse(definition), {}).output == asl.run(definition, {}).output == 1
    assert asl.run(json.dumps(definition), {}).output == 1


def test_context_times_use_the_clock_of_the_events() -> None:
    assert timestamps.format(START + 0.5) == "2023-11-14T22:13:20.500Z"


# --- AWS's bound on a Wait -------------------------------------------------------------------------------


def _days_ahead(days: int) -> str:
    return timestamps.format(START + days * 86_400)


@pytest.mark.parametrize("language", ["JSONPath", "JSONata"])
def test_a_wait_further_ahead_than_aws_can_hold_fails(language: str) -> None:
    # Measured against AWS (LocalStack's tests/aws/services/stepfunctions/v2/base/test_wait.py,
    # test_timestamp_too_far_in_future_boundary): a timestamp 24,855 days ahead waits, 24,856 days ahead
    # fails; AWS holds the wait as a signed 32-bit count of seconds.
    if language == "JSONPath":
        definition = chain(("W", {"Type": "Wait", "TimestampPath": "$.at"}))
        error = errors.RUNTIME
    else:
        definition = chain(("W", {"Type": "Wait", "Timestamp": "{% $states.input.at %}"}), QueryLanguage="JSONata")
        error = errors.QUERY_EVALUATION_ERROR
    assert asl.run(definition, {"at": _days_ahead(24_855)}, start_time=START).status == "SUCCEEDED"
    result = asl.run(definition, {"at": _days_ahead(24_856)}, start_time=START)
    assert (result.status, result.error) == ("FAILED", error)
    assert "ISO-8601 extended offset date-time format string" in (result.cause or "")


# --- Express --------------------------------------------------------------------------------------------


def test_an_express_run_has_an_express_execution_arn_and_context() -> None:
    definition = chain(("Read", {"Type": "Pass", "InputPath": "$$.Execution"}))
    output = asl.run(definition, {"k": 1}, type="EXPRESS", name="job", state_machine_name="orders", seed=7).output
    # AWS's Express form (StartSyncExecution's executionArn, and $$.Execution.Id in the recording of
    # express/test_express_sync.py::test_query_runtime_memory): ...:express:<machine>:<name>:<uuid>, and
    # no RedriveCount (an Express execution cannot be redriven).
    assert re.fullmatch(r"arn:aws:states:us-east-1:123456789012:express:orders:job:[0-9a-f-]{36}", output["Id"])
    assert "RedriveCount" not in output
    again = asl.run(definition, {"k": 1}, type="EXPRESS", name="job", state_machine_name="orders", seed=7).output
    assert again["Id"] == output["Id"]  # drawn from the seed: pure, and the same on a replay
    assert asl.run(definition, {}, name="job").output["Id"].endswith(":execution:state-machine:job")


# --- the one command loop -------------------------------------------------------------------------------


class _Recorder:
    """A commands.Carrier that writes down what it was handed."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def invoke(self, command: commands.InvokeTask) -> None:
        self.calls.append(("invoke", command.task_id))

    def start_timer(self, command: commands.StartTimer) -> None:
        self.calls.append(("start", command.timer_id))

    def cancel_timer(self, command: commands.CancelTimer) -> None:
        self.calls.append(("cancel timer", command.timer_id))

    def cancel_task(self, command: commands.CancelTask) -> None:
        self.calls.append(("cancel task", command.task_id))


def test_carry_out_drops_a_task_cancelled_in_the_same_step() -> None:
    recorder = _Recorder()
    commands.carry_out([
        commands.InvokeTask("t1", FUNCTION, {}, "A", 0), commands.StartTimer("t1/timeout", START + 5),
        commands.InvokeTask("t2", FUNCTION, {}, "B", 0), commands.CancelTimer("t1/timeout"),
        commands.CancelTask("t1"),
    ], recorder)
    assert recorder.calls == [("start", "t1/timeout"), ("invoke", "t2"), ("cancel timer", "t1/timeout"),
                              ("cancel task", "t1")]


def test_a_task_whose_branch_failed_in_the_same_step_is_never_run() -> None:
    # Parallel of [Task, Fail] caught and moved on: the Fail ends the Parallel in the step that asked
    # for the Task, so the Task must not run (AWS never starts it); every driver uses the same loop.
    branches = [{"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": FUNCTION, "End": True}}},
                {"StartAt": "Stop", "States": {"Stop": {"Type": "Fail", "Error": "Stop"}}}]
    definition = chain(("Both", {"Type": "Parallel", "Branches": branches,
                                 "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "After"}]}),
                       ("After", {"Type": "Wait", "Seconds": 1}))  # the execution goes on after the step
    calls: list[Any] = []
    result = asl.run(definition, {}, handlers={FUNCTION: calls.append})
    assert result.status == "SUCCEEDED"
    assert calls == []
