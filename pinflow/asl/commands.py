"""Commands the interpreter gives out: what its driver must do after persisting a step.

Drivers (the durable engine, Express, `run`, TestState) carry these out and report back with
events. A driver may deliver an event late or twice: the interpreter ignores an event whose task or
timer is no longer pending, so at-least-once delivery is safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

EXECUTION_TIMEOUT_TIMER = "execution-timeout"


@dataclass(frozen=True, slots=True)
class InvokeTask:
    """Run a Task state's resource with `payload`; answer with TaskSucceeded or TaskFailed.

    `task_id` is unique within the execution and stable across redeliveries, so a function can use
    it (with the execution's id) to de-duplicate. `pattern` is "request_response", "sync" or
    "wait_for_task_token"; for the last one (and for activities) `task_token` is what a worker
    hands back through SendTaskSuccess/Failure/Heartbeat.
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


Command = InvokeTask | StartTimer | CancelTimer | CancelTask
