"""Crash safety of Map Runs: SIGKILL the engine again and again while a Distributed Map runs; every item
runs as exactly one child execution (an Express child cut short runs again, at least once, as Express
executions do), the counters agree with the children, and the parent ends once
with the outputs in item order."""

from __future__ import annotations

import collections
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pinflow.store import open_store
from tests import stored
from tests.backends import BACKENDS, postgres_schema

ROOT = Path(__file__).resolve().parents[2]
ITEMS = 240


def launch(data_dir: Path, log: Path, kind: str, db: str | None, items: int = ITEMS) -> subprocess.Popen[bytes]:
    extra = [db] if db else []
    with log.open("ab") as sink:
        return subprocess.Popen([sys.executable, "-m", "tests.engine.maprun_crash_worker", str(data_dir), str(items),
                                 kind, *extra], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=sink,
                                start_new_session=True)


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if request.param == "postgres":
        with postgres_schema("pinflow_maprun_crash") as url:
            yield url
    else:
        yield None


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["STANDARD", "EXPRESS"])
def test_sigkill_during_a_map_run_loses_and_repeats_no_child(tmp_path: Path, database: str | None, kind: str) -> None:
    data_dir = tmp_path / "data"
    rng = random.Random(11)
    kills = 0
    log = tmp_path / "worker.log"
    for _ in range(4):
        process = launch(data_dir, log, kind, database)
        time.sleep(rng.uniform(0.8, 1.6))
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            kills += 1
        process.wait()
    process = launch(data_dir, log, kind, database)
    process.wait(timeout=240)
    assert process.returncode == 0, log.read_text()[-3000:]
    assert kills >= 3

    store = open_store(database, data_dir=data_dir)
    try:
        with store.transaction(write=False) as tx:
            executions = tx.all("SELECT arn, name, status, output, map_run FROM executions")
            history = stored.history(tx)
            runs = tx.all("SELECT * FROM map_runs")
            items = tx.all("SELECT idx, execution, status FROM map_run_items ORDER BY idx")
            leftovers = tx.scalar("SELECT COUNT(*) FROM outbox") + tx.scalar("SELECT COUNT(*) FROM timers")
    finally:
        store.close()
    parent = next(e for e in executions if e["name"] == "parent")
    children = [e for e in executions if e["map_run"] is not None]
    assert parent["status"] == "SUCCEEDED"
    assert json.loads(parent["output"]) == [{"twice": 2 * n} for n in range(ITEMS)]
    assert len(runs) == 1
    run = runs[0]
    assert (run["status"], run["total"], run["started"], run["succeeded"], run["failed"]) == (
        "SUCCEEDED", ITEMS, ITEMS, ITEMS, 0)
    assert [row["idx"] for row in items] == list(range(ITEMS))
    if kind == "STANDARD":
        # One child per item, each item's child the one that ran it.
        assert len(children) == ITEMS
        assert sorted(row["execution"] for row in items) == sorted(c["arn"] for c in children)
        assert all(c["status"] == "SUCCEEDED" for c in children)
    else:
        # Express children keep no rows: each item's end is on its row, counted once.
        assert children == []
        assert all(row["status"] == "SUCCEEDED" and ":express:" in row["execution"] for row in items)
    assert leftovers == 0
    by_execution: dict[str, list[dict]] = collections.defaultdict(list)
    for row in history:
        by_execution[row["execution"]].append(json.loads(row["event"]))
    for arn, events in by_execution.items():
        assert [e["id"] for e in events] == list(range(1, len(events) + 1)), arn
        types = collections.Counter(e["type"] for e in events)
        assert types["ExecutionStarted"] == 1 and types["ExecutionSucceeded"] == 1, (arn, types)
    parent_types = [e["type"] for e in by_execution[parent["arn"]]]
    assert parent_types == ["ExecutionStarted", "MapStateEntered", "MapStateStarted", "MapRunStarted",
                            "MapRunSucceeded", "MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"]


REDRIVE_ITEMS = 1200


@pytest.mark.slow
def test_sigkill_while_a_map_run_fails_stops_its_children_and_is_redriven(tmp_path: Path, database: str | None) -> None:
    # Over 500 children start, and are stopped, at once (the per-transaction budgets); three items fail
    # on their first run, so the run fails and stops the others again and again, and the parent is
    # redriven each time, with kills at random points of all that.
    data_dir = tmp_path / "data"
    rng = random.Random(23)
    kills = 0
    log = tmp_path / "worker.log"
    for _ in range(8):
        process = launch(data_dir, log, "REDRIVE", database, REDRIVE_ITEMS)
        time.sleep(rng.uniform(0.4, 1.0))
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            kills += 1
        process.wait()
    process = launch(data_dir, log, "REDRIVE", database, REDRIVE_ITEMS)
    process.wait(timeout=400)
    assert process.returncode == 0, log.read_text()[-3000:]
    assert kills >= 3

    store = open_store(database, data_dir=data_dir)
    try:
        with store.transaction(write=False) as tx:
            executions = tx.all("SELECT arn, name, status, output, map_run, redrive_count FROM executions")
            history = stored.history(tx)
            runs = tx.all("SELECT * FROM map_runs")
            items = tx.all("SELECT idx, execution FROM map_run_items ORDER BY idx")
            leftovers = tx.scalar("SELECT COUNT(*) FROM outbox") + tx.scalar("SELECT COUNT(*) FROM timers")
    finally:
        store.close()
    parent = next(e for e in executions if e["name"] == "parent")
    children = [e for e in executions if e["map_run"] is not None]
    assert parent["status"] == "SUCCEEDED"
    assert json.loads(parent["output"]) == [{"twice": 2 * n} for n in range(REDRIVE_ITEMS)]
    assert parent["redrive_count"] >= 1
    assert len(runs) == 1  # every redrive redrove the one Map Run
    run = runs[0]
    assert (run["status"], run["started"], run["succeeded"], run["failed"], run["aborted"], run["pending_redrive"]) == (
        "SUCCEEDED", REDRIVE_ITEMS, REDRIVE_ITEMS, 0, 0, 0)
    assert run["redrive_count"] == parent["redrive_count"]
    # One child per item, each item's child the one that ran it; the failing ones were redriven.
    assert len(children) == REDRIVE_ITEMS
    assert sorted(row["execution"] for row in items) == sorted(c["arn"] for c in children)
    assert all(c["status"] == "SUCCEEDED" for c in children)
    by_arn = {row["execution"]: row["idx"] for row in items}
    assert all(c["redrive_count"] >= 1 for c in children if by_arn[c["arn"]] in (250, 650, 1050))
    assert leftovers == 0
    by_execution: dict[str, list[dict]] = collections.defaultdict(list)
    for row in history:
        by_execution[row["execution"]].append(json.loads(row["event"]))
    for arn, events in by_execution.items():
        assert [e["id"] for e in events] == list(range(1, len(events) + 1)), arn
        types = collections.Counter(e["type"] for e in events)
        assert types["ExecutionStarted"] == 1 and types["ExecutionSucceeded"] == 1, (arn, types)
    parent_types = collections.Counter(e["type"] for e in by_execution[parent["arn"]])
    assert parent_types["MapRunStarted"] == 1
    assert parent_types["MapRunRedriven"] == parent_types["ExecutionRedriven"] == parent["redrive_count"]
