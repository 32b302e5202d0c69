"""The table of the 18 `States.*` functions: every name, arity and implementation lives here and only here."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from pinflow.asl.intrinsics import arrays, encoding, generic, jsondata, math, strings
from pinflow.asl.intrinsics.nodes import Env

Implementation = Callable[[Sequence[Any], Env], Any]


@dataclass(frozen=True, slots=True)
class Function:
    """One function: how many arguments it takes (`max_args=None`: no upper bound) and what it does."""

    implementation: Implementation
    min_args: int
    max_args: int | None

    def accepts(self, count: int) -> bool:
        """Whether the function can be called with `count` arguments."""
        return self.min_args <= count and (self.max_args is None or count <= self.max_args)

    def arity_text(self) -> str:
        """The accepted argument count in words, for error messages."""
        if self.max_args is None:
            return f"at least {self.min_args}"
        if self.max_args == self.min_args:
            return str(self.min_args)
        return f"{self.min_args} to {self.max_args}"


FUNCTIONS: Mapping[str, Function] = MappingProxyType(
    {
        "States.Format": Function(strings.format_, 1, None),
        "States.StringToJson": Function(jsondata.string_to_json, 1, 1),
        "States.JsonToString": Function(jsondata.json_to_string, 1, 1),
        "States.Array": Function(arrays.array, 0, None),
        "States.ArrayPartition": Function(arrays.array_partition, 2, 2),
        "States.ArrayContains": Function(arrays.array_contains, 2, 2),
        "States.ArrayRange": Function(arrays.array_range, 3, 3),
        "States.ArrayGetItem": Function(arrays.array_get_item, 2, 2),
        "States.ArrayLength": Function(arrays.array_length, 1, 1),
        "States.ArrayUnique": Function(arrays.array_unique, 1, 1),
        "States.Base64Encode": Function(encoding.base64_encode, 1, 1),
        "States.Base64Decode": Function(encoding.base64_decode, 1, 1),
        "States.Hash": Function(encoding.hash_, 2, 2),
        "States.JsonMerge": Function(jsondata.json_merge, 3, 3),
        "States.MathRandom": Function(math.math_random, 2, 3),
        "States.MathAdd": Function(math.math_add, 2, 2),
        "States.StringSplit": Function(strings.string_split, 2, 2),
        "States.UUID": Function(generic.uuid_, 0, 0),
    }
)
