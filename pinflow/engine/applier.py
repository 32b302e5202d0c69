"""Group commit: one thread applies queued work to the store, many items per transaction.

Each work item runs inside a savepoint, so one item's failure (an API error such as
ExecutionAlreadyExists, or a bug) undoes that item alone. After the transaction commits, the
items' follow-ups run (dispatching task invocations) and their futures resolve, so a caller learns
of success only once its change is durable.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from pinflow.store import Store, Tx

log = logging.getLogger(__name__)


@dataclass
class Work:
    """One unit of work: `apply(tx)` returns the item's result; `after` runs once committed."""

    apply: Callable[[Tx], Any]
    future: Future[Any] = field(default_factory=Future)
    after: list[Callable[[], None]] = field(default_factory=list)


class Applier:
    """The single writer of execution state."""

    def __init__(self, store: Store, *, batch: int = 512) -> None:
        self.store = store
        self.batch = batch
        self.queue: queue.SimpleQueue[Work | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._stopping = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pinflow-applier", daemon=True)
        self._thread.start()

    def submit(self, work: Work) -> Future[Any]:
        if self._stopping:
            work.future.set_exception(RuntimeError("the engine is stopping"))
            return work.future
        self.queue.put(work)
        return work.future

    def stop(self) -> None:
        self._stopping = True
        self.queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _take(self) -> list[Work] | None:
        first = self.queue.get()
        if first is None:
            return None
        items = [first]
        while len(items) < self.batch:
            try:
                item = self.queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                self.queue.put(None)
                break
            items.append(item)
        return items

    def _run(self) -> None:
        while True:
            items = self._take()
            if items is None:
                return
            self.run_batch(items)

    def run_batch(self, items: list[Work]) -> None:
        results: list[tuple[Work, Any, BaseException | None]] = []
        try:
            with self.store.transaction() as tx:
                for item in items:
                    tx.execute("SAVEPOINT work")
                    try:
                        result = item.apply(tx)
                    except Exception as exc:
                        tx.execute("ROLLBACK TO SAVEPOINT work")
                        tx.execute("RELEASE SAVEPOINT work")
                        item.after.clear()
                        results.append((item, None, exc))
                        if not getattr(exc, "code", None):
                            log.exception("work item failed")
                        continue
                    tx.execute("RELEASE SAVEPOINT work")
                    results.append((item, result, None))
        except Exception as exc:
            log.exception("batch commit failed")
            for item in items:
                if not item.future.done():
                    item.future.set_exception(exc)
            return
        for item, result, error in results:
            for follow_up in item.after:
                try:
                    follow_up()
                except Exception:
                    log.exception("follow-up failed")
            if error is not None:
                item.future.set_exception(error)
            else:
                item.future.set_result(result)
