"""The project file: the serverless.yml subset, variables, CloudFormation references, located errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pinflow.deploy import apply, project, rewrite
from pinflow.deploy.yamlfile import ProjectError

ACCOUNT = "123456789012"
ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:shop-dev-hello"

FULL = """
service: shop
custom:
  greeting: hi
provider:
  name: aws
  runtime: python3.12
  stage: ${opt:stage, 'dev'}
  region: us-east-1
  timeout: 10
  environment:
    TABLE: orders-${sls:stage}
    SHARED: from-provider
  iam:
    role:
      statements:
        - Effect: Allow
          Action: dynamodb:GetItem
          Resource: "*"
functions:
  hello:
    handler: handler.hello
    memorySize: 256
    environment:
      SHARED: from-function
      GREETING: ${self:custom.greeting}
      DEBUG: true
  other:
    handler: other.main
    name: custom-name
    runtime: python3.11
    pinflow:
      source: src
stepFunctions:
  stateMachines:
    flow:
      name: flow-${sls:stage}
      type: express
      useExactVersion: true
      iamRoleStatements:
        - Effect: Allow
          Action: sqs:SendMessage
          Resource: arn:aws:sqs:us-east-1:123456789012:queue
      alias:
        name: live
        weight: 25
      definition:
        StartAt: A
        States:
          A:
            Type: Pass
            End: true
    second:
      role: arn:aws:iam::123456789012:role/given
      alias: stable
      definition: ${file(machines/second.yml)}
