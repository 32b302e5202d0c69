"""Lanes: each kind of outbound work gets at most its own threads, and shutting down stops them."""

from __future__ import annotations

import threading
import time

import pytest

from pinflow.engine import lanes


def test_a_lane_runs_at_most_size_pieces_of_work_at_once_and_then_the_rest() -> None:
    pool = lanes.Lanes(3, "test")
    lock = threading.Lock()
    running = 0
    most = 0
    done: list[int] = []
    gate = threading.Event()

    def work(n: int) -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        gate.wait(5)
        with lock:
            running -= 1
            done.append(n)

    for n in range(10):
        pool.submit("slow", work, n)
    time.sleep(0.2)
    assert running == 3
    gate.set()
    pool.shutdown(wait=True)
    assert most == 3
    assert sorted(done) == list(range(10))
    assert {t.name for t in threading.enumerate() if t.name.startswith("test-slow_")} == set()


def test_a_busy_lane_does_not_hold_up_another() -> None:
    pool = lanes.Lanes(1, "test")
    gate = threading.Event()
    other = threading.Event()
    pool.submit("slow", gate.wait, 5)
    pool.submit("fast", other.set)
    assert other.wait(5)
    gate.set()
    pool.shutdown(wait=True)


def test_work_that_raises_leaves_the_lane_serving() -> None:
    pool = lanes.Lanes(1, "test")
    served = threading.Event()

    def fail() -> None:
        raise ValueError("boom")

    pool.submit("l", fail)
    pool.submit("l", served.set)
    assert served.wait(5)
    pool.shutdown(wait=True)


def test_shutdown_with_cancel_drops_work_not_started_and_refuses_more() -> None:
    pool = lanes.Lanes(1, "test")
    gate = threading.Event()
    started = threading.Event()
    ran: list[int] = []

    def first() -> None:
        started.set()
        gate.wait(5)

    pool.submit("l", first)
    for n in range(5):
        pool.submit("l", ran.append, n)
    assert started.wait(5)
    stopper = threading.Thread(target=pool.shutdown, kwargs={"wait": True, "cancel_futures": True})
    stopper.start()
    time.sleep(0.1)
    gate.set()
    stopper.join(5)
    assert not stopper.is_alive()
    assert ran == []
    with pytest.raises(RuntimeError):
        pool.submit("l", ran.append, 9)
