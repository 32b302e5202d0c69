"""Execution histories for the console: a digest per execution, kept for the executions looked at last
and brought up to date with only the events added since, and events read by id for a page."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson

from pinflow.console import digest

# Events read per query while bringing a digest up to date.
READ_PAGE = 2_000
# Ids further apart than this are read by separate queries rather than one over the gap.
GAP = 200


@dataclass
class _Entry:
    digest: digest.Digest
    definition: dict[str, Any]
    lock: threading.Lock = field(default_factory=threading.Lock)


class Histories:
    """Digests of the executions looked at last (`size` of them), one lock each.

    Args:
        pf: the running service; reads go through `pf.engine` and `pf.machines`.
    """

    def __init__(self, pf: Any, size: int = 16) -> None:
        self.pf = pf
        self.size = size
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    @contextmanager
    def current(self, arn: str) -> Iterator[digest.Digest]:
        """The execution's digest, up to date, held under its lock (its `layout` reads the definition).

        Raises:
            ExecutionDoesNotExist, InvalidArn: as `Engine.execution_row`.
        """
        entry = self._entry(arn)
        with entry.lock:
            self._catch_up(arn, entry.digest)
            yield entry.digest

    def definition(self, arn: str) -> dict[str, Any]:
        """The definition an execution runs (its pinned revision)."""
        return self._entry(arn).definition

    def _entry(self, arn: str) -> _Entry:
        with self._lock:
            entry = self._entries.get(arn)
            if entry is not None:
                self._entries.move_to_end(arn)
                return entry
        row = self.pf.engine.execution_row(arn)
        definition = json.loads(self.pf.machines.revision(row["revision_id"])["definition"])
        entry = _Entry(digest.Digest(definition), definition)
        with self._lock:
            found = self._entries.setdefault(arn, entry)
            self._entries.move_to_end(arn)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return found

    def _catch_up(self, arn: str, digested: digest.Digest) -> None:
        while True:
            texts = self.pf.engine.history_text(arn, after=digested.last_id, limit=READ_PAGE)
            digested.feed(_decode(text) for text in texts)
            if len(texts) < READ_PAGE:
                return

    def events(self, arn: str, ids: Sequence[int]) -> list[dict[str, Any]]:
        """The events with these ids (ascending), read in as few queries as their spacing allows."""
        found: list[dict[str, Any]] = []
        wanted = set(ids)
        start = 0
        while start < len(ids):
            end = start
            while end + 1 < len(ids) and ids[end + 1] - ids[end] <= GAP:
                end += 1
            first, last = ids[start], ids[end]
            events = self.pf.engine.history(arn, after=first - 1, limit=last - first + 1)
            found.extend(event for event in events if event["id"] in wanted)
            start = end + 1
        return found

    def event(self, arn: str, event_id: int | None) -> dict[str, Any] | None:
        """One event by id (None for None or a missing id)."""
        if event_id is None:
            return None
        found = self.events(arn, [event_id])
        return found[0] if found else None


def _decode(text: str) -> Any:
    """An event's JSON text; orjson (a long history's decoding is most of a first visit's wait), the
    standard library for what orjson refuses (an integer beyond 64 bits)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
