"""The `pinflow` commands that talk to a server (executions, functions, state-machines), run against a
real server."""

from __future__ import annotations

import importlib.util
import io
import json
import time
import zipfile

import pytest
from click.testing import CliRunner

from pinflow.cli import main
from tests.roles import execution_role

ROLE = "arn:aws:iam::123456789012:role/r"
WAIT = json.dumps({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}})
FAIL = json.dumps({"StartAt": "Greet", "States": {
    "Greet": {"Type": "Pass", "Parameters": {"greeting.$": "States.Format('hi {}', $.who)"}, "Next": "Fail"},
    "Fail": {"Type": "Fail", "Error": "Nope", "Cause": "always"}}})


@pytest.fixture(autouse=True)
def _execution_role(pinflow_service):
    """CreateStateMachine refuses a role Step Functions cannot assume, as on AWS."""
    execution_role(pinflow_service, ROLE.rsplit("/", 1)[-1])


def run(endpoint: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*args, "--endpoint", endpoint], catch_exceptions=False)
    return result.exit_code, result.output


def wait_status(sfn, arn: str) -> str:
    deadline = time.monotonic() + 10
    while True:
        status = sfn.describe_execution(executionArn=arn)["status"]
        if status != "RUNNING" or time.monotonic() > deadline:
            return status
        time.sleep(0.02)


def test_start_describe_history_list(endpoint, sfn):
    sfn.create_state_machine(name="greeter", definition=FAIL, roleArn=ROLE)
    code, output = run(endpoint, "executions", "start", "greeter", "--name", "e1",
                       "--input", '{"who": "Ada"}')
    assert code == 0, output
    started = json.loads(output)
    assert started["executionArn"] == "arn:aws:states:us-east-1:123456789012:execution:greeter:e1"
    assert wait_status(sfn, started["executionArn"]) == "FAILED"
    code, output = run(endpoint, "executions", "describe", started["executionArn"])
    described = json.loads(output)
    assert (code, described["status"], described["error"]) == (0, "FAILED", "Nope")
    code, output = run(endpoint, "executions", "history", started["executionArn"])
    assert code == 0
    for expected in ("ExecutionStarted", "PassStateEntered", "FailStateEntered", "ExecutionFailed", "Greet",
                     "error=Nope"):
        assert expected in output, output
    code, output = run(endpoint, "executions", "history", started["executionArn"], "--output", "json")
    events = json.loads(output)
    assert [e["type"] for e in events][-1] == "ExecutionFailed"
    assert json.loads(events[2]["stateExitedEventDetails"]["output"]) == {"greeting": "hi Ada"}
    code, output = run(endpoint, "executions", "list", "greeter", "--status", "FAILED")
    assert code == 0 and "e1" in output and "FAILED" in output
    code, output = run(endpoint, "executions", "list", "greeter", "--status", "SUCCEEDED", "--output", "json")
    assert (code, json.loads(output)) == (0, [])


def test_input_from_a_file_stop_and_redrive(endpoint, sfn, tmp_path):
    arn = sfn.create_state_machine(name="slow", definition=WAIT, roleArn=ROLE)["stateMachineArn"]
    payload = tmp_path / "input.json"
    payload.write_text('{"from": "file"}')
    code, output = run(endpoint, "executions", "start", arn, "--input", f"@{payload}")
    execution = json.loads(output)["executionArn"]
    assert sfn.describe_execution(executionArn=execution)["input"] == '{"from": "file"}'
    code, output = run(endpoint, "executions", "stop", execution, "--error", "Halt", "--cause", "test")
    assert code == 0 and "stopDate" in json.loads(output)
    assert sfn.describe_execution(executionArn=execution)["status"] == "ABORTED"
    code, output = run(endpoint, "executions", "redrive", execution)
    assert code == 0 and "redriveDate" in json.loads(output)
    assert sfn.describe_execution(executionArn=execution)["redriveCount"] == 1
    sfn.stop_execution(executionArn=execution)


def test_errors_exit_with_status_one(endpoint):
    missing = "arn:aws:states:us-east-1:123456789012:execution:x:y"
    code, output = run(endpoint, "executions", "describe", missing)
    assert code == 1
    assert "ExecutionDoesNotExist: Execution Does Not Exist" in output
    code, output = run(endpoint, "executions", "start", "nothing-here")
    assert (code, "StateMachineDoesNotExist" in output) == (1, True)
    code, output = run(endpoint, "executions", "start", "m", "--input", "{bad")
    assert code == 2 and "not JSON" in output


def test_unreachable_server(tmp_path):
    code, output = run("http://127.0.0.1:9", "state-machines", "list")
    assert code == 1
    assert output == ("cannot reach a pinflow server at http://127.0.0.1:9 (start one with `pinflow server`, or "
                      "give --endpoint)\n")


@pytest.mark.parametrize(("given", "said"), [
    ("127.0.0.1:9", "cannot reach a pinflow server at http://127.0.0.1:9"),  # no scheme: http is meant
    ("http://127.0.0.1:9/api", "a pinflow server is addressed without a path; give http://127.0.0.1:9"),
    ("ftp://127.0.0.1:9", "only http:// and https:// are served"),
])
def test_endpoints_as_people_give_them(given, said):
    code, output = run(given, "state-machines", "list")
    assert code == 1
    assert said in output and len(output.strip().splitlines()) == 1 and "Traceback" not in output


def test_state_machines_list(endpoint, sfn):
    for name in ("alpha", "beta"):
        sfn.create_state_machine(name=name, definition=WAIT, roleArn=ROLE)
    code, output = run(endpoint, "state-machines", "list")
    assert code == 0 and "alpha" in output and "beta" in output and "STANDARD" in output
    code, output = run(endpoint, "state-machines", "list", "--output", "json")
    assert [m["name"] for m in json.loads(output)] == ["alpha", "beta"]


def test_endpoint_from_the_environment(endpoint, sfn, monkeypatch):
    sfn.create_state_machine(name="env", definition=WAIT, roleArn=ROLE)
    result = CliRunner().invoke(main, ["state-machines", "list", "--output", "json"],
                                env={"PINFLOW_ENDPOINT": endpoint})
    assert [m["name"] for m in json.loads(result.output)] == ["env"]


@pytest.mark.skipif(importlib.util.find_spec("pinflow.api.lambda_api") is None,
                    reason="the Lambda API is not here yet")
def test_functions_invoke(endpoint, server):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n"
                                   "    if event.get('fail'):\n        raise ValueError('asked to')\n"
                                   "    return {'echo': event}\n")
    server.pf.functions.create_function("echo", buffer.getvalue(), handler="app.handler", publish=True)
    code, output = run(endpoint, "functions", "invoke", "echo", "--payload", '{"x": 1}')
    assert (code, json.loads(output)) == (0, {"echo": {"x": 1}})
    code, output = run(endpoint, "functions", "invoke", "echo", "--payload", '{"fail": true}',
                       "--qualifier", "1")
    assert code == 1
    assert "Unhandled" in output and "asked to" in output
