"""The console's JSON routes and sign-in over HTTP (no browser): refusals in one shape, AWS's error codes
for what the engine refuses, the session cookie's attributes, and the API's own authentication left as
it was."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from pinflow import arns
from pinflow.api.auth import Auth
from pinflow.console.session import Sessions
from tests.api.conftest import RunningServer
from tests.roles import execution_role

KEY_ID, SECRET = "AKIAROUTES", "routes-secret-abcdefghijklmnop"
WAITING = {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 600, "End": True}}}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def call(url: str, body: Any = None, *, headers: dict[str, str] | None = None,
         method: str | None = None) -> tuple[int, dict[str, str], bytes]:
    data = None
    sent = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        sent.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data=data, headers=sent, method=method)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _declared_too_large(endpoint: str, path: str) -> int:
    """The status answered to a request declaring a body over the console's limit, sent before its body."""
    host, port = endpoint.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: 2000000\r\n\r\n".encode())
        return int(sock.recv(4096).split(b" ", 2)[1])


@pytest.fixture
def guarded(service) -> Iterator[RunningServer]:
    running = RunningServer(service, auth=Auth({KEY_ID: SECRET}))
    yield running
    running.stop()


def test_the_console_is_served_under_its_prefix(console) -> None:
    status, headers, _ = call(f"{console.endpoint}/console")
    assert (status, headers["location"]) == (307, "/console/")
    status, headers, body = call(f"{console.endpoint}/console/state-machines/anything")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b"/console/static/console.js?v=" in body and b"{{" not in body
    status, _, body = call(f"{console.endpoint}/console/api/nothing-here")
    assert status == 404 and json.loads(body)["error"] == "UnknownOperation"


