"""Leases: which node (server process) does which unit of work, when several share one database.

Every unit of work a node does for the engine is held under a lease: a task invocation (its outbox
row), a due timer, a watch whose check is due. A lease names the node, runs until an expiry, and an
outbox row's also carries a fencing token that grows with every claim.

- A node claims an invocation in the very transaction that writes it (the step that asked for it), and
  carries it out itself. A heartbeat thread renews the node's invocation leases every `seconds / 5`
  while they are in progress, and says the node is alive (`nodes` rows).
- The same thread takes over invocations whose lease has expired (their node died, or let them go),
  with `FOR UPDATE SKIP LOCKED` where the database has row locks, so two nodes never take the same one.
  A dead node's work therefore moves within `seconds` plus one heartbeat interval.
- The result of an invocation is applied only under the token it was claimed with
  (`outbox_consume_fenced`): a node that lost its lease (it stalled, the others took over) cannot apply
  a result over the new owner's.
- Timers and watches are claimed for `seconds` when a node fires or checks them; firing and delivering
  consume their rows, so what a node claimed and did not finish is fired by another once the claim expires.
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
from typing import TYPE_CHECKING, Any

from pinflow.asl import commands as cmd

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
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._claiming = False
        # Invocations in progress on this node (handed to a worker, their result not yet committed);
        # an outbox row this node holds that is in none of them for two heartbeats in a row (its
        # result could not be written, say while the database was away) is let go, not renewed forever.
        self._working: dict[tuple[str, str], int] = {}
        self._working_lock = threading.Lock()
        self._suspects: set[tuple[str, str]] = set()

    @staticmethod
    def now() -> float:
        """Lease time: the host's wall clock (never the engine's, which tests move at will); the hosts of
        a cluster keep their clocks in step (NTP) to well within a lease."""
        return time.time()

    def until(self) -> float:
        """The expiry of a lease taken now."""
        return self.now() + self.seconds

    # --- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> list[tuple[str, cmd.InvokeTask, int]]:
        """Say this node is alive and take what it may take at start: returns the invocations claimed
        (execution ARN, command, lease token), for the engine to carry out once it runs."""
        self._stop.clear()
        now = self.now()
        with self.engine.store.transaction() as tx:
            tx.execute("node_seen", (self.node_id, now, now, self.seconds))
            if self.shared:
                rows = tx.all("outbox_claim_start", (self.node_id, now + self.seconds, now, self.node_id, 2**31))
                # Timers and watches this node id held before a crash are due again at once.
                tx.execute("timers_release", (self.node_id,))
                tx.execute("watches_release", (self.node_id,))
            else:
                rows = tx.all("outbox_claim_expired", (self.node_id, now + self.seconds, NEVER, 2**31))
                tx.execute("timers_release_all")
        self._claiming = True
        self._threads = [threading.Thread(target=self._run, name="pinflow-leases", daemon=True)]
        if self.shared:
            self._threads.append(threading.Thread(target=self.engine.store.listen, name="pinflow-listen",
                                                  args=(CHANNEL, self.heard, self._stop), daemon=True))
        for thread in self._threads:
            thread.start()
        return [_claimed(row) for row in rows]

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
                released = tx.execute("outbox_release", (self.node_id,))
                tx.execute("timers_release", (self.node_id,))
                tx.execute("watches_release", (self.node_id,))
                tx.execute("node_gone", (self.node_id,))
                if released:
                    tx.notify(CHANNEL, "outbox")
        except Exception:
            log.exception("releasing this node's leases failed; other nodes take its work when they expire")

    def working(self, execution_arn: str, task_id: str) -> None:
        """An invocation is in progress here: keep its lease."""
        key = (execution_arn, task_id)
        with self._working_lock:
            self._working[key] = self._working.get(key, 0) + 1

    def done(self, execution_arn: str, task_id: str) -> None:
        """The invocation's outcome is written (or could not be): its lease needs no more renewing."""
        key = (execution_arn, task_id)
        with self._working_lock:
            left = self._working.get(key, 0) - 1
            if left > 0:
                self._working[key] = left
            else:
                self._working.pop(key, None)

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
            self._wake.wait(self.interval)
            self._wake.clear()

    def beat(self) -> int:
        """Renew this node's leases and say it is alive; take over expired invocations. Returns how many
        were taken over."""
        now = self.now()
        with self.engine.store.transaction() as tx:
            tx.execute("outbox_renew", (now + self.seconds, self.node_id))
            tx.execute("node_seen", (self.node_id, now, now, self.seconds))
            tx.execute("nodes_forget_dead", (now,))
            held = {(r["execution"], r["task_id"]) for r in tx.all("outbox_held", (self.node_id,))}
        with self._working_lock:
            idle = {key for key in held if key not in self._working}
        let_go, self._suspects = idle & self._suspects, idle - self._suspects
        if let_go:
            with self.engine.store.transaction() as tx:
                for execution_arn, task_id in sorted(let_go):
                    tx.execute("outbox_release_one", (execution_arn, task_id, self.node_id))
                tx.notify(CHANNEL, "outbox")
            self._wake.set()
        if not self._claiming:
            return 0
        with self.engine.store.transaction() as tx:
            rows = tx.all("outbox_claim_expired", (self.node_id, now + self.seconds, now, BATCH))
        for row in rows:
            try:
                execution_arn, command, fence = _claimed(row)
            except (TypeError, ValueError):
                log.exception("task %s of %s cannot be read", row["task_id"], row["execution"])
                continue
            log.info("taking over task %s of %s (lease token %d)", command.task_id, execution_arn, fence)
            self.engine.dispatch(execution_arn, command, fence=fence)
        return len(rows)


def _claimed(row: dict[str, Any]) -> tuple[str, cmd.InvokeTask, int]:
    return row["execution"], cmd.InvokeTask(**json.loads(row["command"])), int(row["lease_token"])
