"""The deploy plan as people read it (rich): the changes, then each running execution and its verdict."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from pinflow.deploy import layers, plan
from pinflow.deploy.project import Project


def print_plan(console: Console, the_plan: plan.Plan, project: Project, endpoint: str) -> None:
    """Print the whole plan."""
    console.print(Text.assemble(("Deploy plan", "bold"), f" for {project.service} (stage {project.stage}) "
                                f"from {project.file_label} to {endpoint}"))
    if the_plan.iam_mode == "permissive":
        console.print(Text("IAM: PERMISSIVE. The server runs with --permissive-iam: a state machine role it does "
                           "not have is accepted, and its executions run without IAM checks.", style="bold yellow"))
    else:
        console.print(Text("IAM: enforced (every task invocation is checked against its role's policies).",
                           style="dim"))
    if the_plan.layers:
        console.print(layers.table(the_plan.layers))
    if the_plan.functions:
        console.print(functions_table(the_plan.functions))
    for name, exists in the_plan.activities:
        console.print(Text(f"Activity {name}: " + ("exists" if exists else "created"),
                           style="dim" if exists else "bold"))
    for role in the_plan.roles:
        rendered = role_lines(role)
        if rendered is not None:
            console.print(rendered)
    for machine in the_plan.machines:
        console.print(machine_panel(machine))
    console.print(executions_table(the_plan))
    for reference in the_plan.unpinnable:
        console.print(Text(f"note: useExactVersion cannot pin {reference}; it stays live (--strict refuses this)",
                           style="yellow"))
    for warning in the_plan.warnings:
        console.print(Text(f"warning: {warning}", style="bold yellow"))
    for note in the_plan.notes:
        console.print(Text(f"note: {note}", style="dim"))


def functions_table(changes: list[plan.FunctionChange]) -> Table:
    table = Table(title="Functions", title_justify="left", header_style="bold")
    for column in ("function", "runtime", "now", "after deploy", "what changed"):
        table.add_column(column, overflow="fold")
    for change in changes:
        now = f"version {change.old_version}" if change.old_version is not None else (
            "$LATEST only" if change.exists else "(none)")
        if change.publishes:
            after = Text(f"{plan.version_label(change.new_version)} (new)", style="bold yellow")
            why = ", ".join(change.reasons)
        else:
            after = Text(f"{plan.version_label(change.new_version)} (unchanged)", style="green")
            why = "$LATEST reset to it" if change.updates_latest else "-"
        if change.tags_changed:
            why = "tags" if why == "-" else f"{why}; tags"
        runtime = change.runtime + (f"\non {change.runs_on}" if change.runs_on else "")
        if change.layers:
            runtime += f"\nlayers: {layers.shown(change.layers)}"
        table.add_row(Text(change.name), Text(runtime), now, after, Text(why))
    return table


def _statement_text(statement: dict[str, Any]) -> str:
    actions = statement.get("Action", statement.get("NotAction"))
    resources = statement.get("Resource", statement.get("NotResource"))
    listed = ", ".join(resources) if isinstance(resources, list) else str(resources)
    shown = ", ".join(actions) if isinstance(actions, list) else str(actions)
    return f"{statement.get('Effect', '?')} {shown} on {listed}"


def role_lines(role: plan.RoleChange) -> Text | None:
    """The statements a role gains and loses; None when it does not change."""
    if not role.changed:
        return None
    text = Text()
    text.append(f"Role {role.spec.name}", style="bold")
    text.append(" (new)\n" if not role.exists else "\n")
    for statement in role.added:
        text.append(f"  + {_statement_text(statement)}\n", style="green")
    for statement in role.removed:
        text.append(f"  - {_statement_text(statement)}\n", style="red")
    text.rstrip()
    return text


def machine_panel(change: plan.MachineChange) -> Panel:
    lines: list[Any] = []
    if not change.exists:
        head = "created; its first version will be published"
    elif change.updates:
        what = [word for word, changed in (("definition", change.definition_changed),
                                           ("role", change.role_changed)) if changed]
        head = (f"{' and '.join(what)} changed; version {change.old_version or '-'} -> "
                f"{plan.version_label(change.new_version)}")
    elif change.publishes:
        head = "unchanged; a version will be published for its current definition"
    else:
        head = f"unchanged ({plan.version_label(change.new_version)})"
    lines.append(Text(head))
    if change.role_changed:
        lines.append(Text(f"role {change.old_role} -> {change.new_role}"))
    if change.tags_changed:
        lines.append(Text("tags change (no new version)"))
    if change.alias is not None and change.alias_new is not None:
        now = _routes(change.alias_old) if change.alias_old is not None else "(none)"
        verb = "moves" if change.moves_alias else "stays"
        lines.append(Text(f"alias {change.alias} {verb}: {now} -> {_routes(change.alias_new)}"))
    for entry in change.pinned:
        lines.append(Text(f"pinned  {entry}", style="green"))
    for entry in change.live:
        lines.append(Text(f"live    {entry}", style="yellow"))
    for entry in change.computed:
        lines.append(Text(f"live    {entry} (function computed at run time)", style="yellow"))
    if change.diff:
        lines.append(Syntax(change.diff.rstrip("\n"), "diff", theme="ansi_dark", background_color="default",
                            word_wrap=True))
    return Panel(Group(*lines), title=f"State machine {change.name}", title_align="left")


def _routes(routes: tuple[tuple[int | str, int], ...]) -> str:
    return ", ".join(f"{'next version' if version == plan.NEXT_VERSION else f'v{version}'} {weight}%"
                     for version, weight in routes)


def executions_table(the_plan: plan.Plan) -> Table | Text:
    """Every running execution listed with what it runs on, what it calls, and the verdict."""
    if not the_plan.executions:
        return Text("Running executions: none.", style="dim")
    table = Table(title="Running executions", title_justify="left", header_style="bold", show_lines=True)
    for column in ("execution", "runs on", "will call", "this deploy"):
        table.add_column(column, overflow="fold")
    for impact in the_plan.executions:
        execution = impact.execution
        calls = "\n".join(f"{call.state}: {call.describe()}" for call in (*impact.calls, *impact.children)
                          ) or "(no functions)"
        if impact.affected:
            verdict = Text("CHANGES UNDER IT\n" + "\n".join(impact.warnings), style="bold red")
        else:
            kept = [call for call in impact.calls if call.kept_by_pin]
            if not impact.calls:
                reason = "it calls no function"
            elif any(call.live for call in (*impact.calls, *impact.children)):
                reason = "this deploy changes nothing it calls live"
            else:
                reason = "its calls are pinned"
            verdict = Text(f"safe: {reason}" + ("; keeps its start-time grant to "
                                                 + ", ".join(c.function for c in kept) if kept else ""),
                           style="green")
        table.add_row(Text(f"{execution.machine}\n{execution.name}"), Text(execution.runs_on), Text(calls),
                      verdict)
    return table

