"""An execution's history digested for the console: each state's status in each Map iteration, and the
state and iteration every event belongs to.

Events are fed in id order, any number at a time (a running execution's page feeds only what is new).
Which state an event belongs to follows `previousEventId` as AWS's console does: an event that names its
state belongs to it (`stateEnteredEventDetails.name`, `mapIteration*EventDetails.name`,
`evaluationFailedEventDetails.state`: an EvaluationFailed met while entering a state links to the event
before its StateEntered); the others belong to the state of the event they follow. Which Map iteration
follows the same chain: the first state of an iteration follows its `MapIterationStarted`. State names
are unique in a whole machine, so a state name and an iteration path (`((map, index), ...)`, outermost
first) name one run of a state.

A run's status: `in_progress` once entered; `succeeded` when it exits; `caught` when it exits after a
failure it did not retry (a Catch); `failed` when a failure ends it (its own, or its execution's);
`cancelled` when its iteration, branch or execution ends around it; states with no run are
`not_reached`.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pinflow import asl
from pinflow.asl import history

NOT_REACHED = "not_reached"
IN_PROGRESS = "in_progress"
SUCCEEDED = "succeeded"
FAILED = "failed"
CAUGHT = "caught"
CANCELLED = "cancelled"
# How runs of one state in many iterations add up (the first found wins), as a summary colour.
PRECEDENCE = (FAILED, IN_PROGRESS, CAUGHT, CANCELLED, SUCCEEDED)

Context = tuple[tuple[str, int], ...]
ROOT: Context = ()

_ITERATION_STATUS = {"MapIterationStarted": IN_PROGRESS, "MapIterationSucceeded": SUCCEEDED,
                     "MapIterationFailed": FAILED, "MapIterationAborted": CANCELLED}
# Events of a Map or Parallel state that do not name it.
_CONTAINER_EVENTS = {f"{kind}State{what}": kind for kind in ("Map", "Parallel")
                     for what in ("Started", "Succeeded", "Failed", "Aborted")}
_EXECUTION_ENDS = ("ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted")
_NOT_A_FAILURE = ("MapIterationFailed", "MapStateFailed", "ParallelStateFailed", "MapRunFailed")
# What an event type does to the digest (computed once per type: a history has a few dozen types).
_OTHER, _NAMES_STATE, _ENTERED, _EXITED, _ITERATION, _CONTAINER, _EXECUTION, _EXECUTION_END, _REDRIVEN = range(9)
# Events that name their state in another member than `name`.
_STATE_MEMBER = {"EvaluationFailed": "state"}
_ROLES: dict[str, int] = {}


def _role(kind: str) -> int:
    role = _ROLES.get(kind)
    if role is None:
        if kind.endswith("StateEntered"):
            role = _ENTERED
        elif kind.endswith("StateExited"):
            role = _EXITED
        elif kind in _ITERATION_STATUS:
            role = _ITERATION
        elif kind in _CONTAINER_EVENTS:
            role = _CONTAINER
        elif kind in _EXECUTION_ENDS:
            role = _EXECUTION_END
        elif kind == "ExecutionRedriven":
            role = _REDRIVEN
        elif kind in _STATE_MEMBER:
            role = _NAMES_STATE
        elif kind.startswith("Execution"):
            role = _EXECUTION
        else:
            role = _OTHER
        _ROLES[kind] = role
    return role


@dataclass(slots=True)
class Run:
    """The latest run of one state in one iteration path."""

    state: str
    context: Context
    entered: int  # the id of its StateEntered event
    status: str = IN_PROGRESS
    exited: int | None = None
    failure: int | None = None  # the id of the event that holds its error and cause
    pending: bool = False  # a failure neither retried nor caught yet
    retries: int = 0


class Layout:
    """What the definition says about each state: its type, the Map or Parallel around it, and the Maps
    around it (outermost first)."""

    def __init__(self, definition: dict[str, Any]) -> None:
        parsed = self.parsed = asl.Definition(definition)
        self.kind: dict[str, str] = {}
        self.parent: dict[str, str | None] = {}
        for name, block in parsed.block_of.items():
            container = block.split("/", 1)[0] or None
            self.parent[name] = container
            state = parsed.blocks[block]["States"].get(name)
            kind = state.get("Type") if isinstance(state, dict) else None
            self.kind[name] = kind if isinstance(kind, str) else ""
        self.maps: dict[str, tuple[str, ...]] = {name: self._maps(name) for name in self.parent}

    def state(self, name: str) -> dict[str, Any] | None:
        """The definition of the state `name` (in whichever block it is), or None."""
        block = self.parsed.block_of.get(name)
        found = self.parsed.blocks[block]["States"].get(name) if block is not None else None
        return found if isinstance(found, dict) else None

    def _maps(self, name: str) -> tuple[str, ...]:
        found: list[str] = []
        container = self.parent.get(name)
        while container is not None:
            if self.kind.get(container) == "Map":
                found.append(container)
            container = self.parent.get(container)
        return tuple(reversed(found))

    def inside(self, name: str, container: str) -> bool:
        """Whether `name` is nested (at any depth) in the Map or Parallel `container`."""
        parent = self.parent.get(name)
        while parent is not None:
            if parent == container:
                return True
            parent = self.parent.get(parent)
        return False

    def scope(self, name: str | None, context: Context) -> Context:
        """`context` cut to the Maps around `name` (an event can follow one inside an iteration)."""
        if name is None:
            return ROOT
        maps = self.maps.get(name, ())
        kept = 0
        while kept < len(context) and kept < len(maps) and context[kept][0] == maps[kept]:
            kept += 1
        return context[:kept]


class Digest:
    """Everything the console shows about a history without reading it again. Not thread-safe: the
    caller feeds and reads it under one lock."""

    def __init__(self, definition: dict[str, Any]) -> None:
        self.layout = Layout(definition)
        self.last_id = 0
        self.types: list[str] = []  # by event id - 1
        self.states: list[str | None] = []
        self.contexts: list[Context] = []
        self.timestamps: list[float] = []
        # Event ids by type and by state, in order: a page of the events table reads only what it shows.
        self.by_type: dict[str, list[int]] = {}
        self.by_state: dict[str, list[int]] = {}
        self.runs: dict[str, dict[Context, Run]] = {}
        # Map state and the iteration path it runs in -> index -> iteration status.
        self.iterations: dict[tuple[str, Context], dict[int, str]] = {}
        self._open: dict[Context, dict[str, Run]] = {}
        self._children: dict[Context, set[Context]] = {}
        self._entered: dict[int, Context] = {}  # MapIterationStarted id -> the iteration's path
        self._ended: list[Run] = []  # the runs the execution's end closed (a redrive may go on with them)

    # --- feeding -----------------------------------------------------------------------------------

    def feed(self, events: Iterable[dict[str, Any]]) -> None:
        """Take events that follow the last one fed (older ones are ignored)."""
        for event in events:
            event_id = int(event["id"])
            if event_id <= self.last_id:
                continue
            while self.last_id < event_id - 1:  # a gap never happens; keep the index aligned anyway
                self._take({"id": self.last_id + 1, "type": ""})
            self._take(event)

    def _take(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        role = _role(kind)
        layout = self.layout
        # The state and iteration path of the event this one follows (entering an iteration when that
        # event started one).
        previous = event.get("previousEventId") or 0
        if 0 < previous <= self.last_id:
            previous_state, context = self.states[previous - 1], self.contexts[previous - 1]
            context = self._entered.get(previous, context)
        else:
            previous_state, context = None, ROOT
        details: dict[str, Any] = {}
        if role in (_ENTERED, _EXITED, _ITERATION):
            details = history.details_of(event)
            named = details.get("name")
            state = named if isinstance(named, str) else previous_state
        elif role == _CONTAINER:
            state = previous_state
            while state is not None and layout.kind.get(state) != _CONTAINER_EVENTS[kind]:
                state = layout.parent.get(state)
        elif role == _NAMES_STATE:
            named = history.details_of(event).get(_STATE_MEMBER[kind])
            state = named if isinstance(named, str) and named in layout.kind else previous_state
        elif role >= _EXECUTION:
            state = None
        else:
            state = previous_state
        scoped = layout.scope(state, context) if context else ROOT
        self.types.append(kind)
        self.states.append(state)
        self.contexts.append(scoped)
        self.timestamps.append(event.get("timestamp") or 0.0)
        self.last_id += 1
        event_id = self.last_id
        self.by_type.setdefault(kind, []).append(event_id)
        if state is not None:
            self.by_state.setdefault(state, []).append(event_id)
        if role == _EXECUTION_END:
            self._execution_end(kind, event_id, previous_state, context)
        elif role == _REDRIVEN:
            self._redriven()
        elif state is None:
            return
        elif role == _ITERATION:
            self._iteration(kind, event_id, state, scoped, details)
        elif role == _ENTERED:
            self._enter(kind, event_id, state, scoped)
        elif role == _EXITED:
            run = self._run(state, scoped)
            if run is not None:
                run.exited = event_id
                self._close(run, CAUGHT if run.pending else SUCCEEDED)
        else:
            self._state_event(kind, event_id, state, scoped)

    def _enter(self, kind: str, event_id: int, state: str, context: Context) -> None:
        run = Run(state, context, event_id)
        if kind == "FailStateEntered":
            # A Fail state fails its execution (or branch) by being entered.
            run.failure, run.pending = event_id, True
        self.runs.setdefault(state, {})[context] = run
        self._open.setdefault(context, {})[state] = run

    def _state_event(self, kind: str, event_id: int, state: str, context: Context) -> None:
        run = self._run(state, context)
        if run is None:
            return
        if kind.endswith("Scheduled"):
            if run.pending:
                run.retries += 1  # a new attempt after a failure: Retry
            run.pending = False
        elif (kind.endswith("Failed") or kind.endswith("TimedOut")) and kind not in _NOT_A_FAILURE:
            run.failure, run.pending = event_id, True
        elif kind in ("MapStateFailed", "ParallelStateFailed"):
            inner = self._end_inside(state, context)
            run.pending = True
            if run.failure is None:
                run.failure = inner
        elif kind in ("MapStateAborted", "ParallelStateAborted"):
            self._end_inside(state, context)
            self._close(run, CANCELLED)
        elif kind.endswith("StateAborted"):
            self._close(run, CANCELLED)

    def _iteration(self, kind: str, event_id: int, state: str, context: Context,
                   details: dict[str, Any]) -> None:
        index = details.get("index")
        if not isinstance(index, int):
            return
        path = (*context, (state, index))
        self.iterations.setdefault((state, context), {})[index] = _ITERATION_STATUS[kind]
        if kind == "MapIterationStarted":
            self._entered[event_id] = path
            self._children.setdefault(context, set()).add(path)
        elif kind in ("MapIterationFailed", "MapIterationAborted"):
            failure = self._end_below(path)
            run = self._run(state, context)
            if run is not None and kind == "MapIterationFailed" and run.failure is None:
                run.failure = failure

    def _execution_end(self, kind: str, event_id: int, state: str | None, context: Context) -> None:
        """Close every open run: the one the ending event follows takes its error and cause."""
        blamed = self._run(state, self.layout.scope(state, context)) if state is not None else None
        if blamed is not None and blamed.status == IN_PROGRESS and kind != "ExecutionAborted" and not blamed.pending:
            blamed.failure, blamed.pending = event_id, True
        self._ended = [run for runs in self._open.values() for run in runs.values()]
        for run in self._ended:
            self._close(run, FAILED if run.pending and kind != "ExecutionAborted" else CANCELLED)

    def _redriven(self) -> None:
        """A redrive enters the failed states again (their new runs replace the old), but carries on a
        Map or Parallel state the failure ended without entering it again: those run again."""
        for run in self._ended:
            if self.layout.kind.get(run.state) in ("Map", "Parallel") and run.exited is None:
                run.status, run.pending, run.failure = IN_PROGRESS, False, None
                self._open.setdefault(run.context, {})[run.state] = run
        self._ended = []

    def _end_inside(self, container: str, context: Context) -> int | None:
        """A Map or Parallel state ended early: close the open runs inside it; the first failure found."""
        failure = None
        for path in self._paths_below(context):
            runs = self._open.get(path)
            if not runs:
                continue
            for run in list(runs.values()):
                if self.layout.inside(run.state, container):
                    if run.pending and failure is None:
                        failure = run.failure
                    self._close(run, FAILED if run.pending else CANCELLED)
        return failure

    def _end_below(self, path: Context) -> int | None:
        """An iteration ended early: close its open runs; the first failure found."""
        failure = None
        for below in self._paths_below(path):
            for run in list((self._open.get(below) or {}).values()):
                if run.pending and failure is None:
                    failure = run.failure
                self._close(run, FAILED if run.pending else CANCELLED)
        return failure

    def _paths_below(self, path: Context) -> Iterator[Context]:
        stack = [path]
        while stack:
            current = stack.pop()
            yield current
            stack.extend(self._children.get(current, ()))

    def _run(self, state: str, context: Context) -> Run | None:
        return (self.runs.get(state) or {}).get(context)

    def _close(self, run: Run, status: str) -> None:
        if run.status != IN_PROGRESS:
            return
        run.status = status
        runs = self._open.get(run.context)
        if runs is not None and runs.get(run.state) is run:
            del runs[run.state]
            if not runs:
                del self._open[run.context]

    # --- reading -----------------------------------------------------------------------------------

    def selected(self, state: str, selection: Context) -> Context:
        """The part of a selected iteration path that applies to `state`."""
        return self.layout.scope(state, selection)

    def status(self, state: str, selection: Context = ROOT) -> tuple[str, int]:
        """A state's status in the selected iteration, or summed over the iterations not selected; and
        how many runs that covers."""
        runs = self.runs.get(state)
        if not runs:
            return NOT_REACHED, 0
        prefix = self.selected(state, selection)
        if len(prefix) == len(self.layout.maps.get(state, ())):
            run = runs.get(prefix)
            return (run.status, 1) if run is not None else (NOT_REACHED, 0)
        found: set[str] = set()
        count = 0
        for context, run in runs.items():
            if context[:len(prefix)] == prefix:
                found.add(run.status)
                count += 1
        for status in PRECEDENCE:
            if status in found:
                return status, count
        return NOT_REACHED, 0

    def run(self, state: str, selection: Context = ROOT) -> Run | None:
        """The run of a state in the selected iteration; for a state inside a Map no iteration of which
        is selected, the run that decides its summary status."""
        runs = self.runs.get(state)
        if not runs:
            return None
        prefix = self.selected(state, selection)
        exact = runs.get(prefix)
        if exact is not None:
            return exact
        status, _ = self.status(state, selection)
        candidates = [run for context, run in runs.items() if context[:len(prefix)] == prefix]
        for run in candidates:
            if run.status == status:
                return run
        return candidates[0] if candidates else None

    def iteration_statuses(self, map_state: str, context: Context) -> dict[int, str]:
        """The iterations of a Map state run in `context`, by index."""
        return self.iterations.get((map_state, context), {})

    def event_types(self) -> list[str]:
        """The event types the history holds, sorted."""
        return sorted(kind for kind in self.by_type if kind)

    def event_ids(self, *, types: set[str] | None = None, state: str | None = None,
                  context: Context | None = None) -> list[int]:
        """Ids of the events of the given types, or of a state (in one iteration path), in order. Reads
        only the events of that state or those types (the whole history only when neither is given)."""
        if state is not None:
            candidates: Iterable[int] = self.by_state.get(state, ())
        elif types is not None:
            candidates = heapq.merge(*(self.by_type.get(kind, ()) for kind in types))
        else:
            candidates = range(1, self.last_id + 1)
        found: list[int] = []
        for event_id in candidates:
            if types is not None and self.types[event_id - 1] not in types:
                continue
            if context is not None and self.contexts[event_id - 1] != context:
                continue
            found.append(event_id)
        return found

    def page(self, *, types: set[str] | None, state: str | None, offset: int, size: int,
             newest_first: bool) -> tuple[int, list[int]]:
        """How many events a filter selects, and the ids of one page of them (oldest first, or newest
        first). Without a filter the page is worked out from the count alone."""
        if types is None and state is None:
            total = self.last_id
            if newest_first:
                ids = list(range(total - offset, max(total - offset - size, 0), -1))
            else:
                ids = list(range(offset + 1, min(offset + size, total) + 1))
            return total, ids
        ids = self.event_ids(types=types, state=state)
        if newest_first:
            ids.reverse()
        return len(ids), ids[offset:offset + size]
