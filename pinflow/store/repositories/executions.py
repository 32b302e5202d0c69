"""Executions repository: executions, their histories and the references they hold (`execution_refs`);
with `work` (invocations, timers, watches, nodes) and `mapruns` (Map Runs and their items), the only
code that runs the queries of `queries/executions.sql`."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pinflow.store.base import Tx

# The largest position in a list of executions: a page with no `before` starts there.
LAST_POSITION = 2**62


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a step leaves on its execution's row besides the state: the status, and how it ended."""

    status: str
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    stopped_at: float | None = None


@dataclass(frozen=True, slots=True)
class Described:
    """An execution's row without the interpreter's state and the pins (what DescribeExecution shows)."""

    arn: str
    seq: int
    machine: str
    name: str
    type: str
    status: str
    revision_id: str
    version_arn: str | None
    alias_arn: str | None
    role_arn: str
    input: str
    output: str | None
    error: str | None
    cause: str | None
    started_at: float
    stopped_at: float | None
    redrive_count: int
    redrive_date: float | None
    trace_header: str | None
    map_run: str | None


@dataclass(frozen=True, slots=True)
class Execution(Described):
    """An execution's row: what DescribeExecution shows, then the interpreter's state and the pins."""

    state: str  # JSON text: the interpreter's state
    pins: str  # JSON text: what the execution holds on to (`engine.pins`)


@dataclass(frozen=True, slots=True)
class Stepping:
    """What a step reads of its execution's row (a few columns: it is read for every step)."""

    status: str
    revision_id: str
    version_arn: str | None
    role_arn: str
    state: str  # JSON text: the interpreter's state
    pins: str  # JSON text


@dataclass(frozen=True, slots=True)
class Named:
    """The execution of a machine with a given name (StartExecution's idempotency)."""

    arn: str
    status: str
    input: str
    started_at: float


@dataclass(frozen=True, slots=True)
class Summary:
    """An execution as ListExecutions shows it."""

    arn: str
    machine: str
    name: str
    status: str
    started_at: float
    stopped_at: float | None
    version_arn: str | None
    alias_arn: str | None
    redrive_count: int
    redrive_date: float | None


@dataclass(frozen=True, slots=True)
class Event:
    """A history event as stored."""

    id: int
    event: str  # JSON text


@dataclass(frozen=True, slots=True)
class _Block:
    """Consecutive events of one execution written together (one step's): ids from first_id, one JSON text
    per line."""

    first_id: int
    events: str


@dataclass(frozen=True, slots=True)
class Ref:
    """A reference an execution holds (a version ARN)."""

    execution: str
    ref: str


def as_dict(row: Any) -> dict[str, Any]:
    """A row (of this repository's or another's) as a dict of its columns: what the API's shapes read."""
    return {name: getattr(row, name) for name in _columns(row)}


def _columns(row: Any) -> tuple[str, ...]:
    """A row class's fields (an inherited row's too, which `__slots__` alone would not name)."""
    names = _FIELDS.get(type(row))
    if names is None:
        names = _FIELDS[type(row)] = tuple(f.name for f in dataclasses.fields(row))
    return names


_FIELDS: dict[type, tuple[str, ...]] = {}


# --- executions -----------------------------------------------------------------------------------------


def insert(tx: Tx, *, arn: str, seq: int, machine: str, name: str, type: str, revision_id: str,
           version_arn: str | None, alias_arn: str | None, role_arn: str, input: str, started_at: float,
           state: str, pins: str, trace_header: str | None, outcome: Outcome) -> None:
    """Record a new execution: its first step's state in `state`, that step's outcome in `outcome` (an
    execution that ends in its first step is written once)."""
    tx.run("exec_insert", arn=arn, seq=seq, machine=machine, name=name, type=type, status=outcome.status,
           revision_id=revision_id, version_arn=version_arn, alias_arn=alias_arn, role_arn=role_arn, input=input,
           output=outcome.output, error=outcome.error, cause=outcome.cause, started_at=started_at,
           stopped_at=outcome.stopped_at, state=state, pins=pins, trace_header=trace_header)


