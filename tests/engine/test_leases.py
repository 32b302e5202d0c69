"""Leases as the store keeps them (`engine.leases`): who may take an invocation when, the fencing
token that keeps a node that lost its lease from applying a result, row locks that let nodes claim side
by side without waiting on one another, and migrations that nodes starting together apply once."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pinflow.asl import commands as cmd
from pinflow.store import Store, open_store
from pinflow.store.repositories import work as work_repo
from tests.backends import BACKENDS, postgres_schema

NOW = 1_000_000.0
LEASE = 20.0
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:absent"


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgres":
        with postgres_schema("pinflow_leases") as found:
            yield found
    else:
        yield f"sqlite:///{tmp_path / 'leases.db'}"


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    opened = open_store(url)
    yield opened
    opened.close()


def write(store: Store, task_id: str, owner: str | None, until: float | None, activity: str | None = None) -> None:
    with store.transaction() as tx:
        command = dataclasses.asdict(cmd.InvokeTask(task_id=task_id, resource=FUNCTION, payload={}, state_name="T",
                                                    attempt=0))
        work_repo.add_invocation(tx, execution="arn:exec", task_id=task_id, command=json.dumps(command), token=None,
                                 activity=activity, created_at=NOW, lease_owner=owner, lease_until=until)


def claim(store: Store, node: str, now: float) -> list[tuple[str, int]]:
    with store.transaction() as tx:
        rows = work_repo.claim_expired(tx, owner=node, until=now + LEASE, expired_by=now, other_than=node, limit=100)
    return sorted((r.task_id, int(r.lease_token)) for r in rows)


def test_only_expired_or_released_invocations_are_taken_and_each_claim_raises_the_token(store: Store) -> None:
    write(store, "live", "a", NOW + LEASE)
    write(store, "dead", "b", NOW - 1)
    write(store, "activity", None, None, activity="arn:activity")  # for a worker, not a node
    assert claim(store, "c", NOW) == [("dead", 2)]
    assert claim(store, "d", NOW) == []  # c holds it now
    assert claim(store, "d", NOW + LEASE + 1) == [("dead", 3), ("live", 2)]  # neither renewed


def test_a_result_counts_only_under_the_token_it_ran_with(store: Store) -> None:
    write(store, "t", "a", NOW - 1)
    assert claim(store, "b", NOW) == [("t", 2)]
    with store.transaction() as tx:
        assert not work_repo.consume_invocation(tx, execution="arn:exec", task_id="t", lease_token=1)  # a's: dropped
        assert not work_repo.mark_called(tx, execution="arn:exec", task_id="t", lease_token=1, at=NOW)
        assert work_repo.consume_invocation(tx, execution="arn:exec", task_id="t", lease_token=2)


def test_renewal_keeps_a_lease_and_a_release_hands_work_over_at_once(store: Store) -> None:
    write(store, "t", "a", NOW + 1)
    with store.transaction() as tx:
        assert work_repo.renew_all(tx, owner="a", until=NOW + LEASE) == 1
    assert claim(store, "b", NOW + 2) == []
    with store.transaction() as tx:
        assert work_repo.let_go_all(tx, owner="a") == 1
    assert claim(store, "b", NOW + 2) == [("t", 2)]


def test_a_node_starting_takes_what_its_earlier_process_held_but_not_a_live_nodes(store: Store) -> None:
    write(store, "mine", "a", NOW + LEASE)
    write(store, "theirs", "b", NOW + LEASE)
    with store.transaction() as tx:
        rows = work_repo.claim_at_start(tx, owner="a", until=NOW + LEASE, expired_by=NOW, limit=100)
    assert [r.task_id for r in rows] == ["mine"]


def test_due_timers_are_claimed_once_until_the_claim_expires(store: Store) -> None:
    with store.transaction() as tx:
        work_repo.set_timer(tx, execution="arn:exec", timer_id="wait", due_at=NOW - 1)
        first = work_repo.claim_timers(tx, owner="a", until=NOW + LEASE, due_by=NOW, expired_by=NOW, limit=10)
        second = work_repo.claim_timers(tx, owner="b", until=NOW + LEASE, due_by=NOW, expired_by=NOW, limit=10)
        later = work_repo.claim_timers(tx, owner="b", until=NOW + 2 * LEASE, due_by=NOW + LEASE + 1,
                                       expired_by=NOW + LEASE + 1, limit=10)
    assert [r.timer_id for r in first] == ["wait"]
    assert second == []
    assert [r.timer_id for r in later] == ["wait"]


@pytest.mark.postgres
def test_nodes_claiming_at_once_skip_each_others_rows_without_waiting() -> None:
    with postgres_schema("pinflow_leases") as url:
        first, second = open_store(url), open_store(url)
        try:
            for i in range(10):
                write(first, f"t{i}", "dead", NOW - 1)
            held = threading.Event()
            release = threading.Event()
            taken: dict[str, list[str]] = {}

            def slow() -> None:
                with first.transaction() as tx:
                    rows = work_repo.claim_expired(tx, owner="a", until=NOW + LEASE, expired_by=NOW, other_than="a",
                                                   limit=4)
                    taken["a"] = [r.task_id for r in rows]
                    held.set()
                    release.wait(10)

            thread = threading.Thread(target=slow)
            thread.start()
            assert held.wait(10)
            # a's four rows stay locked until it commits: b takes the other six, without waiting for a.
            taken["b"] = [task for task, _ in claim(second, "b", NOW)]
            release.set()
            thread.join()
            assert len(taken["a"]) == 4 and len(taken["b"]) == 6
            assert set(taken["a"]).isdisjoint(taken["b"])
        finally:
            first.close()
            second.close()


@pytest.mark.postgres
def test_nodes_starting_together_migrate_once() -> None:
    with postgres_schema("pinflow_migrate") as url:
        opened: list[Store] = []
        failures: list[BaseException] = []

        def open_one() -> None:
            try:
                opened.append(open_store(url))
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

        threads = [threading.Thread(target=open_one) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        try:
            assert failures == []
            with opened[0].transaction(write=False) as tx:
                versions = [r["version"] for r in tx.all("SELECT version FROM schema_migrations ORDER BY version")]
            assert versions == [version for version, _ in opened[0].dialect.migrations()]
        finally:
            for store in opened:
                store.close()


@pytest.mark.postgres
def test_a_failed_migration_lets_go_of_the_migration_lock_at_once() -> None:
    from pinflow.store.postgres import PostgresDialect

    class Broken(PostgresDialect):
        def migrations(self) -> list[tuple[int, str]]:
            return [*super().migrations(), (9999, "ALTER TABLE no_such_table ADD COLUMN x INTEGER")]

    with postgres_schema("pinflow_migrate") as url:
        with pytest.raises(Exception, match="no_such_table"):
            Store(Broken(url))
        opened: list[Store] = []
        after = threading.Thread(target=lambda: opened.append(open_store(url)), daemon=True)
        after.start()
        after.join(timeout=15)  # a node starting next is not kept waiting by the failed one
        assert opened, "the failed migration still holds the migration lock"
        opened[0].close()


def test_the_heartbeat_takes_over_work_only_once_the_engine_runs(open_pinflow, monkeypatch) -> None:
    pf = open_pinflow(start=False, lease_seconds=1.0)
    engine, leases = pf.engine, pf.engine.leases
    started_when_dispatched: list[bool] = []
    monkeypatch.setattr(engine, "dispatch", lambda *args, **kwargs: started_when_dispatched.append(engine.started))
    claim_at_start = leases.start

    def start_then_an_invocation_expires() -> list[Any]:
        claimed = claim_at_start()
        write(pf.store, "expired", "dead", 0.0)  # another node's lease runs out just as this one starts
        time.sleep(leases.interval * 3)  # the rest of the engine's start takes a while
        return claimed

    monkeypatch.setattr(leases, "start", start_then_an_invocation_expires)
    engine.start()
    deadline = time.monotonic() + 10
    while not started_when_dispatched and time.monotonic() < deadline:
        time.sleep(0.05)
    # Taken over by the heartbeat of a node not running yet, the invocation would be dropped, its row
    # held until two heartbeats let it go again.
    assert started_when_dispatched == [True]


def test_a_watch_whose_look_failed_is_looked_at_again_at_its_next_check(open_pinflow, clock, monkeypatch) -> None:
    from pinflow.engine import watches
    from pinflow.engine.integrations import base, table

    looks: list[str] = []

    class Failing(base.Integration):
        name = "failing"
        poll_seconds = 5.0

        def poll(self, engine: Any, watched: base.Watched) -> None:
            looks.append(watched.task_id)
            raise ConnectionError("the service did not answer")

    monkeypatch.setattr(table, "by_name", lambda name: Failing() if name == "failing" else None)
    pf = open_pinflow(start=False)
    with pf.store.transaction() as tx:
        work_repo.add_watch(tx, execution="arn:exec", task_id="t", integration="failing", target="arn:job",
                            detail="{}", check_at=clock())

    def look_at_due_watches() -> None:
        watches.check_due(pf.engine)
        deadline = time.monotonic() + 10
        while pf.engine.watching.claim(("arn:exec", "t")) is False:  # the look is still running
            assert time.monotonic() < deadline
            time.sleep(0.02)
        pf.engine.watching.release(("arn:exec", "t"))

    look_at_due_watches()
    assert looks == ["t"]
    clock.advance(Failing.poll_seconds + 1)  # well within the lease (20 s of the host's time)
    look_at_due_watches()
    assert looks == ["t", "t"]


def test_a_starting_node_looks_at_every_watch_only_when_no_other_node_was_looking(open_pinflow, clock,
                                                                                      monkeypatch) -> None:
    from pinflow.engine.integrations import base, table

    looks: list[str] = []

    class Recording(base.Integration):
        name = "recording"

        def poll(self, engine: Any, watched: base.Watched) -> None:
            looks.append(watched.task_id)

    monkeypatch.setattr(table, "by_name", lambda name: Recording() if name == "recording" else None)
    pf = open_pinflow(start=False)
    with pf.store.transaction() as tx:  # next checked in an hour (by whichever node)
        work_repo.add_watch(tx, execution="arn:exec", task_id="later", integration="recording", target="arn:job",
                            detail="{}", check_at=clock() + 3600)
        # Another node is alive (where there can be one).
        work_repo.node_seen(tx, id="other", now=pf.engine.leases.now(), lease_seconds=LEASE)
    pf.engine.start()
    deadline = time.monotonic() + 2  # a start-up look comes at once
    while not looks and time.monotonic() < deadline:
        time.sleep(0.05)
    # SQLite: no process looked while this one was down. PostgreSQL: the other node kept looking.
    assert looks == ([] if pf.store.dialect.shared else ["later"])


@pytest.mark.parametrize("same_start_again", [False, True])
def test_a_node_whose_invocation_was_taken_over_stops_the_job_it_started_unless_a_new_call_starts_the_same(
        open_pinflow, same_start_again: bool) -> None:
    from pinflow.engine import watches
    from pinflow.engine.integrations import base

    stopped: list[str] = []

    class Jobs(base.Integration):
        name = "jobs"

        def cancel(self, engine: Any, watched: base.Watched) -> None:
            stopped.append(watched.target)

    Jobs.same_start_again = same_start_again
    pf = open_pinflow()
    leases = pf.engine.leases
    # This node's lease on it (token 1) ran out while the call was made; another node took it (token 2).
    write(pf.store, "t", "other", leases.now() + 3600)
    with pf.store.transaction() as tx:
        tx.execute("UPDATE outbox SET lease_token = 2 WHERE task_id = ?", ("t",))
    command = cmd.InvokeTask(task_id="t", resource=FUNCTION, payload={}, state_name="T", attempt=0)
    call = base.Call(pf.engine, "arn:exec", "arn:role", {}, command)
    watches.begin(pf.engine, Jobs(), call, base.Watch("job-1"), fence=1)
    # A job started twice runs twice (the other node starts its own): this node's is stopped. A child
    # execution started by name again is the same one, which the other node now watches.
    assert stopped == ([] if same_start_again else ["job-1"])
    with pf.store.transaction(write=False) as tx:
        assert work_repo.watch(tx, execution="arn:exec", task_id="t") is None


@pytest.mark.postgres
def test_a_node_whose_host_clock_runs_ahead_takes_no_live_nodes_work(tmp_path: Path, monkeypatch) -> None:
    from pinflow.engine import leases as leases_module
    from pinflow.service import Pinflow

    ahead = types.SimpleNamespace(time=lambda: time.time() + 60, monotonic=time.monotonic)  # a minute fast

    with postgres_schema("pinflow_leases") as url:
        pf = Pinflow.open(tmp_path / "b", db=url, isolation="none", node_id="b", lease_seconds=LEASE)
        try:
            pf.engine.stop()
            write(pf.store, "live", "a", time.time() + LEASE)  # node a, its clock right, holds it for a lease
            write(pf.store, "dead", "c", time.time() - 1)
            monkeypatch.setattr(leases_module, "time", ahead)
            pf.engine.leases._claiming = True
            with monkeypatch.context() as patched:
                patched.setattr(pf.engine, "dispatch", lambda *args, **kwargs: None)
                assert pf.engine.leases.beat() == 1  # "dead" alone
            with pf.store.transaction(write=False) as tx:
                rows = {r["task_id"]: (r["lease_owner"], r["lease_until"])
                        for r in tx.all("SELECT task_id, lease_owner, lease_until FROM outbox")}
            assert rows["live"][0] == "a"
            assert rows["dead"][0] == "b" and rows["dead"][1] < time.time() + LEASE + 5  # a lease, not 60 s more
        finally:
            pf.close()


def test_a_node_lets_go_of_an_invocation_it_holds_but_no_longer_works_on(open_pinflow) -> None:
    pf = open_pinflow(start=False)  # no heartbeat thread: the test beats
    leases = pf.engine.leases
    far = leases.now() + 3600
    write(pf.store, "idle", leases.node_id, far)  # its result could not be written, say
    write(pf.store, "busy", leases.node_id, far)
    leases.working("arn:exec", "busy")

    def owner(task_id: str) -> str | None:
        with pf.store.transaction(write=False) as tx:
            return tx.scalar("SELECT lease_owner FROM outbox WHERE task_id = ?", (task_id,))

    leases.beat()  # one heartbeat: perhaps its outcome is about to be written
    assert (owner("idle"), owner("busy")) == (leases.node_id, leases.node_id)
    leases.beat()  # the next: let go, for any node to take at once
    assert (owner("idle"), owner("busy")) == (None, leases.node_id)
    assert [task for task, _ in claim(pf.store, "other", leases.now())] == ["idle"]


def test_a_starting_node_takes_a_live_nodes_invocations_only_where_one_process_works_on_the_store(
        open_pinflow) -> None:
    pf = open_pinflow(start=False)
    shared = pf.store.dialect.shared
    write(pf.store, "held", "other", pf.engine.leases.now() + 3600)
    pf.engine.start()
    with pf.store.transaction(write=False) as tx:
        owner = tx.scalar("SELECT lease_owner FROM outbox WHERE task_id = ?", ("held",))
    # PostgreSQL: another node may be alive and running it. SQLite: one process; a restart takes it all.
    assert owner == ("other" if shared else pf.engine.leases.node_id)
    assert shared == (pf.store.name == "postgres")


def test_a_killed_nodes_row_goes_after_ten_leases(store: Store) -> None:
    with store.transaction() as tx:
        work_repo.node_seen(tx, id="dead", now=NOW, lease_seconds=LEASE)
        work_repo.node_seen(tx, id="alive", now=NOW + 10 * LEASE, lease_seconds=LEASE)
        work_repo.forget_dead_nodes(tx, now=NOW + 10 * LEASE + 1)

        assert [r["id"] for r in tx.all("SELECT id FROM nodes ORDER BY id")] == ["alive"]


STALLS = '''
import os, time

def handler(event, context):
    with open({path!r}, "a") as out:
        out.write(f"{{context.aws_request_id}} {{os.getpid()}}\\n")
    time.sleep(1.5)
    return {{"worker": os.getpid()}}
'''


@pytest.mark.postgres
@pytest.mark.slow
def test_a_node_that_stalled_past_its_lease_cannot_apply_its_result_over_the_new_owner(tmp_path: Path) -> None:
    from pinflow import arns
    from pinflow.functions.package import package_folder
    from pinflow.service import Pinflow
    from tests.roles import execution_role

    runs = tmp_path / "runs.txt"
    source = tmp_path / "src"
    source.mkdir()
    (source / "app.py").write_text(STALLS.format(path=str(runs)))
    with postgres_schema("pinflow_leases") as url:
        stalled = Pinflow.open(tmp_path / "a", db=url, isolation="none", node_id="a", lease_seconds=1.0)
        other = Pinflow.open(tmp_path / "b", db=url, isolation="none", node_id="b", lease_seconds=1.0)
        try:
            stalled.functions.create_function("stalls", package_folder(source), handler="app.handler", publish=True)
            machine = stalled.machines.create("fenced", json.dumps({"StartAt": "Call", "States": {
                "Call": {"Type": "Task", "Resource": arns.function("stalls", "1"), "End": True}}}),
                execution_role(stalled, "fenced-role"))["stateMachineArn"]
            # Node a stops renewing (a long pause, as a stalled process or a partition from the database
            # looks to the others), then writes the invocation and runs it.
            stalled.engine.leases._stop.set()  # the heartbeat alone, nothing else
            stalled.engine.leases._wake.set()
            arn = stalled.engine.start_execution(machine, name="once")["executionArn"]
            row = other.engine.wait_for(arn, timeout=30)
            assert row["status"] == "SUCCEEDED", row
            time.sleep(1.0)  # node a's late result has been offered by now
            history = [e["type"] for e in other.engine.history(arn, limit=1000)]
        finally:
            stalled.close()
            other.close()
    first, second = (line.split() for line in runs.read_text().splitlines())  # a's run, then b's
    assert first[0] == second[0] and first[1] != second[1]  # one request id, two nodes' workers
    # a's result came first, under the token b's claim replaced: b's result is the one applied.
    assert json.loads(row["output"]) == {"worker": int(second[1])}
    assert history.count("LambdaFunctionScheduled") == 1
    assert history.count("LambdaFunctionSucceeded") == 1
    assert history[-1] == "ExecutionSucceeded"


LONG = '''
import os, time

def handler(event, context):
    with open({path!r}, "a") as out:
        out.write(f"{{context.aws_request_id}} {{os.getpid()}}\\n")
    time.sleep(4.0)
    return {{"worker": os.getpid()}}
'''


def _run_long_invocation_on_two_nodes(tmp_path: Path,
                                      meanwhile: Callable[[Any, str], None]) -> tuple[dict[str, Any], list[str]]:
    """Node a runs a 4 s invocation under 1 s leases while node b stands by; `meanwhile(a, url)` runs
    once the invocation is under way. Returns the execution as b sees it, and a line per run."""
    from pinflow import arns
    from pinflow.functions.package import package_folder
    from pinflow.service import Pinflow
    from tests.roles import execution_role

    runs = tmp_path / "runs.txt"
    source = tmp_path / "src"
    source.mkdir()
    (source / "app.py").write_text(LONG.format(path=str(runs)))
    with postgres_schema("pinflow_leases") as url:
        a = Pinflow.open(tmp_path / "a", db=url, isolation="none", node_id="a", lease_seconds=1.0)
        b = Pinflow.open(tmp_path / "b", db=url, isolation="none", node_id="b", lease_seconds=1.0)
        try:
            a.functions.create_function("long", package_folder(source), handler="app.handler", publish=True,
                                        timeout=30)
            machine = a.machines.create("long", json.dumps({"StartAt": "Call", "States": {
                "Call": {"Type": "Task", "Resource": arns.function("long", "1"), "End": True}}}),
                execution_role(a, "long-role"))["stateMachineArn"]
            arn = a.engine.start_execution(machine, name="once")["executionArn"]
            deadline = time.monotonic() + 20
            while not (runs.exists() and runs.read_text()):
                assert time.monotonic() < deadline, "the function did not start"
                time.sleep(0.02)
            meanwhile(a, url)
            row = b.engine.wait_for(arn, timeout=30)
        finally:
            a.close()
            b.close()
    return row, runs.read_text().splitlines()


@pytest.mark.postgres
@pytest.mark.slow
def test_an_invocation_longer_than_the_lease_on_a_healthy_node_runs_once(tmp_path: Path) -> None:
    row, runs = _run_long_invocation_on_two_nodes(tmp_path, lambda a, url: None)
    assert row["status"] == "SUCCEEDED", row
    assert len(runs) == 1, runs


@pytest.mark.postgres
@pytest.mark.slow
def test_a_write_waiting_on_a_row_lock_past_the_lease_costs_the_node_no_lease(tmp_path: Path) -> None:
    import psycopg

    def write_on_a(a: Any) -> None:
        with a.store.transaction() as tx:
            tx.all("SELECT arn FROM executions FOR UPDATE")

    def stall_a_write(a: Any, url: str) -> None:
        # Another node holds the execution's row for 2.5 leases; a write of node a waits on it meanwhile
        # (and every later write of a's queues behind that one).
        with psycopg.connect(url) as other:
            other.execute("SELECT arn FROM executions FOR UPDATE")
            waiting = threading.Thread(target=write_on_a, args=(a,))
            waiting.start()
            time.sleep(2.5)
        waiting.join(timeout=10)

    row, runs = _run_long_invocation_on_two_nodes(tmp_path, stall_a_write)
    assert row["status"] == "SUCCEEDED", row
    assert len(runs) == 1, runs  # no other node took the invocation over and ran it again


@pytest.mark.postgres
def test_a_nodes_transactions_share_a_bounded_number_of_connections(monkeypatch) -> None:
    import uuid

    monkeypatch.setenv("PINFLOW_PG_CONNECTIONS", "4")
    name = f"pf_pool_{uuid.uuid4().hex[:8]}"
    with postgres_schema("pinflow_pool") as url:
        store = open_store(f"{url}&application_name={name}")
        seen: list[int] = []
        failures: list[BaseException] = []

        def work(queue: bool) -> None:
            try:
                # Half of them skip the write queue, as a worker checking its invocation's lease does.
                with store.transaction(write=not queue, queue=queue) as tx:
                    seen.append(tx.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = ?",
                                          (name,)))
                    tx.scalar("SELECT pg_sleep(0.05)")
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

        try:
            # As many API and worker threads at once.
            threads = [threading.Thread(target=work, args=(n % 2 == 0,)) for n in range(24)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            store.close()
    assert failures == [] and len(seen) == 24
    assert max(seen) <= 4 + 1  # the pool, and the connection the schema was migrated on


@pytest.mark.postgres
def test_a_lease_check_waits_for_a_pooled_connection_no_longer_than_its_limit(monkeypatch) -> None:
    # A worker checking its lease skips the write queue and borrows from the pool: with every pooled
    # connection held (writes stalled behind a lock, say), it gives up after its limit, as a lock wait
    # does, instead of the pool's two minutes. The heartbeat's connection of its own is still there.
    import psycopg_pool

    monkeypatch.setenv("PINFLOW_PG_CONNECTIONS", "1")
    with postgres_schema("pinflow_pool_wait") as url:
        store = open_store(url)
        holding, release = threading.Event(), threading.Event()

        def hold() -> None:
            with store.transaction(write=False) as tx:
                tx.scalar("SELECT 1")
                holding.set()
                release.wait(10)

        holder = threading.Thread(target=hold)
        holder.start()
        try:
            assert holding.wait(10)
            began = time.monotonic()
            with pytest.raises(psycopg_pool.PoolTimeout), store.transaction(queue=False, wait_limit=0.3) as tx:
                tx.scalar("SELECT 1")
            waited = time.monotonic() - began
            with store.transaction(queue=False, reserved=True, wait_limit=0.3) as tx:
                assert tx.scalar("SELECT 1") == 1
        finally:
            release.set()
            holder.join()
            store.close()
    assert 0.25 <= waited < 5, waited


QUEUED = '''
import os, time

def handler(event, context):
    with open({path!r}, "a") as out:
        out.write(f"{{context.aws_request_id}} {{os.getpid()}}\\n")
    time.sleep(1.0)
    return {{"worker": os.getpid()}}
'''


@pytest.mark.postgres
@pytest.mark.slow
def test_an_idle_node_takes_the_invocations_waiting_in_a_busy_nodes_queue_and_none_runs_twice(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    caplog.set_level(logging.INFO, logger="pinflow.engine.leases")
    from pinflow import arns
    from pinflow.functions.package import package_folder
    from pinflow.service import Pinflow
    from tests.roles import execution_role

    runs = tmp_path / "runs.txt"
    source = tmp_path / "src"
    source.mkdir()
    (source / "app.py").write_text(QUEUED.format(path=str(runs)))
    with postgres_schema("pinflow_leases") as url:
        busy = Pinflow.open(tmp_path / "a", db=url, isolation="none", node_id="a", lease_seconds=1.0, workers=1)
        idle = Pinflow.open(tmp_path / "b", db=url, isolation="none", node_id="b", lease_seconds=1.0)
        try:
            busy.functions.create_function("queued", package_folder(source), handler="app.handler", publish=True)
            machine = busy.machines.create("queued", json.dumps({"StartAt": "Call", "States": {
                "Call": {"Type": "Task", "Resource": arns.function("queued", "1"), "End": True}}}),
                execution_role(busy, "queued-role"))["stateMachineArn"]
            arns_ = [busy.engine.start_execution(machine, name=f"q{i}")["executionArn"] for i in range(4)]
            rows = [idle.engine.wait_for(arn, timeout=30) for arn in arns_]
        finally:
            busy.close()
            idle.close()
    assert [row["status"] for row in rows] == ["SUCCEEDED"] * 4, rows
    seen = [line.split() for line in runs.read_text().splitlines()]
    assert len({request_id for request_id, _ in seen}) == 4
    assert len(seen) == 4, seen  # none ran twice
    # Node a's one worker runs them one after the other; node b took the ones that waited past their lease.
    assert len({json.loads(row["output"])["worker"] for row in rows}) > 1, seen
    assert any(record.getMessage().startswith("taking over task") for record in caplog.records)


@pytest.mark.postgres
def test_nodes_admitting_at_once_never_take_more_slots_than_reserved_and_a_dead_node_s_stop_counting() -> None:
    # Eight nodes ask at once for one more invocation of a function with three reserved: three get one.
    with postgres_schema("pinflow_running") as url:
        store = open_store(url)
        now = time.time()
        try:
            with store.transaction() as tx:
                for n in range(9):  # n8 comes later
                    work_repo.node_seen(tx, id=f"n{n}", now=now, lease_seconds=5)
            barrier = threading.Barrier(8)
            admitted: dict[str, bool] = {}

            def admit(node: str) -> None:
                barrier.wait()
                with store.transaction(queue=False) as tx:
                    admitted[node] = work_repo.admit_running(tx, function="f", node=node, limit=3, now=now)

            threads = [threading.Thread(target=admit, args=(f"n{n}",)) for n in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert sorted(admitted.values()) == [False] * 5 + [True] * 3
            taken = sorted(node for node, ok in admitted.items() if ok)
            with store.transaction() as tx:
                assert not work_repo.admit_running(tx, function="f", node="n8", limit=3, now=now)
                # One slot ends; another node takes it.
                work_repo.done_running(tx, function="f", node=taken[0])
            with store.transaction() as tx:
                assert work_repo.admit_running(tx, function="f", node="n8", limit=3, now=now)
                assert not work_repo.admit_running(tx, function="f", node="n8", limit=3, now=now)
            # Past the lease of every node but n8, only n8's one invocation counts.
            with store.transaction() as tx:
                work_repo.node_seen(tx, id="n8", now=now + 10, lease_seconds=5)
                assert work_repo.admit_running(tx, function="f", node="n8", limit=2, now=now + 10)
                assert not work_repo.admit_running(tx, function="f", node="n8", limit=2, now=now + 10)
        finally:
            store.close()


@pytest.mark.postgres
def test_an_end_the_database_missed_is_counted_at_the_next_heartbeat_and_a_database_away_admits_on_the_node_s_count(
        monkeypatch) -> None:
    from pinflow.engine.leases import Leases

    with postgres_schema("pinflow_unfinished") as url:
        store = open_store(url)
        try:
            leases = Leases(types.SimpleNamespace(store=store), node_id="a", seconds=5)
            leases.start()
            assert leases.admit("f", 1) is True
            assert leases.admit("f", 1) is False
            done_running = work_repo.done_running

            def away(tx: Any, **_: Any) -> None:
                raise RuntimeError("the database is away")

            monkeypatch.setattr(work_repo, "done_running", away)
            leases.finished("f")  # not counted now
            monkeypatch.setattr(work_repo, "done_running", done_running)
            assert leases.admit("f", 1) is False  # still taken, until the heartbeat says it ended
            leases.beat()
            assert leases.admit("f", 1) is True
            monkeypatch.setattr(work_repo, "admit_running", away)
            assert leases.admit("f", 1) is None  # not asked: the invoker counts this node's alone
        finally:
            store.close()
