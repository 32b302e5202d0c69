"""JSONPath-side checks: paths, reference paths, intrinsic functions and payload templates (`.$` keys)."""

from __future__ import annotations

import re
from typing import Any

from pinflow.asl import intrinsics, paths
from pinflow.asl.validation import diagnostics as d
from pinflow.asl.validation.context import Context, Scope

# A variable in a path or an intrinsic argument: `$name`, never `$.x` or `$$`.
_VARIABLE = re.compile(r"\$([^\W\d]\w*)")
# Quoted strings inside an intrinsic function call, where `$name` is text and not a variable.
_QUOTED = re.compile(r"'(?:\\.|[^'\\])*'", re.DOTALL)


def _compile(text: str, reference: bool) -> tuple[bool, str | None]:
    """Whether `text` is a valid path, and the variable it starts from (None for `$` and `$$`)."""
    try:
        path = paths.compile_path(text, reference=reference)
    except paths.PathSyntaxError:
        return False, None
    return True, (path.root if path.root not in ("$", "$$") else None)


def looks_like_intrinsic(text: str) -> bool:
    """Whether `text` is meant as an intrinsic function call (`States.Name(...)`)."""
    return bool(intrinsics.looks_like_intrinsic(text))


def _intrinsic_ok(text: str) -> bool:
    try:
        intrinsics.parse(text)
    except intrinsics.IntrinsicSyntaxError:
        return False
    return True


def _intrinsic_variables(text: str) -> list[str]:
    return _VARIABLE.findall(_QUOTED.sub("''", text))


def check_path(
    ctx: Context,
    scope: Scope,
    location: str,
    name: str,
    value: Any,
    *,
    reference: bool = False,
    nullable: bool = False,
    intrinsic: bool = False,
    variables: bool = True,
    context_object: bool = True,
) -> bool:
    """Check a field whose value is a path (and, with `intrinsic`, may be an intrinsic function call).

    Returns whether the value is acceptable; a variable it reads is recorded in `scope`.
    """
    if value is None and nullable:
        return True
    if isinstance(value, str):
        if intrinsic and not value.startswith("$") and looks_like_intrinsic(value):
            if _intrinsic_ok(value):
                scope.references.extend((v, location) for v in _intrinsic_variables(value))
                return True
        else:
            ok, variable = _compile(value, reference)
            if ok and (context_object or not value.startswith("$$")) and (variables or variable is None):
                if variable is not None:
                    scope.references.append((variable, location))
                return True
    kind = "a valid ReferencePath" if reference else "a valid JSONPath"
    if intrinsic:
        kind += " or a valid intrinsic function call"
    ctx.report.schema(location, f"The value for the field '{name}' must be {kind}")
    return False


def check_template(ctx: Context, scope: Scope, location: str, value: Any) -> None:
    """Check a payload template: every key ending in `.$` must hold a path or an intrinsic function call.

    AWS reports a bad value at the object that holds the key; a plain key whose string value looks
    like a path or an intrinsic gets a NO_DOLLAR warning (it will be passed on as text).
    """
    if isinstance(value, list):
        for i, element in enumerate(value):
            check_template(ctx, scope, d.item(location, i), element)
        return
    if not isinstance(value, dict):
        return
    for key, element in value.items():
        if isinstance(key, str) and key.endswith(".$"):
            check_path(ctx, scope, location, key, element, intrinsic=True)
            continue
        if isinstance(element, str) and (
            element.startswith("$.") or element.startswith("$$.") or looks_like_intrinsic(element)
        ):
            ctx.report.warning(
                d.NO_DOLLAR,
                d.child(location, key),
                f"The value of the field '{key}' looks like a JSONPath or an intrinsic function "
                "call, but the field name does not end with '.$'",
            )
        check_template(ctx, scope, d.child(location, key), element)


def find_dynamic_key(value: Any, location: str) -> str | None:
    """The location of the first key ending in `.$` inside `value`, if any."""
    if isinstance(value, list):
        for i, element in enumerate(value):
            found = find_dynamic_key(element, d.item(location, i))
            if found:
                return found
    elif isinstance(value, dict):
        for key, element in value.items():
            if isinstance(key, str) and key.endswith(".$"):
                return d.child(location, key)
            found = find_dynamic_key(element, d.child(location, key))
            if found:
                return found
    return None
