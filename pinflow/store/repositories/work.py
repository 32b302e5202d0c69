"""The executions' work: task invocations (the outbox), timers, watched tasks, and the nodes that hold
leases on them; part of the executions repository (`queries/executions.sql`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pinflow.store.base import Tx

# --- timers -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timer:
    execution: str
    timer_id: str
    due_at: float


def set_timer(tx: Tx, *, execution: str, timer_id: str, due_at: float) -> None:
    """Arm a timer (again: a timer of that id is moved, and free for any node)."""
    tx.run("timer_upsert", execution=execution, timer_id=timer_id, due_at=due_at)


def delete_timer(tx: Tx, *, execution: str, timer_id: str) -> None:
    tx.run("timer_delete", execution=execution, timer_id=timer_id)


def consume_timer(tx: Tx, *, execution: str, timer_id: str, due_at: float) -> bool:
    """Take a fired timer away; False when it was cancelled or re-armed meanwhile."""
    return tx.run("timer_consume", execution=execution, timer_id=timer_id, due_at=due_at) > 0


def rearm_timer(tx: Tx, *, execution: str, timer_id: str, due_at: float) -> None:
    """Move an armed timer to `due_at` (nothing if there is none)."""
    tx.run("timer_rearm", execution=execution, timer_id=timer_id, due_at=due_at)


def due_timers(tx: Tx, *, due_by: float, expired_by: float, limit: int) -> list[Timer]:
    """Timers due by `due_by` that no lease unexpired at `expired_by` holds, soonest first."""
    return tx.rows("timers_due", Timer, due_by=due_by, expired_by=expired_by, limit=limit)


def claim_timers(tx: Tx, *, owner: str, until: float, due_by: float, expired_by: float, limit: int) -> list[Timer]:
    """As `due_timers`, held by node `owner` until `until` (rows another transaction holds are skipped)."""
    return tx.rows("timers_claim", Timer, owner=owner, until=until, due_by=due_by, expired_by=expired_by,
                   limit=limit)


def release_timers(tx: Tx, *, owner: str) -> None:
    tx.run("timers_release", owner=owner)


def release_all_timers(tx: Tx) -> None:
    tx.run("timers_release_all")


def next_timer_due(tx: Tx) -> float | None:
    """When the soonest timer is due (None: no timer)."""
    due = tx.value("timers_next_due")
    return None if due is None else float(due)


# --- invocations (the outbox) --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claimed:
    """An invocation taken under lease token `lease_token`."""

    execution: str
    task_id: str
    command: str  # JSON text: the InvokeTask command's fields
    lease_token: int


@dataclass(frozen=True, slots=True)
class Lease:
    """Who holds an invocation."""

    execution: str
    task_id: str
    lease_owner: str | None
    lease_token: int


@dataclass(frozen=True, slots=True)
class Task:
    """An invocation, as a task token finds it."""

    execution: str
    task_id: str
    command: str  # JSON text
    activity: str | None
    claimed_at: float | None


@dataclass(frozen=True, slots=True)
class ActivityTask:
    """An activity task no worker took yet."""

    execution: str
    task_id: str
    command: str  # JSON text
    token: str


@dataclass(frozen=True, slots=True)
class _Key:
    execution: str
    task_id: str


def add_invocation(tx: Tx, *, execution: str, task_id: str, command: str, token: str | None, activity: str | None,
                   created_at: float, lease_owner: str | None, lease_until: float | None) -> None:
    """Record an invocation to make, held by `lease_owner` until `lease_until` (lease token 1)."""
    tx.run("outbox_insert", execution=execution, task_id=task_id, command=command, token=token, activity=activity,
           created_at=created_at, lease_owner=lease_owner, lease_until=lease_until)


def consume_invocation(tx: Tx, *, execution: str, task_id: str, lease_token: int | None = None) -> bool:
    """Take an answered invocation away; with `lease_token`, only if it is still held under it. False
    when it was answered already (or another node holds it now)."""
    if lease_token is None:
        return tx.run("outbox_consume", execution=execution, task_id=task_id) > 0
    return tx.run("outbox_consume_fenced", execution=execution, task_id=task_id, lease_token=lease_token) > 0


def claim_expired(tx: Tx, *, owner: str, until: float, expired_by: float, other_than: str,
                  limit: int) -> list[Claimed]:
    """Invocations whose lease expired by `expired_by` (or that were let go), except those node
    `other_than` holds ('' for none), taken by `owner` until `until` under a new lease token."""
    return tx.rows("outbox_claim_expired", Claimed, owner=owner, until=until, expired_by=expired_by,
                   other_than=other_than, limit=limit)


def claim_at_start(tx: Tx, *, owner: str, until: float, expired_by: float, limit: int) -> list[Claimed]:
    """As `claim_expired`, with those `owner`'s earlier process held (a node id names one process)."""
    return tx.rows("outbox_claim_start", Claimed, owner=owner, until=until, expired_by=expired_by, limit=limit)


