"""The deploy plan computed from given data: what changes, and what it does to running executions.

For functions, the comparison is with the newest published version (a new version is published only
when code or configuration differ) and with `$LATEST` (what unqualified references run). For every
RUNNING execution, each function its pinned definition names is classified as pinflow runs it (see
docs/pinning.md): a numbered version is pinned; an alias was resolved once, at start, so it is pinned
too; an unqualified name or `$LATEST` is live, and a deploy that changes that function changes the
code under the execution. A role statement the deploy removes matters to a live reference the role
no longer allows; pinned references keep the permissions the execution started with.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pinflow import arns
from pinflow.deploy import rewrite, roles

# What a published version snapshots and deploy compares, with the word the plan uses for each.
COMPARED = {"CodeSha256": "code", "Handler": "handler", "Runtime": "runtime", "Timeout": "timeout",
            "MemorySize": "memory", "Environment": "environment", "Role": "role"}


def comparable(configuration: Mapping[str, Any]) -> dict[str, Any]:
    """The compared part of a Lambda `FunctionConfiguration`."""
    environment = (configuration.get("Environment") or {}).get("Variables") or {}
    return {"CodeSha256": configuration.get("CodeSha256"), "Handler": configuration.get("Handler"),
            "Runtime": configuration.get("Runtime"), "Timeout": configuration.get("Timeout"),
            "MemorySize": configuration.get("MemorySize"), "Environment": dict(environment),
            "Role": configuration.get("Role")}


def differences(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> tuple[str, ...]:
    """The words for what differs between two comparable configurations (all of them for no old one)."""
    if old is None:
        return ("new",)
    return tuple(word for key, word in COMPARED.items() if old.get(key) != new.get(key))


# --- functions -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionOnServer:
    """A function as the server has it; `latest` is None when it does not exist."""

    name: str
    latest: dict[str, Any] | None = None
    newest_version: int | None = None
    newest: dict[str, Any] | None = None


@dataclass(frozen=True)
class FunctionChange:
    """What a deploy does to one function."""

    key: str
    name: str
    exists: bool
    old_version: int | None
    new_version: int  # the version the deploy leaves newest (predicted when it publishes one)
    reasons: tuple[str, ...]  # what differs from the newest published version
    latest_reasons: tuple[str, ...]  # what differs from $LATEST: what unqualified references see change

    @property
    def publishes(self) -> bool:
        return bool(self.reasons)

    @property
    def updates_latest(self) -> bool:
        return bool(self.latest_reasons)


def function_change(key: str, desired: Mapping[str, Any], server: FunctionOnServer) -> FunctionChange:
    """Compare a function's desired configuration (see `comparable`) with the server's."""
    reasons = differences(server.newest, desired)
    latest_reasons = differences(server.latest, desired)
    old = server.newest_version
    new = (old or 0) + 1 if reasons else old
    assert new is not None
    return FunctionChange(key, server.name, server.latest is not None, old, new, reasons, latest_reasons)


# --- roles ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleChange:
    """A generated role: its statements before and after."""

    spec: roles.RoleSpec
    exists: bool
    old_statements: tuple[dict[str, Any], ...]

    @property
    def added(self) -> list[dict[str, Any]]:
        old = set(roles.normalized(self.old_statements))
        texts = roles.normalized(self.spec.statements)
        return [s for s, text in zip(self.spec.statements, texts, strict=True) if text not in old]

    @property
    def removed(self) -> list[dict[str, Any]]:
        new = set(roles.normalized(self.spec.statements))
        texts = roles.normalized(self.old_statements)
        return [s for s, text in zip(self.old_statements, texts, strict=True) if text not in new]

    @property
    def changed(self) -> bool:
        return not self.exists or sorted(roles.normalized(self.old_statements)) != sorted(
            roles.normalized(self.spec.statements))


# --- state machines ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MachineOnServer:
    """A state machine as the server has it."""

    name: str
    arn: str
    definition: str
    role_arn: str
    revision_id: str | None = None
    versions: tuple[int, ...] = ()
    current_version: int | None = None  # the version of the current revision, if one was published
    alias_routes: tuple[tuple[int, int], ...] | None = None  # (version, weight); None: no such alias


@dataclass(frozen=True)
class MachineChange:
    """What a deploy does to one state machine."""

    key: str
    name: str
    exists: bool
    definition_changed: bool
    old_role: str | None
    new_role: str
    diff: str
    old_version: int | None
    new_version: int  # predicted when the deploy publishes one
    alias: str | None = None
    alias_old: tuple[tuple[int, int], ...] | None = None
    alias_new: tuple[tuple[int, int], ...] | None = None
    pinned: tuple[str, ...] = ()  # "State: reference -> exact version", for each rewrite
    live: tuple[str, ...] = ()  # "State: reference", for each reference left live

    @property
    def role_changed(self) -> bool:
        return self.exists and self.old_role != self.new_role

    @property
    def updates(self) -> bool:
        return not self.exists or self.definition_changed or self.role_changed

    @property
    def publishes(self) -> bool:
        return self.updates or self.old_version is None

    @property
    def moves_alias(self) -> bool:
        return self.alias is not None and self.alias_old != self.alias_new


def pretty(definition: Any) -> str:
    """A definition as deploy writes it, and as diffs show it."""
    return json.dumps(definition, indent=2, ensure_ascii=False)


def _pretty_text(text: str) -> str:
    try:
        return pretty(json.loads(text))
    except ValueError:
        return text


def machine_change(key: str, name: str, definition: dict[str, Any], role_arn: str,
                   server: MachineOnServer | None, alias: Any = None) -> MachineChange:
    """Compare a machine's new definition and role with the server's.

    Args:
        alias: the project's `Alias` (name, weight) or None.
    """
    new_text = pretty(definition)
    if server is None:
        diff = "".join(difflib.unified_diff([], new_text.splitlines(keepends=True), "(none)", name))
        routes = ((1, 100),) if alias is not None else None
        return MachineChange(key, name, False, True, None, role_arn, diff, None, 1,
                             alias.name if alias is not None else None, None, routes)
    old_text = _pretty_text(server.definition)
    try:
        same = json.loads(server.definition) == definition
    except ValueError:
        same = False
    diff = "" if same else "".join(difflib.unified_diff(
        old_text.splitlines(keepends=True), new_text.splitlines(keepends=True),
        f"{name} (deployed)", f"{name} (new)"))
    updates = not same or server.role_arn != role_arn
    if updates or server.current_version is None:
        version = max(server.versions, default=0) + 1
    else:
        version = server.current_version
    alias_new = None
    if alias is not None:
        alias_new = alias_routes(version, server.alias_routes, alias.weight)
    return MachineChange(key, name, True, not same, server.role_arn, role_arn, diff, server.current_version,
                         version, alias.name if alias is not None else None, server.alias_routes, alias_new)


def alias_routes(version: int, old: tuple[tuple[int, int], ...] | None, weight: int
                 ) -> tuple[tuple[int, int], ...]:
    """Where an alias routes after a deploy: `weight`% to `version`, the rest to the version that had
    the most of the alias's traffic before (a canary); all of it at weight 100 or with no such version."""
    if old is None or weight >= 100:
        return ((version, 100),)
    others = sorted((route for route in old if route[0] != version), key=lambda route: (-route[1], -route[0]))
    if not others:
        return ((version, 100),)
    return ((version, weight), (others[0][0], 100 - weight))


