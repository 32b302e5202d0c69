"""Map Runs and their items; part of the executions repository (`queries/executions.sql`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pinflow.store.base import Tx

# The largest position in a list of Map Runs: a page with no `before` starts there.
LAST_POSITION = 2**62


@dataclass(frozen=True, slots=True)
class MapRun:
    """A Map Run's row: its limits, and its children counted in executions and in items."""

    arn: str
    execution: str  # the parent execution
    run_id: str  # the parent's id for it
    seq: int
    machine: str  # the children's machine name: <machine>/<label>
    block: str
    execution_type: str
    writes_results: int  # 1: a ResultWriter takes the results
    status: str
    max_concurrency: int
    tolerated_count: int | None
    tolerated_percentage: float | None
    total: int
    started: int
    succeeded: int
    failed: int
    timed_out: int
    aborted: int
    item_total: int
    item_started: int
    item_succeeded: int
    item_failed: int
    item_timed_out: int
    item_aborted: int
    pending_redrive: int
    item_pending_redrive: int
    error: str | None
    cause: str | None
    redrive_count: int
    redrive_date: float | None
    started_at: float
    stopped_at: float | None


@dataclass(frozen=True, slots=True)
class Summary:
    """A Map Run as ListMapRuns shows it."""

    arn: str
    execution: str
    machine: str
    block: str
    status: str
    started_at: float
    stopped_at: float | None
    seq: int


@dataclass(frozen=True, slots=True)
class Item:
    input: str  # JSON text
    weight: int  # how many items: 1, or the size of a batch


@dataclass(frozen=True, slots=True)
class Started:
    """A started item: its child execution."""

    idx: int
    execution: str
    weight: int


@dataclass(frozen=True, slots=True)
class ExpressItem:
    """An item an Express child runs (in memory)."""

    idx: int
    execution: str
    input: str
    weight: int


@dataclass(frozen=True, slots=True)
class ExpiredExpressItem:
    """An Express child whose node's lease expired, with its run."""

    map_run: str
    idx: int
    execution: str
    input: str
    weight: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """How an item's child ended."""

    idx: int
    status: str | None
    output: str | None
    error: str | None
    cause: str | None


@dataclass(frozen=True, slots=True)
class Child:
    """An item's child execution, as a ResultWriter's files show it."""

    idx: int
    arn: str
    status: str | None
    input: str
    output: str | None
    error: str | None
    cause: str | None
    started_at: float | None
    stopped_at: float | None
    redrive_count: int


@dataclass(frozen=True, slots=True)
class Pending:
    """An item not started."""

    idx: int
    input: str


@dataclass(frozen=True, slots=True)
class _Unsuccessful:
    n: int
    weight: int | None


@dataclass(frozen=True, slots=True)
class _Arn:
    arn: str


# --- runs -------------------------------------------------------------------------------------------------


def insert(tx: Tx, *, arn: str, execution: str, run_id: str, seq: int, machine: str, block: str,
           execution_type: str, writes_results: bool, max_concurrency: int, tolerated_count: int | None,
           tolerated_percentage: float | None, total: int, item_total: int, started_at: float) -> None:
    """Record a new, RUNNING Map Run."""
    tx.run("maprun_insert", arn=arn, execution=execution, run_id=run_id, seq=seq, machine=machine, block=block,
           execution_type=execution_type, writes_results=int(writes_results), max_concurrency=max_concurrency,
           tolerated_count=tolerated_count, tolerated_percentage=tolerated_percentage, total=total,
           item_total=item_total, started_at=started_at)


def get(tx: Tx, *, arn: str) -> MapRun | None:
    return tx.row("maprun_get", MapRun, arn=arn)


def get_for_update(tx: Tx, *, arn: str) -> MapRun | None:
    """The run's row, locked until the transaction ends where the database has row locks."""
    return tx.row("maprun_get_for_update", MapRun, arn=arn)


def by_run_id(tx: Tx, *, execution: str, run_id: str) -> MapRun | None:
    """The run the parent `execution` knows as `run_id`."""
    return tx.row("maprun_by_run_id", MapRun, execution=execution, run_id=run_id)