def renew_each(tx: Tx, *, owner: str, until: float, running: Iterable[tuple[str, str, int]]) -> None:
    """Renew the invocations `running` (execution, task id, lease token) that `owner` still holds,
    skipping rows a write in progress holds."""
    tx.run_many("outbox_renew_one", [{"until": until, "execution": execution, "task_id": task_id, "owner": owner,
                                      "lease_token": lease_token} for execution, task_id, lease_token in running])


def renew_all(tx: Tx, *, owner: str, until: float) -> int:
    """Renew every invocation `owner` holds, skipping rows a write in progress holds; returns how many."""
    return tx.run("outbox_renew", owner=owner, until=until)


def reclaim(tx: Tx, *, execution: str, task_id: str, owner: str, lease_token: int, until: float) -> bool:
    """Renew one invocation if `owner` still holds it under `lease_token`."""
    return tx.run("outbox_reclaim", execution=execution, task_id=task_id, owner=owner, lease_token=lease_token,
                  until=until) > 0


def lease(tx: Tx, *, execution: str, task_id: str) -> Lease | None:
    return tx.row("outbox_get", Lease, execution=execution, task_id=task_id)


def held(tx: Tx, *, owner: str) -> set[tuple[str, str]]:
    """(execution, task id) of the invocations `owner` holds a lease on."""
    return {(row.execution, row.task_id) for row in tx.rows("outbox_held", _Key, owner=owner)}


def let_go(tx: Tx, *, execution: str, task_id: str, owner: str) -> None:
    """Let go of one invocation `owner` holds: any node may take it now."""
    tx.run("outbox_release_one", execution=execution, task_id=task_id, owner=owner)


def let_go_all(tx: Tx, *, owner: str) -> int:
    """Let go of every invocation `owner` holds; returns how many."""
    return tx.run("outbox_release", owner=owner)


def mark_called(tx: Tx, *, execution: str, task_id: str, lease_token: int, at: float) -> bool:
    """The call was made (a callback or a watched task): no node has more to do for it. False when the
    row is gone or another node holds it under a later token."""
    return tx.run("outbox_mark_claimed", execution=execution, task_id=task_id, lease_token=lease_token, at=at) > 0


def by_token(tx: Tx, *, token: str) -> Task | None:
    return tx.row("outbox_by_token", Task, token=token)


def next_activity_task(tx: Tx, *, activity: str) -> ActivityTask | None:
    """The oldest task of an activity that no worker took (rows another transaction holds skipped)."""
    return tx.row("outbox_next_activity_task", ActivityTask, activity=activity)


def take_activity_task(tx: Tx, *, execution: str, task_id: str, owner: str, at: float) -> bool:
    """A worker takes an activity task through node `owner`; False when another took it first."""
    return tx.run("outbox_claim_activity_task", execution=execution, task_id=task_id, owner=owner, at=at) > 0


# --- nodes ------------------------------------------------------------------------------------------------


def node_seen(tx: Tx, *, id: str, now: float, lease_seconds: float) -> None:
    """Node `id` is alive at `now`."""
    tx.run("node_seen", id=id, now=now, lease_seconds=lease_seconds)


def node_gone(tx: Tx, *, id: str) -> None:
    tx.run("node_gone", id=id)


