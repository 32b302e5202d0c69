"""A state machine definition, indexed once so the interpreter finds states and blocks quickly.

A *block* is one `{StartAt, States}` object: the top level (key ""), each Parallel branch
(`<state>/<index>`) and each Map's ItemProcessor or Iterator (`<state>`). State names are unique in
the whole machine, so these keys are too.
"""

from __future__ import annotations

from typing import Any

from pinflow.asl import source, walk

JSONPATH = "JSONPath"
JSONATA = "JSONata"


class Definition:
    """A parsed definition. Treat it as immutable; drivers keep one per state machine version."""

    __slots__ = ("block_of", "blocks", "cache", "query_language", "raw", "timeout_seconds", "type_of")

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.query_language: str = raw.get("QueryLanguage") or JSONPATH
        timeout = raw.get("TimeoutSeconds")
        self.timeout_seconds: int | None = timeout if isinstance(timeout, int) and timeout > 0 else None
        self.blocks: dict[str, dict[str, Any]] = {}
        self.block_of: dict[str, str] = {}
        self.type_of: dict[str, Any] = {}  # state name -> its Type
        # Per-state memo for derived values (compiled paths, flags); keyed by (state name, what).
        self.cache: dict[tuple[Any, ...], Any] = {}
        self._index(raw)

    def _index(self, raw: dict[str, Any]) -> None:
        for found in walk.blocks(raw):
            self.blocks[found.key] = found.block
            for name, state in found.states().items():
                self.block_of.setdefault(name, found.key)
                if isinstance(state, dict):
                    self.type_of.setdefault(name, state.get("Type"))

    def state(self, block: str, name: str) -> dict[str, Any]:
        """The state `name` in `block`."""
        states: dict[str, Any] = self.blocks[block]["States"]
        return states[name]

    def start_at(self, block: str) -> str:
        return self.blocks[block]["StartAt"]

    def language(self, state: dict[str, Any]) -> str:
        """The query language of a state: its own, else the machine's (not the enclosing state's)."""
        return state.get("QueryLanguage") or self.query_language


def parse(definition: Definition | dict[str, Any] | str) -> Definition:
    """A Definition from a parsed one, a dict, or JSON/YAML text."""
    if isinstance(definition, Definition):
        return definition
    return Definition(source.load(definition))
