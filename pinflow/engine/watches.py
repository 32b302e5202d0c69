"""Watched tasks: a call that started something running on its own (a `.sync` child execution) ends
when that thing ends, and the engine must learn of it even across a restart.

`begin` writes a watch row in the transaction that records TaskSubmitted (and marks the outbox row, so a
restart does not make the call again), then looks once. The end is delivered by `check`: at once when
the watched thing tells the engine (a child execution's last step asks for its parent's watch), at
start-up for every row, and otherwise when a row's `check_at` comes (each integration's
`poll_seconds`), so an end missed while the server was down still arrives. Delivering consumes the
outbox and watch rows in the step that applies the outcome: exactly once. A task stopped meanwhile marks
its row cancelled in the step that stops it; what it watched is then stopped and the row removed.

Looking is a call to a service that may be slow or hang, so it never runs on the timer thread:
`check_due` (which the timer thread calls) moves each due row's next check on by its `poll_seconds`
and hands the look to the engine's watch lanes, a few threads per integration (`lanes`), one look per
row at a time. A service that hangs holds its own lane's threads, never the timers nor another
integration's looks.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import TYPE_CHECKING

from pinflow.asl import events
from pinflow.engine import leases
from pinflow.engine.integrations import base, table
from pinflow.store import Tx
from pinflow.store.repositories import work as work_repo

if TYPE_CHECKING:
    from pinflow.engine.runner import Engine

log = logging.getLogger(__name__)
BATCH = 200
LANE_THREADS = 4  # looks at once per integration


class InFlight:
    """The watch rows being looked at now (execution, task id), so a row is looked at once at a time."""

    def __init__(self) -> None:
        self._rows: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def claim(self, key: tuple[str, str]) -> bool:
        with self._lock:
            if key in self._rows:
                return False
            self._rows.add(key)
            return True

    def release(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._rows.discard(key)


def begin(engine: Engine, integration: base.Integration, call: base.Call, watch: base.Watch, fence: int = 1) -> None:
    """Record that `call` (made under lease token `fence`) watches `watch.target`; stop the target if the
    task is already gone."""
    execution_arn, task_id = call.execution_arn, call.command.task_id
    now = engine.clock()

    taken_over: list[bool] = []

    def before(tx: Tx) -> bool:
        if not work_repo.mark_called(tx, execution=execution_arn, task_id=task_id, lease_token=fence, at=now):
            # The task was stopped or timed out while the call was being made, or another node took
            # it over (this node's lease expired) and makes the call itself.
            if work_repo.lease(tx, execution=execution_arn, task_id=task_id) is not None:
                taken_over.append(True)
            return False
        work_repo.add_watch(tx, execution=execution_arn, task_id=task_id, integration=integration.name,
                            target=watch.target, detail=json.dumps(dict(watch.detail)),
                            check_at=now + integration.poll_seconds)
        return True

    event = events.TaskSubmitted(task_id, watch.submitted, now)
    engine.submit_event(execution_arn, event, before=before).result(timeout=120)
    watched = base.Watched(execution_arn, task_id, watch.target, watch.detail)
    with engine.store.transaction(write=False) as tx:
        row = work_repo.watch(tx, execution=execution_arn, task_id=task_id)
    if row is not None and row.target == watch.target:
        check(engine, execution_arn, task_id)
        return
    # Not this call's to watch. Stopped or timed out: stop what it started. Taken over: the new owner
    # makes the call again and watches what that call starts; what this one started is the same thing
    # only where a call made again starts the same thing (a named child execution), and is stopped
    # otherwise (a second job would run to its end unwatched).
    if not (taken_over and integration.same_start_again):
        integration.cancel(engine, watched)


def check(engine: Engine, execution_arn: str, task_id: str) -> None:
    """Look at one watch now: deliver its end, stop what a cancelled one watched, or look again later."""
    with engine.store.transaction(write=False) as tx:
        row = work_repo.watch(tx, execution=execution_arn, task_id=task_id)
    if row is not None:
        _look(engine, row)


def check_due(engine: Engine, *, everything: bool = False) -> int:
    """Hand every watch whose time has come and that no other node is looking at (every watch, at the
    start-up of a node no other node was alive beside) to the watch lanes; returns how many. Each
    is claimed for the lease's length (`leases`).
    Makes no call itself: the timer thread runs it."""
    now = engine.clock()
    # At start-up, every watch when no other node is alive: none was looked at while this one was down.
    # Where other nodes are alive they kept looking: only what is due (and no live node holds).
    everything = everything and engine.leases.alone()
    due_by = leases.NEVER if everything else now
    # Where one process works on the database, a starting node takes even what its last run held.
    expired_by = leases.NEVER if everything and not engine.leases.shared else engine.leases.now()
    with engine.store.transaction(write=False) as tx:
        if not work_repo.any_watch_due(tx, due_by=due_by, expired_by=expired_by):
            return 0
    with engine.store.transaction() as tx:
        rows = work_repo.claim_watches(tx, owner=engine.leases.node_id, until=engine.leases.until(), due_by=due_by,
                                       expired_by=expired_by, limit=BATCH)
    claimed = [row for row in rows if engine.watching.claim((row.execution, row.task_id))]
    if not claimed:
        return len(rows)
    # The next check is set before this one is made: a look that hangs does not bring its row back
    # as due every round, and other rows get their turn.
    with engine.store.transaction() as tx:
        for row in claimed:
            integration = table.by_name(row.integration)
            delay = integration.poll_seconds if integration is not None else 60.0
            work_repo.reschedule_watch(tx, execution=row.execution, task_id=row.task_id, check_at=now + delay)
    for index, row in enumerate(claimed):
        try:
            engine.watch_lanes.submit(row.integration, _look_claimed, engine, row)
        except RuntimeError:  # shutting down: the rows are looked at again after the restart
            for left in claimed[index:]:
                engine.watching.release((left.execution, left.task_id))
            break
    return len(rows)


def _look_claimed(engine: Engine, row: work_repo.Watch) -> None:
    try:
        _look(engine, row)
    except Exception:
        log.exception("watch of %s task %s failed", row.execution, row.task_id)
        # Looked at again at its next check (`poll_seconds`), not only once the claim expires.
        try:
            with engine.store.transaction() as tx:
                work_repo.unclaim_watch(tx, execution=row.execution, task_id=row.task_id,
                                        owner=engine.leases.node_id)
        except Exception:
            log.exception("the claim on the watch of %s task %s stays until it expires", row.execution,
                          row.task_id)
    finally:
        engine.watching.release((row.execution, row.task_id))


def _look(engine: Engine, row: work_repo.Watch) -> None:
    integration = table.by_name(row.integration)
    watched = base.Watched(row.execution, row.task_id, row.target, json.loads(row.detail))
    if integration is None:
        return
    if row.cancelled:
        integration.cancel(engine, watched)
        with engine.store.transaction() as tx:
            work_repo.delete_watch(tx, execution=watched.execution_arn, task_id=watched.task_id)
        return
    outcome = integration.poll(engine, watched)
    if outcome is None:
        with engine.store.transaction() as tx:
            work_repo.rearm_watch(tx, execution=watched.execution_arn, task_id=watched.task_id,
                                  check_at=engine.clock() + integration.poll_seconds)
        return

    engine.submit_event(watched.execution_arn, outcome, consume=("watch", watched.task_id))
