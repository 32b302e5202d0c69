"""What the server checks before any handler runs: unsigned requests are refused before their body is
read, x-amz-* headers must be signed, bodies are capped per operation (Content-Length first, then as
they stream), and paths no operation serves answer Lambda's 404."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from pinflow import errors
from pinflow.api import auth
from tests.api.conftest import RunningServer
from tests.roles import execution_role

KEY_ID, SECRET = "AKIDGATETEST", "gate-secret"
CONFIG = Config(inject_host_prefix=False, retries={"max_attempts": 0}, region_name="us-east-1")
ROLE = "arn:aws:iam::123456789012:role/r"
PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
HUGE = 300 * 1024 * 1024


@pytest.fixture
def guarded(pinflow_service) -> Iterator[RunningServer]:
    running = RunningServer(pinflow_service, auth=auth.Auth({KEY_ID: SECRET}))
    yield running
    running.stop()


@pytest.fixture
def signed_sfn(guarded) -> Iterator:
    client = boto3.client("stepfunctions", endpoint_url=guarded.endpoint, config=CONFIG,
                          aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)
    yield client
    client.close()


@pytest.fixture(autouse=True)
def _execution_role(pinflow_service):
    """CreateStateMachine refuses a role Step Functions cannot assume, as on AWS."""
    execution_role(pinflow_service, ROLE.rsplit("/", 1)[-1])


def _answer_before_body(server: RunningServer, method: str, path: str, headers: dict[str, str],
                        declared: int, chunked: bool = False) -> tuple[int, dict[str, str], bytes]:
    """Send a request's headers and only the start of a large body, then read the answer: it must come
    without the rest of the body (the read times out otherwise)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.putrequest(method, path)
        for name, value in headers.items():
            connection.putheader(name, value)
        if chunked:
            connection.putheader("Transfer-Encoding", "chunked")
        else:
            connection.putheader("Content-Length", str(declared))
        connection.endheaders()
        start = b"x" * (1 << 16)
        if chunked:
            for _ in range(declared // len(start)):
                try:
                    connection.send(b"%x\r\n%s\r\n" % (len(start), start))
                except (BrokenPipeError, ConnectionResetError):
                    break
        else:
            connection.send(start)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    except TimeoutError:
        pytest.fail("the server waited for the whole body before answering")
    finally:
        connection.close()


# --- authentication before the body ------------------------------------------------------------------


def test_an_unsigned_request_is_refused_before_its_body_is_read(guarded):
    status, _, body = _answer_before_body(guarded, "POST", "/", {
        "X-Amz-Target": "AWSStepFunctions.ListStateMachines",
        "Content-Type": "application/x-amz-json-1.0"}, HUGE)
    assert status == 403
    assert json.loads(body)["__type"] == "MissingAuthenticationTokenException"


def test_an_unknown_key_is_refused_before_the_body_is_read(guarded):
    request = AWSRequest("POST", guarded.endpoint + "/2015-03-31/functions", data=b"",
                         headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials("NOBODY", SECRET), "lambda", "us-east-1").add_auth(request)
    headers = {name: value for name, value in request.headers.items() if name.lower() != "content-length"}
    status, answered, _ = _answer_before_body(guarded, "POST", "/2015-03-31/functions", headers, HUGE)
    assert (status, answered["x-amzn-errortype"]) == (403, "UnrecognizedClientException")


def _signed_then_changed(endpoint: str, target: str | None, **added: str) -> urllib.request.Request:
    """A DescribeStateMachine-shaped request signed over host, date and content type only, to which
    headers are added after signing."""
    body = json.dumps({"stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:m"}).encode()
    request = AWSRequest("POST", endpoint + "/", data=body, headers={"Content-Type": "application/x-amz-json-1.0"})
    SigV4Auth(Credentials(KEY_ID, SECRET), "states", "us-east-1").add_auth(request)
    headers = dict(request.headers.items())
    if target is not None:
        headers["X-Amz-Target"] = target
    headers.update(added)
    return urllib.request.Request(endpoint + "/", data=body, headers=headers, method="POST")


def test_an_unsigned_x_amz_target_cannot_choose_the_operation(guarded, signed_sfn):
    machine = signed_sfn.create_state_machine(name="m", definition=PASS, roleArn=ROLE)["stateMachineArn"]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(_signed_then_changed(guarded.endpoint, "AWSStepFunctions.DeleteStateMachine"))
    assert refused.value.code == 403
    assert json.loads(refused.value.read()) == {
        "__type": "InvalidSignatureException",
        "message": "There were headers present in the request which were not signed: x-amz-target"}
    assert [m["stateMachineArn"] for m in signed_sfn.list_state_machines()["stateMachines"]] == [machine]


def test_every_x_amz_header_must_be_signed():
    request = AWSRequest("POST", "http://127.0.0.1:8083/2015-03-31/functions/f/invocations", data=b"{}")
    SigV4Auth(Credentials(KEY_ID, SECRET), "lambda", "us-east-1").add_auth(request)
    headers = [*request.headers.items(), ("Host", "127.0.0.1:8083"), ("X-Amz-Invocation-Type", "Event"),
               ("X-Amzn-Trace-Id", "Root=1-abc")]  # x-amzn-* is not an x-amz-* header
    checker = auth.Auth({KEY_ID: SECRET})
    with pytest.raises(errors.InvalidSignatureException) as caught:
        checker.check_headers(headers)
    assert caught.value.message.endswith("not signed: x-amz-invocation-type")
    # Headers botocore signs itself pass.
    signed = AWSRequest("POST", "http://127.0.0.1:8083/2015-03-31/functions/f/invocations", data=b"{}",
                        headers={"X-Amz-Invocation-Type": "Event", "Host": "127.0.0.1:8083"})
    SigV4Auth(Credentials(KEY_ID, SECRET), "lambda", "us-east-1").add_auth(signed)
    checked = checker.check_headers(list(signed.headers.items()))
    assert checker.check_signature(checked, "POST", "/2015-03-31/functions/f/invocations", "", b"{}") == KEY_ID


def test_signed_clients_still_work_through_the_gate(guarded, signed_sfn):
    lam = boto3.client("lambda", endpoint_url=guarded.endpoint, config=CONFIG, aws_access_key_id=KEY_ID,
                       aws_secret_access_key=SECRET)
    try:
        assert lam.list_functions()["Functions"] == []
        with pytest.raises(ClientError) as missing:
            lam.invoke(FunctionName="nope", InvocationType="Event", Payload=b"{}")
        assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    finally:
        lam.close()
    arn = signed_sfn.create_state_machine(name="m", definition=PASS, roleArn=ROLE, type="EXPRESS")
    assert signed_sfn.start_sync_execution(stateMachineArn=arn["stateMachineArn"])["status"] == "SUCCEEDED"


# --- body limits ---------------------------------------------------------------------------------------


def test_a_step_functions_request_over_1_mib_is_refused_from_its_content_length(server):
    status, _, body = _answer_before_body(server, "POST", "/", {
        "X-Amz-Target": "AWSStepFunctions.CreateStateMachine",
        "Content-Type": "application/x-amz-json-1.0"}, 1_048_577)
    assert status == 413
    assert json.loads(body) == {"__type": "RequestEntityTooLargeException", "message":
                                "Request must be smaller than 1048576 bytes for the CreateStateMachine operation"}


def test_a_streamed_body_is_refused_once_it_passes_the_limit(server):
    status, _, body = _answer_before_body(server, "POST", "/", {
        "X-Amz-Target": "AWSStepFunctions.CreateStateMachine",
        "Content-Type": "application/x-amz-json-1.0"}, 4 * 1024 * 1024, chunked=True)
    assert status == 413
    assert json.loads(body)["__type"] == "RequestEntityTooLargeException"


def test_an_iam_request_over_1_mib_is_refused_in_the_query_shape(server):
    status, _, body = _answer_before_body(server, "POST", "/", {
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, 2 * 1024 * 1024)
    assert status == 413
    assert b"<Code>RequestEntityTooLargeException</Code>" in body


@pytest.mark.parametrize(("path", "method", "limit", "operation"), [
    ("/2015-03-31/functions", "POST", 69_905_067, "CreateFunction"),
    ("/2015-03-31/functions/f/code", "PUT", 69_905_067, "UpdateFunctionCode"),
])
def test_lambda_code_uploads_are_capped_at_lambdas_direct_upload_limit(server, path, method, limit, operation):
    status, headers, body = _answer_before_body(server, method, path, {"Content-Type": "application/json"},
                                                limit + 1)
    assert (status, headers["x-amzn-errortype"]) == (413, "RequestEntityTooLargeException")
    assert json.loads(body)["message"] == f"Request must be smaller than {limit} bytes for the {operation} operation"


def test_an_invoke_payload_over_6_mb_is_refused_as_lambda_does(lam):
    with pytest.raises(ClientError) as caught:
        lam.invoke(FunctionName="anything", Payload=b'"' + b"x" * 6_291_456 + b'"')
    response = caught.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert response["Error"]["Code"] == "RequestTooLargeException"
    assert response["Error"]["Message"] == (
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation")


def test_bodies_under_the_limits_are_served(sfn):
    # Just under 1 MiB in total: a definition whose Comment is large.
    definition = json.dumps({"Comment": "c" * 900_000, "StartAt": "P",
                             "States": {"P": {"Type": "Pass", "End": True}}})
    assert sfn.create_state_machine(name="big", definition=definition, roleArn=ROLE)["stateMachineArn"]


# --- unknown paths ---------------------------------------------------------------------------------------


def test_unknown_lambda_paths_and_methods_answer_404_unknown_operation(server, lam):
    for method, path in (("GET", "/2015-03-31/functions/f/nope"), ("PATCH", "/2015-03-31/functions/f"),
                         ("GET", "/2021-10-31/functions/f/url")):
        request = urllib.request.Request(server.endpoint + path, method=method)
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request)
        assert caught.value.code == 404
        assert caught.value.headers["x-amzn-ErrorType"] == "UnknownOperationException"
        assert json.loads(caught.value.read()) == {"Type": "User", "message": "Unknown operation"}
    with pytest.raises(ClientError) as unserved:
        lam.get_function_url_config(FunctionName="f")
    assert unserved.value.response["Error"]["Code"] == "UnknownOperationException"
