"""Step Functions operations on executions: start (async and sync), describe, list, history, stop,
redrive, task tokens and activity tasks.

Standard executions live in the store and are driven by the engine; Express ones run in memory and
leave nothing to describe, as on AWS (their ARNs are refused by the describe operations).
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
import weakref
from typing import Any

from pinflow import arns, errors, jsontext
from pinflow.api import lanes, shapes
from pinflow.api.shapes import Params
from pinflow.asl import maprun
from pinflow.asl.definition import Definition
from pinflow.engine import express, mapruns
from pinflow.engine.integrations import mock
from pinflow.registry import paging, sfn_shapes

PAYLOAD_LIMIT = 262_144
INCLUDED_DATA = ("ALL_DATA", "METADATA_ONLY")
NOT_SUPPORTED = "This operation is not supported by this type of state machine"
# GetActivityTask waits this long for a task, in slices so that a stopping server is noticed.
ACTIVITY_POLL_SECONDS = 60.0
# RedriveExecution is idempotent per clientToken for 15 minutes.
REDRIVE_TOKEN_SECONDS = 900.0


def check_input(text: str | None, error: type[errors.ServiceError] = errors.InvalidExecutionInput) -> Any:
    """An execution input (JSON text, `{}` when absent), refused in AWS's words when it is not JSON.

    Returns:
        The parsed value.
    """
    if text is None:
        return {}
    if not text.strip():
        raise error("Invalid State Machine Execution Input: 'Invalid execution input.'")
    if len(text.encode("utf-8")) > PAYLOAD_LIMIT:
        raise error(f"Invalid State Machine Execution Input: 'The input size exceeds the maximum number of "
                    f"bytes service limit ({PAYLOAD_LIMIT})'")
    try:
        return jsontext.parse(text)
    except ValueError as exc:  # not JSON, nested too deeply, or a lone surrogate that could not be stored
        raise error(f"Invalid State Machine Execution Input: '{exc}'") from None


def execution_arn(arn: str) -> str:
    """Refuse what is not a Standard execution ARN, with AWS's wording.

    Raises:
        InvalidArn: not an ARN, or an Express execution, or another resource.
    """
    parsed = arns.parse(arn)
    if parsed is None:
        raise errors.InvalidArn(f"Invalid Arn: 'Invalid ARN prefix: {arn}'")
    kind = parsed.parts[0]
    if parsed.service != "states" or kind != "execution" or len(parsed.parts) != 3:
        raise errors.InvalidArn(f"Invalid Arn: 'Resource type not valid in this context: {kind}'")
    return arn


def _arn_param(p: Params, name: str = "executionArn") -> str:
    return execution_arn(p.required(name, high=256))


# --- starting ----------------------------------------------------------------------------------------


def _embedded(pf: Any) -> bool:
    """Whether the store is a file of this process's own (SQLite): then the engine's reads and its first
    step of a start are done on the event loop, since a read there costs less than handing the request to
    a thread and back; a database across the network (PostgreSQL) is read from the shared pool."""
    return not pf.engine.store.dialect.shared


async def start_execution(pf: Any, p: Params) -> dict[str, Any]:
    """StartExecution by machine, version or alias ARN; a running Standard execution of the same name and
    input is returned again. Answered once the start is committed, which no thread waits for."""
    arn, test_case = _test_case(pf, p.required("stateMachineArn", high=256))
    name = p.string("name", low=1, high=80)
    input_text = p.string("input", high=PAYLOAD_LIMIT, sensitive=True)
    trace_header = p.string("traceHeader", high=256)
    sfn_shapes.split(arn)
    check_input(input_text)
    start = pf.engine.start_execution_async
    if _embedded(pf) and (input_text is None or len(input_text) < jsontext.INLINE_BYTES) and arn not in _SLOW_STARTS:
        began = time.thread_time()  # the loop's own time: not what it waited for the interpreter lock
        try:
            committed = start(arn, name=name, input=input_text, trace_header=trace_header, test_case=test_case)
        finally:
            _judge_start(arn, time.thread_time() - began)
    else:
        committed = await lanes.blocking(lambda: start(arn, name=name, input=input_text,
                                                       trace_header=trace_header, test_case=test_case))
    return await lanes.committed(committed)


# A machine whose starts take the event loop's thread this much CPU (a Map or a long chain run to its first
# Task, say) SLOW_STRIKES times in a row, or LONG_START_SECONDS once, starts on the shared pool from then
# on, where other requests are served meanwhile. One start a little slow is not enough: a collector's
# pass (a young one took about 13 ms on a two-core machine, a full one up to about 36 ms) or the first
# read of a machine can land in any start. At most SLOW_STARTS_KEPT machines are remembered.
SLOW_START_SECONDS = 0.005
SLOW_STRIKES = 2
LONG_START_SECONDS = 0.05
SLOW_STARTS_KEPT = 1024
_SLOW_STARTS: set[str] = set()
_STRIKES: dict[str, int] = {}


def _judge_start(arn: str, seconds: float) -> None:
    if seconds <= SLOW_START_SECONDS:
        if _STRIKES:
            _STRIKES.pop(arn, None)
        return
    strikes = _STRIKES.get(arn, 0) + 1
    if strikes < SLOW_STRIKES and seconds <= LONG_START_SECONDS:
        if len(_STRIKES) >= SLOW_STARTS_KEPT:
            _STRIKES.clear()
        _STRIKES[arn] = strikes
        return
    _STRIKES.pop(arn, None)
    if len(_SLOW_STARTS) >= SLOW_STARTS_KEPT:
        _SLOW_STARTS.clear()
    _SLOW_STARTS.add(arn)


def _test_case(pf: Any, arn: str) -> tuple[str, str | None]:
    """Step Functions Local's `<state machine ARN>#<test case>`, on a server given a mock configuration
    (`integrations.mock`); elsewhere the ARN is taken as it is, as AWS takes it."""
    if pf.engine.mocks is None:
        return arn, None
    return mock.split_arn(arn)


async def start_sync_execution(pf: Any, p: Params) -> dict[str, Any]:
    """StartSyncExecution: run an Express execution to its end (in the lane for long requests) and answer
    with the outcome."""
    return await lanes.SYNC.run(_start_sync_execution, pf, p)


def _start_sync_execution(pf: Any, p: Params) -> dict[str, Any]:
    arn, test_case = _test_case(pf, p.required("stateMachineArn", high=256))
    name = p.string("name", low=1, high=80)
    input_text = p.string("input", high=PAYLOAD_LIMIT, sensitive=True)
    trace_header = p.string("traceHeader", high=256)
    include = p.enum("includedData", INCLUDED_DATA, "ALL_DATA") == "ALL_DATA"
    sfn_shapes.split(arn)
    if name is not None:
        sfn_shapes.check_name(name)
    value = check_input(input_text)
    target = pf.machines.resolve_start(arn, rng=random.Random())
    if target.machine["type"] != "EXPRESS":
        raise errors.StateMachineTypeNotSupported(NOT_SUPPORTED)
    outcome = express.start_sync(pf.engine, target, name, value, test_case)
    shaped: dict[str, Any] = {
        "executionArn": outcome["executionArn"],
        "stateMachineArn": outcome["stateMachineArn"],
        "name": outcome["name"],
        "startDate": outcome["startDate"],
        "stopDate": outcome["stopDate"],
        "status": outcome["status"],
    }
    for key in ("error", "cause"):
        if outcome.get(key) is not None:
            shaped[key] = outcome[key]
    if include:
        shaped["input"] = "{}" if input_text is None else input_text
    shaped["inputDetails"] = {"included": include}
    if outcome.get("output") is not None and include:
        # Express renders its output with spaces; AWS sends compact JSON text.
        shaped["output"] = shapes.json_text(json.loads(outcome["output"]))
    # AWS sends outputDetails whatever the status: a FAILED answer has it, without an output.
    shaped["outputDetails"] = {"included": include}
    if trace_header:
        shaped["traceHeader"] = trace_header
    elapsed_ms = max(0.0, (outcome["stopDate"] - outcome["startDate"]) * 1000)
    # Express bills in 100 ms steps and at least 64 MB.
    shaped["billingDetails"] = {"billedMemoryUsedInMB": 64,
                                "billedDurationInMilliseconds": max(100, math.ceil(elapsed_ms / 100) * 100)}
    return shaped


# --- reading -------------------------------------------------------------------------------------------


async def describe_execution(pf: Any, p: Params) -> dict[str, Any]:
    """DescribeExecution of a Standard execution."""
    arn = _arn_param(p)
    include = p.enum("includedData", INCLUDED_DATA, "ALL_DATA") == "ALL_DATA"
    row = pf.engine.described_row(arn) if _embedded(pf) else await lanes.blocking(pf.engine.described_row, arn)
    return shapes.describe_execution(row, include_data=include)


def describe_state_machine_for_execution(pf: Any, p: Params) -> dict[str, Any]:
    """DescribeStateMachineForExecution: the revision the execution runs."""
    arn = _arn_param(p)
    p.enum("includedData", INCLUDED_DATA)
    row = pf.engine.execution_row(arn)
    answer: dict[str, Any] = pf.machines.revision(row["revision_id"])
    if row["map_run"]:
        # A Map Run's child (AWS): the Map Run's machine `<machine>/<label>`, whose definition is the
        # Map's processor, and the run's ARN and label.
        block = json.loads(row["pins"]).get("map_block")
        definition = Definition(json.loads(answer["definition"]))
        answer.update(stateMachineArn=maprun.run_machine_arn(row["map_run"]), name=row["machine"],
                      definition=json.dumps(maprun.child_definition(definition, block)),
                      mapRunArn=row["map_run"], label=row["machine"].partition("/")[2])
    return answer


def list_executions(pf: Any, p: Params) -> dict[str, Any]:
    """ListExecutions of a machine, a version or an alias, newest first, with the status and redrive
    filters."""
    machine_arn = p.string("stateMachineArn", low=1, high=256)
    map_run_arn = p.string("mapRunArn", low=1, high=2000)
    status = p.enum("statusFilter", shapes.STATUS_FILTER)
    redrive = p.enum("redriveFilter", ("REDRIVEN", "NOT_REDRIVEN"))
    size = paging.page_size(p.integer("maxResults", low=0, high=1000))
    token = p.token(high=3096)
    if (machine_arn is None) == (map_run_arn is None):
        raise errors.ValidationException("Must provide a StateMachine ARN or a MapRun ARN, but not both")
    if map_run_arn is not None:
        before = paging.decode(token)
        if before is not None and (isinstance(before, bool) or not isinstance(before, int)):
            raise errors.InvalidToken(f"Invalid Token: '{token}'")
        rows, following = pf.engine.list_map_run_executions(
            map_run_arn_checked(map_run_arn), status=status,
            redriven=None if redrive is None else redrive == "REDRIVEN", before=before, limit=size)
        page: dict[str, Any] = {"executions": [shapes.execution_item(row) for row in rows]}
        if following is not None:
            page["nextToken"] = paging.encode(following)
        return page
    assert machine_arn is not None
    ref = sfn_shapes.split(machine_arn)
    machine = pf.machines.describe(machine_arn)
    if machine["type"] != "STANDARD":
        raise errors.StateMachineTypeNotSupported(NOT_SUPPORTED)
    base = arns.state_machine(ref.name)
    version_arn = f"{base}:{ref.version}" if ref.version is not None else None
    alias_arn = f"{base}:{ref.alias}" if ref.alias is not None else None
    before = paging.decode(token)
    if before is not None and (isinstance(before, bool) or not isinstance(before, int)):
        raise errors.InvalidToken(f"Invalid Token: '{token}'")
    rows, following = pf.engine.list_executions(
        ref.name, status=status, version_arn=version_arn, alias_arn=alias_arn,
        redriven=None if redrive is None else redrive == "REDRIVEN", before=before, limit=size)
    answer: dict[str, Any] = {"executions": [shapes.execution_item(row) for row in rows]}
    if following is not None:
        answer["nextToken"] = paging.encode(following)
    return answer


def get_execution_history(pf: Any, p: Params) -> dict[str, Any]:
    """GetExecutionHistory, in pages, oldest or newest first, with or without execution data."""
    arn = _arn_param(p)
    size = paging.page_size(p.integer("maxResults", low=0, high=1000))
    reverse = p.boolean("reverseOrder")
    include = p.boolean("includeExecutionData", True)
    token = p.token(high=3096)
    after = paging.decode(token)
    if after is not None and (isinstance(after, bool) or not isinstance(after, int)):
        raise errors.InvalidToken(f"Invalid Token: '{token}'")
    events = pf.engine.history(arn, reverse=reverse, after=after, limit=size + 1)
    answer: dict[str, Any] = {"events": shapes.history_events(events[:size], include_data=include)}
    if len(events) > size:
        answer["nextToken"] = paging.encode(int(events[size - 1]["id"]))
    return answer


# --- control -------------------------------------------------------------------------------------------


def stop_execution(pf: Any, p: Params) -> dict[str, Any]:
    """StopExecution: the execution ends ABORTED with the given error and cause."""
    arn = _arn_param(p)
    error = p.string("error", high=256, sensitive=True)
    cause = p.string("cause", high=32768, sensitive=True)
    return pf.engine.stop_execution(arn, error, cause)


_redrive_tokens: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], tuple[float, dict[str, Any]]]] = (
    weakref.WeakKeyDictionary())
_redrive_lock = threading.Lock()


def redrive_execution(pf: Any, p: Params) -> dict[str, Any]:
    """RedriveExecution; the same clientToken within 15 minutes is the same redrive."""
    arn = _arn_param(p)
    token = p.string("clientToken", low=1, high=64)
    if token is None:
        return pf.engine.redrive_execution(arn)
    now = time.monotonic()
    with _redrive_lock:
        seen = _redrive_tokens.setdefault(pf, {})
        for key in [key for key, (at, _) in seen.items() if now - at > REDRIVE_TOKEN_SECONDS]:
            del seen[key]
        earlier = seen.get((arn, token))
    if earlier is not None:
        return earlier[1]
    result = pf.engine.redrive_execution(arn)
    with _redrive_lock:
        _redrive_tokens.setdefault(pf, {})[(arn, token)] = (now, result)
    return result


# --- callbacks and activities ------------------------------------------------------------------------


def _task_token(p: Params) -> str:
    return p.required("taskToken", high=2048, sensitive=True)


def send_task_success(pf: Any, p: Params) -> None:
    """SendTaskSuccess for a task token."""
    token = _task_token(p)
    output = p.string("output", required=True, high=PAYLOAD_LIMIT, sensitive=True)
    pf.engine.send_task_success(token, output)


def send_task_failure(pf: Any, p: Params) -> None:
    """SendTaskFailure for a task token."""
    token = _task_token(p)
    pf.engine.send_task_failure(token, p.string("error", high=256, sensitive=True),
                                p.string("cause", high=32768, sensitive=True))


def send_task_heartbeat(pf: Any, p: Params) -> None:
    """SendTaskHeartbeat for a task token."""
    pf.engine.send_task_heartbeat(_task_token(p))


def _poll(pf: Any, arn: str, worker: str | None) -> dict[str, Any]:
    pf.activities.describe(arn)
    deadline = time.monotonic() + ACTIVITY_POLL_SECONDS
    # One-second slices, so that a stopping engine ends the poll.
    while pf.engine.started:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        task = pf.engine.get_activity_task(arn, worker, min(1.0, remaining))
        if task:
            return dict(task)
    return {}


async def get_activity_task(pf: Any, p: Params) -> dict[str, Any]:
    """GetActivityTask: a task of the activity, or {} when none came within a minute (in a lane of its own:
    workers polling for a minute each must not take the threads every other operation shares)."""
    arn = p.required("activityArn", high=256)
    worker = p.string("workerName", high=80)
    return await lanes.POLLS.run(_poll, pf, arn, worker)


# --- Map Runs ------------------------------------------------------------------------------------------


def map_run_arn_checked(text: str) -> str:
    """Refuse what is not a Map Run ARN, with AWS's wording.

    Raises:
        InvalidArn: not an ARN, or another resource.
    """
    parsed = arns.parse(text)
    if parsed is None or parsed.service != "states" or parsed.parts[0] != "mapRun" or len(parsed.parts) != 3:
        raise errors.InvalidArn(f"Invalid Arn: 'Resource type not valid in this context: {text}'")
    return text


def _counts(tally: Any, pending_redrive: int) -> dict[str, int]:
    return {"pending": tally.pending, "running": tally.running, "succeeded": tally.succeeded,
            "failed": tally.failed, "timedOut": tally.timed_out, "aborted": tally.aborted, "total": tally.total,
            "resultsWritten": 0, "failuresNotRedrivable": 0, "pendingRedrive": pending_redrive}


def describe_map_run(pf: Any, p: Params) -> dict[str, Any]:
    """DescribeMapRun: the run's status, limits and counts of its children by status."""
    run = pf.engine.mapruns.describe(map_run_arn_checked(p.required("mapRunArn", high=2000)))
    answer: dict[str, Any] = {
        "mapRunArn": run.arn, "executionArn": run.execution, "status": run.status,
        "startDate": run.started_at, "maxConcurrency": int(run.max_concurrency),
        "toleratedFailurePercentage": float(run.tolerated_percentage or 0.0),
        "toleratedFailureCount": int(run.tolerated_count or 0),
        "itemCounts": _counts(mapruns.item_tally_of(run), int(run.item_pending_redrive)),
        "executionCounts": _counts(mapruns.tally_of(run), int(run.pending_redrive)),
        "redriveCount": int(run.redrive_count),
    }
    if run.stopped_at is not None:
        answer["stopDate"] = run.stopped_at
    if run.redrive_date is not None:
        answer["redriveDate"] = run.redrive_date
    return answer


