"""JSON values as AWS's Java runtime renders, compares and rounds them."""

from __future__ import annotations

import math
from collections.abc import Hashable
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

# Characters below U+0020 that JSON writers escape with a short form; the rest become \\u00XX.
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def is_number(value: Any) -> bool:
    """True for JSON numbers; bool is an int in Python, so it is ruled out explicitly."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def type_name(value: Any) -> str:
    """The JSON type of `value`: null, boolean, number, string, array or object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def java_round(value: int | float) -> int:
    """Round half up, towards positive infinity, as Java's `Math.round` does (-2.5 -> -2, 2.5 -> 3)."""
    if isinstance(value, int):
        return value
    floor = math.floor(value)
    return floor + 1 if value - floor >= 0.5 else floor


def format_double(value: float) -> str:
    """Render a float as Java's `Double.toString` does: `1.0`, `0.001`, `1.0E7`, `1.5E-5`."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    # repr gives the shortest digits that read back to the same float, which is what Java prints too.
    parts = Decimal(repr(magnitude)).normalize().as_tuple()
    digits = "".join(str(d) for d in parts.digits)
    exponent = len(digits) - 1 + int(parts.exponent)
    if len(digits) == 1:
        digits = _closest_two_digits(magnitude, digits, exponent)
    if 1e-3 <= magnitude < 1e7:
        if exponent >= 0:
            whole = digits[: exponent + 1].ljust(exponent + 1, "0")
            fraction = digits[exponent + 1 :] or "0"
            return f"{sign}{whole}.{fraction}"
        return f"{sign}0.{'0' * (-exponent - 1)}{digits}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exponent}"


def _closest_two_digits(magnitude: float, digit: str, exponent: int) -> str:
    # When one digit reads back, Java still picks the closest two-digit decimal that does
    # (Double.MIN_VALUE prints as 4.9E-324, not 5.0E-324).
    scaled = int(Decimal(magnitude).scaleb(1 - exponent).to_integral_value(rounding=ROUND_HALF_EVEN))
    if 10 <= scaled <= 99 and float(Decimal(scaled).scaleb(exponent - 1)) == magnitude:
        return str(scaled).rstrip("0")
    return digit


def _json_string(text: str) -> str:
    out = ['"']
    for char in text:
        short = _SHORT_ESCAPES.get(char)
        if short is not None:
            out.append(short)
        elif char < " ":
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def to_json_text(value: Any) -> str:
    """Compact JSON text, as AWS writes it: no spaces, non-ASCII kept, Java number forms."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_double(value)
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, list):
        return "[" + ",".join(to_json_text(item) for item in value) + "]"
    return "{" + ",".join(f"{_json_string(key)}:{to_json_text(item)}" for key, item in value.items()) + "}"


def to_display_text(value: Any) -> str:
    """A value as States.Format inserts it: Java's `toString` of the decoded JSON.

    Strings are inserted bare, null as `null`, arrays as `[a, b]` and objects as `{k=v, k2=v2}`
    (AWS formats `$$.StateMachine` as `{Id=arn:..., Name=...}`).
    """
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + ", ".join(to_display_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}={to_display_text(item)}" for key, item in value.items()) + "}"
    return to_json_text(value)


def json_key(value: Any) -> Hashable:
    """A hashable stand-in with JSON equality: `true` is not `1`, `1` equals `1.0`, key order is ignored."""
    if value is None:
        return ("null",)
    if isinstance(value, bool):
        return ("boolean", value)
    if is_number(value):
        # 1 == 1.0 and hash(1) == hash(1.0), so numbers compare by value.
        return ("number", value)
    if isinstance(value, str):
        return ("string", value)
    if isinstance(value, list):
        return ("array", tuple(json_key(item) for item in value))
    return ("object", frozenset((key, json_key(item)) for key, item in value.items()))


def fresh(value: Any) -> Any:
    """A copy of a JSON value that shares no list or dict with the original."""
    if isinstance(value, list):
        return [fresh(item) for item in value]
    if isinstance(value, dict):
        return {key: fresh(item) for key, item in value.items()}
    return value


def utf16_length(text: str) -> int:
    """The length Java reports for `text`: characters beyond U+FFFF count twice."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)
