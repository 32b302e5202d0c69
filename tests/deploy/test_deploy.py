"""`pinflow deploy` against a real server, through its Lambda, IAM and Step Functions APIs only."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

from click.testing import CliRunner
from rich.console import Console

from pinflow import arns
from pinflow.cli import main
from pinflow.deploy import apply, clients, project

ACCOUNT = "123456789012"
HELLO = arns.function("svc-dev-hello")

PROJECT = """
service: svc
provider:
  name: aws
  runtime: python3.11
  environment:
    MOOD: ${env:MOOD, 'calm'}
functions:
  hello:
    handler: handler.hello
    timeout: ${env:TIMEOUT, 6}
stepFunctions:
  stateMachines:
    flow:
      name: flow
      useExactVersion: ${strToBool(${env:EXACT, 'true'})}
      alias:
        name: live
        weight: ${env:WEIGHT, 100}
      definition:
        StartAt: Hello
        States:
          Hello:
            Type: Task
            Resource: !GetAtt hello.Arn
            Next: Invoke
          Invoke:
            Type: Task
            Resource: arn:aws:states:::lambda:invoke
            Parameters:
              FunctionName: !Ref hello
              Payload.$: $
            ResultSelector:
              answer.$: $.Payload
            End: true
"""


def _deploy(path: Path, cl: clients.Clients, **environ: str) -> tuple[apply.Result, str]:
    buffer = io.StringIO()
    loaded = project.load(path, environ=environ)
    result = apply.deploy(loaded, cl, Console(file=buffer, width=200), show_plan=True)
    return result, buffer.getvalue()


def _versions(cl: clients.Clients, name: str = "svc-dev-hello") -> list[str]:
    return [item["Version"] for item in clients.function_versions(cl.lam, name)]


def _definition(cl: clients.Clients, name: str = "flow") -> dict:
    return json.loads(cl.sfn.describe_state_machine(stateMachineArn=arns.state_machine(name))["definition"])


def _wait(cl: clients.Clients, execution_arn: str, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        described = cl.sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described
        time.sleep(0.05)


def test_first_deploy_creates_everything_and_a_second_publishes_nothing(make_project, cl) -> None:
    path = make_project(PROJECT, {"handler.py": "def hello(event, context):\n    return 'Approved'\n"})
    first, _ = _deploy(path, cl)
    assert first.status == 0 and first.outcome is not None
    assert _versions(cl) == ["1"]
    states = _definition(cl)["States"]
    assert states["Hello"]["Resource"] == f"{HELLO}:1"
    assert states["Invoke"]["Parameters"]["FunctionName"] == f"{HELLO}:1"
    role = cl.iam.get_role_policy(RoleName="flow-role", PolicyName="pinflow-deploy")["PolicyDocument"]
    assert role["Statement"][0]["Resource"] == sorted([HELLO, f"{HELLO}:*"])
    machine = cl.sfn.describe_state_machine(stateMachineArn=arns.state_machine("flow"))
    assert machine["roleArn"] == arns.role("flow-role")
    assert clients.machine_versions(cl.sfn, machine["stateMachineArn"]) == [1]
    alias = cl.sfn.describe_state_machine_alias(stateMachineAliasArn=f"{machine['stateMachineArn']}:live")
    assert [(r["stateMachineVersionArn"], r["weight"]) for r in alias["routingConfiguration"]] == [
        (f"{machine['stateMachineArn']}:1", 100)]
    execution = cl.sfn.start_execution(stateMachineArn=alias["stateMachineAliasArn"], input='"hi"')
    finished = _wait(cl, execution["executionArn"])
    assert (finished["status"], json.loads(finished["output"])) == ("SUCCEEDED", {"answer": "Approved"})

    again, output = _deploy(path, cl)
    assert again.status == 0 and not again.plan.has_changes
    assert "Nothing to deploy" in output
    assert _versions(cl) == ["1"]
    assert clients.machine_versions(cl.sfn, machine["stateMachineArn"]) == [1]
    assert cl.sfn.describe_state_machine(stateMachineArn=machine["stateMachineArn"]).get("revisionId") == \
        machine.get("revisionId")


def test_code_configuration_and_environment_changes_each_publish_once(make_project, cl) -> None:
    path = make_project(PROJECT, {"handler.py": "def hello(event, context):\n    return 1\n"})
    _deploy(path, cl)
    (path.parent / "handler.py").write_text("def hello(event, context):\n    return 2\n")
    code, output = _deploy(path, cl)
    assert [c.reasons for c in code.plan.functions] == [("code",)]
    assert "next version (new)" in output
    assert "function svc-dev-hello version 2" in code.outcome.published
    environment, _ = _deploy(path, cl, MOOD="excited")
    assert [c.reasons for c in environment.plan.functions] == [("environment",)]
    configuration, _ = _deploy(path, cl, MOOD="excited", TIMEOUT="30")
    assert [c.reasons for c in configuration.plan.functions] == [("timeout",)]
    unchanged, _ = _deploy(path, cl, MOOD="excited", TIMEOUT="30")
    assert not unchanged.plan.has_changes
    assert _versions(cl) == ["1", "2", "3", "4"]
    latest = cl.lam.get_function_configuration(FunctionName="svc-dev-hello", Qualifier="4")
    assert (latest["Timeout"], latest["Environment"]["Variables"]) == (30, {"MOOD": "excited"})
    # Each new function version is a new exact reference, so a new state machine version.
    assert _definition(cl)["States"]["Hello"]["Resource"] == f"{HELLO}:4"
    assert clients.machine_versions(cl.sfn, arns.state_machine("flow")) == [4, 3, 2, 1]


def test_without_exact_versions_a_code_change_leaves_the_machine_alone(make_project, cl) -> None:
    path = make_project(PROJECT, {"handler.py": "def hello(event, context):\n    return 1\n"})
    _deploy(path, cl, EXACT="false")
    assert _definition(cl)["States"]["Hello"]["Resource"] == HELLO
    (path.parent / "handler.py").write_text("def hello(event, context):\n    return 2\n")
    result, _ = _deploy(path, cl, EXACT="false")
    assert _versions(cl) == ["1", "2"]
    assert [m.updates for m in result.plan.machines] == [False]
    assert clients.machine_versions(cl.sfn, arns.state_machine("flow")) == [1]


def test_an_alias_moves_with_its_weight(make_project, cl) -> None:
    path = make_project(PROJECT, {"handler.py": "def hello(event, context):\n    return 1\n"})
    _deploy(path, cl, WEIGHT="25")
    (path.parent / "handler.py").write_text("def hello(event, context):\n    return 2\n")
    _deploy(path, cl, WEIGHT="25")
    machine = arns.state_machine("flow")
    alias = cl.sfn.describe_state_machine_alias(stateMachineAliasArn=f"{machine}:live")
    assert [(r["stateMachineVersionArn"], r["weight"]) for r in alias["routingConfiguration"]] == [
        (f"{machine}:2", 25), (f"{machine}:1", 75)]
    _deploy(path, cl, WEIGHT="100")  # promote: nothing new to publish, the alias moves
    alias = cl.sfn.describe_state_machine_alias(stateMachineAliasArn=f"{machine}:live")
    assert [(r["stateMachineVersionArn"], r["weight"]) for r in alias["routingConfiguration"]] == [
        (f"{machine}:2", 100)]


def test_a_plain_arn_of_another_service_is_pinned_to_its_latest_version(make_project, cl, server) -> None:
    from pinflow.deploy import package as deploy_package

    code = make_project("service: other\n", {"charge.py": "def main(e, c):\n    return 'charged'\n"},
                        folder="billing").parent
    zipped = deploy_package.zip_files(code, ["charge.py"])
    cl.lam.create_function(FunctionName="billing-prod-charge", Runtime="python3.11", Handler="charge.main",
                           Role=arns.role("billing"), Code={"ZipFile": zipped})
    cl.lam.publish_version(FunctionName="billing-prod-charge")
    cl.lam.update_function_configuration(FunctionName="billing-prod-charge", Timeout=9)
    cl.lam.publish_version(FunctionName="billing-prod-charge")
    charge = "arn:aws:lambda:${aws:region}:${aws:accountId}:function:billing-prod-charge"
    path = make_project(f"""
        service: svc
        functions:
          hello:
            handler: handler.hello
        stepFunctions:
          stateMachines:
            flow:
              name: flow
              useExactVersion: true
              definition:
                StartAt: Charge
                States:
                  Charge: {{Type: Task, Resource: "{charge}", Next: Hello}}
                  Hello: {{Type: Task, Resource: {{"Fn::GetAtt": [hello, Arn]}}, End: true}}
        """)
    result, _ = _deploy(path, cl)
    assert result.status == 0
    states = _definition(cl)["States"]
    billing = arns.function("billing-prod-charge")
    assert states["Charge"]["Resource"] == f"{billing}:2"
    assert states["Hello"]["Resource"] == f"{HELLO}:1"
    role = cl.iam.get_role_policy(RoleName="flow-role", PolicyName="pinflow-deploy")["PolicyDocument"]
    assert role["Statement"][0]["Resource"] == sorted([billing, f"{billing}:*", HELLO, f"{HELLO}:*"])
    finished = _wait(cl, cl.sfn.start_execution(stateMachineArn=arns.state_machine("flow"))["executionArn"])
    assert finished["status"] == "SUCCEEDED", finished


PLUGIN_FILE = """
service: orders

