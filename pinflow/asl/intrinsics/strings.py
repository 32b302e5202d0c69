"""States.Format and States.StringSplit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pinflow.asl.intrinsics import checks, values
from pinflow.asl.intrinsics.nodes import Env, Literal

PLACEHOLDER = "{}"


def format_(args: Sequence[Any], env: Env) -> str:
    """States.Format(template, v...): the template with each `{}` replaced by the next value.

    Strings go in without quotes; other values as AWS's Java runtime prints them (`null`, `1.5`,
    `[a, b]`, `{k=v}`). In a literal template, `\\{\\}` is text, not a placeholder.
    """
    node = env.nodes[0]
    if isinstance(node, Literal) and isinstance(node.value, str):
        pieces = node.template
    else:
        pieces = tuple(checks.string(env.name, args[0], "the template").split(PLACEHOLDER))
    inserted = args[1:]
    if len(pieces) - 1 != len(inserted):
        raise checks.failure(
            env.name,
            f"the template has {len(pieces) - 1} placeholder(s) but {len(inserted)} value(s) were given",
        )
    out = [pieces[0]]
    for value, piece in zip(inserted, pieces[1:], strict=True):
        out.append(values.to_display_text(value))
        out.append(piece)
    return "".join(out)


def string_split(args: Sequence[Any], env: Env) -> list[str]:
    """States.StringSplit(text, delimiters): the pieces between any of the delimiter characters.

    Every character of `delimiters` separates on its own, and empty pieces are dropped, as with
    Java's StringTokenizer (AWS splits ", , ," on "," into [" ", " "]).
    """
    text = checks.string(env.name, args[0], "the first argument")
    separators = set(checks.string(env.name, args[1], "the delimiter"))
    pieces: list[str] = []
    current: list[str] = []
    for char in text:
        if char in separators:
            if current:
                pieces.append("".join(current))
                current = []
        else:
            current.append(char)
    if current:
        pieces.append("".join(current))
    return pieces