def update_map_run(pf: Any, p: Params) -> None:
    """UpdateMapRun: MaxConcurrency and the tolerated failure thresholds of a running Map Run."""
    arn = map_run_arn_checked(p.required("mapRunArn", high=2000))
    # AWS's members: maxConcurrency an Integer, toleratedFailureCount a Long, each 0 or more.
    concurrency = p.integer("maxConcurrency", low=0, high=2**31 - 1)
    count = p.integer("toleratedFailureCount", low=0, high=2**63 - 1)
    percentage = p.get("toleratedFailurePercentage")
    if percentage is not None:
        if isinstance(percentage, bool) or not isinstance(percentage, int | float):
            raise shapes.ParamError("Unexpected JSON type for member 'toleratedFailurePercentage'")
        if percentage < 0:
            raise errors.validation("toleratedFailurePercentage", percentage,
                                    "Member must have value greater than or equal to 0")
        if percentage > 100:
            raise errors.validation("toleratedFailurePercentage", percentage,
                                    "Member must have value less than or equal to 100")
    if concurrency is None and count is None and percentage is None:
        raise errors.ValidationException(
            "At least one of maxConcurrency, toleratedFailureCount or toleratedFailurePercentage must be given",
            reason="MISSING_REQUIRED_PARAMETER")
    pf.engine.mapruns.update(arn, concurrency, count, None if percentage is None else float(percentage))


def list_map_runs(pf: Any, p: Params) -> dict[str, Any]:
    """ListMapRuns of an execution, newest first."""
    arn = _arn_param(p)
    size = paging.page_size(p.integer("maxResults", low=0, high=1000))
    token = p.token(high=3096)
    pf.engine.execution_row(arn)
    before = paging.decode(token)
    if before is not None and (isinstance(before, bool) or not isinstance(before, int)):
        raise errors.InvalidToken(f"Invalid Token: '{token}'")
    rows, following = pf.engine.mapruns.list(arn, before, size)
    runs = []
    for row in rows:
        item = {"executionArn": row.execution, "mapRunArn": row.arn,
                "stateMachineArn": shapes.machine_arn(row.machine), "startDate": row.started_at}
        if row.stopped_at is not None:
            item["stopDate"] = row.stopped_at

        runs.append(item)
    answer: dict[str, Any] = {"mapRuns": runs}
    if following is not None:
        answer["nextToken"] = paging.encode(following)
    return answer