frameworkVersion: "3"

plugins:
  - serverless-step-functions

provider:
  name: aws
  runtime: python3.11
  stage: ${opt:stage, 'dev'}
  region: us-east-1
  memorySize: 256
  iam:
    role:
      statements:
        - Effect: Allow
          Action:
            - dynamodb:PutItem
          Resource: "arn:aws:dynamodb:${aws:region}:${aws:accountId}:table/orders"

package:
  patterns:
    - "!tests/**"

functions:
  validate:
    handler: src/validate.handler
    environment:
      STAGE: ${sls:stage}
  ship:
    handler: src/ship.handler

stepFunctions:
  validate: true
  stateMachines:
    orderFlow:
      name: orderFlow-${sls:stage}
      useExactVersion: true
      events:
        - http:
            path: orders
            method: POST
      tracingConfig:
        enabled: false
      definition:
        Comment: Validate then ship
        StartAt: Validate
        States:
          Validate:
            Type: Task
            Resource:
              Fn::GetAtt: [validate, Arn]
            Retry:
              - ErrorEquals: [States.TaskFailed]
                MaxAttempts: 1
            Next: Ship
          Ship:
            Type: Task
            Resource: arn:aws:states:::lambda:invoke
            Parameters:
              FunctionName:
                Fn::GetAtt: [ship, Arn]
              Payload.$: $
            OutputPath: $.Payload
            End: true
