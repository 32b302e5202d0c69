"""Transitions of one `States` block: targets that exist, a terminal state, every state reachable."""

from __future__ import annotations

from collections import deque
from typing import Any

from pinflow.asl.validation import diagnostics as d
from pinflow.asl.validation.context import Context


def is_terminal(state: Any) -> bool:
    """A Succeed or Fail state, or a state with `"End": true`."""
    return isinstance(state, dict) and (state.get("Type") in ("Succeed", "Fail") or state.get("End") is True)


def targets(location: str, state: Any) -> list[tuple[str, str]]:
    """Every state name `state` may transition to, with the location of the field that names it."""
    if not isinstance(state, dict):
        return []
    found = [(state[name], d.child(location, name)) for name in ("Next", "Default") if name in state]
    for name in ("Choices", "Catch"):
        rules = state.get(name)
        if isinstance(rules, list):
            for i, rule in enumerate(rules):
                if isinstance(rule, dict) and "Next" in rule:
                    found.append((rule["Next"], d.child(d.item(d.child(location, name), i), "Next")))
    return [(target, where) for target, where in found if isinstance(target, str)]


def check_block(ctx: Context, location: str, states: dict[Any, Any], start_at: Any, *, top: bool) -> None:
    """Check the transitions of the block at `location` whose `States` object is `states`.

    AWS reports a dangling target and an unreachable state with the same code, and reports a top-level
    block without a terminal state once, instead of listing what is unreachable from it.
    """
    states_location = d.child(location, "States")
    edges: dict[Any, list[str]] = {}
    for name, state in states.items():
        edges[name] = []
        for target, where in targets(d.child(states_location, name), state):
            if target in states:
                edges[name].append(target)
            else:
                ctx.report.error(d.MISSING_TARGET, where, f"Missing 'Next' target: {target}")
    if isinstance(start_at, str) and start_at not in states:
        ctx.report.error(d.MISSING_TARGET, d.child(location, "StartAt"), f"Missing 'Next' target: {start_at}")
    if top and not any(is_terminal(state) for state in states.values()):
        ctx.report.error(d.MISSING_END, None, "Workflow has no terminal state")
        return
    if not isinstance(start_at, str) or start_at not in states:
        return
    reached = {start_at}
    pending = deque([start_at])
    while pending:
        for target in edges[pending.popleft()]:
            if target not in reached:
                reached.add(target)
                pending.append(target)
    for name in states:
        if name not in reached:
            ctx.report.error(
                d.MISSING_TARGET, d.child(states_location, name), f'State "{name}" is not reachable.'
            )
