"""States.StringToJson, States.JsonToString and States.JsonMerge."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any, NoReturn

from pinflow.asl.intrinsics import checks, values
from pinflow.asl.intrinsics.nodes import Env

# The whitespace a JSON parser skips; a string of only these parses to null at AWS.
_JSON_WHITESPACE = " \t\n\r"


def _no_constant(name: str) -> NoReturn:
    # Python's json accepts NaN and Infinity; JSON does not.
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is out of range")
    return number


def string_to_json(args: Sequence[Any], env: Env) -> Any:
    """States.StringToJson(text): the JSON value `text` holds; an empty or blank text gives null."""
    text = checks.string(env.name, args[0], "the argument")
    if not text.strip(_JSON_WHITESPACE):
        return None
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except ValueError as exc:
        raise checks.failure(env.name, f"the argument is not valid JSON: {exc}") from None


def json_to_string(args: Sequence[Any], env: Env) -> str:
    """States.JsonToString(value): compact JSON text, numbers printed as AWS prints them."""
    return values.to_json_text(args[0])


def json_merge(args: Sequence[Any], env: Env) -> dict[str, Any]:
    """States.JsonMerge(a, b, false): a shallow merge where the second object's fields win.

    AWS accepts only `false` for the third argument, although the specification describes a
    deep merge for `true`.
    """
    first = checks.obj(env.name, args[0], "the first argument")
    second = checks.obj(env.name, args[1], "the second argument")
    deep = args[2]
    if not isinstance(deep, bool):
        got = values.type_name(deep)
        raise checks.failure(env.name, f"the third argument must be a boolean, but got {got}")
    if deep:
        raise checks.failure(env.name, "deep merging is not supported; the third argument must be false")
    return {**first, **second}
