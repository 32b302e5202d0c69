"""JSON texts from outside (request bodies, execution inputs): refused when they could not be stored and
answered back, and answers encoded whatever they hold.

A JSON text can spell a lone UTF-16 surrogate (`"\\ud800"`), which Python's parser hands back as a
string that no UTF-8 encoder takes: stored, it would break every later read that includes it. It
can also nest deeper than any parser's stack. `parse` refuses both; `encode` answers whatever is
stored (a value kept before these checks included).
"""

from __future__ import annotations

import json
import re
from typing import Any

# A lone surrogate can only come from an escape (\uD800 to \uDFFF): bytes that encode one are not UTF-8.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE_ESCAPE_TEXT = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Bodies up to this size are parsed where they arrive; larger ones are worth a thread's hand-off.
INLINE_BYTES = 64 * 1024


class NotJson(ValueError):
    """The text is not (UTF-8) JSON, or is nested more deeply than it can be read."""


class UnpairedSurrogate(ValueError):
    """A string in the JSON holds a lone UTF-16 surrogate.

    Attributes:
        member: the top-level member it is in ("" when the value is not an object).
    """

    def __init__(self, member: str) -> None:
        where = f"member {member}" if member else "a string"
        super().__init__(f"{where} holds an unpaired UTF-16 surrogate, which is not Unicode text")
        self.member = member


def parse(raw: bytes | str) -> Any:
    """The JSON value of a text (bytes must be UTF-8).

    Raises:
        NotJson: not UTF-8, not JSON, or nested too deeply.
        UnpairedSurrogate: a string (a key or a value) holds a lone surrogate.
    """
    try:
        value = json.loads(raw)
    except RecursionError:
        raise NotJson("the JSON is nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise NotJson(str(exc)) from None
    if isinstance(raw, str):
        suspect = _SURROGATE_ESCAPE_TEXT.search(raw) is not None or has_surrogate(raw)
    else:
        suspect = _SURROGATE_ESCAPE.search(raw) is not None
    if suspect:
        member = unpaired_member(value)
        if member is not None:
            raise UnpairedSurrogate(member)
    return value


def unpaired_member(value: Any) -> str | None:
    """The top-level member whose value (or name) holds a lone surrogate; "" for the body itself; None
    when there is none. Walks without recursion, so any depth `json` could read is fine."""
    if isinstance(value, dict):
        for name, member in value.items():
            if has_surrogate(name) or _holds(member):
                return str(name) if not has_surrogate(name) else ""
        return None
    return "" if _holds(value) else None


def has_surrogate(text: str) -> bool:
    """Whether `text` holds a lone surrogate (a valid pair is one code point once parsed)."""
    return _SURROGATE.search(text) is not None


def _holds(value: Any) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if has_surrogate(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def encode(value: Any) -> bytes:
    """Compact UTF-8 JSON, non-ASCII kept as is (as AWS sends it); a value holding a lone surrogate is
    sent with escapes instead, which every JSON parser reads back."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":")).encode("ascii")
