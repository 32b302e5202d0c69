"""Retry and Catch: which retrier or catcher handles an error, and how long a retry waits."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from pinflow.asl import errors

LONGEST_WAIT = 99_999_999  # seconds: the largest IntervalSeconds AWS accepts


def error_matches(error_equals: Sequence[str], error: str) -> bool:
    """Whether an ErrorEquals list handles `error`, with AWS's rules.

    States.ALL matches every error but the terminal ones; States.TaskFailed matches every error but
    States.Timeout (and the terminal ones); States.DataLimitExceeded and States.Runtime are never
    handled, even when named.
    """
    if error in errors.UNCATCHABLE:
        return False
    for name in error_equals:
        if name == error or name == errors.ALL:
            return True
        if name == errors.TASK_FAILED and error != errors.TIMEOUT:
            return True
    return False


def find(handlers: Sequence[dict[str, Any]] | None, error: str) -> int | None:
    """Index of the first retrier or catcher whose ErrorEquals handles `error`."""
    for index, handler in enumerate(handlers or ()):
        if error_matches(handler.get("ErrorEquals") or (), error):
            return index
    return None


def delay(retrier: dict[str, Any], attempt: int, rng: random.Random | None) -> float:
    """Seconds to wait before retry number `attempt + 1` (attempt counts from 0).

    IntervalSeconds (default 1) times BackoffRate (default 2.0) to the power `attempt`, capped by
    MaxDelaySeconds; JitterStrategy FULL draws uniformly from [0, that delay].
    """
    interval = retrier.get("IntervalSeconds", 1)
    rate = retrier.get("BackoffRate", 2.0)
    try:
        seconds = float(interval) * float(rate) ** attempt
    except OverflowError:  # a long run of retries outgrows a float: the cap (or the longest wait) applies
        seconds = float(LONGEST_WAIT)
    cap = retrier.get("MaxDelaySeconds")
    if cap is not None:
        seconds = min(seconds, float(cap))
    seconds = min(seconds, float(LONGEST_WAIT))
    if retrier.get("JitterStrategy") == "FULL" and rng is not None:
        seconds = rng.uniform(0.0, seconds)
    return seconds


def max_attempts(retrier: dict[str, Any]) -> int:
    value = retrier.get("MaxAttempts", 3)
    return int(value) if isinstance(value, int | float) else 3
