"""`pinflow gc`: unreferenced versions go; what an alias, a definition or a running execution needs stays."""

from __future__ import annotations

import io

from click.testing import CliRunner
from rich.console import Console

from pinflow import arns
from pinflow.cli import main, output
from pinflow.deploy import apply, clients, project

PROJECT = """
service: svc
functions:
  hello:
    handler: handler.hello
stepFunctions:
  stateMachines:
    flow:
      name: flow
      useExactVersion: true
      alias: live
      definition:
        StartAt: Wait
        States:
          Wait: {Type: Wait, Seconds: 60, Next: Hello}
          Hello: {Type: Task, Resource: !GetAtt hello.Arn, End: true}
    holder:
      name: holder
      definition:
        StartAt: Wait
        States:
          Wait: {Type: Wait, Seconds: 60, Next: Hello}
          Hello:
            Type: Task
            Resource: arn:aws:lambda:us-east-1:123456789012:function:svc-dev-hello:prod
            End: true
"""


def _deploy(cl: clients.Clients, path, answer: str) -> None:
    (path.parent / "handler.py").write_text(f"def hello(event, context):\n    return {answer!r}\n")
    assert apply.deploy(project.load(path), cl, Console(file=io.StringIO())).status == 0


def _versions(cl: clients.Clients) -> tuple[list[str], list[int], list[int]]:
    return ([v["Version"] for v in clients.function_versions(cl.lam, "svc-dev-hello")],
            clients.machine_versions(cl.sfn, arns.state_machine("flow")),
            clients.machine_versions(cl.sfn, arns.state_machine("holder")))


def test_gc_keeps_what_is_referenced_and_skips_what_a_running_execution_holds(make_project, cl, server,
                                                                             monkeypatch) -> None:
    monkeypatch.setattr(output.console, "width", 200)
    path = make_project(PROJECT)
    _deploy(cl, path, "one")
    cl.lam.create_alias(FunctionName="svc-dev-hello", Name="prod", FunctionVersion="1")
    _deploy(cl, path, "two")
    cl.sfn.start_execution(stateMachineArn=f"{arns.state_machine('flow')}:2", name="on-version-2")
    _deploy(cl, path, "three")
    # An execution resolves `prod` when it starts (to 3 here) and keeps that version; no listing shows it.
    cl.lam.update_alias(FunctionName="svc-dev-hello", Name="prod", FunctionVersion="3")
    cl.sfn.start_execution(stateMachineArn=arns.state_machine("holder"), name="holds-3")
    cl.lam.update_alias(FunctionName="svc-dev-hello", Name="prod", FunctionVersion="1")
    _deploy(cl, path, "four")
    assert _versions(cl) == (["1", "2", "3", "4"], [4, 3, 2, 1], [1])

    runner = CliRunner()
    dry = runner.invoke(main, ["gc", "--endpoint", server.endpoint, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "gc would delete 3 version(s)" in dry.output
    assert _versions(cl) == (["1", "2", "3", "4"], [4, 3, 2, 1], [1])

    done = runner.invoke(main, ["gc", "--endpoint", server.endpoint])
    assert done.exit_code == 0, done.output
    assert _versions(cl) == (["1", "2", "3", "4"], [4, 2], [1])
    assert "gc deleted 2 version(s)" in done.output and "skipped 1" in done.output
    # Why each one stayed, and the server's reason for the one it refused.
    assert "svc-dev-hello:3" in done.output and "execution:holder:holds-3" in done.output
    assert "alias prod" in done.output
    assert "running execution on-version-2" in done.output
    assert "alias live; current definition" in done.output
    assert "newest version" in done.output


def test_gc_decisions_from_given_data() -> None:
    from pinflow.deploy import gc, plan

    hello = arns.function("f")
    machine = arns.state_machine("m")

    def definition(version: int) -> dict:
        task = {"Type": "Task", "Resource": f"{hello}:{version}", "End": True}
        return {"StartAt": "A", "States": {"A": task}}

    machines = [gc.MachineInventory("m", machine, definition(5), "r5", {
        number: (f"r{number}", definition(number)) for number in (1, 2, 3, 5)},
        {"canary": frozenset({3})})]
    functions = [gc.FunctionInventory("f", (1, 2, 3, 4, 5, 6), {"old": frozenset({4})})]
    running = [plan.RunningExecution(arns.execution("m", "e"), "e", "m", definition(2), arns.role("r"),
                                     version_arn=f"{machine}:2")]
    decision = gc.decide(functions, machines, running)
    assert [c.label for c in decision.delete] == ["m:1", "f:1"]
    kept = {c.label: c.reasons for c in decision.keep}
    assert kept["m:2"] == ("running execution e",)
    assert kept["m:3"] == ("alias canary",)
    assert kept["m:5"] == ("current definition",)
    assert kept["f:2"] == ("running execution e", "m version 2")
    assert kept["f:3"] == ("m version 3",)
    assert kept["f:4"] == ("alias old",)
    assert kept["f:5"] == ("current definition of m", "m version 5")
    assert kept["f:6"] == ("newest version",)


def test_a_child_version_a_kept_definition_starts_is_kept_down_the_chain() -> None:
    from pinflow.deploy import gc

    def calls(child: str) -> dict:
        task = {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution",
                "Parameters": {"StateMachineArn": child}, "End": True}
        return {"StartAt": "C", "States": {"C": task}}

    leaf = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    parent_arn, middle_arn, leaf_arn = (arns.state_machine(name) for name in ("parent", "middle", "leaf"))
    machines = [
        gc.MachineInventory("parent", parent_arn, calls(f"{middle_arn}:2"), "p1",
                            {1: ("p1", calls(f"{middle_arn}:2"))}),
        gc.MachineInventory("middle", middle_arn, calls(f"{leaf_arn}:1"), "m3",
                            {1: ("m1", calls(f"{leaf_arn}:1")), 2: ("m2", calls(f"{leaf_arn}:1")),
                             3: ("m3", calls(f"{leaf_arn}:1"))}),
        gc.MachineInventory("leaf", leaf_arn, leaf, "l2", {1: ("l1", leaf), 2: ("l2", leaf)}),
    ]
    decision = gc.decide([], machines, [])
    kept = {candidate.arn: candidate.reasons for candidate in decision.keep}
    assert sorted(candidate.arn for candidate in decision.delete) == [f"{middle_arn}:1"]
    assert kept[f"{middle_arn}:2"] == ("started by current definition of parent", "started by parent version 1")
    assert "started by middle version 2" in kept[f"{leaf_arn}:1"]
