"""Timers: rows with an indexed due time, fired by a poller thread (Wait, retry back-off, task
timeouts, heartbeats, execution timeouts alike). Overdue timers fire at once after a restart. Once a
second the same thread hands watched tasks whose check is due to the watch lanes (`watches`); it never
calls a service itself, so a service that hangs cannot hold a timer back."""

from __future__ import annotations

import functools
import logging
import threading
import time
from typing import TYPE_CHECKING

from pinflow import clock
from pinflow.asl import events
from pinflow.engine import watches
from pinflow.store.repositories import work as work_repo

if TYPE_CHECKING:
    from pinflow.engine.runner import Engine

log = logging.getLogger(__name__)
MAINTENANCE_SECONDS = 1.0  # how often the store's housekeeping runs (a WAL checkpoint on SQLite)
REF_SWEEP_EVERY = 60  # in housekeeping rounds: releasing expired redrive holds can wait a minute


class TimerPoller:
    """Fires due timers into the engine; each fired timer is consumed in the step that applies it."""

    def __init__(self, engine: Engine, *, interval: float = 0.02, batch: int = 2000) -> None:
        self.engine = engine
        self.interval = interval
        self.batch = batch
        self._in_flight: set[tuple[str, str, float]] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_due: float | None = None
        self._sweeps = 0

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="pinflow-timers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def poke(self, due_at: float) -> None:
        """A timer was set (and committed): wake the poller if it is due before the poller would look
        again."""
        if self._next_due is None or due_at < self._next_due:
            self._wake.set()

    def _run(self) -> None:
        last_maintenance = time.monotonic()
        while not self._stop.is_set():
            try:
                fired = self.fire_due()
                if time.monotonic() - last_maintenance > MAINTENANCE_SECONDS:
                    last_maintenance = time.monotonic()
                    self.engine.store.maintain()
                    watches.check_due(self.engine)
                    self._sweeps += 1
                    if self._sweeps % REF_SWEEP_EVERY == 1:
                        self.engine.release_expired_refs()
            except Exception:
                log.exception("timer poll failed")
                fired = 0
            if fired >= self.batch:
                continue
            self._wake.wait(self._pause(last_maintenance + MAINTENANCE_SECONDS - time.monotonic()))
            self._wake.clear()

    def _pause(self, until_maintenance: float) -> float:
        """Seconds to sleep before the next look, short of a `poke`.

        Where this process alone sets timers (SQLite), and each one it sets pokes the poller once
        committed, nothing can come due before the earliest timer read: sleep until then, or until the
        housekeeping is due. Elsewhere (other nodes set timers and leases expire; a fake clock moves by
        leaps), and while fired timers are still being applied, look again every `interval`.
        """
        if self.engine.leases.shared or not clock.is_real(self.engine.clock):
            return self.interval
        next_due = self._next_due
        until_due = until_maintenance if next_due is None else next_due - self.engine.clock()
        return max(self.interval, min(until_due, until_maintenance))

    def fire_due(self) -> int:
        """Queue every due timer not already queued; returns how many."""
        now = self.engine.clock()
        leases = self.engine.leases
        # Until this look's answer is in, any timer set wakes the poller: one committed after the read
        # below would otherwise be compared with what the look before found.
        self._next_due = None
        with self.engine.store.transaction(write=False) as tx:
            rows = work_repo.due_timers(tx, due_by=now, expired_by=leases.now(), limit=self.batch)
            self._next_due = work_repo.next_timer_due(tx) if len(rows) < self.batch else now
        if rows and leases.shared:
            # Claimed for the lease's length: no other node fires them meanwhile; one not consumed by
            # then (this node died) is fired by whichever node claims it next. (Where one process works
            # on the database, the in-flight set below is claim enough, and saves a write.)
            with self.engine.store.transaction() as tx:
                rows = work_repo.claim_timers(tx, owner=leases.node_id, until=leases.until(), due_by=now,
                                              expired_by=leases.now(), limit=self.batch)
        count = 0
        for row in rows:
            key = (row.execution, row.timer_id, row.due_at)
            with self._lock:
                if key in self._in_flight:
                    continue
                self._in_flight.add(key)
            count += 1
            release = functools.partial(self._done, key)
            self.engine.submit_event(
                row.execution, events.TimerFired(row.timer_id, max(now, row.due_at)),
                consume=("timer", row.timer_id, row.due_at), on_done=release,

            ).add_done_callback(functools.partial(_ignore_future, release))
        return count

    def _done(self, key: tuple[str, str, float]) -> None:
        """The timer's event was applied (or dropped): it may be queued again if still due."""
        with self._lock:
            self._in_flight.discard(key)


def _ignore_future(action: functools.partial[None], _future: object) -> None:
    action()
