"""Leases: which node (server process) does which unit of work, when several share one database.

Every unit of work a node does for the engine is held under a lease: a task invocation (its outbox
row), a due timer, a watch whose check is due. A lease names the node, runs until an expiry, and an
outbox row's also carries a fencing token that grows with every claim.

- A node claims an invocation in the very transaction that writes it (the step that asked for it), and
  carries it out itself. A heartbeat thread renews the node's invocation leases every `seconds / 5`
  while they are in progress, and says the node is alive (`nodes` rows). Where nodes share the database,
  only what a worker runs is renewed: an invocation still waiting in the node's queue keeps the lease it
  was written with, any node may take it once that runs out (idle nodes take a busy one's queue), and
  a worker starting one that waited half a lease or more first checks its node still holds it.
- The same thread takes over invocations whose lease has expired (their node died, or let them go),
  with `FOR UPDATE SKIP LOCKED` where the database has row locks, so two nodes never take the same one.
  A dead node's work therefore moves within `seconds` plus one heartbeat interval.
- The result of an invocation is applied only under the token it was claimed with
  (`outbox_consume_fenced`): a node that lost its lease (it stalled, the others took over) cannot apply
  a result over the new owner's.
- Timers and watches are claimed for `seconds` when a node fires or checks them; firing and delivering
  consume their rows, so what a node claimed and did not finish is fired by another once the claim expires.
- A Distributed Map's Express children run in memory on the node that started them: their item rows
  carry that node's lease, renewed by the heartbeat; once it expires (or a graceful stop lets it go)
  another node runs them again (at least once, as AWS runs Express children; the first end counts).
- A node starting takes only expired or released work (and what its own earlier process held, when it
  runs under the same node id), never a live node's. A graceful stop lets the running invocations
  finish, then releases what is left and tells the other nodes, which take it at once.
- Where the database is not shared (SQLite: one process), a starting node takes every invocation, as a
  restart always did, and due timers are fired without a claim (a write the one process does not need).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from typing import TYPE_CHECKING

from pinflow.asl import commands as cmd
from pinflow.store.repositories import mapruns as maprun_repo
from pinflow.store.repositories import work as work_repo

if TYPE_CHECKING:
    from pinflow.engine.runner import Engine

log = logging.getLogger(__name__)
DEFAULT_SECONDS = 20.0
CHANNEL = "pinflow_work"  # what nodes tell one another (PostgreSQL NOTIFY): see `Leases.heard`
BATCH = 500
NEVER = 1e18  # a time after every lease: "expired by NEVER" is every lease


def default_node_id() -> str:
    """A node id of its own for this process: host, process id and a random part."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class Leases:
    """This node's leases on the engine's work, and the heartbeat thread that keeps and takes them."""

    def __init__(self, engine: Engine, *, node_id: str | None = None, seconds: float = DEFAULT_SECONDS) -> None:
        if seconds <= 0:
            raise ValueError("the lease must last a positive number of seconds")
        self.engine = engine
        self.node_id = node_id or default_node_id()
        self.seconds = float(seconds)
        self.interval = max(0.2, self.seconds / 5)
        self.shared = bool(getattr(engine.store.dialect, "shared", False))
        if hasattr(engine.store.dialect, "lease_seconds"):
            # The database ends a session idle inside a transaction for about a lease (`postgres`).
            engine.store.dialect.lease_seconds = self.seconds
        self._renewed = time.monotonic()  # the last heartbeat that renewed this node's leases
        self._offset = 0.0  # the database's clock minus this host's (`now`)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._claiming = False
        # Invocations in progress on this node (handed to a worker, their result not yet committed);
        # an outbox row this node holds that is in none of them for two heartbeats in a row (its
        # result could not be written, say while the database was away) is let go, not renewed forever.
        self._working: dict[tuple[str, str], int] = {}
        # Where nodes share the database, only what a worker runs is renewed (by its token): what waits in
        # this node's queue keeps the lease it was written or claimed with, and once that runs out any node
        # may take it, so idle nodes take a busy one's queue and renewal costs what runs, not what waits.
        self._queued_at: dict[tuple[str, str], float] = {}
        self._running: dict[tuple[str, str], int] = {}
        self._working_lock = threading.Lock()
        self._suspects: set[tuple[str, str]] = set()
        # Ends of invocations of functions with reserved concurrency that could not be counted when they
        # came (the database away): the heartbeat counts them (`finished`).
        self._unfinished: dict[str, int] = {}

    def now(self) -> float:
        """Lease time: where nodes share the database, its server's clock (this host's wall clock
        corrected by the offset each heartbeat measures), so that a host whose clock is wrong neither
        takes live nodes' work nor loses its own; else the host's wall clock. Never the engine's clock,
        which tests move at will."""
        return time.time() + self._offset

    def measure_clock(self) -> None:
        """Measure how far the database's clock is from this host's (where nodes share the database)."""
        if not self.shared:
            return
        before = time.time()
        server = self.engine.store.clock(reserved=True)
        after = time.time()
        if server is None:
            return
        offset = server - (before + after) / 2  # read in the middle of the round trip
        if abs(offset) > self.seconds / 10 and abs(offset - self._offset) > 1.0:
            log.warning("this host's clock is %.1f s %s the database's: leases follow the database's clock",
                        abs(offset), "behind" if offset > 0 else "ahead of")
        self._offset = offset

    def until(self) -> float:
        """The expiry of a lease taken now."""
        return self.now() + self.seconds

    # --- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> list[tuple[str, cmd.InvokeTask, int]]:
        """Say this node is alive and take what it may take at start: returns the invocations claimed
        (execution ARN, command, lease token), for the engine to carry out once it runs. The heartbeat
        starts with `run`, once the engine can carry out what the heartbeat takes over."""
        self._stop.clear()
        self.measure_clock()
        now = self.now()
        with self.engine.store.transaction() as tx:
            work_repo.node_seen(tx, id=self.node_id, now=now, lease_seconds=self.seconds)
            if self.shared:
                rows = work_repo.claim_at_start(tx, owner=self.node_id, until=now + self.seconds, expired_by=now,
                                                limit=2**31)
                # Timers, watches and Express children this node id held before a crash are due again at
                # once (the children are run again by `MapRuns.recover` or the heartbeat, whichever
                # claims them first: a claim renews the lease, so the other does not see them).
                work_repo.release_timers(tx, owner=self.node_id)
                work_repo.release_watches(tx, owner=self.node_id)
                maprun_repo.express_release(tx, owner=self.node_id)
                work_repo.forget_running(tx, node=self.node_id)
            else:
                rows = work_repo.claim_expired(tx, owner=self.node_id, until=now + self.seconds, expired_by=NEVER,
                                               other_than="", limit=2**31)
                work_repo.release_all_timers(tx)
        self._renewed = time.monotonic()
        return [_claimed(row) for row in rows]

    def run(self) -> None:
        """Start the heartbeat (and, where nodes share the database, the thread that hears them)."""
        self._claiming = True
        self._threads = [threading.Thread(target=self._run, name="pinflow-leases", daemon=True)]
        if self.shared:
            self._threads.append(threading.Thread(target=self.engine.store.listen, name="pinflow-listen",
                                                  args=(CHANNEL, self.heard, self._stop), daemon=True))
        for thread in self._threads:
            thread.start()

    def alone(self) -> bool:
        """Whether no other node is alive on this database (always, where one process works on it)."""
        if not self.shared:
            return True
        with self.engine.store.transaction(write=False) as tx:
            return not work_repo.others_alive(tx, id=self.node_id, now=self.now())

    def stop_claiming(self) -> None:
        """Take no more work from other nodes (the first step of a graceful stop); keep renewing."""
        self._claiming = False

    def stop(self) -> None:
        """Stop the threads; let go of every lease this node still holds, and tell the other nodes."""
        self._claiming = False
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads = []
        try:
            with self.engine.store.transaction() as tx:
                released = work_repo.let_go_all(tx, owner=self.node_id)
                released += maprun_repo.express_release(tx, owner=self.node_id)
                work_repo.release_timers(tx, owner=self.node_id)
                work_repo.release_watches(tx, owner=self.node_id)
                work_repo.forget_running(tx, node=self.node_id)
                work_repo.node_gone(tx, id=self.node_id)
                if released:
                    tx.notify(CHANNEL, "outbox")
        except Exception:
            log.exception("releasing this node's leases failed; other nodes take its work when they expire")

    # --- reserved concurrency, where nodes share the database (`Invoker.admission`) --------------------

    def admit(self, function: str, limit: int) -> bool | None:
        """Whether one more invocation of `function` may run, its reserved concurrency `limit` counted
        over every node alive; if so it is counted here until `finished`. None where the database could
        not be asked within a lease: the invocation runs on this node's own count. Skips this process's
        write queue: an invocation does not wait behind the engine's writes to be admitted."""
        try:
            with self.engine.store.transaction(queue=False, wait_limit=self.seconds) as tx:
                return work_repo.admit_running(tx, function=function, node=self.node_id, limit=limit,
                                               now=self.now())
        except Exception:
            log.warning("could not ask the other nodes about %s's reserved concurrency: counting this node's "
                        "invocations alone", function, exc_info=True)
            return None

    def finished(self, function: str) -> None:
        """An invocation `admit` counted has ended; where the database cannot be told now, the next
        heartbeat tells it."""
        try:
            with self.engine.store.transaction(queue=False, wait_limit=self.seconds) as tx:
                work_repo.done_running(tx, function=function, node=self.node_id)
        except Exception:
            log.warning("could not count the end of an invocation of %s: the heartbeat will", function,
                        exc_info=True)
            with self._working_lock:
                self._unfinished[function] = self._unfinished.get(function, 0) + 1

    def _count_unfinished(self) -> None:
        with self._working_lock:
            unfinished, self._unfinished = self._unfinished, {}
        if not unfinished:
            return
        try:
            with self.engine.store.transaction(queue=False, reserved=True, wait_limit=self.interval) as tx:
                for function, count in sorted(unfinished.items()):
                    for _ in range(count):
                        work_repo.done_running(tx, function=function, node=self.node_id)
        except Exception:
            log.warning("could not count the ends of invocations yet; trying again at the next heartbeat",
                        exc_info=True)
            with self._working_lock:
                for function, count in unfinished.items():
                    self._unfinished[function] = self._unfinished.get(function, 0) + count

    def working(self, execution_arn: str, task_id: str) -> None:
        """An invocation is in progress here: keep its lease."""
        key = (execution_arn, task_id)
        with self._working_lock:
            self._working[key] = self._working.get(key, 0) + 1
            self._queued_at.setdefault(key, time.monotonic())

    def start_work(self, execution_arn: str, task_id: str, fence: int) -> bool:
        """A worker starts an invocation queued under lease token `fence`: whether this node still holds
        it. Where nodes share the database, one that waited in the queue for half a lease or more is
        checked (one statement; another node may have taken it); from now on it is renewed."""
        key = (execution_arn, task_id)
        with self._working_lock:
            queued_at = self._queued_at.get(key)
        if self.shared and queued_at is not None and time.monotonic() - queued_at >= self.seconds / 2:
            with self.engine.store.transaction(queue=False, wait_limit=self.interval) as tx:
                if not work_repo.reclaim(tx, execution=execution_arn, task_id=task_id, owner=self.node_id,
                                         lease_token=fence, until=self.until()):
                    log.info("task %s of %s was taken over while it waited here", task_id, execution_arn)
                    return False
        with self._working_lock:
            self._running[key] = fence
        return True

    def done(self, execution_arn: str, task_id: str) -> None:
        """The invocation's outcome is written (or could not be): its lease needs no more renewing."""
        key = (execution_arn, task_id)
        with self._working_lock:
            left = self._working.get(key, 0) - 1
            if left > 0:
                self._working[key] = left
            else:
                self._working.pop(key, None)
                self._queued_at.pop(key, None)
                self._running.pop(key, None)

    # --- what other nodes say ------------------------------------------------------------------------

    def heard(self, payload: str) -> None:
        """A notification from another node: work was let go (take it now), or an activity task came."""
        if payload == "outbox":
            self._wake.set()
        elif payload.startswith("activity:"):
            self.engine._notify_activity()

    # --- the heartbeat -------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.beat()
            except Exception:
                log.exception("lease heartbeat failed")
            late = time.monotonic() - self._renewed
            if late > self.seconds / 2:
                log.warning("this node's leases were last renewed %.1f s ago (lease %.1f s): other nodes take "
                            "over its work at %.1f s", late, self.seconds, self.seconds)
            self._wake.wait(self.interval)
            self._wake.clear()

    def beat(self) -> int:
        """Renew this node's leases and say it is alive; take over expired invocations. Returns how many
        were taken over."""
        self.measure_clock()
        now = self.now()
        # Never behind this process's other writes (one stalled on a row lock or a slow disk must not
        # cost the node its leases), and never waiting long on a lock itself: renewal skips rows locked
        # by a write in progress (one that consumes them, or holds them while it writes).
        started = time.monotonic()
        with self.engine.store.transaction(queue=False, reserved=True, wait_limit=self.interval) as tx:
            if self.shared:
                with self._working_lock:
                    running = sorted(self._running.items())
                work_repo.renew_each(tx, owner=self.node_id, until=now + self.seconds,
                                     running=[(execution_arn, task_id, fence)
                                              for (execution_arn, task_id), fence in running])
                maprun_repo.express_renew(tx, owner=self.node_id, until=now + self.seconds)
            else:
                work_repo.renew_all(tx, owner=self.node_id, until=now + self.seconds)
            work_repo.node_seen(tx, id=self.node_id, now=now, lease_seconds=self.seconds)
            work_repo.forget_dead_nodes(tx, now=now)
            held = work_repo.held(tx, owner=self.node_id)
        self._renewed = started
        with self._working_lock:
            idle = {key for key in held if key not in self._working}
        let_go, self._suspects = idle & self._suspects, idle - self._suspects
        if let_go:
            with self.engine.store.transaction(queue=False, reserved=True, wait_limit=self.interval) as tx:
                for execution_arn, task_id in sorted(let_go):
                    work_repo.let_go(tx, execution=execution_arn, task_id=task_id, owner=self.node_id)
                tx.notify(CHANNEL, "outbox")
            self._wake.set()
        self._count_unfinished()
        if not self._claiming:
            return 0
        with self.engine.store.transaction(queue=False, reserved=True, wait_limit=self.interval) as tx:
            # Not this node's own expired rows: those wait in its queue (`start_work` checks them).
            rows = work_repo.claim_expired(tx, owner=self.node_id, until=now + self.seconds, expired_by=now,
                                           other_than=self.node_id, limit=BATCH)
            children: list[maprun_repo.ExpiredExpressItem] = []
            if self.shared:
                children = maprun_repo.express_expired(tx, now=now, limit=BATCH)
                for child in children:
                    maprun_repo.express_lease(tx, map_run=child.map_run, indexes=[child.idx], owner=self.node_id,
                                              until=now + self.seconds)
        by_run: dict[str, list[maprun_repo.ExpiredExpressItem]] = {}
        for child in children:
            by_run.setdefault(child.map_run, []).append(child)
        for map_run_arn, taken in by_run.items():
            log.info("taking over %d Express children of %s", len(taken), map_run_arn)
            self.engine.mapruns.take_over(map_run_arn, taken)
        for row in rows:
            try:
                execution_arn, command, fence = _claimed(row)
            except (TypeError, ValueError):
                log.exception("task %s of %s cannot be read", row.task_id, row.execution)
                continue
            log.info("taking over task %s of %s (lease token %d)", command.task_id, execution_arn, fence)
            self.engine.dispatch(execution_arn, command, fence=fence)
        return len(rows) + len(children)


def _claimed(row: work_repo.Claimed) -> tuple[str, cmd.InvokeTask, int]:
    return row.execution, cmd.InvokeTask(**json.loads(row.command)), int(row.lease_token)

