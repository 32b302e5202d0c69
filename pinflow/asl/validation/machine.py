"""The walk over a whole definition: top-level fields, then every `States` block, nested ones included."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pinflow.asl.validation import diagnostics as d
from pinflow.asl.validation import fields, graph, states, values, variables
from pinflow.asl.validation.context import Context, Scope

MAX_STATE_NAME_LENGTH = 80


def check(
    definition: Any, *, express: bool = False, duplicate_keys: Mapping[int, Sequence[str]] | None = None
) -> list[d.Diagnostic]:
    """All diagnostics for a parsed definition.

    Args:
        definition: the parsed definition (any JSON value).
        express: validate for an EXPRESS state machine.
        duplicate_keys: keys repeated in the definition's text, by id() of the parsed object holding them.
    """
    report = d.Report()
    if not isinstance(definition, dict):
        report.schema(None, "Definition must be a valid JSON object")
        return report.diagnostics
    if "QueryLanguage" in definition:
        states.check_query_language(report, d.child(d.ROOT, "QueryLanguage"), definition["QueryLanguage"])
    ctx = Context(report, states.language_of(definition, fields.JSONPATH), express, duplicate_keys or {})
    for name in definition:
        if name not in fields.TOP_LEVEL:
            report.schema(d.ROOT, f"Field '{name}' is not supported")
    for name in ("Comment", "Version"):
        if name in definition:
            values.expect(report, d.child(d.ROOT, name), definition[name], values.STRING)
    if "TimeoutSeconds" in definition:
        values.expect_int(
            report,
            d.child(d.ROOT, "TimeoutSeconds"),
            "TimeoutSeconds",
            definition["TimeoutSeconds"],
            0,
            values.MAX_SECONDS,
        )
    _block(ctx, d.ROOT, definition, None, fields.TOP_LEVEL, False, top=True)
    variables.report_shadowing(ctx)
    variables.report_undefined(ctx)
    return report.diagnostics


def _block(
    ctx: Context,
    location: str,
    container: Any,
    parent: Scope | None,
    allowed: frozenset[str],
    isolated: bool,
    *,
    top: bool = False,
) -> None:
    """Check a block with `StartAt` and `States`: the definition, a Parallel branch or a Map processor."""
    if not values.expect(ctx.report, location, container, values.OBJECT):
        return
    if not top:
        for name in container:
            if name not in allowed:
                ctx.report.schema(location, f"Field '{name}' is not supported")
    missing = [name for name in ("States", "StartAt") if name not in container]
    if missing:
        ctx.report.schema(location, f"These fields are required: [{', '.join(missing)}]")
    start_at = container.get("StartAt")
    if "StartAt" in container:
        values.expect(ctx.report, d.child(location, "StartAt"), start_at, values.STRING)
    if "States" not in container:
        return
    states_location = d.child(location, "States")
    block_states = container["States"]
    if not values.expect(ctx.report, states_location, block_states, values.OBJECT):
        return
    scope = ctx.new_scope(parent, isolated=isolated)
    for name in ctx.duplicate_keys.get(id(block_states), ()):
        ctx.report.error(d.DUPLICATE_STATE, d.child(states_location, name), f"Duplicate State name: {name}")

    def sub_workflow(where: str, value: Any, enclosing: Scope, accepted: frozenset[str], alone: bool) -> None:
        _block(ctx, where, value, enclosing, accepted, alone)

    for name, state in block_states.items():
        state_location = d.child(states_location, name)
        if isinstance(name, str) and len(name) > MAX_STATE_NAME_LENGTH:
            ctx.report.error(
                d.INVALID_STATE_NAME,
                state_location,
                f"State name exceeds the maximum length of {MAX_STATE_NAME_LENGTH} characters: {name}",
            )
        if name in ctx.state_names:
            ctx.report.error(d.DUPLICATE_STATE, state_location, f"Duplicate State name: {name}")
        else:
            ctx.state_names[str(name)] = state_location
        states.check_state(ctx, scope, state_location, state, sub_workflow)
    graph.check_block(ctx, location, block_states, start_at, top=top)
