"""What the checks share while they walk one definition: the report, the machine's settings, the scopes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pinflow.asl.validation import diagnostics as d


@dataclass
class Scope:
    """The variable scope of one `States` block (the top level, a Parallel branch or a Map's processor).

    `isolated` marks a Distributed Map's processor, which cannot read the variables of outer scopes.
    """

    parent: Scope | None = None
    isolated: bool = False
    assigned: set[str] = field(default_factory=set)
    assignments: list[tuple[str, str]] = field(default_factory=list)  # (variable name, location)
    references: list[tuple[str, str]] = field(default_factory=list)  # (variable name, location)

    def outer_assigns(self, name: str) -> bool:
        """Whether an enclosing scope this one can read assigns `name`."""
        scope = self
        while not scope.isolated and scope.parent is not None:
            scope = scope.parent
            if name in scope.assigned:
                return True
        return False

    def visible(self, name: str) -> bool:
        """Whether `name` is assigned in this scope or in an outer scope this one can read."""
        scope: Scope | None = self
        while scope is not None:
            if name in scope.assigned:
                return True
            if scope.isolated:
                return False
            scope = scope.parent
        return False


@dataclass
class Context:
    """The state of one validation run."""

    report: d.Report
    machine_language: str
    express: bool = False
    # id() of a parsed JSON object -> the keys that appeared more than once in its text (see source.py).
    duplicate_keys: Mapping[int, Sequence[str]] = field(default_factory=dict)
    state_names: dict[str, str] = field(default_factory=dict)  # every state name -> where it is defined
    labels: dict[str, str] = field(default_factory=dict)  # every Map Label -> where it is defined
    scopes: list[Scope] = field(default_factory=list)

    def new_scope(self, parent: Scope | None, *, isolated: bool = False) -> Scope:
        """Open the scope of a `States` block."""
        scope = Scope(parent, isolated)
        self.scopes.append(scope)
        return scope
