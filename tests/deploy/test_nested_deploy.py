"""A project whose state machine starts another of the project's state machines: with useExactVersion the
Task is rewritten to the child's version just published (a pinflow extension: the serverless-step-functions
plugin pins only functions), so a parent execution still running when v2 is deployed keeps starting the
child's v1; the plan lists each running execution's child references, pinned or live."""

from __future__ import annotations

import io
import json
import time

from rich.console import Console

from pinflow import arns
from pinflow.deploy import apply, project

PROJECT = """
service: svc
stepFunctions:
  stateMachines:
    child:
      name: child
      useExactVersion: true
      definition:
        StartAt: Answer
        States:
          Answer: {Type: Pass, Result: "%(answer)s", End: true}
    parent:
      name: parent
      useExactVersion: %(exact)s
      definition:
        StartAt: Hold
        States:
          Hold: {Type: Wait, SecondsPath: "$.wait", Next: Call}
          Call:
            Type: Task
            Resource: arn:aws:states:::states:startExecution.sync:2
            Parameters:
              StateMachineArn: !GetAtt ChildStepFunctionsStateMachine.Arn
              Input: {}
            OutputPath: $.Output
            End: true
"""


def _deploy(make_project, cl, answer: str, exact: str = "true") -> apply.Result:
    path = make_project(PROJECT % {"answer": answer, "exact": exact}, files={})
    result = apply.deploy(project.load(path), cl, Console(file=io.StringIO(), width=200))
    assert result.status == 0
    return result


def _output(cl, arn: str, timeout: float = 20) -> object:
    deadline = time.monotonic() + timeout
    while (described := cl.sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert described["status"] == "SUCCEEDED", described
    return json.loads(described["output"])


def test_a_running_parent_keeps_starting_the_child_version_it_was_deployed_with(make_project, cl) -> None:
    first = _deploy(make_project, cl, "v1")
    assert first.outcome is not None
    assert first.outcome.machines == {"child": f"{arns.state_machine('child')}:1",
                                      "parent": f"{arns.state_machine('parent')}:1"}
    deployed = json.loads(cl.sfn.describe_state_machine(stateMachineArn=arns.state_machine("parent"))["definition"])
    assert deployed["States"]["Call"]["Parameters"]["StateMachineArn"] == f"{arns.state_machine('child')}:1"
    # The generated role may start the child (any version: IAM authorises the unqualified ARN) and watch it.
    role = cl.iam.get_role_policy(RoleName="parent-role", PolicyName="pinflow-deploy")["PolicyDocument"]
    granted = {action for statement in role["Statement"] for action in statement["Action"]}
    assert {"states:StartExecution", "states:DescribeExecution", "states:StopExecution"} <= granted

    old = cl.sfn.start_execution(stateMachineArn=f"{arns.state_machine('parent')}:1", name="old",
                                 input='{"wait": 4}')["executionArn"]
    plan = apply.prepare(project.load(make_project(PROJECT % {"answer": "v2", "exact": "true"}, files={})),
                         cl).the_plan
    (impact,) = [i for i in plan.executions if i.execution.arn == old]
    assert impact.calls == ()  # no function
    assert [call.describe() for call in impact.children] == ["child state machine child:1 (pinned)"]
    assert not impact.affected
    (parent_change,) = [m for m in plan.machines if m.name == "parent"]
    assert parent_change.pinned == ("Call: child -> next version",)

    second = _deploy(make_project, cl, "v2")
    assert second.outcome is not None and second.outcome.machines["child"].endswith(":2")
    new = cl.sfn.start_execution(stateMachineArn=arns.state_machine("parent"), name="new",
                                 input='{"wait": 0}')["executionArn"]
    assert _output(cl, new) == "v2"
    assert _output(cl, old) == "v1"  # deployed before v2, and it still starts child:1


def test_an_unpinned_child_reference_is_live_and_the_plan_warns_when_the_child_changes(make_project, cl) -> None:
    _deploy(make_project, cl, "v1", exact="false")
    running = cl.sfn.start_execution(stateMachineArn=arns.state_machine("parent"), name="live",
                                     input='{"wait": 4}')["executionArn"]
    plan = apply.prepare(project.load(make_project(PROJECT % {"answer": "v2", "exact": "false"}, files={})),
                         cl).the_plan
    (impact,) = [i for i in plan.executions if i.execution.arn == running]
    (call,) = impact.children
    assert call.live and "unqualified: live" in call.describe()
    assert impact.warnings == ["Call: starts child state machine child live and this deploy changes its definition"]
    _deploy(make_project, cl, "v2", exact="false")
    assert _output(cl, running) == "v2"  # as on AWS: an unqualified child starts what is current then
