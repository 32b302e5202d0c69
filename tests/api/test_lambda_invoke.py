"""Lambda's Invoke through boto3: invocation types, headers, function errors, alias routing, and
DeleteFunction refused while a running execution holds a version."""

from __future__ import annotations

import base64
import json
import socket

import pytest
from botocore.exceptions import ClientError

from tests.api.test_lambda_functions import ARN, create, error_of, zip_of
from tests.roles import execution_role

ECHO = """
def handler(event, context):
    return {"event": event, "version": context.function_version, "arn": context.invoked_function_arn,
            "request_id": context.aws_request_id}
"""
FAILING = """
def handler(event, context):
    raise ValueError("bad input: " + str(event.get("n")))
"""
CHATTY = """
def handler(event, context):
    print("hello-log line")
    return "done"
"""
# Talks to the test over loopback: a sandboxed function cannot see the test's files.
BACKGROUND = """
import socket

def handler(event, context):
    with socket.create_connection(("127.0.0.1", event["port"]), timeout=20) as channel:
        if channel.recv(2) == b"go":
            channel.sendall(context.aws_request_id.encode())
"""
SLOW = """
import time

def handler(event, context):
    time.sleep(5)
"""


def payload_of(response) -> object:
    return json.loads(response["Payload"].read())


def test_request_response_answers_the_result_and_the_executed_version(lam):
    create(lam, source=ECHO)
    response = lam.invoke(FunctionName="hello", Payload=json.dumps({"n": 1}))
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in response
    assert "LogResult" not in response
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amz-executed-version"] == "$LATEST"
    result = payload_of(response)
    assert result["event"] == {"n": 1}
    assert result["version"] == "$LATEST"
    assert result["arn"] == f"{ARN}:hello"
    assert result["request_id"] == headers["x-amzn-requestid"]


def test_an_empty_payload_is_the_empty_object(lam):
    create(lam, source=ECHO)
    assert payload_of(lam.invoke(FunctionName="hello"))["event"] == {}


def test_a_handler_returning_none_answers_null(lam):
    create(lam, source="def handler(event, context):\n    pass\n")
    response = lam.invoke(FunctionName="hello")
    assert response["Payload"].read() == b"null"


def test_qualifier_and_qualified_names_run_that_version(lam):
    create(lam, source=ECHO, Publish=True)
    lam.update_function_code(FunctionName="hello", ZipFile=zip_of(ECHO + "# two\n"), Publish=True)
    by_parameter = lam.invoke(FunctionName="hello", Qualifier="1")
    assert by_parameter["ExecutedVersion"] == "1"
    assert payload_of(by_parameter)["version"] == "1"
    by_arn = lam.invoke(FunctionName=f"{ARN}:hello:2")
    assert by_arn["ExecutedVersion"] == "2"
    assert payload_of(by_arn)["arn"] == f"{ARN}:hello:2"
    by_partial = lam.invoke(FunctionName="123456789012:function:hello:1")
    assert by_partial["ExecutedVersion"] == "1"
    assert lam.invoke(FunctionName="hello", Qualifier="$LATEST")["ExecutedVersion"] == "$LATEST"


def test_a_raised_exception_is_an_unhandled_function_error(lam):
    create(lam, source=FAILING)
    response = lam.invoke(FunctionName="hello", Payload=json.dumps({"n": 7}))
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert response["ExecutedVersion"] == "$LATEST"
    document = payload_of(response)
    assert document["errorType"] == "ValueError"
    assert document["errorMessage"] == "bad input: 7"
    assert document["requestId"] == response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    assert isinstance(document["stackTrace"], list) and document["stackTrace"]
    assert list(document) == ["errorMessage", "errorType", "requestId", "stackTrace"]