def get(tx: Tx, *, arn: str) -> Execution | None:
    return tx.row("exec_get", Execution, arn=arn)


def describe(tx: Tx, *, arn: str) -> Described | None:
    return tx.row("exec_describe", Described, arn=arn)


def get_for_update(tx: Tx, *, arn: str) -> Stepping | None:
    """What a step reads of the execution, its row locked until the transaction ends where the database
    has row locks."""
    return tx.row("exec_get_for_update", Stepping, arn=arn)


def by_name(tx: Tx, *, machine: str, name: str) -> Named | None:
    return tx.row("exec_by_name", Named, machine=machine, name=name)


def save(tx: Tx, *, arn: str, state: str, outcome: Outcome) -> None:
    """Write a step's state and outcome on the execution's row."""
    tx.run("exec_save", arn=arn, status=outcome.status, state=state, output=outcome.output, error=outcome.error,
           cause=outcome.cause, stopped_at=outcome.stopped_at)


def redriven(tx: Tx, *, arn: str, at: float) -> None:
    """Count a redrive of the execution."""
    tx.run("exec_redriven", arn=arn, at=at)


def set_map_run(tx: Tx, *, arn: str, map_run: str) -> None:
    """Name the Map Run an execution is a child of."""
    tx.run("exec_set_map_run", arn=arn, map_run=map_run)


def page(tx: Tx, *, machine: str, status: str | None, version_arn: str | None, alias_arn: str | None,
         redriven: bool | None, before: int | None, limit: int) -> list[Summary]:
    """A machine's executions, newest first, from position `before` (None: the newest); None filters
    nothing."""
    return tx.rows("exec_list", Summary, machine=machine, status=status, version_arn=version_arn,
                   alias_arn=alias_arn, redriven=None if redriven is None else int(redriven),
                   before=LAST_POSITION if before is None else before, limit=limit)


def page_of_map_run(tx: Tx, *, map_run: str, status: str | None, redriven: bool | None, before: int | None,
                    limit: int) -> list[Summary]:
    """A Map Run's child executions, as `page`."""
    return tx.rows("exec_list_by_map_run", Summary, map_run=map_run, status=status,
                   redriven=None if redriven is None else int(redriven),
                   before=LAST_POSITION if before is None else before, limit=limit)


def position(tx: Tx, *, arn: str) -> int | None:
    """An execution's position in its lists (`page`'s `before`)."""
    seq = tx.value("exec_seq", arn=arn)
    return None if seq is None else int(seq)


def running(tx: Tx, *, machine: str) -> list[str]:
    """ARNs of a machine's RUNNING executions."""
    return [row.arn for row in tx.rows("exec_running_for_machine", _Arn, machine=machine)]


def running_count(tx: Tx, *, state_machine: str) -> int:
    """How many executions of the machine named `state_machine` are RUNNING."""
    return int(tx.value("exec_running_count", machine=state_machine) or 0)


def running_by_machine(tx: Tx) -> dict[str, int]:
    """machine name -> how many of its executions are RUNNING (machines with none are left out)."""
    return {row.machine: int(row.running) for row in tx.rows("exec_running_by_machine", _MachineCount)}


def running_by_version(tx: Tx, *, machine: str) -> dict[str | None, int]:
    """version ARN (None: started through none) -> how many of the machine's executions are RUNNING."""
    return {row.version_arn: int(row.running) for row in tx.rows("exec_running_by_version", _VersionCount,
                                                                 machine=machine)}


@dataclass(frozen=True, slots=True)
class _Arn:
    arn: str


@dataclass(frozen=True, slots=True)
class _MachineCount:
    machine: str
    running: int


@dataclass(frozen=True, slots=True)
class _VersionCount:
    version_arn: str | None
    running: int


# --- history ----------------------------------------------------------------------------------------------


