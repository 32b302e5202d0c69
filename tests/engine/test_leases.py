"""Leases as the store keeps them (`engine.leases`): who may take an invocation when, the fencing
token that keeps a node that lost its lease from applying a result, row locks that let nodes claim side
by side without waiting on one another, and migrations that nodes starting together apply once."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pinflow.asl import commands as cmd
from pinflow.store import Store, open_store
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
        tx.execute("outbox_insert", ("arn:exec", task_id, json.dumps(command), None, activity, None, NOW,
                                     owner, until))


def claim(store: Store, node: str, now: float) -> list[tuple[str, int]]:
    with store.transaction() as tx:
        rows = tx.all("outbox_claim_expired", (node, now + LEASE, now, 100))
    return sorted((r["task_id"], int(r["lease_token"])) for r in rows)


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
        assert tx.execute("outbox_consume_fenced", ("arn:exec", "t", 1)) == 0  # a's late result: dropped
        assert tx.execute("outbox_mark_claimed", (NOW, "arn:exec", "t", 1)) == 0
        assert tx.execute("outbox_consume_fenced", ("arn:exec", "t", 2)) == 1


def test_renewal_keeps_a_lease_and_a_release_hands_work_over_at_once(store: Store) -> None:
    write(store, "t", "a", NOW + 1)
    with store.transaction() as tx:
        assert tx.execute("outbox_renew", (NOW + LEASE, "a")) == 1
    assert claim(store, "b", NOW + 2) == []
    with store.transaction() as tx:
        assert tx.execute("outbox_release", ("a",)) == 1
    assert claim(store, "b", NOW + 2) == [("t", 2)]


def test_a_node_starting_takes_what_its_earlier_process_held_but_not_a_live_nodes(store: Store) -> None:
    write(store, "mine", "a", NOW + LEASE)
    write(store, "theirs", "b", NOW + LEASE)
    with store.transaction() as tx:
        rows = tx.all("outbox_claim_start", ("a", NOW + LEASE, NOW, "a", 100))
    assert [r["task_id"] for r in rows] == ["mine"]


def test_due_timers_are_claimed_once_until_the_claim_expires(store: Store) -> None:
    with store.transaction() as tx:
        tx.execute("timer_upsert", ("arn:exec", "wait", NOW - 1))
        first = tx.all("timers_claim", ("a", NOW + LEASE, NOW, NOW, 10))
        second = tx.all("timers_claim", ("b", NOW + LEASE, NOW, NOW, 10))
        later = tx.all("timers_claim", ("b", NOW + 2 * LEASE, NOW + LEASE + 1, NOW + LEASE + 1, 10))
    assert [r["timer_id"] for r in first] == ["wait"]
    assert second == []
    assert [r["timer_id"] for r in later] == ["wait"]


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
                    rows = tx.all("outbox_claim_expired", ("a", NOW + LEASE, NOW, 4))
                    taken["a"] = [r["task_id"] for r in rows]
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
            assert versions == sorted(set(versions)) and 9 in versions
        finally:
            for store in opened:
                store.close()


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
        tx.execute("node_seen", ("dead", NOW, NOW, LEASE))
        tx.execute("node_seen", ("alive", NOW, NOW + 10 * LEASE, LEASE))
        tx.execute("nodes_forget_dead", (NOW + 10 * LEASE + 1,))
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
