"""The timer poller on real time: a Wait ends when it is due, whether the poller was asleep or not, and an
idle engine on its own SQLite file does not read the store every few milliseconds."""

from __future__ import annotations

import json
import time
from contextlib import nullcontext
from pathlib import Path

import pytest

from pinflow.engine import timers
from pinflow.engine.timers import MAINTENANCE_SECONDS, TimerPoller
from pinflow.service import Pinflow
from tests.backends import BACKENDS, postgres_schema
from tests.engine.conftest import wait_until
from tests.roles import execution_role


def _waiting_machine(pf: Pinflow, seconds: float) -> str:
    definition = {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": seconds, "Next": "Done"},
                                               "Done": {"Type": "Succeed"}}}
    return pf.machines.create("napper", json.dumps(definition), execution_role(pf, "timer-role"))["stateMachineArn"]


def _wait_lateness(pf: Pinflow, arn: str, seconds: float) -> float:
    """Seconds between the Wait's due time and its WaitStateExited event."""
    events = pf.engine.history(arn, limit=100)
    entered = next(e["timestamp"] for e in events if e["type"] == "WaitStateEntered")
    exited = next(e["timestamp"] for e in events if e["type"] == "WaitStateExited")
    return exited - (entered + seconds)


@pytest.fixture(params=BACKENDS)
def real_time_pinflow(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A pinflow on the real clock (the engine's default) on one database, whose housekeeping round is
    too rare to wake the poller in time for a test's timer: only a timer set can."""
    monkeypatch.setattr(timers, "MAINTENANCE_SECONDS", 60.0)
    with postgres_schema("pinflow_timers") if request.param == "postgres" else nullcontext() as url:
        pf = Pinflow.open(data_dir=tmp_path / "data", db=url, isolation="none")
        try:
            yield pf
        finally:
            pf.close()


def _counting_polls(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    looks: list[float] = []
    original = TimerPoller.fire_due

    def fire_due(self: TimerPoller) -> int:
        looks.append(time.monotonic())
        return original(self)

    monkeypatch.setattr(TimerPoller, "fire_due", fire_due)
    return looks


def test_a_wait_set_while_the_poller_sleeps_ends_when_due(real_time_pinflow: Pinflow) -> None:
    pf = real_time_pinflow
    machine = _waiting_machine(pf, 1)
    time.sleep(0.3)  # the poller has looked and, with no timer, sleeps
    arns = [pf.engine.start_execution(machine, name=f"nap-{i}")["executionArn"] for i in range(3)]
    for arn in arns:
        wait_until(lambda arn=arn: pf.engine.execution_row(arn)["status"] != "RUNNING", timeout=10)
        assert pf.engine.execution_row(arn)["status"] == "SUCCEEDED"
        # Never early; late by no more than a poll interval and the step's own work.
        assert 0 <= _wait_lateness(pf, arn, 1) < 0.25


def test_a_later_wait_set_first_does_not_hold_back_an_earlier_one(real_time_pinflow: Pinflow) -> None:
    pf = real_time_pinflow
    long_nap = _waiting_machine(pf, 30)
    pf.engine.start_execution(long_nap, name="long")
    time.sleep(0.2)  # the poller sleeps towards the 30-second timer (or its housekeeping)
    short = json.dumps({"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 1, "End": True}}})
    machine = pf.machines.create("short", short, execution_role(pf, "timer-role"))["stateMachineArn"]
    arn = pf.engine.start_execution(machine, name="short")["executionArn"]
    wait_until(lambda: pf.engine.execution_row(arn)["status"] != "RUNNING", timeout=10)
    assert 0 <= _wait_lateness(pf, arn, 1) < 0.25


def test_an_idle_engine_on_its_own_file_looks_for_timers_about_once_a_housekeeping_round(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    looks = _counting_polls(monkeypatch)
    pf = Pinflow.open(data_dir=tmp_path / "data", isolation="none")
    try:
        time.sleep(0.2)
        before = len(looks)
        time.sleep(1.5)
        # Polling every 20 ms would look 75 times; woken only by housekeeping, about twice.
        assert len(looks) - before <= 1.5 / MAINTENANCE_SECONDS + 2
    finally:
        pf.close()


@pytest.mark.postgres
def test_an_engine_sharing_its_database_keeps_looking(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    looks = _counting_polls(monkeypatch)
    with postgres_schema("pinflow_timers_shared") as url:
        pf = Pinflow.open(data_dir=tmp_path / "data", db=url, isolation="none")
        try:
            time.sleep(0.2)
            before = len(looks)
            time.sleep(1.0)
            # Another node may set a timer or leave one behind at any moment: looked for every interval.
            assert len(looks) - before >= 1.0 / pf.engine.timers.interval / 3
        finally:
            pf.close()
