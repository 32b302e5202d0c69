"""Evaluate a parsed call: arguments first, left to right, then the function."""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from typing import Any

from pinflow.asl.intrinsics import checks, parser, values
from pinflow.asl.intrinsics.nodes import Arg, Call, Env, IntrinsicSyntaxError, Literal
from pinflow.asl.intrinsics.registry import FUNCTIONS

Resolver = Callable[[str], Any]


@functools.lru_cache(maxsize=1024)
def _parse_cached(text: str) -> Call:
    # Calls are immutable, so one parse can serve every evaluation of the same text.
    return parser.parse(text)


def evaluate(call: Call | str, resolve: Resolver, rng: random.Random) -> Any:
    """Evaluate an intrinsic function call.

    Args:
        call: a parsed call, or its text (parsed and cached here).
        resolve: gives the value of a path argument from its text (`$.a`, `$$.Execution.Id`, `$var.x`);
            whatever it raises (an AslError when the path selects nothing) propagates unchanged.
        rng: the execution's seeded generator, used by States.UUID and unseeded States.MathRandom.

    Returns:
        The JSON value of the call; it shares no list or dict with the values `resolve` returned.

    Raises:
        IntrinsicSyntaxError: `call` is text that does not parse.
        AslError: a function rejected its arguments (States.IntrinsicFailure), or `resolve` failed.
    """
    if isinstance(call, str):
        call = _parse_cached(call)
    return values.fresh(_call(call, resolve, rng))


def _call(call: Call, resolve: Resolver, rng: random.Random) -> Any:
    function = FUNCTIONS.get(call.name)
    count = len(call.args)
    # A Call built by hand rather than by parse() is checked like a parsed one.
    if function is None or not function.accepts(count):
        raise IntrinsicSyntaxError(f"{call.name} cannot take {count} argument(s)", call.name, 0)
    args = [_argument(arg, resolve, rng) for arg in call.args]
    try:
        return function.implementation(args, Env(call.name, call.args, rng))
    except RecursionError:
        raise checks.failure(call.name, "a value is nested too deeply") from None


def _argument(arg: Arg, resolve: Resolver, rng: random.Random) -> Any:
    if isinstance(arg, Literal):
        return arg.value
    if isinstance(arg, Call):
        return _call(arg, resolve, rng)
    return resolve(arg.text)
