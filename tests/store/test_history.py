"""An execution's history on both dialects: each step's events are kept together (one row per step), and
GetExecutionHistory's pages, forwards and backwards from any event and of any size, hold exactly the
events written, in order, whatever blocks they were written in."""

from __future__ import annotations

import json

import pytest

from pinflow.store import Store
from pinflow.store.repositories import executions as exec_repo

ARN = "arn:aws:states:us-east-1:123456789012:execution:m:e"
OTHER = "arn:aws:states:us-east-1:123456789012:execution:m:f"
STEPS = [2, 1, 5, 3, 1, 4]  # events per step: ids 1..16
LAST = sum(STEPS)


def _event(execution: str, id: int) -> str:
    return json.dumps({"id": id, "previousEventId": id - 1, "type": "PassStateEntered", "of": execution,
                       "stateEnteredEventDetails": {"input": "{\"line\":\"a\\nb\"}"}}, separators=(",", ":"))


def _write(store: Store) -> None:
    first = 1
    for size in STEPS:  # one transaction per step, each execution's steps interleaved with the other's
        for execution in (ARN, OTHER):
            with store.transaction() as tx:
                exec_repo.add_history(tx, execution=execution,
                                      events=[(i, _event(execution, i)) for i in range(first, first + size)])
        first += size


def _ids(events: list[exec_repo.Event], execution: str = ARN) -> list[int]:
    for event in events:
        assert event.event == _event(execution, event.id)
    return [event.id for event in events]


def test_pages_forwards_hold_the_events_after_any_id(store: Store) -> None:
    _write(store)
    with store.transaction(write=False) as tx:
        for after in range(LAST + 1):
            for limit in range(1, LAST + 2):
                expected = list(range(after + 1, min(LAST, after + limit) + 1))
                assert _ids(exec_repo.history_after(tx, execution=ARN, after=after, limit=limit)) == expected
        assert _ids(exec_repo.history_after(tx, execution=OTHER, after=0, limit=100), OTHER) == list(
            range(1, LAST + 1))


def test_pages_backwards_hold_the_events_before_any_id(store: Store) -> None:
    _write(store)
    with store.transaction(write=False) as tx:
        for before in [None, *range(1, LAST + 2)]:
            top = LAST if before is None else before - 1
            for limit in range(1, LAST + 2):
                expected = list(range(top, max(0, top - limit), -1))
                assert _ids(exec_repo.history_before(tx, execution=ARN, before=before, limit=limit)) == expected


def test_an_event_text_with_a_line_break_reads_back_as_the_same_value(store: Store) -> None:
    spread = json.dumps({"id": 1, "type": "ExecutionStarted", "note": "two\nlines"}, indent=2)
    with store.transaction() as tx:
        exec_repo.add_history(tx, execution=ARN, events=[(1, spread), (2, _event(ARN, 2))])
    with store.transaction(write=False) as tx:
        first, second = exec_repo.history_after(tx, execution=ARN, after=0, limit=10)
    assert json.loads(first.event) == json.loads(spread) and "\n" not in first.event
    assert second.event == _event(ARN, 2)


def _blocks(store: Store) -> list[tuple[int, int]]:
    with store.transaction(write=False) as tx:
        return [(row["first_id"], row["last_id"]) for row in tx.all(
            "SELECT first_id, last_id FROM history_blocks WHERE execution = ? ORDER BY first_id", [ARN])]


def test_a_long_step_is_kept_in_blocks_of_at_most_64_events_and_256_kib(store: Store) -> None:
    # A Map over a large array records thousands of events in one step; a page of its history reads
    # the blocks that hold the page, not the whole step.
    events = [(i, _event(ARN, i)) for i in range(1, 201)]
    big = json.dumps({"id": 201, "type": "PassStateExited", "output": "x" * 200_000}, separators=(",", ":"))
    events += [(201, big), (202, big.replace('"id":201', '"id":202'))]
    with store.transaction() as tx:
        exec_repo.add_history(tx, execution=ARN, events=events)
    assert _blocks(store) == [(1, 64), (65, 128), (129, 192), (193, 201), (202, 202)]
    with store.transaction(write=False) as tx:
        page = exec_repo.history_after(tx, execution=ARN, after=190, limit=5)
        assert [e.id for e in page] == [191, 192, 193, 194, 195]
        assert [e.event for e in exec_repo.history_before(tx, execution=ARN, before=None, limit=2)] == [
            big.replace('"id":201', '"id":202'), big]


def test_ids_past_the_history_and_beyond_any_integer_give_empty_pages(store: Store) -> None:
    # A nextToken carries an event id; one made up by a client finds nothing rather than failing.
    _write(store)
    with store.transaction(write=False) as tx:
        for after in (LAST, LAST + 1, 2**31 - 1, 2**31, 2**63 - 1, 2**64):
            assert exec_repo.history_after(tx, execution=ARN, after=after, limit=100) == []
        for before in (0, -5, -(2**63)):
            assert exec_repo.history_before(tx, execution=ARN, before=before, limit=100) == []
        assert _ids(exec_repo.history_before(tx, execution=ARN, before=2**64, limit=3)) == [16, 15, 14]
        assert exec_repo.history_after(tx, execution="arn:aws:states:us-east-1:1:execution:m:none",
                                       after=0, limit=10) == []
        assert exec_repo.history_before(tx, execution="arn:aws:states:us-east-1:1:execution:m:none",
                                        before=None, limit=10) == []


def test_a_step_written_again_is_refused(store: Store) -> None:
    with store.transaction() as tx:
        exec_repo.add_history(tx, execution=ARN, events=[(1, _event(ARN, 1)), (2, _event(ARN, 2))])
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"), store.transaction() as tx:
        exec_repo.add_history(tx, execution=ARN, events=[(1, _event(ARN, 1)), (2, _event(ARN, 2))])
    with store.transaction(write=False) as tx:
        assert _ids(exec_repo.history_after(tx, execution=ARN, after=0, limit=10)) == [1, 2]