def others_alive(tx: Tx, *, id: str, now: float) -> int:
    """How many nodes other than `id` were alive within their lease at `now`."""
    return int(tx.value("nodes_others_alive", id=id, now=now) or 0)


def forget_dead_nodes(tx: Tx, *, now: float) -> None:
    """Forget the nodes not seen for ten of their leases, and what they counted running."""
    tx.run("nodes_forget_dead", now=now)
    tx.run("running_forget_dead")


# --- reserved concurrency across nodes ------------------------------------------------------------------


def admit_running(tx: Tx, *, function: str, node: str, limit: int, now: float) -> bool:
    """Count one more invocation of `function` on `node`, unless the nodes alive at `now` run `limit`
    already (then False). Holds the function's gate until the transaction ends."""
    tx.run("running_gate", function=function)
    if int(tx.value("running_alive", function=function, node=node, now=now) or 0) >= limit:
        return False
    tx.run("running_add", function=function, node=node)
    return True


def done_running(tx: Tx, *, function: str, node: str) -> None:
    """One invocation of `function` on `node` ended."""
    tx.run("running_done", function=function, node=node)


def forget_running(tx: Tx, *, node: str) -> None:
    """`node` runs nothing (it is starting, or stopping)."""
    tx.run("running_forget_node", node=node)


# --- watched tasks ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Watch:
    """A task whose outcome a node looks at now and then (a `.sync` job)."""

    execution: str
    task_id: str
    integration: str
    target: str
    detail: str  # JSON text
    check_at: float
    cancelled: int  # 1: the task was stopped; what it started is to be stopped


def add_watch(tx: Tx, *, execution: str, task_id: str, integration: str, target: str, detail: str,
              check_at: float) -> None:
    """Record a watch (nothing if the task has one)."""
    tx.run("watch_insert", execution=execution, task_id=task_id, integration=integration, target=target,
           detail=detail, check_at=check_at)


def watch(tx: Tx, *, execution: str, task_id: str) -> Watch | None:
    return tx.row("watch_get", Watch, execution=execution, task_id=task_id)


def delete_watch(tx: Tx, *, execution: str, task_id: str) -> bool:
    """Take a watch away; False when there was none."""
    return tx.run("watch_delete", execution=execution, task_id=task_id) > 0


def cancel_watch(tx: Tx, *, execution: str, task_id: str, check_at: float) -> bool:
    """The task was stopped: what it watches is to be stopped at `check_at`. False when it watches nothing."""
    return tx.run("watch_cancel", execution=execution, task_id=task_id, check_at=check_at) > 0


def reschedule_watch(tx: Tx, *, execution: str, task_id: str, check_at: float) -> None:
    """The time of the next look, set as a look starts (the claim on the row is kept)."""
    tx.run("watch_reschedule", execution=execution, task_id=task_id, check_at=check_at)


def rearm_watch(tx: Tx, *, execution: str, task_id: str, check_at: float) -> None:
    """The time of the next look, for any node."""
    tx.run("watch_rearm", execution=execution, task_id=task_id, check_at=check_at)


def any_watch_due(tx: Tx, *, due_by: float, expired_by: float) -> bool:
    """Whether a watch is due by `due_by` that no lease unexpired at `expired_by` holds."""
    return tx.row("watches_due", _Key, due_by=due_by, expired_by=expired_by) is not None


def claim_watches(tx: Tx, *, owner: str, until: float, due_by: float, expired_by: float,
                  limit: int) -> list[Watch]:
    """As `any_watch_due`, up to `limit` of them, held by `owner` until `until`."""
    return tx.rows("watches_claim", Watch, owner=owner, until=until, due_by=due_by, expired_by=expired_by,
                   limit=limit)


def unclaim_watch(tx: Tx, *, execution: str, task_id: str, owner: str) -> None:
    """Let go of a watch `owner` holds: due again at its next check, for any node."""
    tx.run("watch_unclaim", execution=execution, task_id=task_id, owner=owner)


def release_watches(tx: Tx, *, owner: str) -> None:
    tx.run("watches_release", owner=owner)
