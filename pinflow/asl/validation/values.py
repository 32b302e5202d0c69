"""Checks on single values: JSON types, integer ranges, RFC 3339 timestamps and `{% %}` expressions."""

from __future__ import annotations

import datetime
import math
import re
from typing import Any

from pinflow.asl.validation import diagnostics as d

STRING = "STRING"
INTEGER = "INTEGER"
NUMBER = "NUMBER"
BOOLEAN = "BOOLEAN"
OBJECT = "OBJECT"
ARRAY = "ARRAY"

MAX_SECONDS = 99_999_999

# RFC 3339 as ASL restricts it: an uppercase T, and an uppercase Z when there is no numeric offset.
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))\Z", re.ASCII
)


def is_int(value: object) -> bool:
    """A JSON integer (bool is an int in Python, so check the exact type)."""
    return type(value) is int


def is_number(value: object) -> bool:
    """A finite JSON number, not a boolean."""
    if type(value) is int:
        return True
    return type(value) is float and math.isfinite(value)


def is_expression(value: object) -> bool:
    """A JSONata expression: the whole string is `{% ... %}` with nothing outside the delimiters."""
    return isinstance(value, str) and len(value) >= 4 and value.startswith("{%") and value.endswith("%}")


def expression_text(value: str) -> str:
    """The JSONata text between `{%` and `%}`."""
    return value[2:-2]


def is_timestamp(value: object) -> bool:
    """An RFC 3339 timestamp with a real calendar date and time."""
    if not isinstance(value, str):
        return False
    match = _RFC3339.match(value)
    if match is None:
        return False
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    if hour > 23 or minute > 59 or second > 60:  # 60 is a leap second
        return False
    if match.group(9) is not None and (int(match.group(9)) > 23 or int(match.group(10)) > 59):
        return False
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


_CHECKS: dict[str, Any] = {
    STRING: lambda v: isinstance(v, str),
    INTEGER: is_int,
    NUMBER: is_number,
    BOOLEAN: lambda v: type(v) is bool,
    OBJECT: lambda v: isinstance(v, dict),
    ARRAY: lambda v: isinstance(v, list),
}


def has_type(value: object, kind: str) -> bool:
    """Whether `value` is of the JSON type `kind` (one of the constants above)."""
    return bool(_CHECKS[kind](value))


def expect(report: d.Report, location: str, value: object, kind: str) -> bool:
    """Report a type mismatch at `location`; return whether `value` has the expected type."""
    if has_type(value, kind):
        return True
    report.schema(location, f"Expected value of type [{kind}]")
    return False


def expect_int(report: d.Report, location: str, name: str, value: object, low: int, high: int) -> bool:
    """Report a value that is not an integer in [low, high]; return whether it is one."""
    if not expect(report, location, value, INTEGER):
        return False
    assert isinstance(value, int)
    if low <= value <= high:
        return True
    report.schema(location, f"The field '{name}' must be an integer between {low} and {high}")
    return False


def expect_int_or_expression(
    report: d.Report, location: str, name: str, value: object, low: int, high: int, jsonata: bool
) -> None:
    """Like `expect_int`, but a JSONata state may give a `{% %}` expression instead."""
    if jsonata and is_expression(value):
        return
    expect_int(report, location, name, value, low, high)


def exclusive(report: d.Report, location: str, owner: dict[Any, Any], names: tuple[str, ...]) -> None:
    """Report at `location` when `owner` has more than one of the fields `names`."""
    if sum(name in owner for name in names) > 1:
        report.schema(location, f"Only one of these fields can be specified: [{', '.join(names)}]")
