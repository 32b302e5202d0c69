"""Map Runs (a Distributed Map's child executions), the parts every driver shares: the Map Run's ARN,
the definition its children run, and when a run's failures are over its tolerated thresholds.

A Distributed Map runs each item as a child execution with a history of its own; the parent records
MapRunStarted and, when the run ends, MapRunSucceeded or MapRunFailed. Drivers count outcomes (never
keep lists of them in the parent's state) and decide with `exceeded` and `Tally`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from pinflow.asl import errors
from pinflow.asl.definition import Definition

# AWS runs up to 10,000 children of a Distributed Map at once when MaxConcurrency is 0 or absent.
DEFAULT_MAX_CONCURRENCY = 10_000
EXCEEDED_CAUSE = "The specified tolerated failure threshold was exceeded"
# A Map Run's id in its execution begins with this (a task's with "t"): a CancelTask naming one aborts
# the run.
RUN_ID_PREFIX = "m"


def is_run_id(task_id: str) -> bool:
    """Whether a CancelTask's id names a Map Run rather than a task."""
    return task_id.startswith(RUN_ID_PREFIX)


def arn(execution_arn: str, machine_name: str, label: str, draw: int) -> str:
    """`arn:aws:states:<region>:<account>:mapRun:<machine>/<label>:<uuid>`, in the execution's region
    and account; `draw` is 128 random bits (from the execution's seed)."""
    parts = execution_arn.split(":")
    region, account = (parts[3], parts[4]) if len(parts) > 4 else ("us-east-1", "123456789012")
    return f"arn:aws:states:{region}:{account}:mapRun:{machine_name}/{label}:{uuid.UUID(int=draw, version=4)}"


def run_machine_arn(map_run_arn: str) -> str:
    """The ARN AWS gives the children's state machine: `...:stateMachine:<machine>/<label>`."""
    head, _, rest = map_run_arn.partition(":mapRun:")
    return f"{head}:stateMachine:{rest.rpartition(':')[0]}"


def child_execution_arn(map_run_arn: str, name: str) -> str:
    """A child's ARN: `...:execution:<machine>/<label>:<name>`."""
    head, _, rest = map_run_arn.partition(":mapRun:")
    return f"{head}:execution:{rest.rpartition(':')[0]}:{name}"


def child_express_arn(map_run_arn: str, name: str, run_uuid: str) -> str:
    """An Express child's ARN: `...:express:<machine>/<label>:<name>:<uuid>`."""
    head, _, rest = map_run_arn.partition(":mapRun:")
    return f"{head}:express:{rest.rpartition(':')[0]}:{name}:{run_uuid}"


def child_definition(definition: Definition, block: str) -> dict[str, Any]:
    """The state machine a child runs: the processor `block`'s StartAt and States, in the language
    the parent's definition gives (a processor inherits QueryLanguage)."""
    processor = definition.blocks[block]
    child = {"StartAt": processor["StartAt"], "States": processor["States"]}
    if definition.raw.get("QueryLanguage"):
        child["QueryLanguage"] = definition.raw["QueryLanguage"]
    return child


def exit_links_run_start(state: dict[str, Any], entered_first: bool) -> bool:
    """Whether AWS links a Distributed Map's MapStateExited to MapRunStarted rather than to
    MapRunSucceeded (as MapStateSucceeded is). AWS's recordings do so for a Map entered after other
    states (its MapStateEntered does not link to 0) whose result replaces its input (no ResultPath);
    a Map that is the first state, or that has a ResultPath, links it to MapRunSucceeded."""
    return not entered_first and "ResultPath" not in state


def exceeded(failed: int, total: int, tolerated: dict[str, float] | None) -> bool:
    """Whether `failed` of `total` children is over the thresholds (none given: any failure is)."""
    if not tolerated:
        return failed > 0
    over_count = "count" in tolerated and failed > tolerated["count"]
    over_percentage = "percentage" in tolerated and failed * 100.0 / max(total, 1) > tolerated["percentage"]
    return bool(over_count or over_percentage)


@dataclass(slots=True)
class Tally:
    """A Map Run's counters, as DescribeMapRun's itemCounts and executionCounts show them."""

    total: int
    started: int = 0
    succeeded: int = 0
    failed: int = 0
    timed_out: int = 0
    aborted: int = 0

    @property
    def running(self) -> int:
        return self.started - self.succeeded - self.failed - self.timed_out - self.aborted

    @property
    def pending(self) -> int:
        return self.total - self.started

    def ended(self, status: str) -> None:
        """A child ended with `status` (SUCCEEDED, FAILED, TIMED_OUT or ABORTED)."""
        if status == "SUCCEEDED":
            self.succeeded += 1
        elif status == "TIMED_OUT":
            self.timed_out += 1
        elif status == "ABORTED":
            self.aborted += 1
        else:
            self.failed += 1

    @property
    def failures(self) -> int:
        """What the tolerated thresholds count: failed, timed out and aborted children."""
        return self.failed + self.timed_out + self.aborted

    def over(self, tolerated: dict[str, float] | None) -> bool:
        return exceeded(self.failures, self.total, tolerated)

    def may_start(self, max_concurrency: int) -> int:
        """How many more children may start now."""
        limit = max_concurrency or DEFAULT_MAX_CONCURRENCY
        return max(0, min(self.pending, limit - self.running))


def failure() -> tuple[str, str]:
    """The error and cause of a Map Run whose failures went over its thresholds."""
    return errors.EXCEED_TOLERATED_FAILURE_THRESHOLD, EXCEEDED_CAUSE


def error_output(error: str | None, cause: str | None) -> dict[str, Any]:
    """What a failed child tolerated by the thresholds leaves in the Map's output."""
    return {"Error": error or "", "Cause": cause or ""}
