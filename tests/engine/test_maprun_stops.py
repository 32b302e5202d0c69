"""A Map Run that ends early stops its children still running, durably: in the transactions that end it
(in batches), and at start-up for those a crash left running; and engines sharing PostgreSQL never
start one item twice."""

from __future__ import annotations

import json
import threading

from pinflow.engine import mapruns
from pinflow.store import Store
from tests.engine.conftest import wait_until
from tests.roles import execution_role

SLEEPER = {"StartAt": "Each", "States": {"Each": {
    "Type": "Map", "End": True, "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 3600, "End": True}}}}}}


def sleepers(pf, name: str, max_concurrency: int) -> str:
    definition = json.loads(json.dumps(SLEEPER))
    definition["States"]["Each"]["MaxConcurrency"] = max_concurrency
    return pf.machines.create(name, json.dumps(definition), execution_role(pf, "maprun-role"))["stateMachineArn"]


def run_of(pf, parent: str) -> str:
    wait_until(lambda: bool(pf.engine.mapruns.list(parent, None, 10)[0]))
    return pf.engine.mapruns.list(parent, None, 10)[0][0].arn


def children(pf, run: str) -> list[str]:
    with pf.store.transaction(write=False) as tx:
        return [row["status"] for row in tx.all("SELECT status FROM executions WHERE map_run = ?", (run,))]


def test_stopping_the_parent_stops_every_running_child_in_batches(open_pinflow, monkeypatch) -> None:
    monkeypatch.setattr(mapruns, "STOPS_PER_TRANSACTION", 2)
    pf = open_pinflow()
    parent = pf.engine.start_execution(sleepers(pf, "batched-stops", 5), name="p",
                                       input="[1, 2, 3, 4, 5, 6, 7]")["executionArn"]
    run = run_of(pf, parent)
    wait_until(lambda: children(pf, run).count("RUNNING") == 5)
    pf.engine.stop_execution(parent)
    wait_until(lambda: children(pf, run) == ["ABORTED"] * 5)
    described = pf.engine.mapruns.describe(run)
    assert (described.status, described.started, described.aborted) == ("ABORTED", 5, 5)


def test_children_a_crash_left_running_after_their_run_ended_are_stopped_at_start_up(open_pinflow) -> None:
    pf = open_pinflow()
    parent = pf.engine.start_execution(sleepers(pf, "crashed-stops", 2), name="p", input="[1, 2, 3]")["executionArn"]
    run = run_of(pf, parent)
    wait_until(lambda: children(pf, run).count("RUNNING") == 2)
    # What a crash between the commit that ended the run and the stops of its children leaves.
    with pf.store.transaction() as tx:
        tx.execute("UPDATE map_runs SET status = 'FAILED' WHERE arn = ?", (run,))
    pf.close()
    pf = open_pinflow()
    wait_until(lambda: children(pf, run) == ["ABORTED", "ABORTED"])
    described = pf.engine.mapruns.describe(run)
    assert (described.status, described.started, described.aborted) == ("FAILED", 2, 2)


def test_engines_moving_a_run_on_at_once_start_each_item_once(open_pinflow) -> None:
    pf = open_pinflow()
    parent = pf.engine.start_execution(sleepers(pf, "shared-run", 1), name="p",
                                       input=json.dumps(list(range(40))))["executionArn"]
    run = run_of(pf, parent)
    wait_until(lambda: children(pf, run) == ["RUNNING"])
    with pf.store.transaction() as tx:
        tx.execute("UPDATE map_runs SET max_concurrency = 40 WHERE arn = ?", (run,))
    # Several writers, each with a store of its own (as engines sharing one PostgreSQL database are),
    # move the run on at once.
    stores = [Store(pf.store.dialect) for _ in range(4)]
    gate = threading.Barrier(len(stores))
    failures: list[BaseException] = []

    def mover(store: Store) -> None:
        gate.wait()
        try:
            with store.transaction() as tx:
                pf.engine.mapruns.advance(tx, run, [])
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=mover, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with pf.store.transaction(write=False) as tx:
        started = tx.all("SELECT execution FROM map_run_items WHERE map_run = ? AND execution IS NOT NULL", (run,))
        count = tx.scalar("SELECT COUNT(*) FROM executions WHERE map_run = ?", (run,))
    assert len(started) == 40
    assert count == 40
    assert pf.engine.mapruns.describe(run).started == 40
    for store in stores:
        store.close()


def test_children_not_yet_stopped_when_the_parent_is_redriven_go_on_in_the_redriven_run(open_pinflow, clock,
                                                                                        monkeypatch) -> None:
    # The run fails at item 0 (its first run only); the children still running are stopped two a
    # transaction, and the parent is redriven before the later transactions come: those children go on
    # in the redriven run, counted once, instead of being aborted and counted against it.
    monkeypatch.setattr(mapruns, "STOPS_PER_TRANSACTION", 2)
    pf = open_pinflow()
    definition = json.loads(json.dumps(SLEEPER))
    processor = definition["States"]["Each"]["ItemProcessor"]
    processor["StartAt"] = "Check"
    processor["States"] = {
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 0, "Next": "Fragile"}],
                  "Default": "Nap"},
        # Fails while the child was never redriven (an index of -1), as a redrive reruns the failed state.
        "Fragile": {"Type": "Pass", "ResultPath": None, "End": True, "Parameters": {
            "v.$": "States.ArrayGetItem(States.Array(1), States.MathAdd($$.Execution.RedriveCount, -1))"}},
        "Nap": {"Type": "Wait", "Seconds": 3600, "End": True}}
    machine = pf.machines.create("late-stops", json.dumps(definition),
                                 execution_role(pf, "maprun-role"))["stateMachineArn"]
    held: list[str] = []
    monkeypatch.setattr(pf.engine.mapruns, "stop_children", held.append)  # the later stops, held back
    parent = pf.engine.start_execution(machine, name="p", input="[0, 1, 2, 3, 4, 5]")["executionArn"]
    wait_until(lambda: pf.engine.execution_row(parent)["status"] == "FAILED")
    run = run_of(pf, parent)
    assert sorted(children(pf, run)) == ["ABORTED", "ABORTED", "FAILED", "RUNNING", "RUNNING", "RUNNING"]
    wait_until(lambda: held == [run])

    pf.engine.redrive_execution(parent)
    monkeypatch.undo()
    pf.engine.mapruns.stop_children(run)  # the held-back stops come now: the run is running again
    wait_until(lambda: children(pf, run).count("RUNNING") == 5)
    clock.advance(3601)
    wait_until(lambda: pf.engine.execution_row(parent)["status"] != "RUNNING")
    assert pf.engine.execution_row(parent)["status"] == "SUCCEEDED"
    described = pf.engine.mapruns.describe(run)
    assert (described.status, described.started, described.succeeded, described.aborted) == (
        "SUCCEEDED", 6, 6, 0)