"""


def _full(make_project: Callable[..., Path], **options: str) -> project.Project:
    path = make_project(FULL, {"handler.py": "def hello(e, c):\n    return 1\n", "src/other.py": "",
                               "machines/second.yml": "StartAt: B\nStates:\n  B: {Type: Succeed}\n"})
    return project.load(path, **options)


def test_a_serverless_file_gives_functions_with_serverless_names_and_defaults(make_project) -> None:
    loaded = _full(make_project)
    assert (loaded.service, loaded.stage) == ("shop", "dev")
    assert (loaded.region, loaded.account) == ("us-east-1", ACCOUNT)
    hello = loaded.functions["hello"]
    assert hello.name == "shop-dev-hello"
    assert (hello.handler, hello.runtime) == ("handler.hello", "python3.12")
    assert (hello.timeout, hello.memory_size) == (10, 256)
    # The function's environment is the provider's, overridden key by key; values become texts.
    assert hello.environment == {"TABLE": "orders-dev", "SHARED": "from-function", "GREETING": "hi",
                                 "DEBUG": "true"}
    other = loaded.functions["other"]
    assert (other.name, other.runtime, other.memory_size) == ("custom-name", "python3.11", 1024)
    assert other.source == (loaded.root / "src").resolve()
    assert loaded.function_role_statements[0]["Action"] == "dynamodb:GetItem"


def test_the_stage_comes_from_the_option_then_the_provider(make_project) -> None:
    loaded = _full(make_project, stage="prod")
    assert loaded.stage == "prod"
    assert loaded.functions["hello"].name == "shop-prod-hello"
    assert loaded.functions["hello"].environment["TABLE"] == "orders-prod"
    assert loaded.state_machines["flow"].name == "flow-prod"


def test_state_machines_read_the_plugin_keys_and_pinflow_alias(make_project) -> None:
    machines = _full(make_project).state_machines
    flow, second = machines["flow"], machines["second"]
    assert (flow.name, flow.type, flow.use_exact_version, flow.role) == ("flow-dev", "EXPRESS", True, None)
    assert flow.role_statements[0]["Action"] == "sqs:SendMessage"
    assert flow.alias == project.Alias("live", 25)
    # No name: <service>-<stage>-<key>; a definition from ${file(...)}; an alias given as a name.
    assert second.name == "shop-dev-second"
    assert second.definition == {"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}
    assert (second.role, second.alias) == ("arn:aws:iam::123456789012:role/given", project.Alias("stable"))


def test_legacy_iam_role_statements_and_a_pinflow_file(make_project) -> None:
    path = make_project("""
        service: svc
        provider:
          accountId: "111122223333"
          region: eu-west-1
          iamRoleStatements:
            - Effect: Allow
              Action: s3:GetObject
              Resource: arn:aws:s3:::bucket/*
        functions:
          hello:
            handler: handler.hello
        """, name="pinflow.yml")
    assert project.find(path.parent) == path
    loaded = project.load(path)
    assert (loaded.account, loaded.region) == ("111122223333", "eu-west-1")
    assert loaded.function_role_statements[0]["Action"] == "s3:GetObject"
    assert loaded.functions["hello"].runtime == "python3.11"


REFERENCES = r"""
service: shop
provider:
  name: aws
functions:
  hello:
    handler: handler.hello
stepFunctions:
  stateMachines:
    refs:
      definition:
        StartAt: A
        States:
          A: {Type: Task, Resource: {"Fn::GetAtt": [hello, Arn]}, Next: B}
          B: {Type: Task, Resource: !GetAtt hello.Arn, Next: C}
          C: {Type: Task, Resource: !GetAtt [HelloLambdaFunction, Arn], Next: D}
          D:
            Type: Task
            Resource: >-
              arn:aws:lambda:${aws:region}:${aws:accountId}:function:${self:service}-${sls:stage}-hello
            Next: E
          E: {Type: Task, Resource: "arn:aws:lambda:us-east-1:123456789012:function:shop-dev-hello", Next: F}
          F:
            Type: Task
            Resource:
              Fn::Sub: "arn:aws:lambda:${AWS::Region}:${AWS::AccountId}:function:\
                ${self:service}-${sls:stage}-hello"
            Next: G
          G:
            Type: Task
            Resource: !Sub
              - arn:aws:lambda:${AWS::Region}:${AWS::AccountId}:function:${fn}
              - fn: !Ref hello
            Next: H
          H: {Type: Task, Resource: !Sub "${hello.Arn}", Next: I}
          I:
            Type: Task
            Resource: !Join
              - ":"
              - [arn:aws:lambda, !Ref AWS::Region, !Ref AWS::AccountId, function, !Ref hello]
            Next: J
          J:
            Type: Task
            Resource: "arn:aws:lambda:#{AWS::Region}:#{AWS::AccountId}:function:shop-dev-hello"
            Next: K
          K:
            Type: Task
            Resource: arn:aws:states:::lambda:invoke
            Parameters:
              FunctionName: !Ref hello
              Payload.$: $
            End: true
"""


def test_every_reference_form_resolves_to_the_function(make_project) -> None:
    loaded = project.load(make_project(REFERENCES))
    machine = loaded.state_machines["refs"]
    definition = rewrite.evaluate(machine.definition, apply.names_of(loaded), machine.where)
    states = definition["States"]
    for name in "ABCDEFGHIJ":
        assert states[name]["Resource"] == ARN, name
    # Ref is the function's name, as in CloudFormation.
    assert states["K"]["Parameters"]["FunctionName"] == "shop-dev-hello"
    assert {slot.name for slot in rewrite.slots(definition)} == {"shop-dev-hello"}


def _error(make_project: Callable[..., Path], text: str, files: dict[str, str] | None = None) -> ProjectError:
    path = make_project(text, files)
    with pytest.raises(ProjectError) as caught:
        loaded = project.load(path)
        for machine in loaded.state_machines.values():
            rewrite.evaluate(machine.definition, apply.names_of(loaded), machine.where)
    return caught.value


def test_a_missing_handler_is_located_by_file_line_and_key_path(make_project) -> None:
    error = _error(make_project, """
        service: shop
        provider:
          name: aws
        functions:
          hello:
            runtime: python3.11
        """)
    assert str(error) == "serverless.yml:5: functions.hello.handler: required"


@pytest.mark.parametrize(("text", "expected"), [
    ("service: [unclosed\n", "serverless.yml:2: not valid YAML"),
    ("provider: {}\n", "serverless.yml:1: service: required"),
    ("service: s\nfunctions:\n  hello:\n    handler: h.f\n    timeout: 9000\n",
     "serverless.yml:5: functions.hello.timeout: must be a whole number from 1 to 900"),
    ("service: s\nfunctions:\n  hello:\n    handler: h.f\n    environment:\n      A: {b: 1}\n",
     "serverless.yml:6: functions.hello.environment.A: must be a text"),
    ("service: s\nstepFunctions:\n  stateMachines:\n    m:\n      definitoin: {}\n",
     "serverless.yml:5: stepFunctions.stateMachines.m.definitoin: unknown key"),
    ("service: s\nstepFunctions:\n  stateMachines:\n    m:\n      name: x\n",
     "serverless.yml:4: stepFunctions.stateMachines.m.definition: required"),
    ("service: s\nstepFunctions:\n  stateMachines:\n    m:\n      type: fast\n"
     "      definition: {StartAt: A, States: {}}\n",
     "serverless.yml:5: stepFunctions.stateMachines.m.type: must be STANDARD or EXPRESS"),
    ("service: s\nprovider:\n  stage: ${sls:stage}\n",
     "serverless.yml:3: provider.stage: ${sls:stage} is not known"),
    ("service: s\nfunctions:\n  hello:\n    handler: ${self:nothing.here}\n",
     "serverless.yml:4: functions.hello.handler: cannot resolve variable ${self:nothing.here}"),
    ("service: s\nprovider:\n  region: ${ssm:/region}\n",
     "serverless.yml:3: provider.region: variable source 'ssm'"),
    ("service: s\nstepFunctions:\n  stateMachines:\n    m:\n      definition:\n        StartAt: A\n"
     "        States:\n          A: {Type: Task, Resource: !GetAtt nope.Arn, End: true}\n",
     "serverless.yml:8: stepFunctions.stateMachines.m.definition.States.A.Resource: "
     "Fn::GetAtt nope.Arn: no function"),
    ("service: s\nstepFunctions:\n  stateMachines:\n    m:\n      definition: ${file(missing.json)}\n",
     "serverless.yml:5: stepFunctions.stateMachines.m.definition: file not found: missing.json"),
])
def test_bad_files_are_located(make_project, text: str, expected: str) -> None:
    assert str(_error(make_project, text)).startswith(expected)


def test_no_project_file(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="no project file"):
        project.find(tmp_path)


def test_a_definition_file_in_json_keeps_its_own_line_numbers(make_project) -> None:
    files = {"handler.py": "", "machine.json": '{\n  "StartAt": "A",\n  "States": {\n'
             '    "A": {"Type": "Task", "Resource": {"Fn::GetAtt": ["ghost", "Arn"]}, "End": true}\n  }\n}\n'}
    error = _error(make_project, "service: s\nstepFunctions:\n  stateMachines:\n    m:\n"
                   "      definition: ${file(machine.json)}\n", files)
    assert (error.file, error.line) == ("machine.json", 4)
    assert "no function or state machine 'ghost'" in str(error)


def test_both_example_days_load() -> None:
    root = Path(__file__).resolve().parents[2] / "examples" / "hello-approval"
    day1 = project.load(root / "v1" / "serverless.yml")
    day2 = project.load(root / "v2" / "serverless.yml")
    assert day1.functions["hello"].name == day2.functions["hello"].name == "hello-approval-dev-hello"
    assert day1.state_machines["approval"].use_exact_version
    assert day2.state_machines["approval"].use_exact_version
    assert "WaitForApprover" in day1.state_machines["approval"].definition["States"]
    assert "WaitForApprover" not in day2.state_machines["approval"].definition["States"]
