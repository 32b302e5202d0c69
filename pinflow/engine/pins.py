"""What an execution is pinned to: the function references its definition names, resolved at start.

Rules (see docs/pinning.md):
- a numbered version (`hello:3`) is itself pinned: the execution holds a reference to it;
- an alias (`hello:live`) is resolved once, when the execution starts, and the execution calls that
  version to its end (AWS resolves per call, so an alias does not pin there);
- an unqualified name or `$LATEST` is live, exactly as on AWS: each call runs the code current then.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pinflow import arns

LAMBDA_INVOKE_PREFIX = "arn:aws:states:::lambda:invoke"


@dataclass(frozen=True, slots=True)
class FunctionReference:
    """A function named in a definition: where, and as what."""

    state: str
    ref: arns.FunctionRef

    @property
    def kind(self) -> str:
        """"version", "alias" or "latest" (unqualified or $LATEST)."""
        qualifier = self.ref.qualifier
        if qualifier is None or qualifier == "$LATEST":
            return "latest"
        return "version" if qualifier.isdigit() else "alias"


def function_references(definition: dict[str, Any]) -> Iterator[FunctionReference]:
    """Every function reference a definition names statically, in every nested block.

    Covers the direct form (`Resource` is a function ARN) and `lambda:invoke` with a constant
    `FunctionName` (and `Qualifier`) in Parameters or Arguments. A FunctionName computed at run
    time (`FunctionName.$` or a JSONata expression) cannot be known here.
    """
    for name, state in _states(definition):
        resource = state.get("Resource")
        if not isinstance(resource, str):
            continue
        if resource.startswith("arn:aws:lambda:"):
            ref = arns.split_function(resource)
            if ref is not None:
                yield FunctionReference(name, ref)
        elif resource.startswith(LAMBDA_INVOKE_PREFIX):
            payload = state.get("Parameters") or state.get("Arguments")
            if isinstance(payload, dict):
                function_name = payload.get("FunctionName")
                qualifier = payload.get("Qualifier")
                if isinstance(function_name, str) and not function_name.startswith("{%"):
                    ref = arns.split_function(function_name, qualifier if isinstance(qualifier, str) else None)
                    if ref is not None:
                        yield FunctionReference(name, ref)


def _states(block: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    states = block.get("States")
    if not isinstance(states, dict):
        return
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        yield name, state
        for branch in state.get("Branches") or ():
            if isinstance(branch, dict):
                yield from _states(branch)
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if isinstance(processor, dict):
            yield from _states(processor)
