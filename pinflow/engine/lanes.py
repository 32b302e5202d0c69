"""Lanes: a bounded pool of threads per kind of outbound work, so one kind that is slow (HTTP Tasks
waiting on an API that hangs, an AWS service that does not answer a `.sync` job's status call) cannot
take the threads another kind needs (Lambda invocations, timers, other services).

Each lane is a `ThreadPoolExecutor` of its own, made when first used, with at most `size` threads;
threads are started as work arrives, so a lane that is never used costs nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


class Lanes:
    """Bounded executors by lane name.

    Args:
        size: the most threads one lane runs at once.
        prefix: the threads' name prefix (`<prefix>-<lane>_<n>`).
    """

    def __init__(self, size: int, prefix: str) -> None:
        self.size = size
        self.prefix = prefix
        self._lanes: dict[str, ThreadPoolExecutor] = {}
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, lane: str, action: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run `action(*args)` on `lane`'s threads.

        Raises:
            RuntimeError: the lanes were shut down."""
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot schedule new work after shutdown")
            executor = self._lanes.get(lane)
            if executor is None:
                executor = self._lanes[lane] = ThreadPoolExecutor(max_workers=self.size,
                                                                  thread_name_prefix=f"{self.prefix}-{lane}")
        return executor.submit(action, *args)

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._lanes)

    def shutdown(self, *, wait: bool = True, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closed = True
            executors = list(self._lanes.values())
        for executor in executors:
            executor.shutdown(wait=False, cancel_futures=cancel_futures)
        if wait:
            for executor in executors:
                executor.shutdown(wait=True)
