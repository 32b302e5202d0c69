"""JSON syntax errors worded and located as AWS's parser (Jackson) reports them.

ValidateStateMachineDefinition answers text that is not JSON with INVALID_JSON_DESCRIPTION, Jackson's
message and, as `location`, Jackson's description of where it stopped:
`[Source: (String)"not a definition"; line: 1, column: 4]` (recorded from AWS). Python's parser
finds the same errors; this module translates its position into Jackson's wording, line and column
(Jackson counts the column after the character it stopped on).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

# Jackson quotes at most this many characters of the source, then says how many it left out.
SNIPPET = 500
_IDENTIFIER = re.compile(r"[\w$]*")
_EXPECTING = ("JSON String, Number, Array, Object or token 'null', 'true' or 'false'")


@dataclass(frozen=True, slots=True)
class JsonSyntaxError:
    """Jackson's message (ending with the location) and the location on its own."""

    message: str
    location: str


def describe(text: str, error: json.JSONDecodeError) -> JsonSyntaxError:
    """Jackson's account of `error`, raised by `json.loads(text)`."""
    pos = error.pos
    char = text[pos] if pos < len(text) else ""
    if pos >= len(text) or error.msg.startswith("Unterminated string"):
        what, end = _end_of_input(text, error), len(text)
    elif error.msg == "Expecting value" and (char.isalpha() or char == "_"):
        token = _IDENTIFIER.match(text, pos).group(0)  # type: ignore[union-attr]  # always matches
        what, end = f"Unrecognized token '{token}': was expecting ({_EXPECTING})", pos + len(token)
    else:
        what, end = f"Unexpected character ({_char(char)}): {_expected(text, error)}", pos + 1
    location = _location(text, end)
    return JsonSyntaxError(f"{what}\n at {location}", location)


def _char(char: str) -> str:
    return f"'{char}' (code {ord(char)})"


def _expected(text: str, error: json.JSONDecodeError) -> str:
    message = error.msg
    if message.startswith("Expecting property name"):
        return "was expecting double-quote to start field name"
    if message == "Expecting ':' delimiter":
        return "was expecting a colon to separate field name and value"
    if message == "Expecting ',' delimiter":
        kind = "Object" if _open_container(text, error.pos) == "{" else "Array"
        return f"was expecting comma to separate {kind} entries"
    if message.startswith("Invalid control character"):
        return "has to be escaped using backslash to be included in string value"
    if message == "Extra data":
        return "expected end of input"
    return "expected a value"


def _end_of_input(text: str, error: json.JSONDecodeError) -> str:
    if error.msg.startswith("Unterminated string"):
        return "Unexpected end-of-input: was expecting closing quote for a string value"
    opener = _open_container(text, len(text))
    if opener is None:
        return "No content to map due to end-of-input"
    kind = "OBJECT" if opener == "{" else "ARRAY"
    start = _opener_position(text, len(text))
    return (f"Unexpected end-of-input: expected close marker for {kind} "
            f"(start marker at {_location(text, start)})")


def _scan(text: str, end: int) -> list[int]:
    """Positions of the brackets still open at `end`, ignoring those inside strings."""
    stack: list[int] = []
    in_string = escaped = False
    for index in range(min(end, len(text))):
        ch = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append(index)
        elif ch in "}]" and stack:
            stack.pop()
    return stack


def _open_container(text: str, end: int) -> str | None:
    stack = _scan(text, end)
    return text[stack[-1]] if stack else None


def _opener_position(text: str, end: int) -> int:
    stack = _scan(text, end)
    return stack[-1] if stack else 0


def _location(text: str, end: int) -> str:
    """Jackson's `[Source: ...; line: L, column: C]` for the position just before `end`."""
    line = text.count("\n", 0, end) + 1
    column = end - (text.rfind("\n", 0, end) + 1) + 1
    snippet = f'(String)"{text[:SNIPPET]}"'
    if len(text) > SNIPPET:
        snippet += f"[truncated {len(text) - SNIPPET} chars]"
    return f"[Source: {snippet}; line: {line}, column: {column}]"
