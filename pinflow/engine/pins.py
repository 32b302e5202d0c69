"""What an execution is pinned to: the things its definition names, resolved once, at start.

Rules (see docs/pinning.md), asked of each integration's references:
- a numbered version (`hello:3`, `stateMachine:child:2`) is itself pinned: the execution holds it;
- a function alias (`hello:live`) is resolved once, when the execution starts, and the execution calls
  that version to its end (AWS resolves per call, so an alias does not pin there);
- an unqualified name or `$LATEST` is live, exactly as on AWS: each call runs what is current then;
  a child state machine named by an alias or unqualified is resolved when the child starts.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pinflow.asl.definition import Definition
from pinflow.engine.integrations import aws_lambda, aws_service, table
from pinflow.engine.integrations.base import Reference


def references(definition: Definition) -> list[Reference]:
    """Every reference a definition names statically, worked out once per definition."""
    key = ("", "references")
    found: list[Reference] | None = definition.cache.get(key)
    if found is None:
        found = definition.cache[key] = table.references(definition.raw)
    return found


def pinned(aliases: dict[str, str] | None = None, refs: Iterable[str] = (),
           policies: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The pins in the shape they are stored in (an execution's JSON) and read by the engine and the
    integrations: function alias ARNs to the versions they resolved to, the references held, the role's
    policies at start (None: a role pinflow does not know). With no arguments, pins that hold nothing
    (what TestState runs with)."""
    return {"aliases": dict(aliases or {}), "refs": sorted(refs),
            "policies": None if policies is None else list(policies)}


def draws(definition: Definition) -> bool:
    """Whether pinning draws at random: a function alias it names may route by weight."""
    return any(reference.kind == aws_lambda.KIND and reference.level == "alias" for reference in references(definition))


def copied(pins: dict[str, Any]) -> dict[str, Any]:
    """Pins of their own for one execution, from pins kept for several: its own top level, aliases and
    references (the policies' documents are shared and never changed)."""
    own = dict(pins)
    own["aliases"] = dict(pins["aliases"])
    own["refs"] = list(pins["refs"])
    return own


def pin(definition: Definition, registry: Any, role_arn: str, rng: random.Random) -> dict[str, Any]:
    """What an execution holds on to: versions it names, alias targets, its role's policies."""
    aliases: dict[str, str] = {}
    refs: set[str] = set()
    for reference in references(definition):
        if reference.kind == aws_lambda.KIND:
            if reference.level == "alias" and reference.arn in aliases:
                continue
            held, resolved = aws_lambda.holds(registry, reference, rng)
            refs |= held
            aliases.update(resolved)
        elif reference.kind != aws_service.RESOURCE_KIND and reference.level == "version":
            refs.add(reference.arn)
    # A role Step Functions may not assume grants nothing, not even to what the execution is pinned to.
    # The role read once: its grants and its documents at one moment.
    snapshot = registry.roles.snapshot(role_arn)
    policies = None if snapshot is None else snapshot.documents if snapshot.grants.assumable else ()
    pins = pinned(aliases, refs, policies)
    resources = aws_service.holds(references(definition))
    if resources:
        pins["resources"] = resources
    return pins