def page(tx: Tx, *, execution: str, before: int | None, limit: int) -> list[Summary]:
    """An execution's Map Runs, newest first, from position `before` (None: the newest)."""
    return tx.rows("maprun_list", Summary, execution=execution, before=LAST_POSITION if before is None else before,
                   limit=limit)


def running(tx: Tx) -> list[str]:
    """Runs to move on at start-up: those running, and those ended early with children still running."""
    return [row.arn for row in tx.rows("maprun_running", _Arn)]


def child_started(tx: Tx, *, arn: str, weight: int) -> None:
    """Count a child started (and the `weight` items it runs)."""
    tx.run("maprun_started", arn=arn, weight=weight)


def count_ended(tx: Tx, *, arn: str, counts: tuple[int, int, int, int], weight: int) -> None:
    """Add (succeeded, failed, timed out, aborted) children to the run's counts, each running `weight` items."""
    succeeded, failed, timed_out, aborted = counts
    tx.run("maprun_child_ended", arn=arn, succeeded=succeeded, failed=failed, timed_out=timed_out, aborted=aborted,
           item_succeeded=succeeded * weight, item_failed=failed * weight, item_timed_out=timed_out * weight,
           item_aborted=aborted * weight)


def end(tx: Tx, *, arn: str, status: str, error: str | None, cause: str | None, stopped_at: float) -> None:
    """End a RUNNING run."""
    tx.run("maprun_end", arn=arn, status=status, error=error, cause=cause, stopped_at=stopped_at)


def update(tx: Tx, *, arn: str, max_concurrency: int, tolerated_count: int | None,
           tolerated_percentage: float | None) -> None:
    tx.run("maprun_update", arn=arn, max_concurrency=max_concurrency, tolerated_count=tolerated_count,
           tolerated_percentage=tolerated_percentage)


def redriven(tx: Tx, *, arn: str, at: float) -> bool:
    """Run a FAILED or ABORTED run again (its failures no longer counted); False when it is neither."""
    return tx.run("maprun_redriven", arn=arn, at=at) > 0


def running_children(tx: Tx, *, map_run: str, limit: int) -> list[str]:
    """ARNs of the run's RUNNING children, oldest first."""
    return [row.arn for row in tx.rows("maprun_running_children", _Arn, map_run=map_run, limit=limit)]


def outcomes(tx: Tx, *, map_run: str) -> list[Outcome]:
    """How the started items' children ended (or not yet), in item order."""
    return tx.rows("maprun_outcomes", Outcome, map_run=map_run)


def children(tx: Tx, *, map_run: str) -> list[Child]:
    """The started items' children, in item order."""
    return tx.rows("maprun_children", Child, map_run=map_run)


# --- items ------------------------------------------------------------------------------------------------


def add_items(tx: Tx, *, map_run: str, items: Iterable[tuple[str, int]]) -> None:
    """Record a run's items (JSON text, weight), numbered from 0."""
    tx.run_many("maprun_item_insert", [{"map_run": map_run, "idx": idx, "input": input, "weight": weight}
                                       for idx, (input, weight) in enumerate(items)])


def item(tx: Tx, *, map_run: str, idx: int) -> Item | None:
    return tx.row("maprun_item_get", Item, map_run=map_run, idx=idx)


def item_started(tx: Tx, *, map_run: str, idx: int, execution: str) -> bool:
    """Name the child execution that runs an item; False when the item was started already."""
    return tx.run("maprun_item_started", map_run=map_run, idx=idx, execution=execution) > 0


def counted_status(tx: Tx, *, map_run: str, idx: int) -> str | None:
    """The status an item's child was counted with (None: not counted)."""
    status = tx.value("maprun_item_counted_status", map_run=map_run, idx=idx)
    return None if status is None else str(status)


def set_counted(tx: Tx, *, map_run: str, idx: int, status: str) -> None:
    tx.run("maprun_item_counted", map_run=map_run, idx=idx, status=status)


