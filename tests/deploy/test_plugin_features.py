"""serverless-step-functions features, each in a serverless.yml written as the plugin's README and code
show it, deployed to a real server: what pinflow honours, and what it says it does not."""

from __future__ import annotations

import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from pinflow import arns
from pinflow.cli import main
from pinflow.deploy import apply, clients, project
from pinflow.deploy.yamlfile import ProjectError
from pinflow.service import Pinflow
from tests.api.conftest import RunningServer
from tests.roles import STATES_TRUST

HELLO = arns.function("svc-dev-hello")
HANDLER = {"handler.py": "def hello(event, context):\n    return {'from': 'hello', 'got': event}\n"
                         "def other(event, context):\n    return {'from': 'other'}\n"}


def deploy(path: Path, cl: clients.Clients, **options: bool) -> tuple[apply.Result, str]:
    buffer = io.StringIO()
    result = apply.deploy(project.load(path, environ={}), cl, Console(file=buffer, width=400), **options)
    return result, buffer.getvalue()


def definition(cl: clients.Clients, name: str) -> dict:
    return json.loads(cl.sfn.describe_state_machine(stateMachineArn=arns.state_machine(name))["definition"])


def run(cl: clients.Clients, name: str, payload: dict) -> dict:
    arn = cl.sfn.start_execution(stateMachineArn=arns.state_machine(name), input=json.dumps(payload))["executionArn"]
    deadline = time.monotonic() + 20
    while (described := cl.sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return described


REF = """
service: svc
provider:
  name: aws
  runtime: python3.11
functions:
  hello:
    handler: handler.hello
stepFunctions:
  stateMachines:
    direct:
      name: direct
      useExactVersion: true
      definition:
        StartAt: ByRef
        States:
          ByRef:
            Type: Task
            Resource:
              Ref: hello
            Next: ByName
          ByName:
            Type: Task
            Resource: arn:aws:states:::lambda:invoke
            Parameters:
              FunctionName:
                Ref: hello
              Payload.$: $
            End: true
    live:
      name: live
      definition:
        StartAt: ByRef
        States:
          ByRef:
            Type: Task
            Resource:
              Ref: HelloLambdaFunction
            End: true
plugins:
  - serverless-step-functions
"""


def test_ref_of_a_function_is_its_arn_and_is_pinned_under_use_exact_version(make_project, cl):
    result, _ = deploy(make_project(REF, HANDLER), cl)
    assert result.status == 0
    states = definition(cl, "direct")["States"]
    assert states["ByRef"]["Resource"] == f"{HELLO}:1"
    assert states["ByName"]["Parameters"]["FunctionName"] == f"{HELLO}:1"
    # Without useExactVersion the reference stays on the function (live), as an ARN Step Functions accepts.
    assert definition(cl, "live")["States"]["ByRef"]["Resource"] == HELLO
    done = run(cl, "direct", {"n": 1})
    assert done["status"] == "SUCCEEDED", done.get("cause")


DYNAMIC = """
service: svc
provider:
  name: aws
  runtime: python3.11
functions:
  hello:
    handler: handler.hello
  other:
    handler: handler.other
stepFunctions:
  stateMachines:
    router:
      name: router
      definition:
        StartAt: Route
        States:
          Route:
            Type: Task
            Resource: arn:aws:states:::lambda:invoke
            Parameters:
              FunctionName.$: $.target
              Payload.$: $
            End: true
"""


def test_function_name_chosen_at_run_time_gets_the_plugins_grant(make_project, cl):
    result, output = deploy(make_project(DYNAMIC, HANDLER), cl)
    assert result.status == 0
    policy = cl.iam.get_role_policy(RoleName="router-role", PolicyName="pinflow-deploy")["PolicyDocument"]
    # What the plugin's lambda strategy grants a FunctionName.$ Task without AllowedFunctions.
    assert {"Effect": "Allow", "Action": ["lambda:InvokeFunction"], "Resource": "*"} in policy["Statement"]
    assert "Route computes its function at run time" in output and "on *" in output
    for target in ("svc-dev-hello", "svc-dev-other"):
        done = run(cl, "router", {"target": target})
        assert done["status"] == "SUCCEEDED", done.get("cause")


def test_allowed_functions_narrow_the_grant(make_project, cl):
    narrowed = DYNAMIC.replace("              Payload.$: $\n", "              Payload.$: $\n              "
                               f"AllowedFunctions: {HELLO}\n")
    deploy(make_project(narrowed, HANDLER), cl)
    policy = cl.iam.get_role_policy(RoleName="router-role", PolicyName="pinflow-deploy")["PolicyDocument"]
    assert {"Effect": "Allow", "Action": ["lambda:InvokeFunction"], "Resource": [HELLO]} in policy["Statement"]
    assert run(cl, "router", {"target": "svc-dev-hello"})["status"] == "SUCCEEDED"
    denied = run(cl, "router", {"target": "svc-dev-other"})
    assert (denied["status"], denied["error"]) == ("FAILED", "Lambda.AWSLambdaException")


GIVEN_ROLE = """
service: svc
provider:
  name: aws
  runtime: python3.11
functions:
  hello:
    handler: handler.hello
stepFunctions:
  stateMachines:
    flow:
      name: flow
      role: arn:aws:iam::123456789012:role/team-flow
      definition:
        StartAt: Hello
        States:
          Hello:
            Type: Task
            Resource:
              Fn::GetAtt: [hello, Arn]
            End: true
"""


def test_a_given_role_the_server_does_not_have_stops_the_deploy_at_its_line(make_project, cl):
    path = make_project(GIVEN_ROLE, HANDLER)
    with pytest.raises(ProjectError) as info:
        deploy(path, cl)
    assert (info.value.line, info.value.path) == (12, "stepFunctions.stateMachines.flow.role")
    assert "does not exist on the server" in info.value.message
    assert cl.lam.list_functions()["Functions"] == []  # nothing was deployed
    cl.iam.create_role(RoleName="team-flow", AssumeRolePolicyDocument=STATES_TRUST)
    cl.iam.attach_role_policy(RoleName="team-flow", PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaRole")
    result, _ = deploy(path, cl)
    assert result.status == 0
    assert run(cl, "flow", {})["status"] == "SUCCEEDED"


def test_a_permissive_server_accepts_it_and_the_plan_says_so(make_project, tmp_path):
    pf = Pinflow.open(data_dir=tmp_path / "permissive", permissive_iam=True)
    running = RunningServer(pf)
    try:
        result, output = deploy(make_project(GIVEN_ROLE, HANDLER), clients.connect(running.endpoint))
        assert result.status == 0 and result.plan.iam_mode == "permissive"
        assert "IAM: PERMISSIVE" in output
        assert "does not exist on the server; it runs with --permissive-iam" in output
    finally:
        running.stop()
        pf.close()


TIMEOUTS = """
service: svc
provider:
  name: aws
  runtime: python3.11
  timeout: 9
functions:
  hello:
    handler: handler.hello
    timeout: 12
  other:
    handler: handler.other
stepFunctions:
  stateMachines:
    timed:
      name: timed
      configureTaskTimeouts: true
      encryptionConfig:
        Type: CUSTOMER_MANAGED_KMS_KEY
        KmsKeyId: arn:aws:kms:us-east-1:123456789012:key/abc
      kmsKeyArns:
        - arn:aws:kms:us-east-1:123456789012:key/abc
      definition:
        StartAt: DirectInvoke
        States:
          DirectInvoke:
            Type: Task
            Resource:
              Fn::GetAtt: [hello, Arn]
            Next: ServiceIntegration
          ServiceIntegration:
            Type: Task
            Resource: arn:aws:states:::lambda:invoke
            Parameters:
              FunctionName:
                Ref: other
            Next: UserSetTimeout
          UserSetTimeout:
            Type: Task
            Resource:
              Fn::GetAtt: [HelloLambdaFunction, Arn]
            TimeoutSeconds: 30
            Next: ParallelStep
          ParallelStep:
            Type: Parallel
            Branches:
              - StartAt: NestedTask
                States:
                  NestedTask:
                    Type: Task
                    Resource:
                      Fn::GetAtt: [other, Arn]
                    End: true
            End: true
"""


def test_configure_task_timeouts_is_honoured_and_kms_keys_are_noted(make_project, cl):
    result, output = deploy(make_project(TIMEOUTS, HANDLER), cl)
    assert result.status == 0
    states = definition(cl, "timed")["States"]
    # The plugin injects each function's timeout (its own, else the provider's) where none is set.
    assert states["DirectInvoke"]["TimeoutSeconds"] == 12
    assert states["ServiceIntegration"]["TimeoutSeconds"] == 9
    assert states["UserSetTimeout"]["TimeoutSeconds"] == 30
    assert states["ParallelStep"]["Branches"][0]["States"]["NestedTask"]["TimeoutSeconds"] == 9
    assert 'task "UserSetTimeout": TimeoutSeconds (30s) is greater than the function "hello" timeout (12s)' in output
    assert "ignored: stepFunctions.stateMachines.timed.encryptionConfig" in output
    assert "ignored: stepFunctions.stateMachines.timed.kmsKeyArns" in output


ACTIVITIES = """
service: svc
provider:
  name: aws
functions: {}
stepFunctions:
  activities:
    - myTask
    - your-task
  stateMachines:
    worker:
      name: worker
      definition:
        StartAt: Mine
        States:
          Mine:
            Type: Task
            Resource:
              Ref: MyTaskStepFunctionsActivity
            Next: Yours
          Yours:
            Type: Task
            Resource: arn:aws:states:#{AWS::Region}:#{AWS::AccountId}:activity:your-task
            Parameters:
              from.$: States.Format('after {}', $$.Execution.Name)
              name:
                Fn::GetAtt: [YourDashtaskStepFunctionsActivity, Name]
            End: true
"""


def test_activities_are_created_and_their_refs_resolved(make_project, cl):
    path = make_project(ACTIVITIES, {})
    result, output = deploy(path, cl)
    assert result.status == 0
    assert "Activity myTask: created" in output
    names = sorted(a["name"] for a in cl.sfn.list_activities()["activities"])
    assert names == ["myTask", "your-task"]
    states = definition(cl, "worker")["States"]
    assert states["Mine"]["Resource"] == arns.activity("myTask")
    assert states["Yours"]["Resource"] == arns.activity("your-task")
    assert states["Yours"]["Parameters"]["name"] == "your-task"
    again, output = deploy(path, cl)
    assert "Activity myTask: exists" in output and not again.plan.has_changes


NOTED = """
service: svc
provider:
  name: aws
  runtime: python3.11
  stackTags:
    team: blue
  deploymentBucket: my-bucket
functions:
  hello:
    handler: handler.hello
    events:
      - http: GET hello
stepFunctions:
  stateMachines:
    exact:
      name: exact
      useExactVersion: true
      definition:
        StartAt: Elsewhere
        States:
          Elsewhere:
            Type: Task
            Resource: arn:aws:lambda:us-east-1:123456789012:function:not-deployed-here
            Next: Chosen
          Chosen:
            Type: Task
            Resource: arn:aws:states:::lambda:invoke
            Parameters:
              FunctionName.$: $.fn
            End: true
resources:
  Resources:
    Table:
      Type: AWS::DynamoDB::Table
"""


def test_what_pinflow_cannot_honour_is_noted_and_strict_refuses_unpinnable_references(make_project, cl):
    path = make_project(NOTED, HANDLER)
    strict, output = deploy(path, cl, strict=True)
    assert strict.status == apply.EXIT_REFUSED
    assert "useExactVersion cannot pin 2 reference(s)" in output
    assert cl.lam.list_functions()["Functions"] == []
    planned, output = deploy(path, cl, plan_only=True)
    for noted in ("ignored: resources", "ignored: provider.stackTags", "ignored: provider.deploymentBucket",
                  "ignored: functions.hello.events",
                  "useExactVersion cannot pin exact: Elsewhere: arn:aws:lambda:us-east-1:123456789012:function:"
                  "not-deployed-here",
                  "useExactVersion cannot pin exact: Chosen: Parameters.FunctionName.$ $.fn"):
        assert noted in output, noted
    assert planned.status == 0


TAGS = """
service: svc
provider:
  name: aws
  runtime: python3.11
  tags:
    app: myApp
    department: engineering
functions:
  hello:
    handler: handler.hello
    tags:
      department: payments
      tier: 1
stepFunctions:
  stateMachines:
    inherits:
      name: inherits
      tags:
        score: 42
      definition: {StartAt: P, States: {P: {Type: Pass, End: true}}}
    own:
      name: own
      inheritGlobalTags: false
      tags:
        score: 42
      definition: {StartAt: P, States: {P: {Type: Pass, End: true}}}
"""


def _machine_tags(cl: clients.Clients, name: str) -> dict[str, str]:
    listed = cl.sfn.list_tags_for_resource(resourceArn=arns.state_machine(name))["tags"]
    return {tag["key"]: tag["value"] for tag in listed}


def test_tags_as_serverless_and_the_plugin_give_them(make_project, cl):
    """A function has provider.tags with its own over them (values as text); a state machine has the
    provider's too unless `inheritGlobalTags: false` (the plugin's README example); a later deploy
    leaves exactly the tags the file lists."""
    path = make_project(TAGS, HANDLER)
    result, _ = deploy(path, cl)
    assert result.status == 0
    assert cl.lam.list_tags(Resource=HELLO)["Tags"] == {"app": "myApp", "department": "payments", "tier": "1"}
    assert _machine_tags(cl, "inherits") == {"app": "myApp", "department": "engineering", "score": "42"}
    assert _machine_tags(cl, "own") == {"score": "42"}
    path.write_text(TAGS.replace("      tier: 1\n", "").replace("department: engineering", "department: ops"))
    planned, _ = deploy(path, cl, plan_only=True)
    assert [f.name for f in planned.plan.functions if f.tags_changed] == ["svc-dev-hello"]
    assert [m.name for m in planned.plan.machines if m.tags_changed] == ["inherits"]
    assert not any(f.publishes for f in planned.plan.functions)
    result, output = deploy(path, cl)
    assert result.status == 0
    assert cl.lam.list_tags(Resource=HELLO)["Tags"] == {"app": "myApp", "department": "payments"}
    assert _machine_tags(cl, "inherits") == {"app": "myApp", "department": "ops", "score": "42"}
    assert "state machine own: tags set" not in output


INVALID = """
service: svc
provider:
  name: aws
  runtime: python3.11
functions:
  hello:
    handler: handler.hello
stepFunctions:
  stateMachines:
    broken:
      name: broken
      definition:
        StartAt: Hello
        States:
          Hello:
            Type: Task
            Resource:
              Fn::GetAtt: [hello, Arn]
            Next: Nowhere
"""


def test_a_server_validation_error_names_the_line_and_key(make_project, cl):
    with pytest.raises(ProjectError) as info:
        deploy(make_project(INVALID, HANDLER), cl)
    assert info.value.line == 19
    assert info.value.path == "stepFunctions.stateMachines.broken.definition.States.Hello.Next"
    assert str(info.value).startswith("serverless.yml:19: stepFunctions.stateMachines.broken.definition.States.Hello")


def test_a_missing_handler_file_names_its_line(make_project, cl):
    with pytest.raises(ProjectError) as info:
        deploy(make_project(INVALID, {"other.py": "x = 1\n"}), cl)
    assert (info.value.line, info.value.path) == (7, "functions.hello.handler")
    assert "no handler.py" in info.value.message


class _Html(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self._page()

    def do_POST(self) -> None:
        self._page()

    def _page(self) -> None:
        body = b"<!DOCTYPE html><html><body><h1>It works!</h1>" + b"<p>filler</p>" * 200 + b"</body></html>"
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_the_deploy_command_and_endpoints(make_project, server):
    path = make_project(REF, HANDLER)
    runner = CliRunner()
    without_scheme = server.endpoint.removeprefix("http://")
    result = runner.invoke(main, ["deploy", "--plan", "--config", str(path), "--endpoint", without_scheme])
    assert result.exit_code == 0, result.output
    assert "IAM: enforced" in result.output
    with_path = runner.invoke(main, ["deploy", "--plan", "--config", str(path), "--endpoint",
                                     f"{server.endpoint}/api"])
    assert (with_path.exit_code, with_path.output.strip()) == (
        1, f"error: endpoint {server.endpoint}/api: a pinflow server is addressed without a path; give "
           f"{server.endpoint}")
    html = ThreadingHTTPServer(("127.0.0.1", 0), _Html)
    thread = threading.Thread(target=html.serve_forever, daemon=True)
    thread.start()
    try:
        address = f"http://127.0.0.1:{html.server_address[1]}"
        other = runner.invoke(main, ["deploy", "--plan", "--config", str(path), "--endpoint", address])
        assert (other.exit_code, other.output.strip()) == (
            1, f"error: {address} answered HTTP 404 with an HTML page that no pinflow server sends: it is not a "
               "pinflow server")
    finally:
        html.shutdown()
        html.server_close()


def test_a_refusal_when_the_machine_is_written_is_located_too(make_project):
    from botocore.exceptions import ClientError

    loaded = project.load(make_project(INVALID, HANDLER), environ={})
    # Step Functions' wording for a definition CreateStateMachine refuses (a JSON Pointer at the end).
    refused = ClientError({"Error": {"Code": "InvalidDefinition", "Message": (
        "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: Nowhere at "
        "/States/Hello/Next'")}}, "CreateStateMachine")
    with pytest.raises(ProjectError) as info, apply._refusals(loaded, "broken"):
        raise refused
    assert (info.value.line, info.value.path) == (19, "stepFunctions.stateMachines.broken.definition.States.Hello.Next")


JSONATA_ARGUMENTS = """
service: svc
provider:
  name: aws
  runtime: python3.11
functions:
  hello:
    handler: handler.hello
stepFunctions:
  stateMachines:
    router:
      name: router
      definition:
        QueryLanguage: JSONata
        StartAt: Route
        States:
          Route:
            Type: Task
            Resource: arn:aws:states:::lambda:invoke
            Arguments: "{% {'FunctionName': $states.input.target, 'Payload': $states.input} %}"
            End: true
"""


def test_arguments_that_are_one_jsonata_expression_get_no_grant_as_with_the_plugin(make_project, cl):
    """The plugin's lambda strategy (lib/deploy/stepFunctions/iamStrategies/lambda.js, utils.js) reads
    FunctionName inside Arguments: when Arguments are one JSONata expression there is none, and its role
    grants nothing for the Task. pinflow's generated role does the same, and the plan says so."""
    result, output = deploy(make_project(JSONATA_ARGUMENTS, HANDLER), cl)
    assert result.status == 0
    assert cl.iam.get_role(RoleName="router-role")["Role"]["RoleName"] == "router-role"
    statements = [statement for name in cl.iam.list_role_policies(RoleName="router-role")["PolicyNames"]
                  for statement in cl.iam.get_role_policy(RoleName="router-role", PolicyName=name)[
                      "PolicyDocument"]["Statement"]]
    assert not [s for s in statements if "lambda:InvokeFunction" in s["Action"]], statements
    assert "Route computes what it calls at run time" in output and "its role grants nothing for it" in output
    denied = run(cl, "router", {"target": "svc-dev-hello"})
    assert (denied["status"], denied["error"]) == ("FAILED", "Lambda.AWSLambdaException")


def test_timeouts_are_configured_once_per_deploy(make_project, cl, monkeypatch):
    """The plan and the apply share one configuration of each machine's timeouts."""
    from pinflow.deploy import timeouts

    calls: list[str] = []
    configure = timeouts.configure
    monkeypatch.setattr(timeouts, "configure", lambda *args: (calls.append(args[2]), configure(*args))[1])
    result, output = deploy(make_project(TIMEOUTS, HANDLER), cl)
    assert result.status == 0
    assert calls == ["timed"]
    assert output.count('task "UserSetTimeout": TimeoutSeconds (30s) is greater than') == 1


def test_an_over_long_timeout_is_any_number_as_the_plugin_compares_it() -> None:
    """configureTaskTimeouts.js warns when `typeof TimeoutSeconds === 'number'` and it is over the function's
    timeout: a fraction too (the server then refuses it, as AWS does: TimeoutSeconds is an integer)."""
    from pinflow.deploy import timeouts

    hello = type("Function", (), {"timeout": 12})()
    machine = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": {"Ref": "hello"},
                                                "TimeoutSeconds": 30.5, "End": True}}}
    assert timeouts.configure(machine, {"hello": hello}, "m")[1] == [
        'state machine "m" task "T": TimeoutSeconds (30.5s) is greater than the function "hello" timeout (12s): '
        "the function fails first"]
    machine["States"]["T"]["TimeoutSeconds"] = True  # not a number to the plugin either
    assert timeouts.configure(machine, {"hello": hello}, "m")[1] == []


