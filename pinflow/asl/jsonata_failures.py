"""The library's own failures inside a built-in function, as the error jsonata-js raises for the same kind.

jsonata-python (a port of the Java port of jsonata-js) sometimes fails with a bare Python exception
where jsonata-js raises a coded error: `Math.pow` overflowing, a malformed URL escape, a date/time
picture it cannot read. `guard(name, function)` wraps a built-in so that such a failure becomes the
coded error jsonata-js gives (its code from jsonata-js's `errorCodes`, its values in the order the
template names them), by kind, in one table here (`_translate`).

Where jsonata-js raises nothing for the same input the kind says what it does instead (a time it
cannot hold gives JavaScript's "Invalid time value"; an allocation too large for it runs into AWS's
memory limit). What is left (a failure of a kind not listed) keeps the function's name and the
library's words, uncoded, never "an internal error".
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from jsonata import JException

# The library raises these with jsonata-js's message (some with "%s" where the value belongs).
_CODES_BY_TEXT = (
    ("Formatting or parsing an integer as a sequence starting with", "D3130"),
    ("In a decimal digit pattern, all digits must be from the same decimal group", "D3131"),
    ("Unknown component specifier", "D3132"),
    ("The 'name' modifier can only be applied", "D3133"),
    ("The timezone integer format specifier cannot have more than four digits", "D3134"),
    ("No matching closing bracket", "D3135"),
    ("The date/time picture string is missing specifiers required to parse the timestamp", "D3136"),
)
_SEQUENCE_TOKEN = re.compile(r"sequence starting with (.*) is not supported")
_NAME_MODIFIER = re.compile(r"picture string, not (.+)$")
_URL_FUNCTIONS = frozenset({"encodeUrl", "encodeUrlComponent", "decodeUrl", "decodeUrlComponent"})
_TIME_FUNCTIONS = frozenset({"fromMillis", "toMillis", "now"})
# Failures of the code itself, never of the arguments: these stay what they are.
_PASSED_THROUGH = (JException, RecursionError)


class DetailedError(JException):  # type: ignore[misc, unused-ignore]  # the library is untyped
    """A JException whose whole message is `detail`, which the library passes through untouched."""

    def __init__(self, detail: str) -> None:
        RuntimeError.__init__(self, detail)  # JException.__init__ would look the text up as a code
        self.error = detail
        self.location = -1
        self.current = None
        self.expected = None
        self.extra = None
        self.type = None
        self.remaining = None
        self.detail = detail


class UncodedError(DetailedError):
    """A failure jsonata-js gives no code for; `detail` is the whole message."""


def guard(name: str, function: Callable[..., Any], *, memory: type[JException], time: type[JException]) \
        -> Callable[..., Any]:
    """`function` (the built-in `$name`), its Python failures raised as jsonata-js's errors.

    Args:
        name: the JSONata name, without `$`.
        function: the implementation; its signature is kept (the library counts its parameters).
        memory: the error for an allocation past AWS's memory limit.
        time: the error for a time JavaScript's Date cannot hold.
    """

    @functools.wraps(function)
    def guarded(*args: Any) -> Any:
        try:
            return function(*args)
        except _PASSED_THROUGH:
            raise
        except Exception as exc:  # noqa: BLE001 - translated by kind, see _translate
            raise _translate(name, args, exc, memory, time) from None

    return guarded


def _translate(name: str, args: tuple[Any, ...], exc: Exception, memory: type[JException],
               time: type[JException]) -> JException:
    first = args[0] if args else None
    if name == "power":
        # jsonata-js: Math.pow's result is not finite (an overflow, a root of a negative number, 0 ** -1).
        return JException("D3061", -1, first, args[1] if len(args) > 1 else None)
    if name in _URL_FUNCTIONS:
        # jsonata-js catches encodeURI's/decodeURI's URIError: a lone surrogate, a broken escape.
        return JException("D3140", -1, name, first)
    text = str(exc)
    for start, code in _CODES_BY_TEXT:
        if text.startswith(start):
            return _coded(code, text, name, args)
    if isinstance(exc, KeyError) and name in _TIME_FUNCTIONS and _is_component(exc):
        # A picture marker whose component letter the library has no entry for.
        return JException("D3132", -1, exc.args[0])
    if isinstance(exc, MemoryError | OverflowError) and name not in _TIME_FUNCTIONS:
        # An allocation (a padding, a repetition) sized past anything AWS lets an expression hold.
        return memory()
    if name in _TIME_FUNCTIONS and isinstance(exc, OverflowError | OSError | ValueError):
        # A time outside what a date can hold (JavaScript's Date: 8.64e15 ms either side of 1970).
        return time()
    return UncodedError(f"${name}: {type(exc).__name__}: {text}")


def _is_component(exc: KeyError) -> bool:
    key = exc.args[0] if exc.args else None
    return isinstance(key, str) and len(key) == 1 and key.isalpha()


_NAMED_MARKER = re.compile(r"\[\s*([A-Za-z])\s*[nN]")


def _named_component(args: tuple[Any, ...]) -> str | None:
    """The first component of a date/time picture given a name modifier it cannot take."""
    for arg in args:
        if isinstance(arg, str):
            for found in _NAMED_MARKER.finditer(arg):
                if found.group(1) not in "MxFP":
                    return found.group(1)
    return None


def _coded(code: str, text: str, name: str, args: tuple[Any, ...]) -> JException:
    if code == "D3130":
        found = _SEQUENCE_TOKEN.search(text)
        token = found.group(1) if found and found.group(1) != "%s" else None
        if token is None and len(args) > 1 and isinstance(args[1], str):
            token = args[1]  # $parseInteger/$formatInteger: the picture
        return JException(code, -1, token)
    if code == "D3132":
        return JException(code, -1, text.split()[3] if len(text.split()) > 3 else None)
    if code == "D3133":
        found = _NAME_MODIFIER.search(text)
        component = found.group(1) if found and found.group(1) != "%s" else _named_component(args)
        return JException(code, -1, component)
    return JException(code, -1)
