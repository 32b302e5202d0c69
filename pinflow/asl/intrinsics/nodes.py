"""The parsed form of an intrinsic function call, and what a function sees when it runs."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

# A literal argument's value: a 'string', a number, null, true or false.
LiteralValue = str | int | float | bool | None


class IntrinsicSyntaxError(ValueError):
    """An intrinsic function call that cannot be parsed, or that calls a function wrongly.

    Attributes:
        reason: what is wrong, without the position.
        text: the whole call as written.
        position: the 0-based index in `text` where the problem was found.
    """

    def __init__(self, reason: str, text: str, position: int) -> None:
        super().__init__(f"{reason} (at character {position} of the intrinsic function call {text!r})")
        self.reason = reason
        self.text = text
        self.position = position


@dataclass(frozen=True, slots=True)
class Literal:
    """A literal argument.

    `template` holds a string literal split at each `{}` written without backslashes, so that
    States.Format can tell a placeholder from an escaped `\\{\\}`; it is empty for other literals.
    """

    value: LiteralValue
    template: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PathArg:
    """A path argument exactly as written: `$...` (input), `$$...` (context) or `$name...` (variable)."""

    text: str

    @property
    def kind(self) -> str:
        """`"context"`, `"variable"` or `"input"`."""
        if self.text.startswith("$$"):
            return "context"
        if len(self.text) > 1 and self.text[1] not in ".[":
            return "variable"
        return "input"


@dataclass(frozen=True, slots=True)
class Call:
    """A call of a `States.*` function, with its arguments in order."""

    name: str
    args: tuple[Arg, ...]

    def paths(self) -> Iterator[PathArg]:
        """Every path argument of this call and of the calls nested in it, in reading order."""
        for arg in self.args:
            if isinstance(arg, PathArg):
                yield arg
            elif isinstance(arg, Call):
                yield from arg.paths()


Arg = Literal | PathArg | Call


@dataclass(frozen=True, slots=True)
class Env:
    """What a function implementation gets besides its argument values.

    Attributes:
        name: the function's name, for error causes (`States.Format`).
        nodes: the argument nodes as parsed, in the order of the values.
        rng: the seeded generator of the execution.
    """

    name: str
    nodes: tuple[Arg, ...]
    rng: random.Random
