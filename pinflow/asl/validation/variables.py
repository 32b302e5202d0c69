"""Workflow variables: `Assign` blocks, variable names, and references to variables that no state sets."""

from __future__ import annotations

from typing import Any

from pinflow.asl.validation import diagnostics as d
from pinflow.asl.validation import fields, jsonata_rules, payloads, values
from pinflow.asl.validation.context import Context, Scope

MAX_NAME_LENGTH = 80


def valid_name(name: str) -> bool:
    """A variable name: a Unicode identifier (UAX #31) of at most 80 characters, other than `states`."""
    # Python's identifiers follow UAX #31 (and also accept a leading underscore, which AWS's examples use).
    return name.isidentifier() and len(name) <= MAX_NAME_LENGTH and name != "states"


def check_assign(
    ctx: Context,
    scope: Scope,
    location: str,
    assign: Any,
    language: str,
    *,
    result: bool = False,
    error_output: bool = False,
) -> None:
    """Check an `Assign` object and record the names it sets in `scope`.

    Args:
        result: whether `$states.result` may be read (the top-level Assign of Task, Map and Parallel).
        error_output: whether `$states.errorOutput` may be read (a catcher's Assign).
    """
    if not values.expect(ctx.report, location, assign, values.OBJECT):
        return
    for key, value in assign.items():
        name = str(key)
        dynamic = language == fields.JSONPATH and name.endswith(".$")
        if dynamic:
            name = name[:-2]
        if not valid_name(name):
            ctx.report.schema(
                d.child(location, key),
                f"The variable name '{name}' is not valid: a variable name "
                "must be an identifier of at most 80 characters, "
                "and not 'states'",
            )
            continue
        scope.assigned.add(name)
        scope.assignments.append((name, d.child(location, key)))
        if language == fields.JSONATA:
            jsonata_rules.check_expressions(
                ctx, scope, d.child(location, key), value, result=result, error_output=error_output
            )
        elif dynamic:
            payloads.check_path(ctx, scope, location, str(key), value, intrinsic=True)
        else:
            payloads.check_template(ctx, scope, d.child(location, key), value)


def report_shadowing(ctx: Context) -> None:
    """An inner scope (a Parallel branch, an inline Map iteration) may read the variables of the
    scopes around it but may not assign a name one of them assigns."""
    for scope in ctx.scopes:
        for name, location in scope.assignments:
            if scope.outer_assigns(name):
                ctx.report.schema(
                    location,
                    f"The variable '{name}' is assigned in an outer scope: a nested scope can read it "
                    "but cannot assign it",
                )


def report_undefined(ctx: Context) -> None:
    """Warn about every variable read that no `Assign` in a visible scope can ever have set.

    AWS accepts such a definition (the read fails at run time), so this is a warning.
    """
    for scope in ctx.scopes:
        for name, location in scope.references:
            if not scope.visible(name):
                ctx.report.warning(
                    d.UNDEFINED_VARIABLE,
                    location,
                    f"The variable '{name}' is never assigned in this scope or an outer scope it can read",
                )
