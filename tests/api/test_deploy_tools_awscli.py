"""The IAM and Lambda calls of a deploy, made with the AWS command line (`aws`) against a real server:
a role with a managed policy, a function with tags, a permission and reserved concurrency, a state
machine that runs with them."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

AWS = shutil.which("aws")
pytestmark = [pytest.mark.skipif(AWS is None, reason="the aws command line is not installed"), pytest.mark.slow]
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:cli-hello"


def aws(endpoint: str, *args: str, ok: bool = True) -> dict:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_PAGER": "", "AWS_DISABLE_HOST_PREFIX_INJECTION": "true"}
    result = subprocess.run([str(AWS), "--endpoint-url", endpoint, "--output", "json", *args],
                            capture_output=True, text=True, timeout=60, env=env)
    if not ok:
        assert result.returncode != 0
        return {"stderr": result.stderr}
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else {}


def test_aws_cli_deploys_with_managed_policies_permissions_and_tags(endpoint, tmp_path: Path):
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    role = aws(endpoint, "iam", "create-role", "--role-name", "cli-flow", "--assume-role-policy-document", trust,
               "--tags", "Key=stack,Value=cli")["Role"]["Arn"]
    document = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": [FUNCTION, f"{FUNCTION}:*"]}]})
    policy = aws(endpoint, "iam", "create-policy", "--policy-name", "cli-invoke",
                 "--policy-document", document)["Policy"]["Arn"]
    aws(endpoint, "iam", "attach-role-policy", "--role-name", "cli-flow", "--policy-arn", policy)
    attached = aws(endpoint, "iam", "list-attached-role-policies", "--role-name", "cli-flow")["AttachedPolicies"]
    assert attached == [{"PolicyName": "cli-invoke", "PolicyArn": policy}]
    assert aws(endpoint, "iam", "list-role-tags", "--role-name", "cli-flow")["Tags"] == [
        {"Key": "stack", "Value": "cli"}]

    archive = tmp_path / "code.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr("app.py", "def handler(event, context):\n    return 'hi from the cli'\n")
    archive.write_bytes(buffer.getvalue())
    created = aws(endpoint, "lambda", "create-function", "--function-name", "cli-hello", "--runtime", "python3.11",
                  "--handler", "app.handler", "--role", "arn:aws:iam::123456789012:role/cli-lambda",
                  "--zip-file", f"fileb://{archive}", "--publish", "--tags", "stack=cli")
    assert created["Version"] == "1"
    statement = aws(endpoint, "lambda", "add-permission", "--function-name", "cli-hello", "--statement-id", "sns",
                    "--action", "lambda:InvokeFunction", "--principal", "sns.amazonaws.com")["Statement"]
    assert json.loads(statement)["Principal"] == {"Service": "sns.amazonaws.com"}
    assert json.loads(aws(endpoint, "lambda", "get-policy", "--function-name", "cli-hello")["Policy"])[
        "Statement"][0]["Sid"] == "sns"
    aws(endpoint, "lambda", "tag-resource", "--resource", FUNCTION, "--tags", "team=blue")
    assert aws(endpoint, "lambda", "list-tags", "--resource", FUNCTION)["Tags"] == {"stack": "cli", "team": "blue"}
    aws(endpoint, "lambda", "put-function-concurrency", "--function-name", "cli-hello",
        "--reserved-concurrent-executions", "10")
    assert aws(endpoint, "lambda", "get-function-concurrency", "--function-name", "cli-hello") == {
        "ReservedConcurrentExecutions": 10}
    assert aws(endpoint, "lambda", "get-account-settings")["AccountLimit"]["UnreservedConcurrentExecutions"] == 990
    refused = aws(endpoint, "lambda", "remove-permission", "--function-name", "cli-hello", "--statement-id", "nope",
                  ok=False)
    assert "ResourceNotFoundException" in refused["stderr"]

    definition = json.dumps({"StartAt": "Hi", "States": {"Hi": {"Type": "Task", "Resource": f"{FUNCTION}:1",
                                                                "End": True}}})
    refused = aws(endpoint, "stepfunctions", "create-state-machine", "--name", "cli-flow", "--definition", definition,
                  "--role-arn", "arn:aws:iam::123456789012:role/not-there", ok=False)
    assert "AccessDeniedException" in refused["stderr"]
    machine = aws(endpoint, "stepfunctions", "create-state-machine", "--name", "cli-flow", "--definition",
                  definition, "--role-arn", role)["stateMachineArn"]
    execution = aws(endpoint, "stepfunctions", "start-execution", "--state-machine-arn", machine)["executionArn"]
    deadline = time.monotonic() + 20
    while (described := aws(endpoint, "stepfunctions", "describe-execution", "--execution-arn",
                            execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert (described["status"], described["output"]) == ("SUCCEEDED", '"hi from the cli"')
