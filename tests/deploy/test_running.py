"""The plan for RUNNING executions, read through the API: pinned, live and alias references; --strict."""

from __future__ import annotations

import io
import json
import time

from click.testing import CliRunner
from rich.console import Console

from pinflow import arns
from pinflow.cli import main, output
from pinflow.deploy import apply, clients, project

HELLO = arns.function("svc-dev-hello")

PROJECT = """
service: svc
functions:
  hello:
    handler: handler.hello
  other:
    handler: handler.hello
stepFunctions:
  stateMachines:
    pinned:
      name: pinned
      useExactVersion: true
      definition:
        StartAt: Wait
        States:
          Wait: {Type: Wait, Seconds: 60, Next: Hello}
          Hello: {Type: Task, Resource: !GetAtt hello.Arn, End: true}
    live:
      name: live
      definition:
        StartAt: Wait
        States:
          Wait: {Type: Wait, Seconds: 60, Next: Hello}
          Hello: {Type: Task, Resource: !GetAtt "${env:LIVE_TARGET, 'hello'}.Arn", End: true}
    aliased:
      name: aliased
      useExactVersion: true
      definition:
        StartAt: First
        States:
          First:
            Type: Task
            Resource: arn:aws:states:::lambda:invoke
            Parameters: {FunctionName: "${self:service}-${sls:stage}-hello", Qualifier: prod, Payload: {}}
            ResultPath: null
            Next: Wait
          Wait: {Type: Wait, Seconds: 60, Next: Again}
          Again:
            Type: Task
            Resource: arn:aws:states:::lambda:invoke
            Parameters: {FunctionName: "${self:service}-${sls:stage}-hello", Qualifier: prod, Payload: {}}
            End: true
"""


def _started(cl: clients.Clients, path, **environ: str) -> dict[str, str]:
    """Deploy, point alias `prod` at version 1, start one execution per machine; the three are running."""
    result = apply.deploy(project.load(path, environ=environ), cl, Console(file=io.StringIO()))
    assert result.status == 0
    cl.lam.create_alias(FunctionName="svc-dev-hello", Name="prod", FunctionVersion="1")
    # `pinned` through its version ARN, the others through the machine's own ARN.
    targets = {"pinned": f"{arns.state_machine('pinned')}:1", "live": arns.state_machine("live"),
               "aliased": arns.state_machine("aliased")}
    started = {name: cl.sfn.start_execution(stateMachineArn=target, name=f"{name}-1")["executionArn"]
               for name, target in targets.items()}
    deadline = time.monotonic() + 10
    while True:  # the aliased execution has called its alias once before it waits
        events = clients.history(cl.sfn, started["aliased"])
        if any(event["type"] == "WaitStateEntered" for event in events) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return started


def test_the_plan_classifies_each_running_execution(make_project, cl) -> None:
    path = make_project(PROJECT)
    started = _started(cl, path)
    (path.parent / "handler.py").write_text("def hello(event, context):\n    return 'changed'\n")
    prepared = apply.prepare(project.load(path), cl)
    impacts = {impact.execution.machine: impact for impact in prepared.the_plan.executions}
    assert set(impacts) == {"pinned", "live", "aliased"}

    pinned = impacts["pinned"]
    assert pinned.execution.runs_on == "version 1"
    assert [(c.kind, c.version) for c in pinned.calls] == [("version", "1")] and not pinned.affected

    live = impacts["live"]
    assert live.execution.runs_on == "version 1's definition (started unversioned)"
    assert [c.kind for c in live.calls] == ["latest"]
    assert live.warnings == ["Hello: calls svc-dev-hello live and this deploy changes its code"]

    aliased = impacts["aliased"]
    assert [(c.kind, c.version) for c in aliased.calls] == [("alias", "1"), ("alias", "1")]
    assert not aliased.affected
    assert [impact.execution.arn for impact in prepared.the_plan.unsafe] == [started["live"]]


def test_strict_refuses_a_deploy_that_changes_code_under_a_running_execution(make_project, cl, server,
                                                                            monkeypatch) -> None:
    monkeypatch.setattr(output.console, "width", 200)  # rows of the plan's tables on one line each
    path = make_project(PROJECT)
    _started(cl, path)
    (path.parent / "handler.py").write_text("def hello(event, context):\n    return 'changed'\n")
    base = ["deploy", "--endpoint", server.endpoint, "--config", str(path)]
    runner = CliRunner()

    planned = runner.invoke(main, [*base, "--plan"])
    assert planned.exit_code == 0, planned.output
    assert "CHANGES UNDER IT" in planned.output
    assert "svc-dev-hello:1 (pinned)" in planned.output
    assert "svc-dev-hello:prod -> version 1 (alias, pinned at start)" in planned.output
    assert "safe: its calls are pinned" in planned.output

    refused = runner.invoke(main, [*base, "--strict", "--yes"])
    assert refused.exit_code == 3, refused.output
    assert "Refused (--strict)" in refused.output
    assert [v["Version"] for v in clients.function_versions(cl.lam, "svc-dev-hello")] == ["1"]
    assert runner.invoke(main, [*base, "--plan", "--strict"]).exit_code == 3

    applied = runner.invoke(main, [*base, "--yes"])
    assert applied.exit_code == 0, applied.output
    assert [v["Version"] for v in clients.function_versions(cl.lam, "svc-dev-hello")] == ["1", "2"]


