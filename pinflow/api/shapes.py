"""Step Functions' API shapes: request members checked with AWS's wording, and answers shaped from rows.

Requests: `Params` reads members by their JSON type and checks the model's constraints, raising
ValidationException worded as AWS words it ("1 validation error detected: ..."). Answers: executions
and history events as DescribeExecution, ListExecutions and GetExecutionHistory give them, with
inputs and outputs rendered as JSON text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pinflow import arns, errors
from pinflow.asl import history as asl_history

# ListExecutions' statusFilter, in the order AWS lists the allowed values in its error message.
STATUS_FILTER = ("SUCCEEDED", "TIMED_OUT", "PENDING_REDRIVE", "ABORTED", "FAILED", "RUNNING")
REDRIVABLE = frozenset({"FAILED", "TIMED_OUT", "ABORTED"})
# Members of history event details kept as JSON values and sent as JSON text; they are the execution
# data that includeExecutionData=false leaves out. (TaskScheduled's `parameters` is text already.)
DATA_MEMBERS = ("input", "output")


class ParamError(Exception):
    """A member has the wrong JSON type (AWS answers SerializationException)."""


class Params:
    """A request's members, read by type. Absent and null members are the same, as in botocore."""

    def __init__(self, body: Mapping[str, Any]) -> None:
        self.body = body

    def get(self, name: str) -> Any:
        """A member as it came (None when absent)."""
        return self.body.get(name)

    def _typed(self, name: str, kind: type | tuple[type, ...], required: bool) -> Any:
        value = self.body.get(name)
        if value is None:
            if required:
                raise errors.validation(name, None, "Member must not be null")
            return None
        # bool is an int in Python, so integer members refuse true/false explicitly.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ParamError(f"Unexpected JSON type for member '{name}'")
        return value

    def string(self, name: str, *, required: bool = False, low: int = 0, high: int | None = None,
               sensitive: bool = False) -> str | None:
        """A string member within [low, high] characters."""
        value = self._typed(name, str, required)
        if value is None:
            return None
        if len(value) < low:
            raise errors.validation(name, value, f"Member must have length greater than or equal to {low}",
                          sensitive=sensitive)
        if high is not None and len(value) > high:
            raise errors.validation(name, value, f"Member must have length less than or equal to {high}",
                          sensitive=sensitive)
        return value

    def required(self, name: str, *, high: int | None = None, sensitive: bool = False) -> str:
        """A required string member (at least one character)."""
        value = self.string(name, required=True, low=1, high=high, sensitive=sensitive)
        assert value is not None
        return value

    def integer(self, name: str, *, low: int | None = None, high: int | None = None) -> int | None:
        """An integer member within [low, high]."""
        value = self._typed(name, int, False)
        if value is None:
            return None
        if low is not None and value < low:
            raise errors.validation(name, value, f"Member must have value greater than or equal to {low}")
        if high is not None and value > high:
            raise errors.validation(name, value, f"Member must have value less than or equal to {high}")
        return int(value)

    def boolean(self, name: str, default: bool = False) -> bool:
        """A boolean member, `default` when absent."""
        value = self._typed(name, bool, False)
        return default if value is None else bool(value)

    def struct(self, name: str) -> dict[str, Any] | None:
        """An object member."""
        return self._typed(name, dict, False)

    def items(self, name: str, *, required: bool = False) -> list[Any] | None:
        """A list member."""
        return self._typed(name, list, required)

    def enum(self, name: str, allowed: Sequence[str], default: str | None = None) -> str | None:
        """A string member that must be one of `allowed`."""
        value = self.string(name)
        if value is None:
            return default
        if value not in allowed:
            raise errors.validation(name, value, f"Member must satisfy enum value set: [{', '.join(allowed)}]")
        return value

    def token(self, name: str = "nextToken", high: int = 1024) -> str | None:
        """A pagination token (1 to `high` characters)."""
        return self.string(name, low=1, high=high)


# --- answers ---------------------------------------------------------------------------------------


def json_text(value: Any) -> str:
    """A JSON value as the JSON text AWS sends (compact, non-ASCII kept)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def machine_arn(name: str) -> str:
    """The state machine ARN of a machine name."""
    return arns.state_machine(name)


def redrive_status(status: str) -> tuple[str, str | None]:
    """DescribeExecution's redriveStatus and redriveStatusReason for an execution's status."""
    if status in REDRIVABLE:
        return "REDRIVABLE", None
    return "NOT_REDRIVABLE", f"Execution is {status} and cannot be redriven"


def describe_execution(row: Mapping[str, Any], *, include_data: bool = True) -> dict[str, Any]:
    """DescribeExecution from an execution row: a ListExecutions item and the execution's data."""
    shaped = execution_item(row)
    if include_data:
        shaped["input"] = row["input"]
    shaped["inputDetails"] = {"included": include_data}
    if row["status"] == "SUCCEEDED":
        if include_data:
            shaped["output"] = row["output"]
        shaped["outputDetails"] = {"included": include_data}
    if row.get("trace_header"):
        shaped["traceHeader"] = row["trace_header"]
    if row.get("map_run"):
        shaped["mapRunArn"] = row["map_run"]
    if row["error"] is not None:
        shaped["error"] = row["error"]
    if row["cause"] is not None:
        shaped["cause"] = row["cause"]
    status, reason = redrive_status(row["status"])
    shaped["redriveStatus"] = status
    if reason is not None:
        shaped["redriveStatusReason"] = reason
    return shaped


def execution_item(row: Mapping[str, Any]) -> dict[str, Any]:
    """One ListExecutions item from an execution row."""
    item: dict[str, Any] = {
        "executionArn": row["arn"],
        "stateMachineArn": machine_arn(row["machine"]),
        "name": row["name"],
        "status": row["status"],
        "startDate": row["started_at"],
    }
    if row["stopped_at"] is not None:
        item["stopDate"] = row["stopped_at"]
    if row["version_arn"]:
        item["stateMachineVersionArn"] = row["version_arn"]
    if row["alias_arn"]:
        item["stateMachineAliasArn"] = row["alias_arn"]
    item["redriveCount"] = int(row["redrive_count"] or 0)
    if row["redrive_date"] is not None:
        item["redriveDate"] = row["redrive_date"]
    return item


def history_event(event: Mapping[str, Any], *, include_data: bool = True) -> dict[str, Any]:
    """A HistoryEvent as GetExecutionHistory sends it: data members as JSON text, or left out."""
    member = asl_history.DETAILS.get(event["type"])
    if member is None or member not in event:
        return dict(event)
    shaped = dict(event)
    details = dict(event[member])
    for key in DATA_MEMBERS:
        if key in details:
            if include_data:
                details[key] = json_text(details[key])
            else:
                del details[key]
    shaped[member] = details
    return shaped


def history_events(events: Iterable[Mapping[str, Any]], *, include_data: bool = True) -> list[dict[str, Any]]:
    """Many HistoryEvents shaped as `history_event` shapes one."""
    return [history_event(event, include_data=include_data) for event in events]
