"""`Retry` and `Catch` of Task, Parallel and Map states."""

from __future__ import annotations

from typing import Any

from pinflow.asl.validation import diagnostics as d
from pinflow.asl.validation import fields, jsonata_rules, payloads, values, variables
from pinflow.asl.validation.context import Context, Scope

ALL = "States.ALL"
MAX_DELAY_SECONDS = 31_622_400
JITTER_STRATEGIES = ("FULL", "NONE")


def _error_equals(ctx: Context, location: str, handler: dict[Any, Any]) -> bool:
    """Check ErrorEquals; return whether it names States.ALL."""
    if "ErrorEquals" not in handler:
        ctx.report.schema(location, "These fields are required: [ErrorEquals]")
        return False
    names_location = d.child(location, "ErrorEquals")
    names = handler["ErrorEquals"]
    if not values.expect(ctx.report, names_location, names, values.ARRAY):
        return False
    if not names:
        ctx.report.schema(names_location, "The field 'ErrorEquals' must contain at least one error name")
    for i, name in enumerate(names):
        values.expect(ctx.report, d.item(names_location, i), name, values.STRING)
    if ALL in names and len(names) > 1:
        ctx.report.schema(
            names_location, f"The error name '{ALL}' must appear alone in the field 'ErrorEquals'"
        )
    return ALL in names


def _handlers(ctx: Context, location: str, handlers: Any, kind: str) -> list[tuple[str, dict[Any, Any]]]:
    """The well-formed handler objects, with their locations; also the rule that States.ALL comes last."""
    if not values.expect(ctx.report, location, handlers, values.ARRAY):
        return []
    found = []
    for i, handler in enumerate(handlers):
        handler_location = d.item(location, i)
        if values.expect(ctx.report, handler_location, handler, values.OBJECT):
            found.append((handler_location, handler))
            if _error_equals(ctx, handler_location, handler) and i != len(handlers) - 1:
                ctx.report.schema(handler_location, f"The {kind} with '{ALL}' must be the last one")
    return found


def check_retry(ctx: Context, location: str, retry: Any) -> None:
    """Check a `Retry` array: each retrier's fields and their ranges."""
    for retrier_location, retrier in _handlers(ctx, location, retry, "Retrier"):
        for name in retrier:
            if name not in fields.RETRIER:
                ctx.report.schema(retrier_location, f"Field '{name}' is not supported")
        ranges = {
            "IntervalSeconds": (1, values.MAX_SECONDS),
            "MaxAttempts": (0, values.MAX_SECONDS),
            "MaxDelaySeconds": (1, MAX_DELAY_SECONDS),
        }
        for name, (low, high) in ranges.items():
            if name in retrier:
                values.expect_int(ctx.report, d.child(retrier_location, name), name, retrier[name], low, high)
        if "BackoffRate" in retrier:
            rate_location = d.child(retrier_location, "BackoffRate")
            rate = retrier["BackoffRate"]
            if values.expect(ctx.report, rate_location, rate, values.NUMBER) and rate < 1.0:
                ctx.report.schema(
                    rate_location, "The field 'BackoffRate' must be greater than or equal to 1.0"
                )
        if "JitterStrategy" in retrier and retrier["JitterStrategy"] not in JITTER_STRATEGIES:
            ctx.report.schema(
                d.child(retrier_location, "JitterStrategy"),
                "The field 'JitterStrategy' should have one of these values: [FULL, NONE]",
            )
        if "Comment" in retrier:
            values.expect(ctx.report, d.child(retrier_location, "Comment"), retrier["Comment"], values.STRING)


def check_catch(ctx: Context, scope: Scope, location: str, catch: Any, language: str) -> None:
    """Check a `Catch` array: each catcher's fields, its Next, and where `$states.errorOutput` is read."""
    for catcher_location, catcher in _handlers(ctx, location, catch, "Catcher"):
        allowed = fields.CATCHER[language]
        other_only = fields.CATCHER[fields.other(language)] - allowed
        for _name, message in fields.unsupported(tuple(catcher), allowed, other_only, language):
            ctx.report.schema(catcher_location, message)
        if "Next" not in catcher:
            ctx.report.schema(catcher_location, "These fields are required: [Next]")
        else:
            values.expect(ctx.report, d.child(catcher_location, "Next"), catcher["Next"], values.STRING)
        if "Comment" in catcher:
            values.expect(ctx.report, d.child(catcher_location, "Comment"), catcher["Comment"], values.STRING)
        if language == fields.JSONPATH and "ResultPath" in catcher:
            payloads.check_path(
                ctx,
                scope,
                d.child(catcher_location, "ResultPath"),
                "ResultPath",
                catcher["ResultPath"],
                reference=True,
                nullable=True,
                variables=False,
                context_object=False,
            )
        if language == fields.JSONATA and "Output" in catcher:
            jsonata_rules.check_expressions(
                ctx, scope, d.child(catcher_location, "Output"), catcher["Output"], error_output=True
            )
        if "Assign" in catcher:
            variables.check_assign(
                ctx,
                scope,
                d.child(catcher_location, "Assign"),
                catcher["Assign"],
                language,
                error_output=True,
            )