def test_a_timeout_is_an_unhandled_sandbox_timeout(lam):
    create(lam, source=SLOW, Timeout=1)
    response = lam.invoke(FunctionName="hello")
    assert response["FunctionError"] == "Unhandled"
    document = payload_of(response)
    assert document["errorType"] == "Sandbox.Timedout"
    assert document["errorMessage"].endswith("Task timed out after 1.00 seconds")


def test_log_type_tail_answers_the_base64_log_tail(lam):
    create(lam, source=CHATTY)
    response = lam.invoke(FunctionName="hello", LogType="Tail")
    assert payload_of(response) == "done"
    log = base64.b64decode(response["LogResult"]).decode()
    request_id = response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    assert "hello-log line" in log
    assert f"START RequestId: {request_id} Version: $LATEST" in log
    assert f"END RequestId: {request_id}" in log
    assert f"REPORT RequestId: {request_id}" in log
    assert "LogResult" not in lam.invoke(FunctionName="hello", LogType="None")


def test_event_answers_202_and_runs_in_the_background(lam):
    create(lam, source=BACKGROUND, Timeout=30)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(20)
        response = lam.invoke(FunctionName="hello", InvocationType="Event",
                              Payload=json.dumps({"port": listener.getsockname()[1]}))
        # The handler waits for "go", which is sent only once Invoke has answered.
        assert response["StatusCode"] == 202
        assert response["Payload"].read() == b""
        channel, _ = listener.accept()
        with channel:
            channel.settimeout(20)
            channel.sendall(b"go")
            received = b""
            while chunk := channel.recv(64):
                received += chunk
    assert received.decode() == response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]


def test_dry_run_answers_204_without_running(lam):
    create(lam, source=FAILING)
    response = lam.invoke(FunctionName="hello", InvocationType="DryRun")
    assert response["StatusCode"] == 204
    assert "FunctionError" not in response
    with pytest.raises(ClientError) as info:
        lam.invoke(FunctionName="nope", InvocationType="DryRun")
    assert error_of(info)[:2] == ("ResourceNotFoundException", 404)


def test_invoking_a_missing_function_version_or_alias_is_404(lam):
    with pytest.raises(ClientError) as info:
        lam.invoke(FunctionName="nope")
    assert error_of(info) == ("ResourceNotFoundException", 404, f"Function not found: {ARN}:nope")
    create(lam, source=ECHO)
    for qualifier in ("5", "missing"):
        with pytest.raises(ClientError) as info:
            lam.invoke(FunctionName="hello", Qualifier=qualifier)
        assert error_of(info) == ("ResourceNotFoundException", 404, f"Function not found: {ARN}:hello:{qualifier}")


def test_a_payload_that_is_not_json_is_refused(lam):
    create(lam, source=ECHO)
    with pytest.raises(ClientError) as info:
        lam.invoke(FunctionName="hello", Payload=b"{not json")
    code, status, message = error_of(info)
    assert (code, status) == ("InvalidRequestContentException", 400)
    assert message.startswith("Could not parse request body into json: Could not parse payload into json")


def test_an_unknown_invocation_type_is_refused(lam):
    create(lam, source=ECHO)
    with pytest.raises(ClientError) as info:
        lam.invoke(FunctionName="hello", InvocationType="Sometimes")
    assert error_of(info) == (
        "ValidationException", 400,
        "1 validation error detected: Value 'Sometimes' at 'invocationType' failed to satisfy constraint: "
        "Member must satisfy enum value set: [RequestResponse, Event, DryRun]")


@pytest.mark.parametrize("runtime", ["java21", "ruby3.3", "nodejs20.x without node"])
def test_a_runtime_that_cannot_run_here_is_refused_at_creation(lam, runtime, monkeypatch):
    # Accepted, it could only ever fail later, at Invoke, with a 502 InvalidRuntimeException.
    if runtime.endswith(" without node"):
        from pinflow.functions.runtimes import node

        monkeypatch.setattr(node, "find", lambda: None)
        runtime = runtime.split()[0]
    with pytest.raises(ClientError) as info:
        create(lam, source=ECHO, Runtime=runtime)
    assert error_of(info)[:2] == ("InvalidParameterValueException", 400)
    create(lam, source=ECHO)
    with pytest.raises(ClientError) as info:
        lam.update_function_configuration(FunctionName="hello", Runtime=runtime)
    assert error_of(info)[:2] == ("InvalidParameterValueException", 400)