"""


def test_a_serverless_step_functions_file_deploys_unchanged_through_the_command(make_project, server) -> None:
    path = make_project(PLUGIN_FILE, {
        "src/validate.py": "import os\n\n\ndef handler(event, context):\n"
                           "    return {**event, 'valid': os.environ['STAGE']}\n",
        "src/ship.py": "def handler(event, context):\n    return {**event, 'shipped': True}\n",
        "tests/test_flow.py": "",
    })
    runner = CliRunner()
    result = runner.invoke(main, ["deploy", "--endpoint", server.endpoint, "--config", str(path), "--yes"])
    assert result.exit_code == 0, result.output
    assert "Deployed orders (dev)" in result.output
    assert "not used by pinflow, ignored: stepFunctions.stateMachines.orderFlow.events" in result.output
    cl = clients.connect(server.endpoint)
    states = _definition(cl, "orderFlow-dev")["States"]
    assert states["Validate"]["Resource"] == arns.function("orders-dev-validate", "1")
    assert states["Ship"]["Parameters"]["FunctionName"] == arns.function("orders-dev-ship", "1")
    configuration = cl.lam.get_function_configuration(FunctionName="orders-dev-validate")
    assert (configuration["MemorySize"], configuration["Timeout"]) == (256, 6)
    assert configuration["Role"] == arns.role("orders-dev-us-east-1-lambdaRole")
    started = cl.sfn.start_execution(stateMachineArn=arns.state_machine("orderFlow-dev"), input='{"id": 7}')
    finished = _wait(cl, started["executionArn"])
    assert json.loads(finished["output"]) == {"id": 7, "valid": "dev", "shipped": True}

    again = runner.invoke(main, ["deploy", "--endpoint", server.endpoint, "--config", str(path), "--yes"])
    assert again.exit_code == 0 and "Nothing to deploy" in again.output
    assert _versions(cl, "orders-dev-validate") == ["1"]


def test_an_unreachable_server_or_a_bad_file_exits_with_status_one(make_project) -> None:
    path = make_project("service: s\nfunctions:\n  hello: {}\n")
    runner = CliRunner()
    bad = runner.invoke(main, ["deploy", "--endpoint", "http://127.0.0.1:9", "--config", str(path), "--yes"])
    assert bad.exit_code == 1
    assert "serverless.yml:3: functions.hello.handler: required" in bad.output
    good = make_project("service: s\nfunctions:\n  hello:\n    handler: handler.hello\n", folder="good")
    down = runner.invoke(main, ["deploy", "--endpoint", "http://127.0.0.1:9", "--config", str(good), "--yes"])
    assert down.exit_code == 1 and "cannot reach a pinflow server" in down.output
