"""The JSONata fast path must agree with the library wherever it answers."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pinflow.asl import jsonata, jsonata_native
from pinflow.asl.errors import AslError

NAMES = ["a", "b", "c"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000),
                    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
                    st.text(alphabet="abcXYZ é", max_size=5))
documents = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(NAMES), inner, max_size=3)), max_leaves=8)
paths = st.lists(st.sampled_from(NAMES), min_size=0, max_size=3).map(
    lambda names: "$states.input" + "".join(f".{n}" for n in names))
literals = st.one_of(st.integers(-50, 50).map(str), st.sampled_from(['"abc"', '"X"', "true", "false", "null", "1.5"]))


def expressions(depth: int = 2) -> st.SearchStrategy[str]:
    leaf = st.one_of(paths, literals)
    if depth == 0:
        return leaf
    inner = expressions(depth - 1)
    binary = st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "<", "<=", ">", ">=", "=", "!=", "and", "or"]),
                       inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
    call = st.tuples(st.sampled_from(["$uppercase", "$lowercase", "$length"]), inner).map(lambda t: f"{t[0]}({t[1]})")
    return st.one_of(leaf, binary, call)


def by_library(expression: jsonata.Expression, bindings: dict[str, Any]) -> Any:
    try:
        return jsonata._run(expression, jsonata._prepare(bindings), jsonata._context(0.0, random.Random(1)), None)
    except AslError as exc:
        return ("error", exc.error)


@settings(max_examples=400, deadline=None)
@given(expressions(), documents)
def test_the_fast_path_agrees_with_the_library(text: str, document: Any) -> None:
    expression = jsonata.compile(text)
    bindings = {"states": {"input": document}}
    if expression.native is None:
        return
    fast = expression.native(bindings)
    if fast is jsonata_native.SLOW:
        return
    expected = by_library(expression, bindings)
    got = jsonata.UNDEFINED if fast is jsonata_native.UNDEFINED_HERE else jsonata._to_json(fast)
    assert got == expected and type(got) is type(expected), (text, document, got, expected)


def test_common_shapes_take_the_fast_path() -> None:
    bindings = {"states": {"input": {"n": 2, "label": "Chain"}}}
    for text, value in [("$states.input.n + 1", 3), ("$uppercase($states.input.label)", "CHAIN"),
                        ("$states.input.n >= 0", True), ("$states.input.missing", jsonata_native.UNDEFINED_HERE)]:
        native = jsonata.compile(text).native
        assert native is not None
        assert native(bindings) == value


def test_a_variable_named_like_a_function_leaves_the_call_to_the_library() -> None:
    native = jsonata.compile("$uppercase($states.input.label)").native
    assert native is not None
    assert native({"states": {"input": {"label": "x"}}, "uppercase": 1}) is jsonata_native.SLOW
