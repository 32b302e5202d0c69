"""Choice rules in JSONPath states: comparison operators, type tests and And/Or/Not.

Comparing values of different types is false, not an error (AWS). A missing Variable is an error,
except under IsPresent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from pinflow.asl import errors, paths, timestamps
from pinflow.asl.errors import AslError
from pinflow.asl.scope import Scope


def _is_number(value: Any) -> bool:
    # bool is an int in Python, but not a number in JSON.
    return isinstance(value, int | float) and not isinstance(value, bool)


def _string(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    return lambda a, b: isinstance(a, str) and isinstance(b, str) and op(a, b)


def _numeric(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    return lambda a, b: _is_number(a) and _is_number(b) and op(a, b)


def _timestamp(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(a: Any, b: Any) -> bool:
        ta, tb = timestamps.parse(a), timestamps.parse(b)
        return ta is not None and tb is not None and op(ta, tb)

    return compare


def _eq(a: Any, b: Any) -> bool:
    return bool(a == b)


def _lt(a: Any, b: Any) -> bool:
    return bool(a < b)


def _le(a: Any, b: Any) -> bool:
    return bool(a <= b)


def _gt(a: Any, b: Any) -> bool:
    return bool(a > b)


def _ge(a: Any, b: Any) -> bool:
    return bool(a >= b)


def _boolean_equals(a: Any, b: Any) -> bool:
    return isinstance(a, bool) and isinstance(b, bool) and a == b


@lru_cache(maxsize=1024)
def _wildcard(pattern: str) -> re.Pattern[str]:
    """StringMatches: `*` matches any run of characters; `\\*` and `\\\\` are literal."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "*" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _string_matches(a: Any, b: Any) -> bool:
    return isinstance(a, str) and isinstance(b, str) and _wildcard(b).fullmatch(a) is not None


COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "StringEquals": _string(_eq),
    "StringLessThan": _string(_lt),
    "StringGreaterThan": _string(_gt),
    "StringLessThanEquals": _string(_le),
    "StringGreaterThanEquals": _string(_ge),
    "StringMatches": _string_matches,
    "NumericEquals": _numeric(_eq),
    "NumericLessThan": _numeric(_lt),
    "NumericGreaterThan": _numeric(_gt),
    "NumericLessThanEquals": _numeric(_le),
    "NumericGreaterThanEquals": _numeric(_ge),
    "BooleanEquals": _boolean_equals,
    "TimestampEquals": _timestamp(_eq),
    "TimestampLessThan": _timestamp(_lt),
    "TimestampGreaterThan": _timestamp(_gt),
    "TimestampLessThanEquals": _timestamp(_le),
    "TimestampGreaterThanEquals": _timestamp(_ge),
}

TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "IsNull": lambda v: v is None,
    "IsNumeric": _is_number,
    "IsString": lambda v: isinstance(v, str),
    "IsBoolean": lambda v: isinstance(v, bool),
    "IsTimestamp": lambda v: timestamps.parse(v) is not None,
}

OPERATORS = frozenset(COMPARISONS) | {f"{name}Path" for name in COMPARISONS if name != "StringMatches"} | (
    frozenset(TYPE_TESTS) | {"IsPresent"}
)


def matches(rule: dict[str, Any], scope: Scope) -> bool:
    """Whether a Choice rule (top-level or nested) holds for `scope`.

    Raises:
        AslError: the rule's Variable (or a `...Path` operand) selects nothing (States.Runtime).
    """
    if "And" in rule:
        return all(matches(sub, scope) for sub in rule["And"])
    if "Or" in rule:
        return any(matches(sub, scope) for sub in rule["Or"])
    if "Not" in rule:
        return not matches(rule["Not"], scope)
    variable = rule.get("Variable")
    for op, expected in rule.items():
        if op in ("Variable", "Next", "Comment", "Assign", "Output"):
            continue
        if op == "IsPresent":
            present = _present(variable, scope)
            return present == bool(expected)
        value = _value(variable, scope)
        if op in TYPE_TESTS:
            return TYPE_TESTS[op](value) == bool(expected)
        if op.endswith("Path") and op[:-4] in COMPARISONS:
            other = _value(expected, scope)
            return COMPARISONS[op[:-4]](value, other)
        if op in COMPARISONS:
            return COMPARISONS[op](value, expected)
        raise AslError(errors.RUNTIME, f"Unsupported Choice operator '{op}'")
    raise AslError(errors.RUNTIME, "The Choice rule has no comparison operator")


def _value(text: Any, scope: Scope) -> Any:
    if not isinstance(text, str):
        raise AslError(errors.RUNTIME, f"Invalid path {text!r}")
    return scope.resolve_text(text)


def _present(text: Any, scope: Scope) -> bool:
    try:
        path = paths.compile_path(text)
    except (paths.PathSyntaxError, TypeError):
        return False
    if path.root == "$":
        return path.exists(scope.input)
    if path.root == "$$":
        return path.exists(scope.context)
    if path.root not in scope.variables:
        return False
    return path.exists(scope.variables[path.root])
