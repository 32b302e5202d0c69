"""SigV4 verification: signatures made by botocore's signer verify; a wrong key, secret, date or body is
answered as AWS answers it, in each protocol's error shape."""

from __future__ import annotations

import json
import time
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

KEY_ID, SECRET = "AKIDPINFLOWTEST", "s3cr3t/with+chars"
CONFIG = Config(inject_host_prefix=False, retries={"max_attempts": 0}, region_name="us-east-1")


@pytest.fixture
def guarded(pinflow_service) -> Iterator[RunningServer]:
    running = RunningServer(pinflow_service, auth=auth.Auth({KEY_ID: SECRET}))
    yield running
    running.stop()


_made: list = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _made:
        _made.pop().close()


def client(server: RunningServer, service: str, key_id: str = KEY_ID, secret: str = SECRET):
    made = boto3.client(service, endpoint_url=server.endpoint, config=CONFIG, aws_access_key_id=key_id,
                        aws_secret_access_key=secret)
    _made.append(made)
    return made


def signed(method: str, url: str, body: bytes = b"", headers: dict | None = None, *, service: str = "states",
           secret: str = SECRET, when: float | None = None) -> AWSRequest:
    """A request signed by botocore's own SigV4 signer."""
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    signer = SigV4Auth(Credentials(KEY_ID, secret), service, "us-east-1")
    if when is None:
        signer.add_auth(request)
    else:
        import datetime as dt
        from unittest import mock

        frozen = dt.datetime.fromtimestamp(when, tz=dt.UTC).replace(tzinfo=None)
        with mock.patch("botocore.auth.get_current_datetime", return_value=frozen):
            signer.add_auth(request)
    return request


def verify(request: AWSRequest, verifier: auth.Auth | None = None) -> str:
    """Verify a botocore request as the server would see it on the wire."""
    prepared = request.prepare()
    from urllib.parse import urlsplit

    parts = urlsplit(prepared.url)
    headers = list(prepared.headers.items())
    if not any(name.lower() == "host" for name, _ in headers):
        headers.append(("Host", parts.netloc))
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode()
    checker = verifier or auth.Auth({KEY_ID: SECRET})
    return checker.verify(prepared.method, parts.path, parts.query, headers, body)


def test_signatures_made_by_botocore_verify():
    url = "http://127.0.0.1:8083/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Ahi/invocations"
    assert verify(signed("POST", url + "?Qualifier=live", b'{"a": 1}', service="lambda")) == KEY_ID
    query = "http://127.0.0.1:8083/2015-03-31/functions/?MaxItems=5&Marker=a%20b%2Bc&FunctionVersion=ALL"
    assert verify(signed("GET", query, service="lambda")) == KEY_ID
    form = b"Action=CreateRole&Version=2010-05-08&RoleName=r&AssumeRolePolicyDocument=%7B%7D"
    form_type = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    assert verify(signed("POST", "http://127.0.0.1:8083/", form, form_type, service="iam")) == KEY_ID
    assert verify(signed("POST", "http://127.0.0.1:8083//a/./b/../c", b"")) == KEY_ID


def test_tampering_is_refused():
    request = signed("POST", "http://127.0.0.1:8083/", b'{"a": 1}', {"X-Amz-Target": "AWSStepFunctions.X"})
    request.data = b'{"a": 2}'
    with pytest.raises(errors.InvalidSignatureException) as caught:
        verify(request)
    assert caught.value.status == 403
    assert caught.value.message.startswith("The request signature we calculated does not match")
    with pytest.raises(errors.InvalidSignatureException):
        verify(signed("POST", "http://127.0.0.1:8083/", b"{}", secret="wrong"))
    with pytest.raises(errors.UnrecognizedClientException) as unknown:
        verify(signed("POST", "http://127.0.0.1:8083/", b"{}"), auth.Auth({"OTHER": SECRET}))
    assert unknown.value.status == 400
    assert unknown.value.message == "The security token included in the request is invalid."


