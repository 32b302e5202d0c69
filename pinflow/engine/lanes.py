"""Lanes: a bounded pool of threads per kind of outbound work, so one kind that is slow (HTTP Tasks
waiting on an API that hangs, an AWS service that does not answer a `.sync` job's status call) cannot
take the threads another kind needs (Lambda invocations, timers, other services).

Each lane is a queue and at most `size` threads of its own, made when first used; a thread starts only
when work arrives and none of the lane's threads is idle, so a lane that is never used costs nothing.
A lane hands out no future: the work reports its own outcome (a Task's comes back as an event), and an
exception that escapes it is logged. Handing over one piece of work is a queue put and get, without a
`concurrent.futures` executor's future, work item and locks, which cost more than the hand-over.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class _Lane:
    """Up to `size` threads running the work put in one queue, in order."""

    def __init__(self, size: int, name: str) -> None:
        self._size = size
        self._name = name
        self._queue: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...]] | None] = queue.SimpleQueue()
        # Released each time a thread is done with a piece of work: a submit takes one rather than start
        # a thread while one is free.
        self._idle = threading.Semaphore(0)
        self._threads: list[threading.Thread] = []
        self._cancelled = False

    def submit(self, action: Callable[..., Any], args: tuple[Any, ...]) -> None:
        """Queue `action(*args)`; called under the lanes' lock."""
        self._queue.put((action, args))
        if self._idle.acquire(blocking=False) or len(self._threads) >= self._size:
            return
        # A daemon, as the engine stops its lanes itself: work a process ends without finishing is an
        # outbox row still, carried out again after the restart.
        thread = threading.Thread(target=self._serve, name=f"{self._name}_{len(self._threads)}", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _serve(self) -> None:
        while (item := self._queue.get()) is not None:
            if not self._cancelled:
                try:
                    item[0](*item[1])
                except BaseException:  # logged: the thread goes on to the next piece of work
                    log.exception("work on lane %s failed", self._name)
            item = None  # no reference kept to what the work holds while the thread waits
            self._idle.release()

    def shutdown(self, *, cancel: bool) -> list[threading.Thread]:
        """Let the threads end once the queued work is done (dropped, with `cancel`); return them."""
        if cancel:
            self._cancelled = True
        for _ in self._threads:
            self._queue.put(None)
        return list(self._threads)


class Lanes:
    """Bounded lanes of threads by name.

    Args:
        size: the most threads one lane runs at once.
        prefix: the threads' name prefix (`<prefix>-<lane>_<n>`).
    """

    def __init__(self, size: int, prefix: str) -> None:
        self.size = size
        self.prefix = prefix
        self._lanes: dict[str, _Lane] = {}
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, lane: str, action: Callable[..., Any], *args: Any) -> None:
        """Run `action(*args)` on `lane`'s threads.

        Raises:
            RuntimeError: the lanes were shut down."""
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot schedule new work after shutdown")
            found = self._lanes.get(lane)
            if found is None:
                found = self._lanes[lane] = _Lane(self.size, f"{self.prefix}-{lane}")
            found.submit(action, args)

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._lanes)

    def shutdown(self, *, wait: bool = True, cancel_futures: bool = False) -> None:
        """Take no more work; the queued work still runs, unless `cancel_futures` drops what has not
        started. `wait`: return once every lane's threads have ended."""
        with self._lock:
            self._closed = True
            lanes = list(self._lanes.values())
        threads = [thread for lane in lanes for thread in lane.shutdown(cancel=cancel_futures)]
        if wait:
            for thread in threads:
                if thread is not threading.current_thread():
                    thread.join()
