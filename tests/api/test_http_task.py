"""HTTP Tasks (`arn:aws:states:::http:invoke`) through boto3 against a real server, calling a real HTTP
server on loopback, with connections made through EventBridge's API on the same server.

What AWS documents ("Call HTTPS APIs in Step Functions workflows",
docs.aws.amazon.com/step-functions/latest/dg/call-https-apis.html): the fields ApiEndpoint, Method,
Authentication.ConnectionArn, Headers, QueryParameters, RequestBody and Transform (URL_ENCODED, with
RequestEncodingOptions.ArrayFormat INDICES, REPEAT, COMMAS or BRACKETS); the result {Headers,
ResponseBody, StatusCode, StatusText}; errors States.Http.StatusCode.<code> and States.Http.Socket; the
IAM actions states:InvokeHTTPEndpoint and events:RetrieveConnectionCredentials. The connection's
InvocationHttpParameters are merged in with the connection's values winning (EventBridge's API reference,
HttpParameters). Secrets stay out of histories, answers and logs.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from botocore.exceptions import ClientError

from pinflow.service import Pinflow
from tests.api.conftest import RunningServer
from tests.api.http_target import (
    CLIENT_ID,
    CLIENT_SECRET,
    ENDLESS,
    LEAKY_TOKEN,
    ROTATED_SECRET,
    ROTATED_TOKEN,
    TOKEN,
    Target,
)

HTTP = "arn:aws:states:::http:invoke"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
HTTP_GRANTS = [{"Effect": "Allow", "Action": ["states:InvokeHTTPEndpoint", "events:RetrieveConnectionCredentials"],
                "Resource": "*"}]
API_KEY, PASSWORD, TENANT = "api-key-value-5c2e", "password-value-c81d", "tenant-value-4b9e"


@pytest.fixture
def target() -> Iterator[Target]:
    served = Target()
    yield served
    served.stop()


@pytest.fixture
def http_server(tmp_path: Path, target: Target) -> Iterator[RunningServer]:
    # Loopback is not a public address: this server lets HTTP Tasks reach the test's server by name.
    pf = Pinflow.open(data_dir=tmp_path / "data", http_hosts=f"public,127.0.0.1:{target.port}")
    server = RunningServer(pf)
    yield server
    server.stop()
    pf.close()


@pytest.fixture
def clients(http_server: RunningServer) -> Iterator[dict[str, Any]]:
    made = {name: http_server.client(name) for name in ("stepfunctions", "iam", "events")}
    yield made
    for client in made.values():
        client.close()


def _role(iam: Any, name: str, statements: list[dict[str, Any]]) -> str:
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="http",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    return str(arn)


def _run(clients: dict[str, Any], name: str, definition: dict[str, Any], role: str | None = None,
         input: Any = None) -> dict[str, Any]:
    sfn = clients["stepfunctions"]
    role = role or _role(clients["iam"], f"{name}-role", HTTP_GRANTS)
    machine = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=role)["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps(input or {}))["executionArn"]
    deadline = time.monotonic() + 30
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return dict(described)


def _task(connection: str, endpoint: str, **fields: Any) -> dict[str, Any]:
    parameters = {"ApiEndpoint": endpoint, "Method": "GET", "Authentication": {"ConnectionArn": connection}}
    parameters.update(fields)
    return {"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": HTTP, "Parameters": parameters,
                                                   "End": True}}}


def _api_key(events: Any, name: str = "api-key") -> str:
    return str(events.create_connection(
        Name=name, AuthorizationType="API_KEY",
        AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": API_KEY},
                        "InvocationHttpParameters": {
                            "HeaderParameters": [{"Key": "x-team", "Value": "connection", "IsValueSecret": False}],
                            "QueryStringParameters": [{"Key": "tenant", "Value": TENANT, "IsValueSecret": True}],
                            "BodyParameters": [{"Key": "source", "Value": "connection"}]}})["ConnectionArn"])


def test_an_api_key_call_sends_the_fields_merged_with_the_connection_and_answers_as_aws(clients, target) -> None:
    connection = _api_key(clients["events"])
    definition = _task(connection, f"{target.url}/orders", Method="POST",
                       Headers={"x-team": "task", "x-trace": "abc"},
                       QueryParameters={"page": "2", "tenant": "task"},
                       RequestBody={"order.$": "$.order", "source": "task"})
    described = _run(clients, "api-key-call", definition, input={"order": 7})
    assert described["status"] == "SUCCEEDED", described
    (seen,) = target.requests
    assert (seen["method"], seen["path"]) == ("POST", "/orders")
    assert seen["headers"]["x-api-key"] == API_KEY
    assert seen["headers"]["x-trace"] == "abc" and seen["headers"]["x-team"] == "connection"  # the connection wins
    assert seen["query"] == {"page": ["2"], "tenant": [TENANT]}
    assert seen["headers"]["content-type"] == "application/json"
    assert json.loads(seen["body"]) == {"order": 7, "source": "connection"}
    output = json.loads(described["output"])
    assert set(output) == {"Headers", "ResponseBody", "StatusCode", "StatusText"}
    assert (output["StatusCode"], output["StatusText"]) == (200, "OK")
    assert output["ResponseBody"]["echo"]["method"] == "POST"  # a JSON answer comes back as JSON
    assert {name.lower(): value for name, value in output["Headers"].items()}["x-target"] == ["yes"]
    scheduled = clients["stepfunctions"].get_execution_history(executionArn=described["executionArn"])["events"][2]
    assert (scheduled["type"], scheduled["taskScheduledEventDetails"]["resourceType"],
            scheduled["taskScheduledEventDetails"]["resource"]) == ("TaskScheduled", "http", "invoke")


def test_basic_authorization(clients, target) -> None:
    connection = clients["events"].create_connection(
        Name="basic", AuthorizationType="BASIC",
        AuthParameters={"BasicAuthParameters": {"Username": "ada", "Password": PASSWORD}})["ConnectionArn"]
    described = _run(clients, "basic-call", _task(connection, f"{target.url}/who"))
    assert described["status"] == "SUCCEEDED"
    import base64

    assert target.requests[0]["headers"]["authorization"] == "Basic " + base64.b64encode(
        f"ada:{PASSWORD}".encode()).decode()


def test_oauth_client_credentials_gets_a_token_from_the_endpoint_and_sends_it(clients, target) -> None:
    events = clients["events"]
    connection = events.create_connection(
        Name="oauth", AuthorizationType="OAUTH_CLIENT_CREDENTIALS",
        AuthParameters={"OAuthParameters": {
            "ClientParameters": {"ClientID": CLIENT_ID, "ClientSecret": CLIENT_SECRET},
            "AuthorizationEndpoint": f"{target.url}/token", "HttpMethod": "POST",
            "OAuthHttpParameters": {"BodyParameters": [{"Key": "grant_type", "Value": "client_credentials"}]}}})
    assert connection["ConnectionState"] == "AUTHORIZING"
    first = _run(clients, "oauth-call", _task(connection["ConnectionArn"], f"{target.url}/secure"))
    second = _run(clients, "oauth-again", _task(connection["ConnectionArn"], f"{target.url}/secure"))
    assert first["status"] == second["status"] == "SUCCEEDED", first
    paths = [seen["path"] for seen in target.requests]
    assert paths == ["/token", "/secure", "/secure"]  # the token is kept until it expires
    assert target.requests[1]["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert events.describe_connection(Name="oauth")["ConnectionState"] == "AUTHORIZED"


@pytest.mark.parametrize(("array_format", "expected"), [
    ("INDICES", [("tags[0]", "a"), ("tags[1]", "b"), ("name", "n")]),
    ("REPEAT", [("tags", "a"), ("tags", "b"), ("name", "n")]),
    ("COMMAS", [("tags", "a,b"), ("name", "n")]),
    ("BRACKETS", [("tags[]", "a"), ("tags[]", "b"), ("name", "n")]),
])
def test_url_encoded_bodies_write_arrays_as_the_array_format_says(clients, target, array_format, expected) -> None:
    connection = _api_key(clients["events"], f"form-{array_format.lower()}")
    definition = _task(connection, f"{target.url}/form", Method="POST", RequestBody={"tags": ["a", "b"], "name": "n"},
                       Transform={"RequestBodyEncoding": "URL_ENCODED",
                                  "RequestEncodingOptions": {"ArrayFormat": array_format}})
    described = _run(clients, f"form-{array_format.lower()}", definition)
    assert described["status"] == "SUCCEEDED"
    (seen,) = target.requests
    assert seen["headers"]["content-type"] == "application/x-www-form-urlencoded"
    # The connection's body parameter is merged into the form too.
    assert parse_qsl(seen["body"]) == [*expected, ("source", "connection")]


def test_4xx_and_5xx_answers_fail_with_their_status_and_retry_and_catch_handle_them(clients, target) -> None:
    connection = _api_key(clients["events"])
    definition = {"StartAt": "Flaky", "States": {
        "Flaky": {"Type": "Task", "Resource": HTTP, "Next": "Missing",
                  "Parameters": {"ApiEndpoint": f"{target.url}/status/503", "Method": "GET",
                                 "Authentication": {"ConnectionArn": connection}},
                  "Retry": [{"ErrorEquals": ["States.Http.StatusCode.503"], "IntervalSeconds": 1, "MaxAttempts": 1}],
                  "Catch": [{"ErrorEquals": ["States.Http.StatusCode.503"], "ResultPath": "$.flaky",
                             "Next": "Missing"}]},
        "Missing": {"Type": "Task", "Resource": HTTP, "End": True, "ResultPath": "$.missing",
                    "Parameters": {"ApiEndpoint": f"{target.url}/status/404", "Method": "GET",
                                   "Authentication": {"ConnectionArn": connection}},
                    "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.missing", "Next": "Done"}]},
        "Done": {"Type": "Succeed"}}}
    described = _run(clients, "status-codes", definition)
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    assert output["flaky"]["Error"] == "States.Http.StatusCode.503"
    assert output["missing"]["Error"] == "States.Http.StatusCode.404"
    cause = json.loads(output["missing"]["Cause"])
    assert (cause["StatusCode"], cause["StatusText"]) == (404, "Not Found")
    assert cause["ResponseBody"] == {"message": "answered /status/404"}
    assert [seen["path"] for seen in target.requests] == ["/status/503", "/status/503", "/status/404"]


def test_no_answer_is_states_http_socket(clients, target) -> None:
    connection = _api_key(clients["events"])
    closed = Target()
    closed.stop()  # nothing listens there any more
    described = _run(clients, "socket", _task(connection, f"http://127.0.0.1:{closed.port}/x"))
    assert described["status"] == "FAILED"
    assert described["error"] == "States.Http.Socket"


def test_by_default_a_server_refuses_hosts_that_are_not_public(tmp_path: Path, target: Target) -> None:
    pf = Pinflow.open(data_dir=tmp_path / "default")
    server = RunningServer(pf)
    clients = {name: server.client(name) for name in ("stepfunctions", "iam", "events")}
    try:
        connection = _api_key(clients["events"])
        described = _run(clients, "refused", _task(connection, f"{target.url}/x"))
        assert (described["status"], described["error"]) == ("FAILED", "States.Http.Socket")
        assert "--http-task-hosts" in described["cause"]
        assert target.requests == []
    finally:
        for client in clients.values():
            client.close()
        server.stop()
        pf.close()


def test_secrets_never_appear_in_history_answers_or_logs(clients, target, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    events = clients["events"]
    connection = _api_key(events)
    basic = events.create_connection(Name="basic-secret", AuthorizationType="BASIC", AuthParameters={
        "BasicAuthParameters": {"Username": "ada", "Password": PASSWORD}})["ConnectionArn"]
    definition = {"StartAt": "Key", "States": {
        # (an endpoint that does not echo what it is sent: an echo would hand the secrets back)
        "Key": {"Type": "Task", "Resource": HTTP, "Next": "Basic", "ResultPath": "$.key",
                "Parameters": {"ApiEndpoint": f"{target.url}/status/200", "Method": "GET",
                               "Authentication": {"ConnectionArn": connection}}},
        "Basic": {"Type": "Task", "Resource": HTTP, "End": True, "ResultPath": "$.basic",
                  "Parameters": {"ApiEndpoint": f"{target.url}/status/500", "Method": "GET",
                                 "Authentication": {"ConnectionArn": basic}}}}}
    described = _run(clients, "secrets", definition)
    assert described["status"] == "FAILED"
    history = clients["stepfunctions"].get_execution_history(executionArn=described["executionArn"])
    seen = json.dumps([history, described, events.describe_connection(Name="api-key"),
                       events.describe_connection(Name="basic-secret"), events.list_connections()], default=str)
    # What the server logs (the test's own boto3 client logs what it sends, secrets included).
    logged = "\n".join(record.getMessage() for record in caplog.records
                       if record.name.startswith(("pinflow", "uvicorn", "urllib3")))
    for secret in (API_KEY, PASSWORD, TENANT):
        assert secret not in seen and secret not in logged
    assert target.requests[0]["headers"]["x-api-key"] == API_KEY  # the secret was sent where it belongs


@pytest.mark.parametrize("missing", ["states:InvokeHTTPEndpoint", "events:RetrieveConnectionCredentials"])
def test_the_role_must_allow_both_http_actions(clients, target, missing) -> None:
    connection = _api_key(clients["events"])
    allowed = [action for action in HTTP_GRANTS[0]["Action"] if action != missing]
    role = _role(clients["iam"], "narrow-http", [{"Effect": "Allow", "Action": allowed, "Resource": "*"}])
    described = _run(clients, "narrow-http", _task(connection, f"{target.url}/x"), role=role)
    assert described["status"] == "FAILED"
    assert f"is not authorized to perform: {missing}" in described["cause"]
    assert target.requests == []


def _oauth(events: Any, name: str, token_path: str, secret: str = CLIENT_SECRET) -> str:
    return str(events.create_connection(
        Name=name, AuthorizationType="OAUTH_CLIENT_CREDENTIALS",
        AuthParameters={"OAuthParameters": {
            "ClientParameters": {"ClientID": CLIENT_ID, "ClientSecret": secret},
            "AuthorizationEndpoint": token_path, "HttpMethod": "POST",
            "OAuthHttpParameters": {"BodyParameters": [{"Key": "grant_type", "Value": "client_credentials"}]}}}
    )["ConnectionArn"])


def test_a_token_fetched_before_update_connection_is_never_sent_after_it(clients, target) -> None:
    """UpdateConnection rotating the client secret (and the endpoint) takes effect at the next call: the
    token the old credentials got is not sent again (EventBridge re-authorizes an updated connection)."""
    events = clients["events"]
    connection = _oauth(events, "rotating", f"{target.url}/token")
    assert _run(clients, "before-rotation", _task(connection, f"{target.url}/who"))["status"] == "SUCCEEDED"
    events.update_connection(Name="rotating", AuthParameters={"OAuthParameters": {
        "ClientParameters": {"ClientID": CLIENT_ID, "ClientSecret": ROTATED_SECRET},
        "AuthorizationEndpoint": f"{target.url}/token-rotated"}})
    assert _run(clients, "after-rotation", _task(connection, f"{target.url}/who"))["status"] == "SUCCEEDED"
    assert [seen["path"] for seen in target.requests] == ["/token", "/who", "/token-rotated", "/who"]
    assert target.requests[1]["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert target.requests[3]["headers"]["authorization"] == f"Bearer {ROTATED_TOKEN}"


def test_a_request_that_cannot_be_sent_names_no_secret(clients, target, caplog) -> None:
    """A token a header cannot carry (the endpoint's answer has a line break in it) leaves the connection
    unauthorized: the task fails with AWS's connection error (Events.ConnectionResource.*), and neither
    the history, the connection nor the server's log quotes the token."""
    caplog.set_level(logging.DEBUG)
    events = clients["events"]
    connection = _oauth(events, "leaky", f"{target.url}/token-newline")
    described = _run(clients, "leaky-call", _task(connection, f"{target.url}/who"))
    assert (described["status"], described["error"]) == ("FAILED", "Events.ConnectionResource.InvalidConnectionState")
    assert not [seen for seen in target.requests if seen["path"] == "/who"]  # no request carried it
    history = clients["stepfunctions"].get_execution_history(executionArn=described["executionArn"])
    seen = json.dumps([history, described, events.describe_connection(Name="leaky")], default=str)
    logged = "\n".join(record.getMessage() for record in caplog.records
                       if record.name.startswith(("pinflow", "uvicorn", "urllib3")))
    assert LEAKY_TOKEN not in seen and LEAKY_TOKEN not in logged
    assert events.describe_connection(Name="leaky")["ConnectionState"] == "DEAUTHORIZED"


def test_a_response_over_256_kib_fails_the_task_as_aws_does(clients, target) -> None:
    """AWS: a connector's output over the 256 KiB payload quota is States.DataLimitExceeded (Error
    handling, "States.DataLimitExceeded"), which States.ALL does not catch."""
    connection = _api_key(clients["events"])
    catch_all = {"Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]}
    definition = {"StartAt": "Call", "States": {
        "Call": {**_task(connection, f"{target.url}/bytes/{300 * 1024}")["States"]["Call"], **catch_all},
        "Caught": {"Type": "Succeed"}}}
    described = _run(clients, "too-large", definition)
    assert (described["status"], described["error"]) == ("FAILED", "States.DataLimitExceeded")
    small = _run(clients, "small-enough", _task(connection, f"{target.url}/bytes/{200 * 1024}"))
    assert small["status"] == "SUCCEEDED"


def test_a_body_without_end_is_read_no_further_than_the_limit(clients, target) -> None:
    connection = _api_key(clients["events"])
    started = time.monotonic()
    described = _run(clients, "endless", _task(connection, f"{target.url}/endless"))
    assert (described["status"], described["error"]) == ("FAILED", "States.DataLimitExceeded")
    time.sleep(0.2)
    # Well under what the server would send: the reader hung up a chunk past 256 KiB (the rest is what
    # the sockets' buffers took).
    assert target.endless_sent < ENDLESS // 4, target.endless_sent
    assert time.monotonic() - started < 20


def test_the_connection_goes_to_the_address_that_was_checked(tmp_path: Path, target: Target, monkeypatch) -> None:
    """DNS rebinding: a name that answers an allowed address to the check and another one afterwards
    must not reach the other one; the request keeps the name in its Host header."""
    import socket
    import threading
    from http.server import ThreadingHTTPServer

    other = Target()  # moved to 127.0.0.2, on the allowed server's port: not allowed
    other.server.shutdown()
    other.server.server_close()
    other.server = ThreadingHTTPServer(("127.0.0.2", target.port), other.server.RequestHandlerClass)
    threading.Thread(target=other.server.serve_forever, daemon=True).start()
    real = socket.getaddrinfo
    answers = iter(["127.0.0.1"])

    def rebinding(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "rebind.example":
            address = next(answers, "127.0.0.2")  # the first answer is checked; any later one differs
            return real(address, port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    pf = Pinflow.open(data_dir=tmp_path / "rebind", http_hosts=f"127.0.0.1:{target.port}")
    server = RunningServer(pf)
    made = {name: server.client(name) for name in ("stepfunctions", "iam", "events")}
    try:
        connection = _api_key(made["events"])
        described = _run(made, "rebind", _task(connection, f"http://rebind.example:{target.port}/who"))
        assert described["status"] == "SUCCEEDED", described
        assert other.requests == []
        (seen,) = target.requests
        assert seen["headers"]["host"] == f"rebind.example:{target.port}"
    finally:
        for client in made.values():
            client.close()
        server.stop()
        pf.close()
        other.stop()


def test_a_header_value_a_request_cannot_carry_is_a_socket_error_naming_no_secret(clients, target, caplog) -> None:
    """A connection cannot hold such a header (CreateConnection refuses it, without echoing a secret
    value); a Task's own header taken from its input can, and fails the call before anything is sent,
    naming neither the value nor the connection's secrets."""
    caplog.set_level(logging.DEBUG)
    events = clients["events"]
    secret = "header-secret-value-3e7c"
    with pytest.raises(ClientError) as refused:
        events.create_connection(Name="bad-header", AuthorizationType="API_KEY", AuthParameters={
            "ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": API_KEY},
            "InvocationHttpParameters": {"HeaderParameters": [
                {"Key": "x-extra", "Value": f"{secret}\r\nx-injected: 1", "IsValueSecret": True}]}})
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert secret not in str(refused.value)
    connection = _api_key(events, "good-header")
    task = _task(connection, f"{target.url}/who", **{"Headers": {"x-extra.$": "$.value"}})
    described = _run(clients, "bad-header", task, input={"value": f"{secret}\r\nx-injected: 1"})
    assert (described["status"], described["error"]) == ("FAILED", "States.Http.Socket")
    assert target.requests == []
    history = clients["stepfunctions"].get_execution_history(executionArn=described["executionArn"])
    logged = "\n".join(record.getMessage() for record in caplog.records
                       if record.name.startswith(("pinflow", "uvicorn", "urllib3")))
    assert API_KEY not in json.dumps([history, described], default=str) and API_KEY not in logged
    assert secret not in described.get("cause", "") and secret not in logged


def test_connection_errors_are_named_as_aws_names_them(clients, target) -> None:
    """AWS: "Connection errors are prefixed with Events.ConnectionResource." (Call HTTPS APIs,
    Connection errors)."""
    absent = "arn:aws:events:us-east-1:123456789012:connection/absent/0b7a4c1e-9d7f-4a43-a8c7-5d6f0c7e2b11"
    described = _run(clients, "absent-connection", _task(absent, f"{target.url}/who"))
    assert (described["status"], described["error"]) == ("FAILED", "Events.ConnectionResource.ResourceNotFound")
    connection = _oauth(clients["events"], "refused-client", f"{target.url}/token", secret="wrong-secret")
    described = _run(clients, "unauthorized", _task(connection, f"{target.url}/who"))
    assert described["error"] == "Events.ConnectionResource.InvalidConnectionState"
    assert clients["events"].describe_connection(Name="refused-client")["ConnectionState"] == "DEAUTHORIZED"


@pytest.mark.parametrize("path", ["/image", "/latin1"])
def test_answers_aws_does_not_support_are_states_runtime(clients, target, path) -> None:
    """AWS: a response with a binary content type (image/*, application/octet-stream, ...) or a body
    that cannot be read as a string fails the HTTP Task with States.Runtime."""
    connection = _api_key(clients["events"], f"binary{path.replace('/', '-')}")
    described = _run(clients, f"binary{path.replace('/', '-')}", _task(connection, f"{target.url}{path}"))
    assert (described["status"], described["error"]) == ("FAILED", "States.Runtime")


def test_a_name_with_several_allowed_addresses_is_tried_at_each(tmp_path: Path, target: Target, monkeypatch) -> None:
    """A name that resolves to an address nothing listens on, then to the API's: the request reaches the
    API through the second, as a client trying a name's addresses in turn does (both were checked)."""
    import socket

    real = socket.getaddrinfo

    def two(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "twice.example":
            return real("127.0.0.2", port, *args, **kwargs) + real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", two)
    pf = Pinflow.open(data_dir=tmp_path / "twice", http_hosts=f"127.0.0.0/8:{target.port}")
    server = RunningServer(pf)
    made = {name: server.client(name) for name in ("stepfunctions", "iam", "events")}
    try:
        connection = _api_key(made["events"])
        described = _run(made, "twice", _task(connection, f"http://twice.example:{target.port}/who"))
        assert described["status"] == "SUCCEEDED", described
        assert [seen["headers"]["host"] for seen in target.requests] == [f"twice.example:{target.port}"]
    finally:
        for client in made.values():
            client.close()
        server.stop()
        pf.close()