def test_a_map_with_both_processors_is_configured_through_its_item_processor_only() -> None:
    """The plugin walks a Map's ItemProcessor, else its Iterator (configureTaskTimeouts.js), never both."""
    from pinflow.deploy import timeouts

    task = {"Type": "Task", "Resource": {"Fn::GetAtt": ["other", "Arn"]}, "TimeoutSeconds": 40, "End": True}
    machine = {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "End": True,
        "ItemProcessor": {"StartAt": "InProcessor", "States": {"InProcessor": dict(task)}},
        "Iterator": {"StartAt": "InIterator", "States": {"InIterator": {**task, "TimeoutSeconds": 50}}}}}}
    other = type("Function", (), {"timeout": 9})()
    made, warnings = timeouts.configure(machine, {"other": other}, "m")
    assert warnings == ['state machine "m" task "InProcessor": TimeoutSeconds (40s) is greater than the function '
                        '"other" timeout (9s): the function fails first']
    assert made == machine  # nothing to inject: both set TimeoutSeconds
    del machine["States"]["Each"]["ItemProcessor"]["States"]["InProcessor"]["TimeoutSeconds"]
    del machine["States"]["Each"]["Iterator"]["States"]["InIterator"]["TimeoutSeconds"]
    made, warnings = timeouts.configure(machine, {"other": other}, "m")
    assert made["States"]["Each"]["ItemProcessor"]["States"]["InProcessor"]["TimeoutSeconds"] == 9
    assert "TimeoutSeconds" not in made["States"]["Each"]["Iterator"]["States"]["InIterator"]
