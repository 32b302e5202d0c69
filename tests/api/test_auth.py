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


@pytest.mark.parametrize("stamp", ["20260230T120000Z", "20261206T245959Z", "2026-12-06T05:10:11Z", "20261206T051011",
                                   "2026126T51011Z", "\uff120261206T051011Z", "20261206T05101\u0661Z"])
def test_a_date_that_is_not_a_basic_iso_8601_stamp_of_a_real_moment_is_refused(stamp):
    request = signed("POST", "http://127.0.0.1:8083/", b"{}")
    request.headers.replace_header("X-Amz-Date", stamp)
    with pytest.raises(auth.IncompleteSignature) as caught:
        verify(request)
    assert caught.value.status == 400


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


class _PayloadClaim(SigV4Auth):
    """botocore's signer, claiming a payload hash other than the body's (as S3 clients may)."""

    def __init__(self, claim: str, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.claim = claim

    def payload(self, request) -> str:
        return self.claim

    def add_auth(self, request) -> None:
        request.headers["X-Amz-Content-SHA256"] = self.claim
        super().add_auth(request)


def _send(server: RunningServer, request: AWSRequest) -> tuple[int, bytes]:
    prepared = request.prepare()
    raw = urllib.request.Request(prepared.url, data=prepared.body, method=prepared.method,
                                 headers=dict(prepared.headers.items()))
    try:
        with urllib.request.urlopen(raw) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def _request(server: RunningServer, kind: str) -> AWSRequest:
    if kind == "states":
        return AWSRequest("POST", server.endpoint + "/", data=b"{}", headers={
            "X-Amz-Target": "AWSStepFunctions.ListStateMachines", "Content-Type": "application/x-amz-json-1.0"})
    if kind == "iam":
        return AWSRequest("POST", server.endpoint + "/", data=b"Action=ListRoles&Version=2010-05-08",
                          headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    return AWSRequest("GET", server.endpoint + "/2015-03-31/functions/")


@pytest.mark.parametrize("claim", ["UNSIGNED-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"])
def test_unsigned_and_streaming_payloads_are_refused_by_the_json_and_query_services(guarded, claim):
    # AWS JSON and Query services sign the payload's SHA-256 (botocore always sends it to them);
    # only services that document it (S3, Lambda's REST API) take a payload left unsigned.
    for kind, service, code in (("states", "states", '"__type":"InvalidSignatureException"'),
                                ("iam", "iam", "<Code>SignatureDoesNotMatch</Code>")):
        request = _request(guarded, kind)
        _PayloadClaim(claim, Credentials(KEY_ID, SECRET), service, "us-east-1").add_auth(request)
        status, body = _send(guarded, request)
        assert status == 403 and code in body.decode(), body
        assert claim in body.decode()
    request = _request(guarded, "lambda")
    _PayloadClaim("UNSIGNED-PAYLOAD", Credentials(KEY_ID, SECRET), "lambda", "us-east-1").add_auth(request)
    assert _send(guarded, request)[0] == 200


def test_the_credential_scope_must_name_this_server_and_service(guarded):
    def refused(kind: str, service: str, region: str) -> tuple[int, str]:
        request = _request(guarded, kind)
        SigV4Auth(Credentials(KEY_ID, SECRET), service, region).add_auth(request)
        status, body = _send(guarded, request)
        return status, body.decode()

    # AWS's words for a scope naming another region or service.
    status, body = refused("states", "states", "eu-west-1")
    assert status == 403 and "Credential should be scoped to a valid region, not 'eu-west-1'. " in body
    assert '"__type":"InvalidSignatureException"' in body
    status, body = refused("states", "lambda", "us-east-1")
    assert status == 403 and "Credential should be scoped to correct service: 'states'. " in body
    status, body = refused("lambda", "states", "us-east-1")
    assert status == 403 and "Credential should be scoped to correct service: 'lambda'. " in body
    # IAM is global: signed for us-east-1 whatever region a client is configured with.
    status, body = refused("iam", "iam", "us-east-2")
    assert status == 403 and "<Code>SignatureDoesNotMatch</Code>" in body
    assert "Credential should be scoped to a valid region, not 'us-east-2'. " in body
    # boto3 itself: a client given this endpoint signs with its own region, which must be the server's
    # (us-east-1) for Step Functions and Lambda, and us-east-1 for IAM, as AWS's IAM endpoint wants.
    elsewhere = Config(inject_host_prefix=False, retries={"max_attempts": 0}, region_name="eu-west-1")
    for service, code in (("stepfunctions", "InvalidSignatureException"), ("iam", "SignatureDoesNotMatch")):
        made = boto3.client(service, endpoint_url=guarded.endpoint, config=elsewhere, aws_access_key_id=KEY_ID,
                            aws_secret_access_key=SECRET)
        _made.append(made)
        with pytest.raises(ClientError) as caught:
            made.list_state_machines() if service == "stepfunctions" else made.list_roles()
        assert caught.value.response["Error"]["Code"] == code
