"""Requests built from botocore's models and sent as raw HTTP, and the checks every answer must pass.

botocore serializes a request exactly as boto3 would (Lambda's URI labels, IAM's flattened query),
then the body may be tampered with where a type check would have stopped boto3. The answer is read
back by botocore's own parser: an error must carry a code the way AWS sends one, in the protocol's
shape, or boto3 users would see something else.
"""

from __future__ import annotations

import functools
import http.client
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode
from xml.etree import ElementTree

import botocore.session
from botocore.model import OperationModel, ServiceModel
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

SERVICES = ("stepfunctions", "lambda", "iam")


@functools.cache
def model(service: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(service)


@dataclass
class Request:
    """One HTTP request, ready to send."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class Answer:
    """The HTTP answer, and what botocore's parser made of it."""

    status: int
    headers: dict[str, str]
    body: bytes
    parsed: dict[str, Any]

    @property
    def error_code(self) -> str | None:
        return (self.parsed.get("Error") or {}).get("Code") or None


def serialize(operation: OperationModel, params: dict[str, Any]) -> Request:
    """The request boto3 would send for `params` (parameter validation off).

    Raises:
        Exception: whatever botocore's serializer raises for values it cannot write at all.
    """
    service = operation.service_model
    serialized = create_serializer(service.protocol, include_validation=False).serialize_to_request(
        params, operation)
    query = serialized.get("query_string") or {}
    path = serialized["url_path"]
    if isinstance(query, dict) and query:
        path += "?" + urlencode(query, doseq=True, encoding="utf-8", errors="surrogatepass")
    elif isinstance(query, str) and query:
        path += "?" + query
    headers = {name: str(value) for name, value in serialized["headers"].items()}
    body = serialized["body"]
    if isinstance(body, dict):  # the Query protocol gives its form as a dict
        body = urlencode(body, encoding="utf-8", errors="surrogatepass").encode("ascii")
        headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
    elif isinstance(body, str):
        body = body.encode("utf-8", "surrogatepass")
    if service.protocol == "json":
        headers["X-Amz-Target"] = f"{service.metadata['targetPrefix']}.{operation.name}"
        headers["Content-Type"] = "application/x-amz-json-1.0"
    return Request(serialized["method"], path, headers, body or b"")


def json_body(operation: OperationModel, body: dict[str, Any]) -> Request:
    """A JSON 1.0 request whose body is written as given (any JSON, wrong types included)."""
    target = f"{operation.service_model.metadata['targetPrefix']}.{operation.name}"
    text = json.dumps(body)  # ASCII: a lone surrogate goes out as an escape, as a JSON client would send it
    return Request("POST", "/", {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"},
                   text.encode("ascii"))


class NotHttp(ValueError):
    """A header no HTTP client may send (a control character): the server's HTTP layer refuses it
    before any API sees it, as AWS's front ends do."""


def send(port: int, request: Request) -> tuple[int, dict[str, str], bytes]:
    """Send a request to the server on loopback; (status, headers, body).

    Raises:
        NotHttp: a header value that is not valid HTTP.
    """
    for value in request.headers.values():
        if any((ord(char) < 0x20 and char != "\t") or ord(char) == 0x7F or ord(char) > 0xFF for char in value):
            raise NotHttp(value)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        # The path may hold bytes that are not UTF-8 (%ED%A0%80): http.client sends it as given.
        connection.putrequest(request.method, quote(request.path, safe="/?&=%:+,;@$!*'()~"),
                              skip_accept_encoding=True)
        for name, value in {**request.headers, "Content-Length": str(len(request.body))}.items():
            connection.putheader(name, value)
        connection.endheaders(request.body)
        answer = connection.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        connection.close()


def parse(operation: OperationModel, status: int, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """The answer as boto3 would read it (errors included)."""
    protocol = operation.service_model.protocol
    parser = create_parser(protocol)
    output = operation.output_shape
    if status < 300 and operation.has_event_stream_output:
        return {}
    return dict(parser.parse({"status_code": status, "headers": headers, "body": body}, output))


def check(operation: OperationModel, status: int, headers: dict[str, str], body: bytes) -> Answer:
    """Assert that the answer is no 5xx, and that an error is one in the protocol's AWS shape.

    Returns:
        The answer, parsed by botocore.
    """
    assert status < 500, f"{operation.name} answered {status}: {body[:500]!r}"
    parsed = parse(operation, status, headers, body)
    answer = Answer(status, headers, body, parsed)
    if status >= 400:
        protocol = operation.service_model.protocol
        assert answer.error_code, f"{operation.name} refused without an error code: {body[:500]!r}"
        if protocol == "json":
            document = json.loads(body)
            assert isinstance(document.get("__type"), str) and "message" in document, document
        elif protocol == "rest-json":
            assert headers.get("x-amzn-errortype"), headers
            document = json.loads(body)
            assert "message" in document or "Message" in document, document
        else:
            root = ElementTree.fromstring(body)
            error = root.find("{*}Error")
            assert root.tag.endswith("ErrorResponse") and error is not None, body
            assert error.findtext("{*}Code") and error.findtext("{*}Message") is not None, body
        assert headers.get("x-amzn-requestid"), headers
    elif operation.service_model.protocol == "query":
        ElementTree.fromstring(body)  # a success must be XML that parses
    elif body and not (operation.name == "Invoke" and "x-amz-function-error" in headers):
        json.loads(body)
    return answer
