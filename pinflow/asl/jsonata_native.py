"""A fast path for the commonest JSONata shapes, evaluated in plain Python.

Most expressions in state machines are small: a path into `$states.input`, a comparison, a sum,
`$uppercase` of a field. The library evaluates each through its general machinery at tens of
microseconds; this module compiles such an expression once into nested closures that compute the
same value directly. It only takes cases whose JSONata meaning is plain (numbers that fit a double
exactly, ASCII strings, objects along paths) and gives up (`SLOW`) on anything else at run time,
so the library still decides every case that needs its rules: arrays, undefined operands, errors.
A property test checks that both agree wherever this path answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SLOW: Any = object()  # "let the library evaluate this"
UNDEFINED_HERE: Any = object()  # a path step found no such name

Native = Callable[[dict[str, Any]], Any]
_EXACT = 2**53
_MAX_DEPTH = 16

_STEP_EXTRAS = ("stages", "predicate", "group", "focus", "tuple", "keep_array", "keep_singleton_array",
                "index", "ancestor", "consarray")


def _plain(node: Any) -> bool:
    return not any(getattr(node, attr, None) for attr in _STEP_EXTRAS)


def compile_native(ast: Any) -> Native | None:
    """Closures computing `ast`, or None when its shape is not one this module handles."""
    try:
        return _node(ast, 0)
    except _Unhandled:
        return None


class _Unhandled(Exception):
    pass


def _node(ast: Any, depth: int) -> Native:
    # Deep expressions meet the library's (and AWS's) evaluation depth limit: keep them there.
    if ast is None or not _plain(ast) or depth > _MAX_DEPTH:
        raise _Unhandled
    kind = ast.type
    if kind == "number" or kind == "string":
        value = ast.value
        return lambda bindings: value
    if kind == "value" and ast.value in (True, False, None):
        value = ast.value
        return lambda bindings: value
    if kind == "variable" and ast.value:
        return _path(ast.value, ())
    if kind == "path" and ast.steps:
        first, *rest = ast.steps
        if first.type == "variable" and first.value and _plain(first) and all(
                step.type == "name" and isinstance(step.value, str) and _plain(step) for step in rest):
            return _path(first.value, tuple(step.value for step in rest))
        raise _Unhandled
    if kind == "binary":
        operator = _BINARY.get(ast.value)
        if operator is None:
            raise _Unhandled
        return _binary(operator, _node(ast.lhs, depth + 1), _node(ast.rhs, depth + 1))
    if kind == "function" and getattr(ast.procedure, "type", None) == "variable":
        function = _FUNCTIONS.get(ast.procedure.value)
        if function is None or len(ast.arguments or ()) != 1:
            raise _Unhandled
        return _call(ast.procedure.value, function, _node(ast.arguments[0], depth + 1))
    raise _Unhandled


def _path(variable: str, names: tuple[str, ...]) -> Native:
    def read(bindings: dict[str, Any]) -> Any:
        if variable not in bindings:
            return SLOW  # a function, or something only the library knows
        value = bindings[variable]
        for name in names:
            if type(value) is not dict:
                return SLOW  # arrays map a path; strings and numbers have no fields
            if name not in value:
                return UNDEFINED_HERE
            value = value[name]
        if type(value) is list:
            return SLOW  # JSONata's sequence rules (singletons, flattening) are the library's
        return value

    return read


def _number(value: Any) -> bool:
    kind = type(value)
    return (kind is int and -_EXACT < value < _EXACT) or (kind is float and value == value
                                                            and abs(value) != float("inf"))


def _ascii(value: Any) -> bool:
    return type(value) is str and value.isascii()


def _arithmetic(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def apply(left: Any, right: Any) -> Any:
        if not (_number(left) and _number(right)):
            return SLOW
        result = op(left, right)
        return result if _number(result) else SLOW

    return apply


def _divide(left: Any, right: Any) -> Any:
    if not (_number(left) and _number(right)) or right == 0:
        return SLOW
    return left / right


def _compare(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], Any]:
    def apply(left: Any, right: Any) -> Any:
        if _number(left) and _number(right):
            return op(left, right)
        return SLOW  # strings compare by UTF-16 code units in JSONata: leave them to the library

    return apply


def _equal(negate: bool) -> Callable[[Any, Any], Any]:
    def apply(left: Any, right: Any) -> Any:
        if _number(left) and _number(right):
            return (left != right) if negate else (left == right)
        if type(left) is str and type(right) is str:
            return (left != right) if negate else (left == right)
        if type(left) is bool and type(right) is bool:
            return (left != right) if negate else (left == right)
        return SLOW

    return apply


def _logical(is_and: bool) -> Callable[[Any, Any], Any]:
    def apply(left: Any, right: Any) -> Any:
        if type(left) is not bool or type(right) is not bool:
            return SLOW  # JSONata's truthiness of other values is the library's
        return (left and right) if is_and else (left or right)

    return apply


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": _arithmetic(lambda a, b: a + b),
    "-": _arithmetic(lambda a, b: a - b),
    "*": _arithmetic(lambda a, b: a * b),
    "/": _divide,
    "<": _compare(lambda a, b: a < b),
    "<=": _compare(lambda a, b: a <= b),
    ">": _compare(lambda a, b: a > b),
    ">=": _compare(lambda a, b: a >= b),
    "=": _equal(False),
    "!=": _equal(True),
    "and": _logical(True),
    "or": _logical(False),
}


def _binary(operator: Callable[[Any, Any], Any], lhs: Native, rhs: Native) -> Native:
    def apply(bindings: dict[str, Any]) -> Any:
        left = lhs(bindings)
        if left is SLOW or left is UNDEFINED_HERE:
            return SLOW  # undefined operands follow rules of their own: the library's
        right = rhs(bindings)
        if right is SLOW or right is UNDEFINED_HERE:
            return SLOW
        return operator(left, right)

    return apply


_FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    # ASCII only: JavaScript's and Python's case mappings agree there.
    "uppercase": lambda v: v.upper() if _ascii(v) else SLOW,
    "lowercase": lambda v: v.lower() if _ascii(v) else SLOW,
    "length": lambda v: len(v) if _ascii(v) else SLOW,
}


def _call(name: str, function: Callable[[Any], Any], argument: Native) -> Native:
    def apply(bindings: dict[str, Any]) -> Any:
        if name in bindings:
            return SLOW  # a workflow variable of that name hides the built-in
        value = argument(bindings)
        if value is SLOW or value is UNDEFINED_HERE:
            return SLOW
        return function(value)

    return apply
