"""Events the interpreter takes in: what happened outside it since the last step.

Every event carries `at`, the time it happened in seconds since the epoch. The interpreter reads
time only from here, which keeps it free of clocks and lets drivers use a virtual one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Start:
    """Start an execution.

    `execution` holds the context object's Execution fields (Id, Name, RoleArn, StartTime, ...);
    `state_machine` holds StateMachine (Id, Name). `seed` feeds every random draw (jitter,
    States.UUID, $random, task tokens) so a replay draws the same values.
    """

    input: Any
    at: float
    execution: dict[str, Any] = field(default_factory=dict)
    state_machine: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    type: str = "STANDARD"


@dataclass(frozen=True, slots=True)
class TaskSucceeded:
    """The task `task_id` (from an InvokeTask command) returned `output`."""

    task_id: str
    output: Any
    at: float


@dataclass(frozen=True, slots=True)
class TaskFailed:
    """The task `task_id` failed with an error name and cause (e.g. a function's errorType)."""

    task_id: str
    error: str
    cause: str | None
    at: float


@dataclass(frozen=True, slots=True)
class TaskStarted:
    """The task `task_id` was picked up (activities: a worker's GetActivityTask). Optional."""

    task_id: str
    at: float
    worker_name: str | None = None


@dataclass(frozen=True, slots=True)
class TaskSubmitted:
    """The task `task_id` started something that runs on its own (a child execution, a `.sync` job):
    `output` is what starting it answered. TaskSucceeded or TaskFailed follows when it ends."""

    task_id: str
    output: Any
    at: float


@dataclass(frozen=True, slots=True)
class TimerFired:
    """The timer `timer_id` (from a StartTimer command) is due."""

    timer_id: str
    at: float


@dataclass(frozen=True, slots=True)
class StopRequested:
    """StopExecution: abort the execution with an optional error and cause."""

    at: float
    error: str | None = None
    cause: str | None = None


@dataclass(frozen=True, slots=True)
class Redrive:
    """RedriveExecution: resume a FAILED, TIMED_OUT or ABORTED execution at the states that failed."""

    at: float


@dataclass(frozen=True, slots=True)
class MapRunEnded:
    """The Map Run `run_id` (from a StartMapRun command) ended: `status` SUCCEEDED with `output` (the
    children's outputs in item order; a failed child tolerated by the thresholds gives its error
    output), or FAILED/ABORTED with an error and cause."""

    run_id: str
    status: str
    at: float
    output: Any = None
    error: str | None = None
    cause: str | None = None


Event = (Start | TaskSucceeded | TaskFailed | TaskStarted | TaskSubmitted | TimerFired | StopRequested | Redrive
         | MapRunEnded)
