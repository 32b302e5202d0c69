"""In-memory drivers of the interpreter: `run` (a whole execution) and `test_state` (one state).

Both run through `pinflow.asl.loop` with a virtual clock: a Wait or a retry back-off moves the clock
forward instead of sleeping. Tasks run through Python callables given by the caller, synchronously,
at the current virtual time.
"""

from __future__ import annotations

import functools
import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pinflow.asl import commands as cmd
from pinflow.asl import events, loop, source, testing
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
    answer: loop.Invoke | None = None,
) -> Result:
    """Run an execution to its end in memory.

    Args:
        definition: the state machine (dict, JSON/YAML text or a parsed Definition).
        input: the execution input (default `{}`).
        handlers: maps a Task's Resource to a callable taking the payload and returning the result;
            raise TaskError (or any exception: its class name becomes the error) to fail the task.
        type: "STANDARD" or "EXPRESS" (Express's execution ARN, five-minute limit, context object).
        seed: feeds every random draw, the Express execution ARN's uuid included.
        clock: a real clock for callers that want real time (the CLI): Waits then really wait.
        max_events: stop after this many events (an endless loop of states).
        answer: asked first for each task (a mocked answer, say): its event ends the task; None hands
            the task to `handlers`.

    Returns:
        The Result; `status` is RUNNING when the execution waits on something nothing will deliver.
    """
    parsed = parse(definition)
    arn = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{state_machine_name}"
    if type == "EXPRESS":
        # AWS's Express form: arn:aws:states:<region>:<account>:express:<machine>:<name>:<uuid>.
        run_id = uuid.UUID(int=random.Random(f"{seed}/execution").getrandbits(128), version=4)
        execution_arn = f"arn:aws:states:{REGION}:{ACCOUNT}:express:{state_machine_name}:{name}:{run_id}"
    else:
        execution_arn = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{state_machine_name}:{name}"
    start = events.Start(
        input={} if input is None else input, at=clock() if clock else start_time,
        execution={"Id": execution_arn, "Name": name,
                   "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/{state_machine_name}-role"},
        state_machine={"Id": arn, "Name": state_machine_name}, seed=seed, type=type,
    )
    wait_until = functools.partial(_sleep_until, clock) if clock is not None else None
    invoke: loop.Invoke = functools.partial(_invoke, handlers or {})
    if answer is not None:
        invoke = functools.partial(_answered, answer, invoke)
    finished = loop.Loop(parsed, invoke, wait_until=wait_until).run(start, max_events)
    state = finished.state
    return Result(state["status"], state.get("output"), state.get("error"), state.get("cause"),
                  finished.history, state=state)


def _answered(answer: loop.Invoke, otherwise: loop.Invoke, command: cmd.InvokeTask, now: float) -> events.Event | None:
    answered = answer(command, now)
    return answered if answered is not None else otherwise(command, now)


def _invoke(handlers: Mapping[str, Handler], command: cmd.InvokeTask, now: float) -> events.Event:
    """A task run through the caller's handler for its resource."""
    handler = handlers.get(command.resource)
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
        context: the context object the state sees (as given), instead of an execution's.
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
    options = testing.Options(state_name, dict(variables or {}), None if context is None else dict(context),
                              inspect=inspection_level in ("DEBUG", "TRACE"))
    start = events.Start(input={} if input is None else input, at=DEFAULT_START,
                         execution={"Id": f"arn:aws:states:{REGION}:{ACCOUNT}:execution:test:test", "Name": "test"},
                         state_machine={"Id": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:test",
                                        "Name": "test"})
    finished = loop.Loop(Definition(machine), functools.partial(_invoke, handlers or {}), test=options).run(
        start, 10_000)
    state, outcome = finished.state, finished.test or testing.Outcome()
    inspection = outcome.inspection if options.inspect else None
    if outcome.status == testing.CAUGHT_ERROR:
        caught = outcome.error or {}
        return Result(outcome.status, state.get("output"), caught.get("Error"), caught.get("Cause"),
                      finished.history, outcome.next_state, inspection, state)
    if outcome.status == testing.RETRIABLE:
        return Result(outcome.status, None, state.get("error"), state.get("cause"), finished.history, None,
                      inspection, state)
    return Result(state["status"], state.get("output"), state.get("error"), state.get("cause"), finished.history,
                  outcome.next_state, inspection, state)
