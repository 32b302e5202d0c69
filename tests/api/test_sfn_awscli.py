"""A smoke test with the AWS command line (`aws`) against a real server: list, create, start, describe."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

import pytest

from tests.roles import execution_role

AWS = shutil.which("aws")
pytestmark = pytest.mark.skipif(AWS is None, reason="the aws command line is not installed")


def aws(endpoint: str, *args: str) -> dict:
    # The host prefix off: StartSyncExecution would go to sync-127.0.0.1 otherwise.
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_PAGER": "", "AWS_DISABLE_HOST_PREFIX_INJECTION": "true"}
    command = [str(AWS), "--endpoint-url", endpoint, "--output", "json", "stepfunctions", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else {}


def test_aws_cli_lists_creates_starts_describes(endpoint, pinflow_service):
    execution_role(pinflow_service, "r")
    assert aws(endpoint, "list-state-machines") == {"stateMachines": []}
    definition = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "hi", "End": True}}})
    created = aws(endpoint, "create-state-machine", "--name", "cli", "--definition", definition,
                  "--role-arn", "arn:aws:iam::123456789012:role/r")
    assert created["stateMachineArn"] == "arn:aws:states:us-east-1:123456789012:stateMachine:cli"
    started = aws(endpoint, "start-execution", "--state-machine-arn", created["stateMachineArn"],
                  "--name", "from-cli", "--input", '{"a": 1}')
    deadline = time.monotonic() + 10
    while True:
        described = aws(endpoint, "describe-execution", "--execution-arn", started["executionArn"])
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert (described["status"], described["output"]) == ("SUCCEEDED", '"hi"')
    assert [m["name"] for m in aws(endpoint, "list-state-machines")["stateMachines"]] == ["cli"]
    express = aws(endpoint, "create-state-machine", "--name", "cli-express", "--definition", definition,
                  "--role-arn", "arn:aws:iam::123456789012:role/r", "--type", "EXPRESS")
    done = aws(endpoint, "start-sync-execution", "--state-machine-arn", express["stateMachineArn"])
    assert (done["status"], done["output"]) == ("SUCCEEDED", '"hi"')