# --- running executions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunningExecution:
    """A RUNNING execution, with the definition and role it is pinned to."""

    arn: str
    name: str
    machine: str
    definition: dict[str, Any]
    role_arn: str
    version_arn: str | None = None
    alias_arn: str | None = None
    revision_id: str | None = None
    alias_versions: Mapping[str, str] = field(default_factory=dict)  # alias ARN -> version seen called
    revision_version: int | None = None  # the version holding its revision, when started unversioned

    @property
    def runs_on(self) -> str:
        if self.version_arn:
            via = f" (started through alias {self.alias_arn.rsplit(':', 1)[-1]})" if self.alias_arn else ""
            return f"version {self.version_arn.rsplit(':', 1)[-1]}{via}"
        if self.revision_version is not None:
            return f"version {self.revision_version}'s definition (started unversioned)"
        return "an unpublished revision"


@dataclass(frozen=True)
class Call:
    """A function a running execution will still call, and what this deploy does to it."""

    state: str
    function: str
    written: str
    kind: str  # "version", "alias" or "latest"
    version: str | None = None  # the version it calls, when known
    new_code: tuple[str, ...] = ()  # what this deploy changes under a live reference
    loses_permission: bool = False
    kept_by_pin: bool = False  # the new role would deny it, but the execution's start-time grant holds

    def describe(self) -> str:
        if self.kind == "version":
            return f"{self.function}:{self.version} (pinned)"
        if self.kind == "alias":
            alias = self.written.rsplit(":", 1)[-1]
            resolved = f" -> version {self.version}" if self.version else ""
            return f"{self.function}:{alias}{resolved} (alias, pinned at start)"
        shown = "$LATEST" if self.written.endswith(":$LATEST") else "unqualified"
        return f"{self.function} ({shown}: live, runs whatever code is current)"