def await_redrive(tx: Tx, *, map_run: str) -> None:
    """The run was redriven: its unsuccessful children wait to be redriven (pending, not started)."""
    found = tx.row("maprun_unsuccessful_items", _Unsuccessful, map_run=map_run)
    count, weight = (int(found.n), int(found.weight or 0)) if found is not None else (0, 0)
    tx.run("maprun_items_await_redrive", map_run=map_run)
    tx.run("maprun_await_redrive", arn=map_run, count=count, weight=weight)


def to_redrive(tx: Tx, *, map_run: str, limit: int) -> list[Started]:
    """Up to `limit` children waiting to be redriven, in item order."""
    return tx.rows("maprun_items_to_redrive", Started, map_run=map_run, limit=limit)


def redrive_started(tx: Tx, *, map_run: str, idx: int, weight: int) -> None:
    """A child waiting to be redriven is redriven: counted started again."""
    tx.run("maprun_item_redrive_started", map_run=map_run, idx=idx)
    tx.run("maprun_redrive_started", arn=map_run, weight=weight)


def pending(tx: Tx, *, map_run: str) -> list[Pending]:
    """The items not started, in order."""
    return tx.rows("maprun_pending_items", Pending, map_run=map_run)


# --- Express children: their ends on the item rows ---------------------------------------------------------


def express_started(tx: Tx, *, map_run: str, idx: int, execution: str, started_at: float,
                    again: bool = False) -> bool:
    """Name the Express child that runs an item; False when the item was started already (unless
    `again`: the item runs again, as a new execution)."""
    name = "maprun_express_started" if again else "maprun_express_first_started"
    return tx.run(name, map_run=map_run, idx=idx, execution=execution, started_at=started_at) > 0


def express_ended(tx: Tx, *, map_run: str, idx: int, execution: str, status: str, output: str | None,
                  error: str | None, cause: str | None, stopped_at: float) -> bool:
    """Record how an Express child ended; False when its end was recorded already (or it is not the
    item's child any more)."""
    return tx.run("maprun_express_ended", map_run=map_run, idx=idx, execution=execution, status=status,
                  output=output, error=error, cause=cause, stopped_at=stopped_at) > 0


def express_lease(tx: Tx, *, map_run: str, indexes: list[int], owner: str, until: float) -> None:
    """Hold the Express children of items `indexes` under `owner`'s lease until `until`."""
    tx.run_many("maprun_express_lease", [{"owner": owner, "until": until, "map_run": map_run, "idx": index}
                                         for index in indexes])


def express_claimable(tx: Tx, *, map_run: str, now: float) -> list[ExpressItem]:
    """Express children started and not ended whose lease expired by `now` or was never taken (a crash
    or a dead node cut them short), in item order; locked where rows can be."""
    return tx.rows("maprun_express_claimable", ExpressItem, map_run=map_run, now=now)


def express_expired(tx: Tx, *, now: float, limit: int) -> list[ExpiredExpressItem]:
    """Unfinished Express children of any run whose node's lease expired by `now` (oldest first, at
    most `limit`), skipping rows another node is claiming."""
    return tx.rows("maprun_express_expired", ExpiredExpressItem, now=now, limit=limit)


def express_renew(tx: Tx, *, owner: str, until: float) -> int:
    """Renew the leases of every unfinished Express child `owner` runs; returns how many."""
    return tx.run("maprun_express_renew", owner=owner, until=until)


def express_unlease(tx: Tx, *, map_run: str, indexes: list[int]) -> None:
    """No node holds these children any more (their run ended)."""
    tx.run_many("maprun_express_unlease", [{"map_run": map_run, "idx": index} for index in indexes])


def express_release(tx: Tx, *, owner: str) -> int:
    """Let go of `owner`'s unfinished Express children (any node runs them again at once)."""
    return tx.run("maprun_express_release", owner=owner)


def express_failed(tx: Tx, *, map_run: str) -> list[ExpressItem]:
    """Express children that failed, timed out or were aborted, in item order."""
    return tx.rows("maprun_express_failed", ExpressItem, map_run=map_run)


def express_retry(tx: Tx, *, map_run: str, idx: int) -> None:
    """Forget how an item's Express child ended: it runs again."""
    tx.run("maprun_express_retry", map_run=map_run, idx=idx)