def test_starting_refuses_what_step_functions_refuses(console, service) -> None:
    service.machines.create("hold", json.dumps(WAITING), execution_role(service, "hold"))
    url = f"{console.endpoint}/console/api/state-machines/hold/executions"
    # AWS answers StartExecution with bad JSON input by InvalidExecutionInput (400).
    status, _, body = call(url, {"input": "{not json"})
    assert status == 400 and json.loads(body)["error"] == "InvalidExecutionInput"
    status, _, body = call(url, {"name": "has space", "input": "{}"})
    assert status == 400 and json.loads(body)["error"] == "InvalidName"
    status, _, body = call(f"{console.endpoint}/console/api/state-machines/nope/executions", {"input": "{}"})
    assert status == 400 and json.loads(body)["error"] == "StateMachineDoesNotExist"
    # A change asked for as a form (what another site's page can send) or from another origin is refused.
    status, _, _ = call(url, b"input=%7B%7D", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 415
    status, _, _ = call(url, {"input": "{}"}, headers={"Origin": "http://elsewhere.example"})
    assert status == 403
    assert _declared_too_large(console.endpoint, "/console/api/state-machines/hold/executions") == 413
    status, _, body = call(url, {"name": "kept", "input": '{"n": 1}'})
    assert status == 200
    started = json.loads(body)["executionArn"]
    assert service.engine.execution_row(started)["status"] == "RUNNING"

    stop = f"{console.endpoint}/console/api/executions/{quote(started, safe='')}/stop"
    status, _, body = call(stop, {"error": "x" * 257})  # StopExecution: an error of at most 256 characters
    assert status == 400
    status, _, _ = call(stop, {"error": "Operator", "cause": "stopped from the console"})
    assert status == 200
    row = service.engine.execution_row(started)
    assert (row["status"], row["error"], row["cause"]) == ("ABORTED", "Operator", "stopped from the console")
    status, _, body = call(f"{console.endpoint}/console/api/executions/{quote(started, safe='')}/redrive", {})
    assert status == 200  # an aborted execution can be redriven (AWS: FAILED, TIMED_OUT or ABORTED)
    status, _, body = call(f"{console.endpoint}/console/api/executions/{quote(started, safe='')}/redrive", {})
    assert status == 400 and json.loads(body)["error"] == "ExecutionNotRedrivable"


def test_a_function_version_is_held_while_an_execution_is_pinned_to_it(console, service) -> None:
    from tests.console.test_failures import _zip

    service.functions.create_function("charge", _zip("def handler(e, c):\n    return e\n"), "charge.handler",
                                      publish=True)
    definition = {"StartAt": "Hold", "States": {
        "Hold": {"Type": "Wait", "Seconds": 600, "Next": "Charge"},
        "Charge": {"Type": "Task", "Resource": arns.function("charge", "1"), "Next": "Again"},
        "Again": {"Type": "Task", "Resource": arns.function("charge"), "End": True}}}
    machine = service.machines.create("pinned", json.dumps(definition), execution_role(service, "pinned"))
    arn = service.engine.start_execution(machine["stateMachineArn"], name="holder")["executionArn"]

    status, _, body = call(f"{console.endpoint}/console/api/functions/charge")
    versions = {v["version"]: v for v in json.loads(body)["versions"]}
    assert status == 200 and [e["executionArn"] for e in versions["1"]["heldBy"]] == [arn]
    assert versions["1"]["removable"] is False
    status, _, body = call(f"{console.endpoint}/console/api/executions/{quote(arn, safe='')}")
    calls = {c["state"]: c for c in json.loads(body)["pinned"]["calls"]}
    assert (calls["Charge"]["kind"], calls["Charge"]["live"], calls["Charge"]["version"]) == ("version", False, "1")
    assert (calls["Again"]["kind"], calls["Again"]["live"]) == ("latest", True)
    assert calls["Again"]["latest"]["sameCodeAs"] == "1"

    service.engine.stop_execution(arn)  # aborted: still held while it can be redriven (14 days)
    status, _, body = call(f"{console.endpoint}/console/api/functions/charge")
    assert {v["version"]: v["removable"] for v in json.loads(body)["versions"]}["1"] is False


def test_with_auth_the_console_wants_a_session_and_the_api_still_wants_sigv4(guarded) -> None:
    status, _, body = call(f"{guarded.endpoint}/console/api/state-machines")
    assert status == 401 and json.loads(body)["error"] == "NotSignedIn"
    status, headers, _ = call(f"{guarded.endpoint}/console/executions/x?state=A")
    assert status == 303 and headers["location"] == "/console/sign-in?next=/console/executions/x%3Fstate%3DA"
    status, _, body = call(f"{guarded.endpoint}/console/api/session")
    assert json.loads(body) == {"authRequired": True, "signedIn": False, "accessKeyId": None}

    session = f"{guarded.endpoint}/console/api/session"
    wrong_secret = call(session, {"accessKeyId": KEY_ID, "secretAccessKey": "nope"})
    unknown_key = call(session, {"accessKeyId": "AKIAUNKNOWN", "secretAccessKey": SECRET})
    assert wrong_secret[0] == unknown_key[0] == 403
    assert json.loads(wrong_secret[2]) == json.loads(unknown_key[2])  # which ids exist is not told
    status, headers, _ = call(session, {"accessKeyId": KEY_ID, "secretAccessKey": SECRET})
    cookie = headers["set-cookie"]
    assert status == 200 and "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    assert SECRET not in cookie
    token = cookie.split(";")[0]
    status, _, _ = call(f"{guarded.endpoint}/console/api/state-machines", headers={"Cookie": token})
    assert status == 200
    status, _, _ = call(f"{guarded.endpoint}/console/api/state-machines",
                        headers={"Cookie": token[:-3] + "AAA"})  # a forged signature
    assert status == 401
    # The console's cookie opens the console only: the API answers an unsigned request as AWS does.
    status, _, body = call(f"{guarded.endpoint}/", b"{}", headers={
        "Cookie": token, "X-Amz-Target": "AWSStepFunctions.ListStateMachines",
        "Content-Type": "application/x-amz-json-1.0"})
    assert status == 403 and json.loads(body)["__type"].endswith("MissingAuthenticationTokenException")


def test_a_session_ends_when_it_expires_or_its_key_goes() -> None:
    now = [1_000_000.0]
    keys = {KEY_ID: SECRET}
    sessions = Sessions(keys, clock=lambda: now[0], lifetime=60)
    token = sessions.sign_in(KEY_ID, SECRET)
    assert sessions.check(token) == KEY_ID
    assert Sessions(keys).check(token) is None  # another server process: another signing key
    now[0] += 61
    assert sessions.check(token) is None
    now[0] -= 61
    del keys[KEY_ID]
    assert sessions.check(token) is None


def test_signing_out_ends_the_session_and_a_new_secret_ends_every_session(guarded) -> None:
    session = f"{guarded.endpoint}/console/api/session"
    machines = f"{guarded.endpoint}/console/api/state-machines"
    _, headers, _ = call(session, {"accessKeyId": KEY_ID, "secretAccessKey": SECRET})
    kept = headers["set-cookie"].split(";")[0]
    _, headers, _ = call(session, {"accessKeyId": KEY_ID, "secretAccessKey": SECRET})
    other = headers["set-cookie"].split(";")[0]  # another browser signed in with the same key
    assert call(machines, headers={"Cookie": kept})[0] == call(machines, headers={"Cookie": other})[0] == 200
    status, headers, _ = call(session, method="DELETE", headers={"Cookie": kept})
    assert status == 200 and "Max-Age=0" in headers["set-cookie"]
    # The cookie's value, sent again after signing out, opens nothing; the other browser stays signed in.
    assert call(machines, headers={"Cookie": kept})[0] == 401
    assert call(machines, headers={"Cookie": other})[0] == 200


def test_a_session_ends_when_its_secret_changes() -> None:
    keys = {KEY_ID: SECRET}
    sessions = Sessions(keys)
    token = sessions.sign_in(KEY_ID, SECRET)
    keys[KEY_ID] = "a-new-secret-for-the-same-key-id"
    assert sessions.check(token) is None
    keys[KEY_ID] = SECRET  # the same secret again: the session is the one signed for it
    assert sessions.check(token) == KEY_ID
    sessions.sign_out(token)
    assert sessions.check(token) is None


DEEP = b"[" * 100_000 + b"]" * 100_000
# Each bad input and the route it is sent to: every one is refused with a 400 (the console's error shape),
# never a 500.
BAD_QUERIES = [
    "/console/api/state-machines/hold?version=%C2%B2",  # a digit Python's isdigit() takes, int() does not
    "/console/api/state-machines/hold?version=99999999999999999999999",  # past the stores' integers
    "/console/api/state-machines/hold?version=-1",
    "/console/api/state-machines/hold/executions?before=99999999999999999999999",
    "/console/api/state-machines/hold/executions?before=%C2%B2",
    "/console/api/state-machines/hold/executions?limit=%C2%B2",
    "/console/api/state-machines/hold/executions?version=1e3",
    "/console/api/executions/{arn}/events?page=%EF%BC%91",  # a full-width digit
    "/console/api/executions/{arn}/events?size=" + "9" * 5000,
    "/console/api/executions/{arn}/summary?iteration=" + "%5B" * 3000,  # nested deeper than a parser recurses
    "/console/api/executions/{arn}/summary?iteration=%5B%5B%22Hold%22%2C1e400%5D%5D",  # [["Hold",1e400]]
    "/console/api/executions/{arn}/summary?iteration=%5B%5B%22Hold%22%2Ctrue%5D%5D",
    "/console/api/executions/{arn}/summary?iteration=%5B%5B%22%5Cud800%22%2C1%5D%5D",  # a lone surrogate
    "/console/api/executions/{arn}/maps/Hold/iterations?offset=%C2%B2",
]
BAD_BODIES = [
    DEEP,
    b'{"input": "' + b"[" * 100_000 + b'"}',
    b'{"input": "\\ud800"}',
    b'{"name": "\xff"}',
    b"\xff\xfe",
    b"[1, 2]",
    b'{"input": 1' + b"0" * 5000 + b"}",
]


@pytest.mark.parametrize("path", BAD_QUERIES)
def test_a_bad_query_is_refused_never_a_500(console, service, path: str) -> None:
    service.machines.create("hold", json.dumps(WAITING), execution_role(service, "hold"))
    arn = service.engine.start_execution(arns.state_machine("hold"), name="run")["executionArn"]
    status, _, body = call(console.endpoint + path.replace("{arn}", quote(arn, safe="")))
    assert status == 400, body[:200]
    assert json.loads(body)["error"] == "ValidationException"


@pytest.mark.parametrize("body", BAD_BODIES, ids=range(len(BAD_BODIES)))
def test_a_bad_body_is_refused_never_a_500(console, service, body: bytes) -> None:
    service.machines.create("hold", json.dumps(WAITING), execution_role(service, "hold"))
    status, _, answer = call(f"{console.endpoint}/console/api/state-machines/hold/executions", body)
    assert status == 400, answer[:200]
    assert json.loads(answer)["error"] in ("SerializationException", "ValidationException", "InvalidExecutionInput")


def test_sign_in_text_that_is_not_unicode_is_refused(guarded) -> None:
    session = f"{guarded.endpoint}/console/api/session"
    for body in (b'{"accessKeyId": "AKIDTEST", "secretAccessKey": "\\ud800"}',
                 b'{"accessKeyId": "\\udfff", "secretAccessKey": "x"}'):
        status, _, answer = call(session, body)
        assert status == 400 and json.loads(answer)["error"] == "ValidationException"
    status, _, _ = call(session, method="DELETE", headers={"Cookie": "pinflow_console_session=a.1.b.%FF"})
    assert status == 200


def test_pinflow_server_serves_the_console_on_its_port(tmp_path) -> None:
    from tests.api.test_server import Server

    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({KEY_ID: SECRET}))
    server = Server(tmp_path, "--auth", str(keys))
    endpoint = f"http://127.0.0.1:{server.port}"
    try:
        deadline = time.monotonic() + 15
        while "listening on" not in server.output():
            assert time.monotonic() < deadline and server.process.poll() is None, server.output()
            time.sleep(0.05)
        status, _, body = call(f"{endpoint}/console/api/session")
        assert status == 200 and json.loads(body)["authRequired"] is True
        status, headers, _ = call(f"{endpoint}/console/api/session",
                                  {"accessKeyId": KEY_ID, "secretAccessKey": SECRET})
        token = headers["set-cookie"].split(";")[0]
        status, _, body = call(f"{endpoint}/console/api/state-machines", headers={"Cookie": token})
        assert (status, json.loads(body)) == (200, {"stateMachines": []})
        assert server.stop() == 0
        assert f"web console at http://127.0.0.1:{server.port}/console/" in server.output()
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()


def test_a_distributed_maps_summary_lists_its_map_runs(console, service) -> None:
    processor = {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                 "StartAt": "Work", "States": {"Work": {"Type": "Pass", "End": True}}}
    definition = {"StartAt": "Each", "States": {"Each": {"Type": "Map", "ItemProcessor": processor, "End": True}}}
    machine = service.machines.create("fan", json.dumps(definition), execution_role(service, "fan"))
    started = service.engine.start_execution(machine["stateMachineArn"], input="[1, 2]")["executionArn"]
    service.engine.wait_for(started)
    run_arn = service.engine.history(started)[3]["mapRunStartedEventDetails"]["mapRunArn"]
    status, _, body = call(f"{console.endpoint}/console/api/executions/{quote(started, safe='')}/summary")
    assert status == 200
    summary = json.loads(body)["maps"]["Each"]
    assert (summary["mode"], summary["mapRuns"]) == ("DISTRIBUTED", [{"mapRunArn": run_arn, "status": "SUCCEEDED"}])
