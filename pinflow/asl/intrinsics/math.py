"""States.MathAdd and States.MathRandom."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from pinflow.asl.intrinsics import checks
from pinflow.asl.intrinsics.nodes import Env


def math_add(args: Sequence[Any], env: Env) -> int:
    """States.MathAdd(a, b): the sum of two integers in the 32-bit range; AWS rounds non-integers first."""
    first = checks.rounded(env.name, args[0], "the first argument")
    second = checks.rounded(env.name, args[1], "the second argument")
    checks.int32(env.name, first, "the first argument")
    checks.int32(env.name, second, "the second argument")
    return first + second


def math_random(args: Sequence[Any], env: Env) -> int:
    """States.MathRandom(start, end[, seed]): a random integer, `start` included and `end` excluded.

    Non-integers are rounded. Without a seed the number comes from the execution's generator; with
    one, it depends on the seed and the bounds only.
    """
    start = checks.rounded(env.name, args[0], "the start")
    end = checks.rounded(env.name, args[1], "the end")
    if start >= end:
        raise checks.failure(env.name, f"the start ({start}) must be less than the end ({end})")
    if len(args) > 2:
        seed = checks.rounded(env.name, args[2], "the seed")
        return random.Random(seed).randrange(start, end)
    return env.rng.randrange(start, end)
