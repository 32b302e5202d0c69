"""The deploy plan computed from given data: what changes, and what it does to running executions.

For functions, the comparison is with the newest published version (a new version is published only
when code or configuration differ) and with `$LATEST` (what unqualified references run). A version
the deploy publishes is named `NEXT_VERSION`, not given a number: the server picks the number, and
numbers of deleted versions are never used again. For every RUNNING execution, each function its
pinned definition names is classified as pinflow runs it (see docs/pinning.md): a numbered version is
pinned; an alias was resolved once, at start, so it is pinned too, unless it resolved to `$LATEST`,
which is live; an unqualified name or `$LATEST` is live, and a deploy that changes that function
changes the code under the execution. A Task that computes its function at run time is live too, and
any function the deploy changes may be the one it calls. A role statement the deploy removes matters
to a live reference the role no longer allows; pinned references keep the permissions the execution
started with.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pinflow.deploy import rewrite, roles

V = TypeVar("V", int, str)

# The version a deploy publishes, in place of a number only the server can give it.
NEXT_VERSION = "$NEXT"

# What a published version snapshots and deploy compares, with the word the plan uses for each.
COMPARED = {"CodeSha256": "code", "Handler": "handler", "Runtime": "runtime", "Timeout": "timeout",
            "MemorySize": "memory", "Environment": "environment", "Role": "role", "Layers": "layers"}


def comparable(configuration: Mapping[str, Any]) -> dict[str, Any]:
    """The compared part of a Lambda `FunctionConfiguration`."""
    environment = (configuration.get("Environment") or {}).get("Variables") or {}
    return {"CodeSha256": configuration.get("CodeSha256"), "Handler": configuration.get("Handler"),
            "Runtime": configuration.get("Runtime"), "Timeout": configuration.get("Timeout"),
            "MemorySize": configuration.get("MemorySize"), "Environment": dict(environment),
            "Role": configuration.get("Role"), "Layers": [layer["Arn"] for layer in configuration.get("Layers") or []]}


def version_label(version: int | str) -> str:
    """How the plan names a version: "version 4", or "next version" for the one a deploy publishes."""
    return "next version" if version == NEXT_VERSION else f"version {version}"


def differences(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> tuple[str, ...]:
    """The words for what differs between two comparable configurations (all of them for no old one)."""
    if old is None:
        return ("new",)
    return tuple(word for key, word in COMPARED.items() if _compared(old, key) != _compared(new, key))


def _compared(configuration: Mapping[str, Any], key: str) -> Any:
    # No layers is no layers, whether the key is there or not.
    return list(configuration.get(key) or []) if key == "Layers" else configuration.get(key)


# --- functions -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionOnServer:
    """A function as the server has it; `latest` is None when it does not exist."""

    name: str
    latest: dict[str, Any] | None = None
    newest_version: int | None = None
    newest: dict[str, Any] | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FunctionChange:
    """What a deploy does to one function."""

    key: str
    name: str
    exists: bool
    old_version: int | None
    new_version: int | str  # the version the deploy leaves newest; NEXT_VERSION when it publishes one
    reasons: tuple[str, ...]  # what differs from the newest published version
    latest_reasons: tuple[str, ...]  # what differs from $LATEST: what unqualified references see change
    runtime: str = ""  # the declared runtime, and what runs it on the server ("Node.js v20.11.1")
    runs_on: str = ""
    layers: tuple[str, ...] = ()  # the layer versions the deploy leaves it with (ARNs)
    tags_changed: bool = False  # an existing function's tags differ from the project's (no new version)

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
    new: int | str = NEXT_VERSION if reasons or old is None else old
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
    tags: dict[str, str] = field(default_factory=dict)


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
    new_version: int | str  # NEXT_VERSION when the deploy publishes one
    alias: str | None = None
    alias_old: tuple[tuple[int, int], ...] | None = None
    alias_new: tuple[tuple[int | str, int], ...] | None = None
    pinned: tuple[str, ...] = ()  # "State: reference -> exact version", for each rewrite
    live: tuple[str, ...] = ()  # "State: reference", for each reference left live
    computed: tuple[str, ...] = ()  # "State: field expression", for each function named at run time
    tags_changed: bool = False  # an existing machine's tags differ from the project's (no new version)

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
    computed = tuple(f"{task.state}: {task.describe()}" for task in rewrite.computed(definition))
    if server is None:
        diff = "".join(difflib.unified_diff([], new_text.splitlines(keepends=True), "(none)", name))
        routes: tuple[tuple[int | str, int], ...] | None = ((NEXT_VERSION, 100),) if alias is not None else None
        return MachineChange(key, name, False, True, None, role_arn, diff, None, NEXT_VERSION,
                             alias.name if alias is not None else None, None, routes, computed=computed)
    old_text = _pretty_text(server.definition)
    try:
        same = json.loads(server.definition) == definition
    except ValueError:
        same = False
    diff = "" if same else "".join(difflib.unified_diff(
        old_text.splitlines(keepends=True), new_text.splitlines(keepends=True),
        f"{name} (deployed)", f"{name} (new)"))
    updates = not same or server.role_arn != role_arn
    version: int | str = NEXT_VERSION
    alias_new: tuple[tuple[int | str, int], ...] | None = None
    if not updates and server.current_version is not None:
        version = server.current_version
        if alias is not None:
            alias_new = alias_routes(server.current_version, server.alias_routes, alias.weight)
    elif alias is not None:
        alias_new = alias_routes(NEXT_VERSION, server.alias_routes, alias.weight)
    return MachineChange(key, name, True, not same, server.role_arn, role_arn, diff, server.current_version,
                         version, alias.name if alias is not None else None, server.alias_routes, alias_new,
                         computed=computed)


def alias_routes(version: V, old: tuple[tuple[int, int], ...] | None, weight: int
                 ) -> tuple[tuple[V | int, int], ...]:
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


# What a Call's kind means: how the execution reaches the function's code.
VERSION, ALIAS, LATEST, COMPUTED = "version", "alias", "latest", "computed"


@dataclass(frozen=True)
class Call:
    """A function a running execution will still call, and what this deploy does to it."""

    state: str
    function: str  # empty for a function computed at run time
    written: str
    kind: str  # VERSION, ALIAS, LATEST or COMPUTED
    version: str | None = None  # the version it calls when known; "$LATEST" for an alias on $LATEST
    new_code: tuple[str, ...] = ()  # what this deploy changes under a live reference
    loses_permission: bool = False
    kept_by_pin: bool = False  # the new role would deny it, but the execution's start-time grant holds
    target: str = rewrite.FUNCTION  # what is called: a function, or a child state machine

    @property
    def live(self) -> bool:
        """Whether each call runs the code current then: unqualified, `$LATEST`, computed at run time,
        or an alias that resolved to `$LATEST` at start (or whose target the plan could not learn). A
        child state machine named by an alias is live: the alias is drawn when the child starts."""
        if self.kind == ALIAS and self.target == rewrite.MACHINE:
            return True
        if self.kind == ALIAS:
            return self.version is None or self.version == "$LATEST"
        return self.kind in (LATEST, COMPUTED)

    def describe(self) -> str:
        if self.target == rewrite.MACHINE:
            return self._describe_child()
        if self.kind == VERSION:
            return f"{self.function}:{self.version} (pinned)"
        if self.kind == ALIAS:
            alias = self.written.rsplit(":", 1)[-1]
            if self.version is None:
                return f"{self.function}:{alias} (alias, target unknown: counted live)"
            if self.version == "$LATEST":
                return f"{self.function}:{alias} -> $LATEST (alias on $LATEST: live, runs whatever code is current)"
            return f"{self.function}:{alias} -> version {self.version} (alias, pinned at start)"
        if self.kind == COMPUTED:
            return f"{self.written} (computed at run time: live)"
        shown = "$LATEST" if self.written.endswith(":$LATEST") else "unqualified"
        return f"{self.function} ({shown}: live, runs whatever code is current)"

    def _describe_child(self) -> str:
        if self.kind == VERSION:
            return f"child state machine {self.function}:{self.version} (pinned)"
        if self.kind == ALIAS:
            alias = self.written.rsplit(":", 1)[-1]
            return (f"child state machine {self.function}:{alias} (alias, drawn when the child starts: live, "
                    "runs the version the alias routes to then)")
        if self.kind == COMPUTED:
            return f"child state machine {self.written} (computed at run time: live)"
        return f"child state machine {self.function} (unqualified: live, runs the definition current when it starts)"


@dataclass(frozen=True)
class ExecutionImpact:
    """What a deploy does under one running execution."""

    execution: RunningExecution
    calls: tuple[Call, ...]
    children: tuple[Call, ...] = ()  # the child state machines it will still start

    @property
    def warnings(self) -> list[str]:
        found: list[str] = []
        for call in (*self.calls, *self.children):
            if call.new_code and call.target == rewrite.MACHINE:
                found.append(f"{call.state}: starts child state machine {call.function} live and this deploy "
                             f"changes its {', '.join(call.new_code)}")
            elif call.new_code and call.kind == COMPUTED:
                found.append(f"{call.state}: computes the function it calls at run time, so any function may "
                             f"change under it; this deploy changes {'; '.join(call.new_code)}")
            elif call.new_code:
                found.append(f"{call.state}: calls {call.function} live and this deploy changes its "
                             f"{', '.join(call.new_code)}")
            if call.loses_permission:
                found.append(f"{call.state}: the new role no longer allows invoking {call.written}")
        return found

    @property
    def affected(self) -> bool:
        return bool(self.warnings)


def execution_impact(execution: RunningExecution, functions: Mapping[str, FunctionChange],
                     role_changes: Mapping[str, RoleChange],
                     alias_targets: Mapping[str, str] | None = None,
                     machines: Mapping[str, MachineChange] | None = None) -> ExecutionImpact:
    """Classify each function an execution's pinned definition names, and what the deploy changes under it.

    An alias is classified by the version it resolved to at start: the version the history shows it
    called, else the version it points at now (`alias_targets`, as GetAlias answers), else unknown,
    which counts as live. `$LATEST` is live.

    Args:
        functions: the deploy's function changes by function name.
        role_changes: the deploy's role changes by role ARN.
        alias_targets: alias ARN -> the alias's current FunctionVersion.
        machines: the deploy's state machine changes by name (for the children it starts).
    """
    role = role_changes.get(execution.role_arn)
    targets = alias_targets or {}
    calls: list[Call] = []
    for ref in rewrite.slots(execution.definition):
        kind = _kind(ref)
        version = ref.qualifier if kind == VERSION else None
        if kind == ALIAS:
            version = execution.alias_versions.get(ref.arn) or targets.get(ref.arn)
        change = functions.get(ref.name)
        call = Call(ref.state, ref.name, rewrite.written(ref), kind, version)
        new_code = change.latest_reasons if call.live and change is not None else ()
        loses = kept = False
        if role is not None and role.changed:
            before = _allows(role.old_statements, ref.arn) if role.exists else False
            after = _allows(role.spec.statements, ref.arn)
            if before and not after:
                # Only what the execution was pinned to at start keeps its start-time grant.
                loses, kept = call.live, not call.live
        calls.append(dataclasses.replace(call, new_code=tuple(new_code), loses_permission=loses,
                                         kept_by_pin=kept))
    changed = tuple(f"{change.name}'s {', '.join(change.latest_reasons)}"
                    for change in functions.values() if change.updates_latest)
    for task in rewrite.computed(execution.definition):
        calls.append(Call(task.state, "", task.describe(), COMPUTED, new_code=changed))
    return ExecutionImpact(execution, tuple(calls), tuple(child_calls(execution, machines or {})))


def child_calls(execution: RunningExecution, machines: Mapping[str, MachineChange]) -> list[Call]:
    """The child state machines a running execution will still start: a version it names is pinned; an
    alias or an unqualified ARN is resolved when the child starts, so it is live, and a deploy that
    changes that machine changes what the child runs."""
    calls: list[Call] = []
    for ref in rewrite.slots(execution.definition, rewrite.MACHINE):
        kind = _kind(ref)
        change = machines.get(ref.name)
        call = Call(ref.state, ref.name, ref.text, kind, ref.qualifier if kind == VERSION else None,
                    target=rewrite.MACHINE)
        changes = ("definition",) if call.live and change is not None and change.updates else ()
        calls.append(dataclasses.replace(call, new_code=changes))
    for task in rewrite.computed(execution.definition, rewrite.MACHINE):
        calls.append(Call(task.state, "", task.describe(), COMPUTED, target=rewrite.MACHINE))
    return calls


def aliases_to_resolve(executions: Sequence[RunningExecution]) -> list[str]:
    """The function alias ARNs whose current target the plan needs (GetAlias): those a running
    execution names and has not been seen calling yet."""
    wanted = {slot.arn for execution in executions for slot in rewrite.slots(execution.definition)
              if _kind(slot) == ALIAS and slot.arn not in execution.alias_versions}
    return sorted(wanted)


def _kind(ref: rewrite.Slot) -> str:
    if ref.qualifier is None or ref.qualifier == "$LATEST":
        return LATEST
    return VERSION if ref.qualifier.isdigit() else ALIAS


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
    activities: list[tuple[str, bool]] = field(default_factory=list)  # (name, exists on the server)
    unpinnable: list[str] = field(default_factory=list)  # "machine: State: reference" useExactVersion cannot pin
    # "machine: state: ..." Tasks calling an AWS service the server has neither endpoint nor credentials for
    warnings: list[str] = field(default_factory=list)
    iam_mode: str = "enforced"  # what the server announced: "enforced" or "permissive"
    layers: list[Any] = field(default_factory=list)  # deploy.layers.LayerChange, one per project layer

    @property
    def has_changes(self) -> bool:
        return (any(f.publishes or f.updates_latest or f.tags_changed for f in self.functions)
                or any(layer.publishes for layer in self.layers)
                or any(r.changed for r in self.roles)
                or any(not exists for _, exists in self.activities)
                or any(m.updates or m.publishes or m.moves_alias or m.tags_changed for m in self.machines))

    @property
    def unsafe(self) -> list[ExecutionImpact]:
        """The running executions this deploy changes code or permissions under."""
        return [impact for impact in self.executions if impact.affected]


def impacts(executions: Sequence[RunningExecution], plan: Plan, project_machines: set[str],
            alias_targets: Mapping[str, str] | None = None) -> list[ExecutionImpact]:
    """The impact on each running execution: all of the project's machines', and any other execution
    this deploy touches.

    Args:
        alias_targets: alias ARN -> current FunctionVersion, for the aliases `aliases_to_resolve` names;
            an alias neither seen called nor given here counts as live.
    """
    by_name = {change.name: change for change in plan.functions}
    by_role = {change.spec.arn: change for change in plan.roles}
    by_machine = {change.name: change for change in plan.machines}
    found: list[ExecutionImpact] = []
    for execution in executions:
        impact = execution_impact(execution, by_name, by_role, alias_targets, by_machine)
        if execution.machine in project_machines or impact.affected:
            found.append(impact)
    return found
