"""In-memory drivers of the interpreter: `run` (a whole execution) and `test_state` (one state).

Both use a virtual clock: a Wait or a retry back-off moves the clock forward instead of sleeping.
Tasks run through Python callables given by the caller, synchronously, at the current virtual time.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pinflow.asl import commands as cmd
from pinflow.asl import events, interpreter, source
from pinflow.asl.definition import Definition, parse
from pinflow.asl.errors import AslError

# The virtual clock's default start: a fixed moment, since this package never reads the real clock.
DEFAULT_START = 1_700_000_000.0
ACCOUNT = "123456789012"
REGION = "us-east-1"

Handler = Callable[[Any], Any]


@dataclass(slots=True)
class Result:
    """How an execution (or a tested state) ended."""

    status: str
    output: Any = None
    error: str | None = None
    cause: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    next_state: str | None = None
    inspection_data: dict[str, Any] | None = None
    state: dict[str, Any] | None = None


class TaskError(Exception):
    """Raise from a task handler to fail the task with an exact error name and cause."""

    def __init__(self, error: str, cause: str | None = None) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause


def run(
    definition: Definition | dict[str, Any] | str,
    input: Any = None,
    *,
    handlers: Mapping[str, Handler] | None = None,
    name: str = "execution",
    state_machine_name: str = "state-machine",
    type: str = "STANDARD",
    seed: int = 0,
    start_time: float = DEFAULT_START,
    clock: Callable[[], float] | None = None,
    max_events: int = 1_000_000,
) -> Result:
    """Run an execution to its end in memory.

    Args:
        definition: the state machine (dict, JSON/YAML text or a parsed Definition).
        input: the execution input (default `{}`).
        handlers: maps a Task's Resource to a callable taking the payload and returning the result;
            raise TaskError (or any exception: its class name becomes the error) to fail the task.
        clock: a real clock for callers that want real time (the CLI): Waits then really wait.
        max_events: stop after this many events (an endless loop of states).

    Returns:
        The Result; `status` is RUNNING when the execution waits on something nothing will deliver.
    """
    parsed = parse(definition)
    arn = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{state_machine_name}"
    start = events.Start(
        input={} if input is None else input, at=clock() if clock else start_time,
        execution={"Id": f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{state_machine_name}:{name}", "Name": name,
                   "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/{state_machine_name}-role"},
        state_machine={"Id": arn, "Name": state_machine_name}, seed=seed, type=type,
    )
    return _Loop(parsed, handlers or {}, clock).run(start, max_events)


class _Loop:
    def __init__(self, definition: Definition, handlers: Mapping[str, Handler],
                 clock: Callable[[], float] | None) -> None:
        self.definition = definition
        self.handlers = handlers
        self.clock = clock
        self.timers: list[tuple[float, int, str]] = []
        self.due: dict[str, float] = {}
        self.inbox: deque[events.Event] = deque()
        self.history: list[dict[str, Any]] = []
        self.sequence = 0

    def run(self, start: events.Event, max_events: int, state: dict[str, Any] | None = None) -> Result:
        now = start.at
        event: events.Event | None = start
        for _ in range(max_events):
            if event is None:
                break
            result = interpreter.step(self.definition, state, event)
            state = result.state
            self.history.extend(result.history)
            if state["status"] != interpreter.RUNNING:
                break
            cancelled = {c.task_id for c in result.commands if isinstance(c, cmd.CancelTask)}
            for command in result.commands:
                if not (isinstance(command, cmd.InvokeTask) and command.task_id in cancelled):
                    self.carry_out(command, now)
            event = self.next_event()
            if event is not None:
                now = event.at
        assert state is not None
        return Result(state["status"], state.get("output"), state.get("error"), state.get("cause"),
                      self.history, state=state)

    def carry_out(self, command: cmd.Command, now: float) -> None:
        if isinstance(command, cmd.StartTimer):
            self.sequence += 1
            self.due[command.timer_id] = command.due_at
            heapq.heappush(self.timers, (command.due_at, self.sequence, command.timer_id))
        elif isinstance(command, cmd.CancelTimer):
            self.due.pop(command.timer_id, None)
        elif isinstance(command, cmd.InvokeTask):
            self.inbox.append(self.invoke(command, now))

    def invoke(self, command: cmd.InvokeTask, now: float) -> events.Event:
        handler = self.handlers.get(command.resource)
        if handler is None:
            error, cause = _unknown_resource(command.resource)
            return events.TaskFailed(command.task_id, error, cause, now)
        try:
            output = handler(command.payload)
        except TaskError as exc:
            return events.TaskFailed(command.task_id, exc.error, exc.cause, now)
        except AslError as exc:
            return events.TaskFailed(command.task_id, exc.error, exc.cause, now)
        except Exception as exc:  # noqa: BLE001 - a handler's error is the task's error, as in Lambda
            return events.TaskFailed(command.task_id, type(exc).__name__, str(exc), now)
        return events.TaskSucceeded(command.task_id, output, now)

    def next_event(self) -> events.Event | None:
        if self.inbox:
            return self.inbox.popleft()
        while self.timers:
            due, _, timer_id = heapq.heappop(self.timers)
            if self.due.get(timer_id) != due:
                continue  # cancelled or re-armed
            del self.due[timer_id]
            if self.clock is not None:
                _sleep_until(self.clock, due)
            return events.TimerFired(timer_id, due)
        return None


def _sleep_until(clock: Callable[[], float], due: float) -> None:
    # The only real waiting in this package, and only when the caller gave a real clock; the
    # clock's owner provides sleeping through the `sleep` attribute to keep this module pure.
    sleep = getattr(clock, "sleep", None)
    if sleep is not None:
        sleep(max(0.0, due - clock()))


def _unknown_resource(resource: str) -> tuple[str, str]:
    parts = resource.split(":")
    if len(parts) >= 7 and parts[2] == "lambda":
        return "Lambda.ResourceNotFoundException", (
            f"Function not found: {resource} (Service: AWSLambda; Status Code: 404; "
            "Error Code: ResourceNotFoundException)")
    return "States.Runtime", f"No handler for the resource '{resource}'"


def test_state(
    definition: dict[str, Any] | str,
    input: Any = None,
    *,
    variables: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
    inspection_level: str = "INFO",
    handlers: Mapping[str, Handler] | None = None,
    state_name: str | None = None,
) -> Result:
    """Run one state, like the TestState API.

    Args:
        definition: one state, or a whole machine together with `state_name`.
        input: the state's input.
        variables: the workflow variables the state sees.
        context: fields merged into the context object (Execution, State, ...).
        inspection_level: INFO, DEBUG or TRACE; DEBUG and TRACE fill `inspection_data`.

    Returns:
        status SUCCEEDED, FAILED, RETRIABLE or CAUGHT_ERROR, with output or error and cause, and
        `next_state`.
    """
    raw = source.load(definition)
    if state_name is not None:
        machine = raw
        language = raw.get("QueryLanguage")
    else:
        state_name = "TestState"
        machine = {"StartAt": state_name, "States": {state_name: raw}}
        language = None
        if isinstance(raw, dict) and raw.get("QueryLanguage"):
            language = raw["QueryLanguage"]
    if language:
        machine = dict(machine, QueryLanguage=language)
    parsed = Definition(machine)
    state: dict[str, Any] = {"test": True, "test_no_handlers": False, "inspect": {} if inspection_level in
                             ("DEBUG", "TRACE") else None}
    start = events.Start(input={} if input is None else input, at=DEFAULT_START,
                         execution={"Id": f"arn:aws:states:{REGION}:{ACCOUNT}:execution:test:test", "Name": "test"},
                         state_machine={"Id": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:test",
                                        "Name": "test"})
    state["preset_vars"] = dict(variables or {})
    state["preset_context"] = dict(context or {})
    state["start_at"] = state_name
    result = _Loop(parsed, handlers or {}, None).run(start, 10_000, state)
    final = result.state or {}
    status = final.get("test_status") or result.status
    if status == "CAUGHT_ERROR":
        caught = final.get("test_error") or {}
        return Result(status, result.output, caught.get("Error"), caught.get("Cause"), result.history,
                      final.get("next_state"), final.get("inspect"), final)
    if status == "RETRIABLE":
        return Result(status, None, result.error, result.cause, result.history, None, final.get("inspect"), final)
    return Result(result.status, result.output, result.error, result.cause, result.history,
                  final.get("next_state"), final.get("inspect"), final)
