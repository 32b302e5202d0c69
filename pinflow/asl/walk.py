"""The one walk over a definition's states: every `{StartAt, States}` block and the states in it.

A block is the top level (key ""), a Parallel branch (`<state>/<index>`) or a Map's ItemProcessor
(or its older name, Iterator; key `<state>`). State names are unique in a valid machine, so the keys
are too. The walk takes what it is given: an invalid definition is walked as far as it has the shape
(validation says what is wrong with it).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Block:
    """One block: its key, the block itself, and the path its states' paths start with (`Par/Branches[0]/`,
    `Loop/ItemProcessor/`: how deploy's messages and rewrites name a nested state)."""

    key: str
    block: dict[str, Any]
    path: str

    def states(self) -> dict[str, Any]:
        found = self.block.get("States")
        return found if isinstance(found, dict) else {}


def blocks(definition: dict[str, Any]) -> Iterator[Block]:
    """Every block of `definition`: the top level first, then depth first in the order states are written."""
    yield from _blocks(Block("", definition, ""))


def _blocks(block: Block) -> Iterator[Block]:
    yield block
    for name, state in block.states().items():
        if isinstance(state, dict):
            for inner in _nested(block, name, state):
                yield from _blocks(inner)


def _nested(block: Block, name: str, state: dict[str, Any]) -> Iterator[Block]:
    """The blocks directly inside one state: its Parallel branches, or its Map processor."""
    branches = state.get("Branches")
    if isinstance(branches, list):
        for index, branch in enumerate(branches):
            if isinstance(branch, dict):
                yield Block(f"{name}/{index}", branch, f"{block.path}{name}/Branches[{index}]/")
    for key in ("ItemProcessor", "Iterator"):
        processor = state.get(key)
        if isinstance(processor, dict):
            yield Block(name, processor, f"{block.path}{name}/{key}/")
            return


def states(definition: dict[str, Any]) -> Iterator[tuple[Block, str, dict[str, Any]]]:
    """Every state (that is an object) of every block, depth first: (its block, its name, the state); a
    state comes before the states nested in it."""
    yield from _states(Block("", definition, ""))


def _states(block: Block) -> Iterator[tuple[Block, str, dict[str, Any]]]:
    for name, state in block.states().items():
        if isinstance(state, dict):
            yield block, name, state
            for inner in _nested(block, name, state):
                yield from _states(inner)


def tasks(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every state with a text Resource (a Task): (its path, the state)."""
    for block, name, state in states(definition):
        if isinstance(state.get("Resource"), str):
            yield f"{block.path}{name}", state
