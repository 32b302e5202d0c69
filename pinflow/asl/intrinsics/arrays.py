"""States.Array, ArrayPartition, ArrayContains, ArrayRange, ArrayGetItem, ArrayLength and ArrayUnique."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pinflow.asl.intrinsics import checks, values
from pinflow.asl.intrinsics.nodes import Env

# AWS refuses to build a States.ArrayRange longer than this.
MAX_RANGE_ITEMS = 1000


def array(args: Sequence[Any], env: Env) -> list[Any]:
    """States.Array(v...): the arguments as an array, in order."""
    return list(args)


def array_partition(args: Sequence[Any], env: Env) -> list[list[Any]]:
    """States.ArrayPartition(array, size): consecutive chunks of `size` items; the last may be shorter."""
    items = checks.array(env.name, args[0], "the first argument")
    size = checks.rounded(env.name, args[1], "the chunk size")
    if size <= 0:
        raise checks.failure(env.name, f"the chunk size must be a positive integer, but got {size}")
    return [items[start : start + size] for start in range(0, len(items), size)]


def array_contains(args: Sequence[Any], env: Env) -> bool:
    """States.ArrayContains(array, value): whether an item equals `value` (JSON equality)."""
    items = checks.array(env.name, args[0], "the first argument")
    wanted = values.json_key(args[1])
    return any(values.json_key(item) == wanted for item in items)


def array_range(args: Sequence[Any], env: Env) -> list[int]:
    """States.ArrayRange(first, last, step): first, first+step, ... up to and including `last`."""
    first = checks.rounded(env.name, args[0], "the first argument")
    last = checks.rounded(env.name, args[1], "the second argument")
    step = checks.rounded(env.name, args[2], "the step")
    if step == 0:
        raise checks.failure(env.name, "the step must not be 0")
    if (step > 0 and first > last) or (step < 0 and first < last):
        count = 0
    else:
        count = abs(last - first) // abs(step) + 1
    # Count before building, so a huge range fails without allocating it.
    if count > MAX_RANGE_ITEMS:
        raise checks.failure(
            env.name, f"the range would have {count} items, more than the maximum of {MAX_RANGE_ITEMS}"
        )
    return [first + index * step for index in range(count)]


def array_get_item(args: Sequence[Any], env: Env) -> Any:
    """States.ArrayGetItem(array, index): the item at a 0-based index."""
    items = checks.array(env.name, args[0], "the first argument")
    index = checks.integer(env.name, args[1], "the index")
    if not 0 <= index < len(items):
        raise checks.failure(
            env.name, f"the index {index} is out of bounds for an array of {len(items)} items"
        )
    return items[index]


def array_length(args: Sequence[Any], env: Env) -> int:
    """States.ArrayLength(array): the number of items."""
    return len(checks.array(env.name, args[0], "the argument"))


def array_unique(args: Sequence[Any], env: Env) -> list[Any]:
    """States.ArrayUnique(array): the items without repeats, each kept where it first appears."""
    items = checks.array(env.name, args[0], "the argument")
    seen: set[Any] = set()
    unique = []
    for item in items:
        key = values.json_key(item)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique
