"""What was read from the registry, kept while the registry has not changed.

A store's `generation` moves on when a transaction that changed the registry (functions, roles and
policies, state machines) commits in this process. Where one process works on the store (SQLite), that
covers every change, so a value read under the current generation is still what a read would give:
the hot paths (a start's machine, revision and pins; a Task's role grants and function version) keep
what they read and read again only after a change. Where nodes share the database (PostgreSQL),
another node may change the registry unseen: nothing is kept and every call reads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from pinflow.store.base import Store

V = TypeVar("V")


class Kept(Generic[V]):
    """Up to `size` values by key, each with the generation it was read under (least recently used
    goes first)."""

    def __init__(self, store: Store, size: int = 1_000) -> None:
        self._store = store
        self._size = size
        self._values: OrderedDict[Hashable, tuple[int, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or(self, key: Hashable, read: Callable[[], V], *, keep: Callable[[V], bool] | None = None) -> V:
        """The value kept for `key` if it was read under the current generation, else `read()`, kept
        unless `keep(value)` says not (a value that came of a random draw, say)."""
        if self._store.dialect.shared:
            return read()
        generation = self._store.generation  # before reading: a change committed after it moves it on
        with self._lock:
            found = self._values.get(key)
            if found is not None and found[0] == generation:
                self._values.move_to_end(key)
                return found[1]
        value = read()
        if keep is None or keep(value):
            with self._lock:
                self._values[key] = (generation, value)
                self._values.move_to_end(key)
                while len(self._values) > self._size:
                    self._values.popitem(last=False)
        return value
