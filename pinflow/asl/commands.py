"""Commands the interpreter gives out, and the one rule for carrying them out.

Drivers (the durable engine, Express, `run`, TestState) hand a step's commands to a `Carrier` through
`carry_out` and report back with events. A driver may deliver an event late or twice: the interpreter
ignores an event whose task or timer is no longer pending, so at-least-once delivery is safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

EXECUTION_TIMEOUT_TIMER = "execution-timeout"


@dataclass(frozen=True, slots=True)
class InvokeTask:
    """Run a Task state's resource with `payload`; answer with TaskSucceeded or TaskFailed.

    A Distributed Map's ItemReader comes as an InvokeTask too, with pattern "item_reader": `resource`
    is the reader's S3 action, `payload` its Parameters (Arguments) and `reader` its ReaderConfig with
    MaxItems worked out; TaskSucceeded's output is the list of items read. Its ResultWriter comes with
    pattern "result_writer" once the Map Run succeeded: `payload` is the writer's Parameters (Bucket,
    Prefix), `writer` holds `MapRunArn` and `WriterConfig`; the output is the Map's
    `{MapRunArn, ResultWriterDetails}`.

    `task_id` is unique within the execution and stable across redeliveries, so a function can use
    it (with the execution's id) to de-duplicate. `pattern` is "request_response", "sync" (`.sync`),
    "sync2" (`.sync:2`) or "wait_for_task_token"; for the last one (and for activities) `task_token`
    is what a worker hands back through SendTaskSuccess/Failure/Heartbeat. `invocation` counts the
    calls of this state in the execution from 0 (retries and re-entries through loops included; a
    mocked state's answers are chosen by it).
    """

    task_id: str
    resource: str
    payload: Any
    state_name: str
    attempt: int
    pattern: str = "request_response"
    task_token: str | None = None
    timeout_seconds: int | None = None
    heartbeat_seconds: int | None = None
    credentials: Any = None
    invocation: int = 0
    reader: dict[str, Any] | None = None
    writer: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class StartTimer:
    """Deliver TimerFired(timer_id) at `due_at` (seconds since the epoch); replaces a pending timer
    with the same id. Heartbeats re-arm `<task_id>/heartbeat` timers this way."""

    timer_id: str
    due_at: float


@dataclass(frozen=True, slots=True)
class CancelTimer:
    """The timer `timer_id` is no longer wanted (it would be ignored if it fired)."""

    timer_id: str


@dataclass(frozen=True, slots=True)
class CancelTask:
    """The task `task_id` is no longer wanted (its branch failed or the execution stopped)."""

    task_id: str


@dataclass(frozen=True, slots=True)
class StartMapRun:
    """Start a Distributed Map's Map Run: one child execution per item of `items`, running the
    processor `block` of the definition; answer with `events.MapRunEnded(run_id, ...)` once the run
    ends. A CancelTask with `run_id` aborts it (its children are stopped).

    `max_concurrency` is how many children may run at once (0: AWS's default for a Distributed Map,
    10,000); `tolerated` holds the thresholds ("count", "percentage") the run may fail up to
    (`asl.maprun.exceeded` says when it is over them); `label` names the run in its ARN and its
    children's ARNs; `execution_type` is the processor's ExecutionType. With `writes_results` (a
    ResultWriter) MapRunEnded carries no output: the children's results go to S3 instead. With
    `batched` (an ItemBatcher) each of `items` is a batch `{"Items": [...]}`.
    """

    run_id: str
    map_run_arn: str
    state_name: str
    block: str
    label: str
    items: list[Any] = field(repr=False)
    max_concurrency: int
    tolerated: dict[str, float] | None
    execution_type: str = "STANDARD"
    writes_results: bool = False
    batched: bool = False


@dataclass(frozen=True, slots=True)
class RedriveMapRun:
    """RedriveExecution of a parent whose Map Run failed: rerun the run's unsuccessful children (and
    start those never started); MapRunEnded(run_id, ...) follows as for StartMapRun."""

    run_id: str
    map_run_arn: str


Command = InvokeTask | StartTimer | CancelTimer | CancelTask | StartMapRun | RedriveMapRun


class Carrier(Protocol):
    """What carries a step's commands out: the in-memory loop runs them, the durable engine writes
    them down (outbox and timer rows) in the step's transaction."""

    def invoke(self, command: InvokeTask) -> None: ...

    def start_timer(self, command: StartTimer) -> None: ...

    def cancel_timer(self, command: CancelTimer) -> None: ...

    def cancel_task(self, command: CancelTask) -> None: ...

    def start_map_run(self, command: StartMapRun) -> None: ...

    def redrive_map_run(self, command: RedriveMapRun) -> None: ...


def carry_out(commands: Sequence[Command], carrier: Carrier) -> None:
    """Hand each command of one step to `carrier`, in order.

    A task asked for and cancelled in the same step (a sibling branch failed, a Catch moved on) is
    never invoked: its InvokeTask is dropped, its CancelTask still handed over.
    """
    # Every step of every execution comes through here: exact type checks, and no set to build for a
    # single command (it cannot both ask for a task and cancel it).
    cancelled = {c.task_id for c in commands if type(c) is CancelTask} if len(commands) > 1 else ()
    for command in commands:
        kind = type(command)
        if kind is InvokeTask:
            if command.task_id not in cancelled:  # type: ignore[union-attr]
                carrier.invoke(command)  # type: ignore[arg-type]
        elif kind is StartTimer:
            carrier.start_timer(command)  # type: ignore[arg-type]
        elif kind is CancelTimer:
            carrier.cancel_timer(command)  # type: ignore[arg-type]
        elif kind is StartMapRun:
            carrier.start_map_run(command)  # type: ignore[arg-type]
        elif kind is RedriveMapRun:
            carrier.redrive_map_run(command)  # type: ignore[arg-type]
        else:
            carrier.cancel_task(command)  # type: ignore[arg-type]
