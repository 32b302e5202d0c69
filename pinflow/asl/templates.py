"""JSONPath payload templates: Parameters, ResultSelector, ItemSelector, Assign and friends.

A key ending in `.$` takes the value of its path (`$...`, `$$...`, `$name...`) or intrinsic function,
and loses the suffix; every other value is copied as a literal, whatever it looks like.
"""

from __future__ import annotations

from typing import Any

from pinflow.asl import errors, intrinsics, paths
from pinflow.asl.errors import AslError
from pinflow.asl.scope import Scope


def evaluate(template: Any, scope: Scope) -> Any:
    """The value of a payload template for `scope`.

    Raises:
        AslError: a path selected nothing (States.Runtime) or an intrinsic failed
            (States.IntrinsicFailure).
    """
    if type(template) is dict:
        out: dict[str, Any] = {}
        for key, value in template.items():
            if key.endswith(".$") and isinstance(value, str):
                out[key[:-2]] = evaluate_dynamic(value, scope, key)
            else:
                out[key] = evaluate(value, scope) if type(value) in (dict, list) else value
        return out
    if type(template) is list:
        return [evaluate(item, scope) if type(item) in (dict, list) else item for item in template]
    return template


def evaluate_dynamic(text: str, scope: Scope, field: str) -> Any:
    """The value of one `.$` field: a path, a context path, a variable path or an intrinsic call."""
    if text.startswith("$"):
        try:
            path = paths.compile_path(text)
        except paths.PathSyntaxError as exc:
            raise AslError(errors.RUNTIME, str(exc)) from None
        return scope.resolve(path, field)
    if intrinsics.looks_like_intrinsic(text):
        try:
            call = intrinsics.parse(text)
        except intrinsics.IntrinsicSyntaxError as exc:
            raise AslError(errors.INTRINSIC_FAILURE, str(exc)) from None
        return intrinsics.evaluate(call, lambda p: scope.resolve_text(p, field), scope.rng())
    raise AslError(
        errors.RUNTIME,
        f"The value for the field '{field}' must be a valid JSONPath or a valid intrinsic function call",
    )