@dataclass(frozen=True)
class ExecutionImpact:
    """What a deploy does under one running execution."""

    execution: RunningExecution
    calls: tuple[Call, ...]

    @property
    def warnings(self) -> list[str]:
        found: list[str] = []
        for call in self.calls:
            if call.new_code:
                found.append(f"{call.state}: calls {call.function} live and this deploy changes its "
                             f"{', '.join(call.new_code)}")
            if call.loses_permission:
                found.append(f"{call.state}: the new role no longer allows invoking {call.written}")
        return found

    @property
    def affected(self) -> bool:
        return bool(self.warnings)


def execution_impact(execution: RunningExecution, functions: Mapping[str, FunctionChange],
                     role_changes: Mapping[str, RoleChange]) -> ExecutionImpact:
    """Classify each function an execution's pinned definition names, and what the deploy changes under it.

    Args:
        functions: the deploy's function changes by function name.
        role_changes: the deploy's role changes by role ARN.
    """
    role = role_changes.get(execution.role_arn)
    calls: list[Call] = []
    for slot in rewrite.slots(execution.definition):
        ref = slot.ref
        kind = _kind(ref)
        version = ref.qualifier if kind == "version" else execution.alias_versions.get(ref.arn)
        change = functions.get(ref.name)
        new_code = change.latest_reasons if kind == "latest" and change is not None else ()
        loses = kept = False
        if role is not None and role.changed:
            before = _allows(role.old_statements, ref.arn) if role.exists else False
            after = _allows(role.spec.statements, ref.arn)
            if before and not after:
                if kind == "latest":
                    loses = True
                else:
                    kept = True
        calls.append(Call(slot.state, ref.name, slot.text if slot.qualifier is None else
                          f"{slot.text}:{slot.qualifier}", kind, version, tuple(new_code), loses, kept))
    return ExecutionImpact(execution, tuple(calls))


def _kind(ref: arns.FunctionRef) -> str:
    if ref.qualifier is None or ref.qualifier == "$LATEST":
        return "latest"
    return "version" if ref.qualifier.isdigit() else "alias"


def _allows(statements: Sequence[dict[str, Any]], resource: str) -> bool:
    """Whether statements allow invoking `resource`; a policy that does not parse allows nothing."""
    from pinflow.iam import evaluate, policy

    if not statements:
        return False
    try:
        parsed = policy.policy_from_statements(statements)
    except policy.MalformedPolicyDocument:
        return False
    return evaluate.is_allowed([parsed], roles.INVOKE, resource).allowed


# --- the plan -----------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """Everything a deploy would do, and what it does under running executions."""

    functions: list[FunctionChange] = field(default_factory=list)
    roles: list[RoleChange] = field(default_factory=list)
    machines: list[MachineChange] = field(default_factory=list)
    executions: list[ExecutionImpact] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return (any(f.publishes or f.updates_latest for f in self.functions)
                or any(r.changed for r in self.roles)
                or any(m.updates or m.publishes or m.moves_alias for m in self.machines))

    @property
    def unsafe(self) -> list[ExecutionImpact]:
        """The running executions this deploy changes code or permissions under."""
        return [impact for impact in self.executions if impact.affected]


def impacts(executions: Sequence[RunningExecution], plan: Plan, project_machines: set[str]
            ) -> list[ExecutionImpact]:
    """The impact on each running execution: all of the project's machines', and any other execution
    this deploy touches."""
    by_name = {change.name: change for change in plan.functions}
    by_role = {change.spec.arn: change for change in plan.roles}
    found: list[ExecutionImpact] = []
    for execution in executions:
        impact = execution_impact(execution, by_name, by_role)
        if execution.machine in project_machines or impact.affected:
            found.append(impact)
    return found
