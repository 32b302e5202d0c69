"""Crash safety: SIGKILL the engine again and again; every execution still completes, and no
history has a missing or repeated state transition."""

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
COUNT = 200


def launch(data_dir: Path, log: Path, db: str | None) -> subprocess.Popen[bytes]:
    extra = [db] if db else []
    with log.open("ab") as sink:
        return subprocess.Popen([sys.executable, "-m", "tests.engine.crash_worker", str(data_dir), str(COUNT), *extra],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=sink, start_new_session=True)


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if request.param == "postgres":
        with postgres_schema("pinflow_crash") as url:
            yield url
    else:
        yield None


@pytest.mark.slow
def test_sigkill_loses_and_repeats_nothing(tmp_path: Path, database: str | None) -> None:
    data_dir = tmp_path / "data"
    rng = random.Random(7)
    kills = 0
    log = tmp_path / "worker.log"
    for _ in range(4):
        process = launch(data_dir, log, database)
        time.sleep(rng.uniform(0.4, 1.2))
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # the engine and its function workers, at once
            kills += 1
        process.wait()
    process = launch(data_dir, log, database)
    process.wait(timeout=240)
    assert process.returncode == 0, log.read_text()[-3000:]
    assert kills >= 3

    store = open_store(database, data_dir=data_dir)
    try:
        with store.transaction(write=False) as tx:
            executions = tx.all("SELECT arn, status, error, cause FROM executions")
            history = stored.history(tx)
            leftovers = tx.scalar("SELECT COUNT(*) FROM outbox") + tx.scalar("SELECT COUNT(*) FROM timers")
    finally:
        store.close()
    assert len(executions) == COUNT
    unfinished = [e for e in executions if e["status"] != "SUCCEEDED"]
    assert not unfinished, unfinished[:3]
    assert leftovers == 0
    by_execution: dict[str, list[dict]] = collections.defaultdict(list)
    for row in history:
        by_execution[row["execution"]].append(json.loads(row["event"]))
    expected_entries = {"Start": 1, "Pause": 1, "Call": 1, "Fan": 1, "Item": 3, "Done": 1}
    for arn, events in by_execution.items():
        assert [e["id"] for e in events] == list(range(1, len(events) + 1)), arn
        entered = collections.Counter(e["stateEnteredEventDetails"]["name"] for e in events
                                      if e["type"].endswith("StateEntered"))
        assert entered == expected_entries, (arn, entered)
        types = collections.Counter(e["type"] for e in events)
        assert types["LambdaFunctionScheduled"] == 2, (arn, types)  # the first attempt fails, one retry
        assert types["LambdaFunctionSucceeded"] == 1 and types["ExecutionSucceeded"] == 1, (arn, types)