# A block holds at most this many events and (but for one larger event) this much text: a step that
# records thousands of events (a Map over a large array) is kept in many blocks, so that reading a page
# of its history reads at most a block more than the page on either side.
BLOCK_EVENTS = 64
BLOCK_CHARS = 256 * 1024


def add_history(tx: Tx, *, execution: str, events: Sequence[tuple[int, str]]) -> None:
    """Append events (id, JSON text) to an execution's history: runs of consecutive ids (a step's events)
    as blocks of up to BLOCK_EVENTS events and BLOCK_CHARS characters, one row each."""
    block: list[str] = []
    first = last = chars = 0
    for id, text in events:
        text = _one_line(text)
        if block and (id != last + 1 or len(block) == BLOCK_EVENTS or chars + len(text) > BLOCK_CHARS):
            tx.run("history_insert", execution=execution, first_id=first, last_id=last, events="\n".join(block))
            block, chars = [], 0
        if not block:
            first = id
        block.append(text)
        last, chars = id, chars + len(text) + 1
    if block:
        tx.run("history_insert", execution=execution, first_id=first, last_id=last, events="\n".join(block))


def _one_line(text: str) -> str:
    """JSON text without line breaks: the text itself where it has none (compact JSON, as events are
    written), else the same value written compactly."""
    if "\n" not in text:
        return text
    return json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)


def _between(tx: Tx, execution: str, start: int, stop: int) -> list[Event]:
    """The events with ids `start` to `stop` (1 <= start <= stop), oldest first."""
    found: list[Event] = []
    for block in tx.rows("history_blocks_between", _Block, execution=execution, start=start, stop=stop):
        texts = block.events.split("\n")
        for offset in range(max(0, start - block.first_id), min(len(texts), stop - block.first_id + 1)):
            found.append(Event(block.first_id + offset, texts[offset]))
    return found


def history_after(tx: Tx, *, execution: str, after: int, limit: int) -> list[Event]:
    """Up to `limit` events after event id `after`, oldest first."""
    start = min(max(after, 0), LAST_POSITION) + 1
    if limit <= 0:
        return []
    return _between(tx, execution, start, min(start + limit - 1, LAST_POSITION))


def history_before(tx: Tx, *, execution: str, before: int | None, limit: int) -> list[Event]:
    """Up to `limit` events before event id `before` (None: the last), newest first."""
    last = tx.value("history_last_id", execution=execution)
    stop = last if before is None else min(before - 1, last or 0)
    if last is None or stop < 1 or limit <= 0:
        return []
    found = _between(tx, execution, max(1, stop - limit + 1), stop)
    found.reverse()
    return found


# --- references held --------------------------------------------------------------------------------------


def hold(tx: Tx, *, execution: str, refs: Sequence[str]) -> None:
    """Record that an execution holds `refs` (those it holds already stay as they are)."""
    tx.run_many("refs_insert", [{"execution": execution, "ref": ref} for ref in refs])


def release(tx: Tx, *, execution: str) -> None:
    """An execution holds nothing any more."""
    tx.run("refs_delete", execution=execution)


def release_expired(tx: Tx, *, stopped_before: float) -> None:
    """Executions that failed, timed out or were aborted before `stopped_before` hold nothing any more."""
    tx.run("refs_release_expired", stopped_before=stopped_before)


def holders(tx: Tx, *, ref: str) -> list[str]:
    """The executions that hold exactly `ref`, in ARN order."""
    return [row.execution for row in tx.rows("refs_exact", Ref, ref=ref)]


def refs_like(tx: Tx, *, pattern: str) -> list[Ref]:
    """References matching a LIKE `pattern` whose escape character is `!`, by execution."""
    return tx.rows("refs_like", Ref, pattern=pattern)


def refs_starting(tx: Tx, *, prefix: str) -> list[Ref]:
    """References that begin with `prefix` (a LIKE pattern without its `%`: no `%` or `_` in it)."""
    return tx.rows("refs_of_service", Ref, prefix=prefix + "%")