def test_signatures_expire_after_fifteen_minutes():
    now = time.time()
    old = signed("POST", "http://127.0.0.1:8083/", b"{}", when=now - 16 * 60)
    with pytest.raises(errors.InvalidSignatureException) as caught:
        verify(old)
    assert caught.value.message.startswith("Signature expired: ")
    assert caught.value.message.endswith(" - 15 min.)")
    assert verify(signed("POST", "http://127.0.0.1:8083/", b"{}", when=now - 14 * 60)) == KEY_ID
    with pytest.raises(errors.InvalidSignatureException) as future:
        verify(signed("POST", "http://127.0.0.1:8083/", b"{}", when=now + 16 * 60))
    assert future.value.message.startswith("Signature not yet current: ")


def test_keys_from_file_and_environment(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"FILEKEY": "one"}))
    assert auth.load_keys(path, {"PINFLOW_ACCESS_KEYS": "ENVKEY:two, OTHER:three"}) == {
        "ENVKEY": "two", "OTHER": "three", "FILEKEY": "one"}
    with pytest.raises(ValueError):
        auth.load_keys(None, {"PINFLOW_ACCESS_KEYS": "no-secret"})
    path.write_text("[1]")
    with pytest.raises(ValueError):
        auth.load_keys(path, {})


def test_server_accepts_good_signatures(guarded):
    execution_role(guarded.pf, "r")
    sfn = client(guarded, "stepfunctions")
    assert sfn.list_state_machines()["stateMachines"] == []
    arn = sfn.create_state_machine(name="m", roleArn="arn:aws:iam::123456789012:role/r", type="EXPRESS",
                                   definition=json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass",
                                                                                             "End": True}}}))
    assert sfn.start_sync_execution(stateMachineArn=arn["stateMachineArn"], input='{"k": "v"}')["status"] == (
        "SUCCEEDED")


def test_server_refuses_in_the_json_protocol_shape(guarded):
    def refused(sfn) -> tuple[str, str, int]:
        with pytest.raises(ClientError) as caught:
            sfn.list_state_machines()
        response = caught.value.response
        status = response["ResponseMetadata"]["HTTPStatusCode"]
        return response["Error"]["Code"], response["Error"]["Message"], status

    assert refused(client(guarded, "stepfunctions", key_id="NOBODY")) == (
        "UnrecognizedClientException", "The security token included in the request is invalid.", 400)
    code, message, status = refused(client(guarded, "stepfunctions", secret="wrong"))
    assert (code, status) == ("InvalidSignatureException", 403)
    assert message.startswith("The request signature we calculated does not match the signature you "
                              "provided.")
    request = urllib.request.Request(guarded.endpoint + "/", data=b"{}", method="POST",
                                     headers={"X-Amz-Target": "AWSStepFunctions.ListStateMachines"})
    with pytest.raises(urllib.error.HTTPError) as unsigned:
        urllib.request.urlopen(request)
    assert unsigned.value.code == 403
    assert json.loads(unsigned.value.read())["__type"] == "MissingAuthenticationTokenException"


def test_server_refuses_lambda_and_iam_in_their_shapes(guarded):
    lam = client(guarded, "lambda", key_id="NOBODY")
    with pytest.raises(ClientError) as caught:
        lam.list_functions()
    assert caught.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert caught.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"].startswith(
        "UnrecognizedClientException")
    iam = client(guarded, "iam", secret="wrong")
    with pytest.raises(ClientError) as caught:
        iam.list_roles()
    assert caught.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    iam = client(guarded, "iam", key_id="NOBODY")
    with pytest.raises(ClientError) as caught:
        iam.list_roles()
    assert caught.value.response["Error"]["Code"] == "InvalidClientTokenId"


def test_default_server_accepts_any_credentials(server):
    sfn = client(server, "stepfunctions", key_id="anything", secret="at-all")
    assert sfn.list_state_machines()["stateMachines"] == []