def test_an_alias_runs_its_version_and_reports_it(lam):
    create(lam, source=ECHO, Publish=True)
    lam.update_function_code(FunctionName="hello", ZipFile=zip_of(ECHO + "# two\n"), Publish=True)
    lam.create_alias(FunctionName="hello", Name="live", FunctionVersion="1")
    response = lam.invoke(FunctionName="hello", Qualifier="live")
    assert response["ExecutedVersion"] == "1"
    result = payload_of(response)
    assert (result["version"], result["arn"]) == ("1", f"{ARN}:hello:live")
    assert lam.invoke(FunctionName="hello:live")["ExecutedVersion"] == "1"


def test_alias_routing_sends_the_weighted_share_to_the_additional_version(lam):
    create(lam, source=ECHO, Publish=True)
    lam.update_function_code(FunctionName="hello", ZipFile=zip_of(ECHO + "# two\n"), Publish=True)
    lam.create_alias(FunctionName="hello", Name="canary", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 1.0}})
    assert {lam.invoke(FunctionName="hello:canary")["ExecutedVersion"] for _ in range(3)} == {"2"}
    lam.update_alias(FunctionName="hello", Name="canary", RoutingConfig={"AdditionalVersionWeights": {"2": 0.0}})
    assert {lam.invoke(FunctionName="hello:canary")["ExecutedVersion"] for _ in range(3)} == {"1"}
    lam.update_alias(FunctionName="hello", Name="canary", RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    # Each call draws on its own: 40 calls all on one side happen with probability 2**-39.
    executed = [lam.invoke(FunctionName="hello:canary")["ExecutedVersion"] for _ in range(40)]
    assert set(executed) == {"1", "2"}


def test_delete_function_is_refused_while_a_running_execution_holds_the_version(server, lam):
    create(lam, source=ECHO, Publish=True)
    pf = server.pf
    definition = {"StartAt": "Later", "States": {
        "Later": {"Type": "Wait", "Seconds": 3600, "Next": "Call"},
        "Call": {"Type": "Task", "Resource": f"{ARN}:hello:1", "End": True}}}
    machine = pf.machines.create("waiter", json.dumps(definition), execution_role(pf, "sfn-role"))
    execution = pf.engine.start_execution(machine["stateMachineArn"], name="held")["executionArn"]
    assert pf.engine.execution_row(execution)["status"] == "RUNNING"

    with pytest.raises(ClientError) as info:
        lam.delete_function(FunctionName="hello", Qualifier="1")
    code, status, message = error_of(info)
    assert (code, status) == ("ResourceConflictException", 409)
    assert f"{ARN}:hello:1" in message and execution in message
    with pytest.raises(ClientError) as info:
        lam.delete_function(FunctionName="hello")
    code, status, message = error_of(info)
    assert (code, status) == ("ResourceConflictException", 409)
    assert execution in message

    # Stopped, the execution can still be redriven (for 14 days), on the same version: still held.
    pf.engine.stop_execution(execution)
    with pytest.raises(ClientError) as info:
        lam.delete_function(FunctionName="hello", Qualifier="1")
    assert error_of(info)[0] == "ResourceConflictException"
    with pf.store.transaction() as tx:  # what the engine's sweep does once the redrive window closes
        tx.execute("DELETE FROM execution_refs WHERE execution = ?", (execution,))
    assert lam.delete_function(FunctionName="hello", Qualifier="1")["ResponseMetadata"]["HTTPStatusCode"] == 204
