"""`pinflow deploy` of Node.js functions and serverless.yml layers, and the article's example as its author
published it (examples/article), against a real server."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from pinflow import arns
from pinflow.cli import main, output
from pinflow.deploy import apply, clients, demo, project
from pinflow.deploy.yamlfile import ProjectError
from pinflow.functions.runtimes import node
from tests.deploy.test_deploy import _wait

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
ARTICLE = Path(__file__).resolve().parents[2] / "examples" / "article"

LAYERED = """
service: svc
provider:
  name: aws
  runtime: nodejs20.x
layers:
  greeter:
    path: greeter-layer
    description: says hello
    compatibleRuntimes: [nodejs20.x]
functions:
  hello:
    handler: src/app.handler
    layers:
      - Ref: GreeterLambdaLayer
"""
APP = "const greet = require('greeter'); exports.handler = async (event) => greet(event.name);"


def deploy(path: Path, cl: clients.Clients) -> tuple[apply.Result, str]:
    buffer = io.StringIO()
    result = apply.deploy(project.load(path), cl, Console(file=buffer, width=220), show_plan=True)
    return result, buffer.getvalue()


def invoke(cl: clients.Clients, name: str, qualifier: str, event: dict) -> object:
    response = cl.lam.invoke(FunctionName=name, Qualifier=qualifier, Payload=json.dumps(event))
    return json.loads(response["Payload"].read())


@needs_node
def test_a_layer_is_published_when_it_changes_and_pinned_with_the_function(make_project, cl):
    path = make_project(LAYERED, {"src/app.js": APP, "greeter-layer/nodejs/node_modules/greeter/index.js":
                                  "module.exports = (n) => 'hello ' + n;"})
    first, plan_text = deploy(path, cl)
    assert first.outcome is not None
    assert "Layers" in plan_text and "greeter" in plan_text
    assert f"on Node.js {node.version()}" in plan_text
    assert "layers: greeter:next version" in plan_text
    assert invoke(cl, "svc-dev-hello", "1", {"name": "ann"}) == "hello ann"
    layer = cl.lam.get_layer_version(LayerName="greeter", VersionNumber=1)
    assert layer["Description"] == "says hello" and layer["CompatibleRuntimes"] == ["nodejs20.x"]

    # Unchanged: nothing is published again.
    again, plan_text = deploy(path, cl)
    assert again.outcome is not None and again.outcome.published == []
    assert "version 1 (unchanged)" in plan_text and "layers: greeter:1" in plan_text

    # New layer content: a new layer version, so a new function version; version 1 keeps the old layer.
    (path.parent / "greeter-layer/nodejs/node_modules/greeter/index.js").write_text(
        "module.exports = (n) => 'howdy ' + n;")
    third, plan_text = deploy(path, cl)
    assert third.outcome is not None
    assert third.outcome.published == ["layer greeter version 2", "function svc-dev-hello version 2"]
    assert "layers" in plan_text  # why the function gets a new version
    assert invoke(cl, "svc-dev-hello", "2", {"name": "bo"}) == "howdy bo"
    assert invoke(cl, "svc-dev-hello", "1", {"name": "bo"}) == "hello bo"
    layers = cl.lam.get_function_configuration(FunctionName="svc-dev-hello", Qualifier="2")["Layers"]
    assert [item["Arn"] for item in layers] == ["arn:aws:lambda:us-east-1:123456789012:layer:greeter:2"]


def test_layer_references_are_checked_where_they_are_written(make_project):
    path = make_project(LAYERED.replace("Ref: GreeterLambdaLayer", "Ref: OtherLambdaLayer"),
                        {"src/app.js": APP, "greeter-layer/x.txt": "x"})
    with pytest.raises(ProjectError) as info:
        project.load(path)
    assert info.value.path == "functions.hello.layers[0]"
    assert "{Ref: GreeterLambdaLayer}" in str(info.value)
    missing = make_project(LAYERED, {"src/app.js": APP}, folder="other")
    with pytest.raises(ProjectError) as info:
        project.load(missing)
    assert info.value.path == "layers.greeter.path"


@needs_node
def test_node_modules_are_packaged_for_a_nodejs_function(make_project, cl):
    path = make_project("""
        service: svc
        provider: {name: aws, runtime: nodejs20.x}
        functions:
          hello: {handler: handler.hello}
    """, {"handler.js": "const pad = require('pad3'); module.exports.hello = async () => pad('x');",
          "node_modules/pad3/index.js": "module.exports = (s) => s.padStart(3, '.');"})
    deploy(path, cl)
    assert invoke(cl, "svc-dev-hello", "1", {}) == "..x"


@needs_node
def test_the_articles_example_deploys_unchanged_and_day_1_succeeds_on_hello_v1(cl):
    # The files as published: nodejs8.10, handler.hello, the plugin, useExactVersion, a 150 s Wait. The test
    # shortens the Wait the way `pinflow demo` does: in the loaded definition (demo.with_wait), never in the file.
    day1 = project.load(ARTICLE / "v1" / "serverless.yml")
    assert day1.functions["hello"].runtime == "nodejs8.10"
    assert day1.functions["hello"].handler == "handler.hello"
    machine = day1.state_machines["approval"]
    assert machine.use_exact_version and machine.definition["States"]["WaitForApprover"]["Seconds"] == 150

    def shortened(loaded: project.Project) -> project.Project:
        import dataclasses

        return loaded.with_machines(**{key: dataclasses.replace(m, definition=demo.with_wait(m.definition, 2))
                                       for key, m in loaded.state_machines.items()})

    console = Console(file=io.StringIO(), width=220)
    first = apply.deploy(shortened(day1), cl, console, show_plan=False)
    assert first.outcome is not None
    machine_arn = first.outcome.machines[machine.name]
    execution = cl.sfn.start_execution(stateMachineArn=machine_arn, name="day-1")["executionArn"]
    day2 = shortened(project.load(ARTICLE / "v2" / "serverless.yml"))
    buffer = io.StringIO()
    second = apply.deploy(day2, cl, Console(file=buffer, width=220))
    plan_text = buffer.getvalue()
    assert "nodejs8.10" in plan_text and f"on Node.js {node.version()}" in plan_text
    assert "safe: its calls are pinned" in plan_text
    assert second.outcome is not None and second.outcome.functions["hello-approval-article-dev-hello"] == "2"
    done = _wait(cl, execution, timeout=30)
    assert done["status"] == "SUCCEEDED"
    history = clients.history(cl.sfn, execution)
    scheduled = [event["lambdaFunctionScheduledEventDetails"]["resource"] for event in history
                 if event["type"] == "LambdaFunctionScheduled"]
    assert scheduled == [arns.function("hello-approval-article-dev-hello", "1")]
    answers = [json.loads(event["lambdaFunctionSucceededEventDetails"]["output"]) for event in history
               if event["type"] == "LambdaFunctionSucceeded"]
    assert answers == ["Approved"]


@needs_node
@pytest.mark.slow
def test_the_demo_plays_the_story_with_node_handlers(monkeypatch) -> None:
    monkeypatch.setattr(output.console, "width", 200)
    result = CliRunner().invoke(main, ["demo", "--runtime", "nodejs", "--wait-seconds", "2"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "hello is written in Node.js" in text and "The 150-second wait is shortened to 2 s" in text
    assert f"on Node.js {node.version()}" in text
    assert "day-1: FAILED - hello answered 'ThumbsUp' (NotApproved)" in text
    assert text.count("day-1: SUCCEEDED - hello answered 'Approved'") == 1
    assert "no (expected" not in text