def test_without_yes_a_non_interactive_deploy_asks_and_stops(make_project, cl, server) -> None:
    path = make_project(PROJECT)
    result = CliRunner().invoke(main, ["deploy", "--endpoint", server.endpoint, "--config", str(path)])
    assert result.exit_code == 1
    assert "give --yes" in result.output
    assert cl.lam.list_functions()["Functions"] == []


def test_a_statement_removed_from_the_role_is_flagged_for_live_references(make_project, cl) -> None:
    path = make_project(PROJECT)
    started = _started(cl, path)
    # The live machine now calls `other`: its generated role no longer needs `hello`.
    prepared = apply.prepare(project.load(path, environ={"LIVE_TARGET": "other"}), cl)
    (role,) = [r for r in prepared.the_plan.roles if r.spec.name == "live-role"]
    assert [s["Resource"] for s in role.removed] == [sorted([HELLO, f"{HELLO}:*"])]
    (impact,) = [i for i in prepared.the_plan.unsafe if i.execution.arn == started["live"]]
    assert impact.warnings == [f"Hello: the new role no longer allows invoking {HELLO}"]


LIVE_PROJECT = """
service: svc
functions:
  hello:
    handler: handler.hello
stepFunctions:
  stateMachines:
    onlatest:
      name: onlatest
      definition:
        StartAt: Wait
        States:
          Wait: {Type: Wait, Seconds: 60, Next: Hello}
          Hello: {Type: Task, Resource: "arn:aws:lambda:us-east-1:123456789012:function:svc-dev-hello:live", End: true}
    computed:
      name: computed
      useExactVersion: true
      iamRoleStatements:
        - {Effect: Allow, Action: lambda:InvokeFunction, Resource: "*"}
      definition:
        StartAt: Wait
        States:
          Wait: {Type: Wait, Seconds: 60, Next: Pick}
          Pick:
            Type: Task
            Resource: arn:aws:states:::lambda:invoke
            Parameters: {"FunctionName.$": "$.fn", Payload: {}}
            End: true
"""


def test_an_alias_on_latest_and_a_computed_function_are_live_under_strict(make_project, cl, server,
                                                                         monkeypatch) -> None:
    monkeypatch.setattr(output.console, "width", 200)
    path = make_project(LIVE_PROJECT)
    assert apply.deploy(project.load(path), cl, Console(file=io.StringIO())).status == 0
    cl.lam.create_alias(FunctionName="svc-dev-hello", Name="live", FunctionVersion="$LATEST")
    started = {name: cl.sfn.start_execution(stateMachineArn=arns.state_machine(name), name=f"{name}-1",
                                            input='{"fn": "svc-dev-hello"}')["executionArn"]
               for name in ("onlatest", "computed")}
    (path.parent / "handler.py").write_text("def hello(event, context):\n    return 'changed'\n")

    prepared = apply.prepare(project.load(path), cl)
    impacts = {impact.execution.machine: impact for impact in prepared.the_plan.executions}
    (alias_call,) = impacts["onlatest"].calls
    assert (alias_call.kind, alias_call.live) == ("alias", True)
    (computed_call,) = impacts["computed"].calls
    assert (computed_call.kind, computed_call.live) == ("computed", True)
    assert sorted(impact.execution.arn for impact in prepared.the_plan.unsafe) == sorted(started.values())

    base = ["deploy", "--endpoint", server.endpoint, "--config", str(path)]
    refused = CliRunner().invoke(main, [*base, "--strict", "--yes"])
    assert refused.exit_code == 3, refused.output
    assert "Pick: Parameters.FunctionName.$ $.fn (computed at run time: live)" in refused.output
    assert "live    Pick: Parameters.FunctionName.$ $.fn (function computed at run time)" in refused.output
    assert [v["Version"] for v in clients.function_versions(cl.lam, "svc-dev-hello")] == ["1"]


def test_the_plan_names_the_next_version_and_the_deploy_pins_the_one_the_server_gives(make_project,
                                                                                      cl) -> None:
    files = {"handler.py": "def hello(event, context):\n    return 1\n"}
    single = PROJECT.split("    live:\n")[0]  # the `pinned` machine only
    path = make_project(single, files)
    assert apply.deploy(project.load(path), cl, Console(file=io.StringIO())).status == 0
    (path.parent / "handler.py").write_text("def hello(event, context):\n    return 2\n")
    assert apply.deploy(project.load(path), cl, Console(file=io.StringIO())).status == 0
    machine = arns.state_machine("pinned")
    first = cl.sfn.describe_state_machine(stateMachineArn=f"{machine}:1")["definition"]
    cl.sfn.update_state_machine(stateMachineArn=machine, definition=first)
    cl.sfn.delete_state_machine_version(stateMachineVersionArn=f"{machine}:2")
    cl.lam.delete_function(FunctionName="svc-dev-hello", Qualifier="2")  # 2 is never given out again

    (path.parent / "handler.py").write_text("def hello(event, context):\n    return 3\n")
    shown = io.StringIO()
    result = apply.deploy(project.load(path), cl, Console(file=shown, width=200))
    (function,) = [f for f in result.plan.functions if f.name == "svc-dev-hello"]
    (change,) = result.plan.machines
    assert function.new_version == change.new_version == "$NEXT"
    assert "next version (new)" in shown.getvalue()
    assert "version - -> next version" in shown.getvalue()
    assert result.outcome is not None
    assert "function svc-dev-hello version 3" in result.outcome.published
    assert "state machine pinned version 3" in result.outcome.published
    resource = json.loads(cl.sfn.describe_state_machine(stateMachineArn=machine)["definition"])
    assert resource["States"]["Hello"]["Resource"] == f"{HELLO}:3"
