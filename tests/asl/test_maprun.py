"""Map Run helpers every driver shares: ARNs in AWS's documented forms, the tolerated failure thresholds
(AWS: the run fails when the failed children are *more* than the count or percentage), and the counts."""

from __future__ import annotations

import pytest

from pinflow.asl import maprun

PARENT = "arn:aws:states:eu-west-1:111122223333:execution:orders:run-1"


def test_arns_follow_aws_forms() -> None:
    arn = maprun.arn(PARENT, "orders", "Fan", 0x1234)
    assert arn == "arn:aws:states:eu-west-1:111122223333:mapRun:orders/Fan:00000000-0000-4000-8000-000000001234"
    assert maprun.run_machine_arn(arn) == "arn:aws:states:eu-west-1:111122223333:stateMachine:orders/Fan"
    assert maprun.child_execution_arn(arn, "c1") == "arn:aws:states:eu-west-1:111122223333:execution:orders/Fan:c1"


@pytest.mark.parametrize(("failed", "total", "tolerated", "over"), [
    (0, 10, None, False),
    (1, 10, None, True),  # no threshold: any failure
    (1, 10, {"count": 1}, False),
    (2, 10, {"count": 1}, True),
    (5, 10, {"percentage": 50}, False),
    (6, 10, {"percentage": 50}, True),
    (1, 10, {"count": 0, "percentage": 100}, True),  # either threshold
    (3, 3, {"percentage": 100}, False),
])
def test_exceeded(failed: int, total: int, tolerated: dict[str, float] | None, over: bool) -> None:
    assert maprun.exceeded(failed, total, tolerated) is over


def test_tally_counts_and_concurrency() -> None:
    tally = maprun.Tally(total=5, started=3)
    tally.ended("SUCCEEDED")
    tally.ended("TIMED_OUT")
    assert (tally.running, tally.pending, tally.failures) == (1, 2, 1)
    assert tally.may_start(2) == 1
    assert tally.may_start(0) == 2  # 0: AWS's default of 10,000

