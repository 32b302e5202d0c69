"""Group commit: one thread applies queued work to the store, many items per transaction.

If one item fails (an API error such as ExecutionAlreadyExists, or a bug), the batch is redone
one item per transaction, so that item alone is undone. After the transaction commits, the
items' follow-ups run (dispatching task invocations) and their futures resolve, so a caller learns
of success only once its change is durable.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from pinflow.store import Store, Tx

log = logging.getLogger(__name__)

# The collector's first threshold (allocations of containers before a young collection) while an engine
# runs. With the default (700), the dicts of executions in flight (their states, events and queued work,
# alive for milliseconds to seconds) survive into the oldest generation within a few steps, and every
# full collection then walks all of them: at a thousand executions in flight that is a tenth of the
# process's time. With a larger first generation most of them die young and full collections are rare.
YOUNG_THRESHOLD = 20_000


def tune_collector() -> None:
    """Raise the collector's first threshold to YOUNG_THRESHOLD (never lower it); process-wide."""
    young, middle, old = gc.get_threshold()
    if 0 < young < YOUNG_THRESHOLD:
        gc.set_threshold(YOUNG_THRESHOLD, middle, old)


class Work:
    """One unit of work: `apply(tx)` returns the item's result; `after` runs once committed.

    A plain class with slots: one is made for every start and every event, and the collector walks
    every one still queued.
    """

    __slots__ = ("after", "apply", "base_after", "future")

    def __init__(self, apply: Callable[[Tx], Any], future: Future[Any] | None = None,
                 after: list[Callable[[], None]] | None = None) -> None:
        self.apply = apply
        self.future: Future[Any] = future if future is not None else Future()
        self.after: list[Callable[[], None]] = after if after is not None else []
        self.base_after = 0  # follow-ups registered before `apply` runs (kept if it is redone)


class Applier:
    """The single writer of execution state."""

    def __init__(self, store: Store, *, batch: int = 512) -> None:
        self.store = store
        self.batch = batch
        # Two queues: work on running executions (task results, timers, stops) goes before new
        # executions, so a flood of starts never delays a Wait that is due.
        self._running: deque[Work] = deque()
        self._new: deque[Work] = deque()
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False

    def start(self) -> None:
        tune_collector()
        self._thread = threading.Thread(target=self._run, name="pinflow-applier", daemon=True)
        self._thread.start()

    def submit(self, work: Work, *, new: bool = False) -> Future[Any]:
        """Queue work; `new` marks the start of a new execution (it yields to running ones)."""
        work.base_after = len(work.after)
        with self._ready:
            if self._stopping:
                work.future.set_exception(RuntimeError("the engine is stopping"))
                return work.future
            (self._new if new else self._running).append(work)
            self._ready.notify()
        return work.future

    def stop(self) -> None:
        with self._ready:
            self._stopping = True
            self._ready.notify()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _take(self) -> list[Work] | None:
        with self._ready:
            while not self._running and not self._new:
                if self._stopping:
                    return None
                self._ready.wait()
            items: list[Work] = []
            for source in (self._running, self._new):
                while source and len(items) < self.batch:
                    items.append(source.popleft())
            return items

    def _run(self) -> None:
        while True:
            items = self._take()
            if items is None:
                return
            self.run_batch(items)

    def run_batch(self, items: list[Work]) -> None:
        """Apply items in one transaction; if one fails, redo the batch one item per transaction
        so the others still land (errors are rare, so the common case pays for no savepoints)."""
        results: list[tuple[Work, Any, BaseException | None]] = []
        try:
            with self.store.transaction() as tx:
                for item in items:
                    results.append((item, item.apply(tx), None))
        except Exception:  # noqa: BLE001 - find the failing item below
            results = [self._alone(item) for item in items]
        for item, result, error in results:
            if error is None:
                for follow_up in item.after:
                    try:
                        follow_up()
                    except Exception:
                        log.exception("follow-up failed")
                item.future.set_result(result)
            else:
                item.future.set_exception(error)

    def _alone(self, item: Work) -> tuple[Work, Any, BaseException | None]:
        # A failed attempt may have queued follow-ups (dispatches) that must not run: keep only
        # the ones registered before the work started (e.g. on_done callbacks).
        del item.after[item.base_after:]
        try:
            with self.store.transaction() as tx:
                result = item.apply(tx)
        except Exception as exc:
            del item.after[item.base_after:]
            if not getattr(exc, "code", None):
                log.exception("work item failed")
            return item, None, exc
        return item, result, None
