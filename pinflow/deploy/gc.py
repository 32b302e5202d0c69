"""`pinflow gc`: delete the function versions and state machine versions nothing needs any more.

A state machine version is kept while an alias routes to it, while it holds the machine's current
definition, while a running execution runs on it, or while a kept definition (a machine's current one,
a kept version's, a running execution's) starts it as a child. A function version is kept while it is its
function's newest (what the next deploy compares with), while an alias routes to it, while a kept
definition names it (a machine's current one or a kept version's), or while a running execution
calls it. The server refuses to delete a version a running execution holds (an alias a running
execution resolved at start, say, which no listing shows): such a refusal is reported as a skip,
with the server's reason.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pinflow import arns
from pinflow.deploy import clients, observe, plan, rewrite

FUNCTION_VERSION = "function version"
MACHINE_VERSION = "state machine version"


@dataclass(frozen=True)
class FunctionInventory:
    name: str
    versions: tuple[int, ...]
    aliases: Mapping[str, frozenset[int]] = field(default_factory=dict)  # alias name -> versions it routes to


@dataclass(frozen=True)
class MachineInventory:
    name: str
    arn: str
    definition: dict[str, Any]
    revision_id: str | None
    # version -> (its revision, its definition)
    versions: Mapping[int, tuple[str | None, dict[str, Any]]] = field(default_factory=dict)
    aliases: Mapping[str, frozenset[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Candidate:
    """A version, and why it is kept (no reasons: it can go)."""

    kind: str
    arn: str
    reasons: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.arn.split(":function:" if self.kind == FUNCTION_VERSION else ":stateMachine:", 1)[-1]


@dataclass
class Decision:
    keep: list[Candidate] = field(default_factory=list)
    delete: list[Candidate] = field(default_factory=list)


def decide(functions: Sequence[FunctionInventory], machines: Sequence[MachineInventory],
           running: Sequence[plan.RunningExecution]) -> Decision:
    """Which versions to keep (with reasons) and which to delete; machine versions come first."""
    decision = Decision()
    needed: dict[tuple[str, int], list[str]] = {}
    children: dict[tuple[str, int], list[str]] = {}  # state machine versions a kept definition starts

    def need(definition: dict[str, Any], why: str) -> None:
        for slot in rewrite.slots(definition, None):
            qualifier = slot.qualifier
            if qualifier is None or not qualifier.isdigit():
                continue
            if slot.kind == rewrite.FUNCTION:
                needed.setdefault((slot.name, int(qualifier)), []).append(why)
            elif slot.kind == rewrite.MACHINE:
                children.setdefault((slot.name, int(qualifier)), []).append(why)

    for execution in running:
        need(execution.definition, f"running execution {execution.name}")
        for alias_arn, version in execution.alias_versions.items():
            ref = arns.split_function(alias_arn)
            if ref is not None and version.isdigit():
                needed.setdefault((ref.name, int(version)), []).append(
                    f"running execution {execution.name} (alias {ref.qualifier} resolved at start)")
    for machine in machines:
        need(machine.definition, f"current definition of {machine.name}")
    # A kept version's definition may start a version of another machine, which is then kept too, and
    # so on down a chain of children: decide until nothing more is kept.
    kept: dict[str, tuple[str, ...]] = {}
    grown = True
    while grown:
        grown = False
        for machine in machines:
            for number, (revision, definition) in sorted(machine.versions.items()):
                arn = f"{machine.arn}:{number}"
                reasons = [f"alias {alias}" for alias, routed in sorted(machine.aliases.items())
                           if number in routed]
                if revision == machine.revision_id:
                    reasons.append("current definition")
                reasons.extend(f"running execution {execution.name}" for execution in running
                               if execution.version_arn == arn)
                reasons.extend(f"started by {why}" for why in children.get((machine.name, number), []))
                if reasons and arn not in kept:
                    kept[arn] = tuple(dict.fromkeys(reasons))
                    need(definition, f"{machine.name} version {number}")
                    grown = True
                elif reasons:
                    kept[arn] = tuple(dict.fromkeys(reasons))
    for machine in machines:
        for number in sorted(machine.versions):
            arn = f"{machine.arn}:{number}"
            if arn in kept:
                decision.keep.append(Candidate(MACHINE_VERSION, arn, kept[arn]))
            else:
                decision.delete.append(Candidate(MACHINE_VERSION, arn))
    for function in functions:
        newest = max(function.versions, default=None)
        for number in function.versions:
            reasons = ["newest version"] if number == newest else []
            reasons.extend(f"alias {alias}" for alias, routed in sorted(function.aliases.items())
                           if number in routed)
            reasons.extend(needed.get((function.name, number), []))
            candidate = Candidate(FUNCTION_VERSION, arns.function(function.name, str(number)),
                                  tuple(dict.fromkeys(reasons)))
            (decision.keep if reasons else decision.delete).append(candidate)
    return decision


def inventory(cl: clients.Clients) -> tuple[list[FunctionInventory], list[MachineInventory],
                                            list[plan.RunningExecution]]:
    """Everything gc decides on, read through the API."""
    functions = []
    for listed in clients.functions(cl.lam):
        name = listed["FunctionName"]
        numbers = tuple(int(item["Version"]) for item in clients.function_versions(cl.lam, name))
        routed = {alias["Name"]: _routed(alias) for alias in clients.function_aliases(cl.lam, name)}
        functions.append(FunctionInventory(name, numbers, routed))
    machines = []
    listed_machines = clients.state_machines(cl.sfn)
    for listed in listed_machines:
        arn = listed["stateMachineArn"]
        current = cl.sfn.describe_state_machine(stateMachineArn=arn)
        versions: dict[int, tuple[str | None, dict[str, Any]]] = {}
        for number in clients.machine_versions(cl.sfn, arn):
            described = cl.sfn.describe_state_machine(stateMachineArn=f"{arn}:{number}")
            versions[number] = (described.get("revisionId"), json.loads(described["definition"]))
        aliases = {alias["name"]: frozenset(int(route["stateMachineVersionArn"].rsplit(":", 1)[1])
                                            for route in alias.get("routingConfiguration", []))
                   for alias in clients.machine_aliases(cl.sfn, arn)}
        machines.append(MachineInventory(listed["name"], arn, json.loads(current["definition"]),
                                         current.get("revisionId"), versions, aliases))
    return functions, machines, observe.running_executions(cl.sfn, listed_machines)


def _routed(alias: dict[str, Any]) -> frozenset[int]:
    """The versions a function alias routes to: its own and its additional one."""
    extra = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return frozenset(int(v) for v in (alias["FunctionVersion"], *extra) if str(v).isdigit())


@dataclass
class Result:
    deleted: list[Candidate] = field(default_factory=list)
    skipped: list[tuple[Candidate, str]] = field(default_factory=list)


def collect(cl: clients.Clients, console: Console, *, dry_run: bool = False) -> Result:
    """Decide, print the decision, and (unless `dry_run`) delete."""
    decision = decide(*inventory(cl))
    result = Result()
    for candidate in decision.delete:
        if dry_run:
            continue
        try:
            if candidate.kind == MACHINE_VERSION:
                cl.sfn.delete_state_machine_version(stateMachineVersionArn=candidate.arn)
            else:
                name, _, version = candidate.arn.rpartition(":")
                cl.lam.delete_function(FunctionName=name, Qualifier=version)
        except Exception as exc:
            if clients.error_code(exc) not in ("ConflictException", "ResourceConflictException"):
                raise
            result.skipped.append((candidate, clients.error_message(exc)))
            continue
        result.deleted.append(candidate)
    console.print(_table(decision, result, dry_run))
    verb = "would delete" if dry_run else "deleted"
    count = len(decision.delete) if dry_run else len(result.deleted)
    skips = f", skipped {len(result.skipped)}" if result.skipped else ""
    console.print(Text(f"gc {verb} {count} version(s), kept {len(decision.keep)}{skips}."))
    return result


def _table(decision: Decision, result: Result, dry_run: bool) -> Table:
    skipped = {candidate.arn: why for candidate, why in result.skipped}
    table = Table(title="Versions", title_justify="left", header_style="bold")
    for column in ("version", "kind", "action", "why"):
        table.add_column(column, overflow="fold")
    for candidate in decision.delete:
        if candidate.arn in skipped:
            table.add_row(Text(candidate.label), candidate.kind, Text("skipped", style="yellow"),
                          Text(skipped[candidate.arn]))
        else:
            action = "would delete" if dry_run else "deleted"
            table.add_row(Text(candidate.label), candidate.kind, Text(action, style="red"),
                          "nothing references it")
    for candidate in decision.keep:
        table.add_row(Text(candidate.label), candidate.kind, Text("kept", style="green"),
                      Text("; ".join(candidate.reasons)))
    return table
