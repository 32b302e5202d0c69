"""The story pinflow exists for, told through boto3 alone: a deploy while an execution waits does not
change what that execution runs.

IAM CreateRole + PutRolePolicy; Lambda CreateFunction (a ZipFile) + PublishVersion; a state machine
that waits 2 s and calls `hello:1`; StartExecution; then UpdateFunctionCode + PublishVersion and
UpdateStateMachine to call `hello:2` with no Wait; StartExecution again. Both succeed, each with its
own version's answer.
"""

from __future__ import annotations

import importlib.util
import io
import json
import time
import zipfile

import pytest

_MISSING = [name for name in ("pinflow.api.lambda_api", "pinflow.api.iam_api")
            if importlib.util.find_spec(name) is None]
pytestmark = pytest.mark.skipif(bool(_MISSING), reason=f"not here yet: {_MISSING}")

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": ["states.amazonaws.com", "lambda.amazonaws.com"]},
     "Action": "sts:AssumeRole"}]})


def code(answer: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", f"def handler(event, context):\n    return {answer!r}\n")
    return buffer.getvalue()


def machine(function_arn: str, wait: bool) -> str:
    states: dict = {"Hello": {"Type": "Task", "Resource": function_arn, "End": True}}
    if wait:
        states["Wait"] = {"Type": "Wait", "Seconds": 2, "Next": "Hello"}
    return json.dumps({"StartAt": "Wait" if wait else "Hello", "States": states})


def finished(sfn, execution_arn: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described
        time.sleep(0.05)


def test_a_deploy_does_not_change_a_waiting_execution(sfn, lam, iam):
    role_arn = iam.create_role(RoleName="story-role", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    function_arn = "arn:aws:lambda:us-east-1:123456789012:function:hello"
    iam.put_role_policy(RoleName="story-role", PolicyName="invoke", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction",
                                                "Resource": [function_arn, f"{function_arn}:*"]}]}))
    lam.create_function(FunctionName="hello", Runtime="python3.11", Role=role_arn, Handler="app.handler",
                        Code={"ZipFile": code("Approved")})
    assert lam.publish_version(FunctionName="hello")["Version"] == "1"
    arn = sfn.create_state_machine(name="story", roleArn=role_arn,
                                   definition=machine(f"{function_arn}:1", wait=True))["stateMachineArn"]
    first = sfn.start_execution(stateMachineArn=arn, name="day-1")["executionArn"]

    # The deploy, while day-1 waits.
    lam.update_function_code(FunctionName="hello", ZipFile=code("ThumbsUp"))
    assert lam.publish_version(FunctionName="hello")["Version"] == "2"
    sfn.update_state_machine(stateMachineArn=arn, definition=machine(f"{function_arn}:2", wait=False))
    second = sfn.start_execution(stateMachineArn=arn, name="day-2")["executionArn"]
    assert sfn.describe_execution(executionArn=first)["status"] == "RUNNING"

    day2 = finished(sfn, second)
    day1 = finished(sfn, first)
    assert (day1["status"], day2["status"]) == ("SUCCEEDED", "SUCCEEDED"), (day1, day2)
    assert json.loads(day1["output"]) == "Approved"
    assert json.loads(day2["output"]) == "ThumbsUp"
    pinned = sfn.describe_state_machine_for_execution(executionArn=first)["definition"]
    assert f"{function_arn}:1" in pinned
    events = sfn.get_execution_history(executionArn=first)["events"]
    assert [e["type"] for e in events if e["type"].startswith("Lambda")][-1] == "LambdaFunctionSucceeded"
