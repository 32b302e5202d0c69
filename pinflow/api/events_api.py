"""EventBridge's connection operations (AWS JSON 1.1, `X-Amz-Target: AWSEvents.<Op>`), so boto3's
`events` client can manage the connections HTTP Tasks authenticate with: CreateConnection,
DescribeConnection, UpdateConnection, DeleteConnection, ListConnections.

Members are checked against botocore's model of the service (required members, enums, lengths and
patterns) and refused with AWS's ValidationException wording. No answer ever carries a secret.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from pinflow import errors
from pinflow.api import awsjson, shapes
from pinflow.api.shapes import Params
from pinflow.engine.integrations import http_auth
from pinflow.registry import connections as registry

TARGET_PREFIX = "AWSEvents"
CONTENT_TYPE = "application/x-amz-json-1.1"
_NAME = re.compile(r"[\.\-_A-Za-z0-9]+")
# AuthParameters members' text constraints, as botocore's model gives them.
_AUTH_TEXT = re.compile(r"^[ \t]*[^\x00-\x1F:\x7F]+([ \t]+[^\x00-\x1F:\x7F]+)*[ \t]*$")
_ENDPOINT = re.compile(r"^((%[0-9A-Fa-f]{2}|[-()_.!~*';/?:@\x26=+$,A-Za-z0-9])+)([).!';/?:,])?$")
_HEADER_KEY = re.compile(r"^[!#$%&'*+-.^_`|~0-9a-zA-Z]+$")
# The HTTP parameters' members, as botocore's model gives them: no control character reaches a request.
_HTTP_TEXT = {
    "HeaderParameters": (_HEADER_KEY, re.compile(r"^[ \t]*[\x20-\x7E]+([ \t]+[\x20-\x7E]+)*[ \t]*$")),
    "QueryStringParameters": (re.compile(r"[^\x00-\x1F\x7F]+"), re.compile(r"[^\x00-\x09\x0B\x0C\x0E-\x1F\x7F]+")),
}
_MEMBER = {"BASIC": "BasicAuthParameters", "OAUTH_CLIENT_CREDENTIALS": "OAuthParameters",
           "API_KEY": "ApiKeyAuthParameters"}
_STATES = ("CREATING", "UPDATING", "DELETING", "AUTHORIZED", "DEAUTHORIZED", "AUTHORIZING", "DEAUTHORIZING",
           "ACTIVE", "FAILED_CONNECTIVITY")


def _name(p: Params) -> str:
    name = p.string("Name", required=True, low=1, high=64)
    assert name is not None
    if not _NAME.fullmatch(name):
        raise errors.validation("name", name, r"Member must satisfy regular expression pattern: [\.\-_A-Za-z0-9]+")
    return name


def _text(holder: dict[str, Any], key: str, where: str, *, required: bool, secret: bool = False,
          pattern: re.Pattern[str] = _AUTH_TEXT, high: int = 512) -> None:
    value = holder.get(key)
    if value is None:
        if required:
            raise errors.ValidationException(
                f"1 validation error detected: Value null at '{where}.{key}' failed to satisfy constraint: "
                "Member must not be null")
        return
    if not isinstance(value, str):
        raise shapes.ParamError(f"Unexpected JSON type for member '{key}'")
    # fullmatch: a pattern's `$` would let a trailing newline through.
    if not 1 <= len(value) <= high or not pattern.fullmatch(value):
        raise errors.validation(f"{where}.{key}", value, f"Member must satisfy regular expression pattern: "
                             f"{pattern.pattern}", sensitive=secret)


def _http_parameters(given: Any, where: str) -> None:
    if given is None:
        return
    if not isinstance(given, dict):
        raise shapes.ParamError(f"Unexpected JSON type for member '{where}'")
    for key in ("HeaderParameters", "QueryStringParameters", "BodyParameters"):
        items = given.get(key) or []
        if not isinstance(items, list) or len(items) > 100:
            raise errors.validation(f"{where}.{key}", "...", "Member must have length less than or equal to 100")
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("Key", ""), str) or not isinstance(
                    item.get("Value", ""), str):
                raise shapes.ParamError(f"Unexpected JSON type for member '{key}'")
            if key not in _HTTP_TEXT:
                continue
            for member, pattern in zip(("Key", "Value"), _HTTP_TEXT[key], strict=True):
                text = item.get(member)
                if text is None:
                    continue
                if len(text) > 512:
                    raise errors.validation(f"{where}.{key}.member.{member.lower()}", text,
                                            "Member must have length less than or equal to 512",
                                            sensitive=member == "Value" and bool(item.get("IsValueSecret")))
                if not pattern.fullmatch(text):
                    raise errors.validation(f"{where}.{key}.member.{member.lower()}", text,
                                            f"Member must satisfy regular expression pattern: {pattern.pattern}",
                                            sensitive=member == "Value" and bool(item.get("IsValueSecret")))


def _auth(kind: str, auth: dict[str, Any], *, creating: bool) -> None:
    """AuthParameters for `kind`: on create, the kind's member and its required members must be there."""
    member = _MEMBER[kind]
    given = auth.get(member)
    where = f"authParameters.{member[0].lower()}{member[1:]}"
    if given is None:
        if creating:
            raise errors.ValidationException(f"{member} must be specified for authorization type {kind}.")
    elif not isinstance(given, dict):
        raise shapes.ParamError(f"Unexpected JSON type for member '{member}'")
    else:
        if kind == "BASIC":
            _text(given, "Username", where, required=creating)
            _text(given, "Password", where, required=creating, secret=True)
        elif kind == "API_KEY":
            _text(given, "ApiKeyName", where, required=creating)
            _text(given, "ApiKeyValue", where, required=creating, secret=True)
        else:
            client = given.get("ClientParameters")
            if client is None and creating:
                raise errors.ValidationException(
                    f"1 validation error detected: Value null at '{where}.clientParameters' failed to satisfy "
                    "constraint: Member must not be null")
            if client is not None:
                if not isinstance(client, dict):
                    raise shapes.ParamError("Unexpected JSON type for member 'ClientParameters'")
                _text(client, "ClientID", f"{where}.clientParameters", required=creating)
                _text(client, "ClientSecret", f"{where}.clientParameters", required=creating, secret=True)
            _text(given, "AuthorizationEndpoint", where, required=creating, pattern=_ENDPOINT, high=2048)
            method = given.get("HttpMethod")
            if method is None and creating:
                raise errors.ValidationException(
                    f"1 validation error detected: Value null at '{where}.httpMethod' failed to satisfy "
                    "constraint: Member must not be null")
            if method is not None and method not in ("GET", "POST", "PUT"):
                raise errors.validation(f"{where}.httpMethod", method, "Member must satisfy enum value set: "
                                     "[GET, POST, PUT]")
            _http_parameters(given.get("OAuthHttpParameters"), f"{where}.oAuthHttpParameters")
    _http_parameters(auth.get("InvocationHttpParameters"), "authParameters.invocationHttpParameters")


def create_connection(pf: Any, p: Params) -> dict[str, Any]:
    name = _name(p)
    kind = p.enum("AuthorizationType", registry.AUTHORIZATION_TYPES)
    if kind is None:
        p.string("AuthorizationType", required=True)
    assert kind is not None
    auth = p.struct("AuthParameters")
    if auth is None:
        raise errors.ValidationException("1 validation error detected: Value null at 'authParameters' failed to "
                                         "satisfy constraint: Member must not be null")
    description = p.string("Description", high=512)
    _auth(kind, auth, creating=True)
    made = pf.connections.create(name, kind, auth, description)
    return _summary(made, ("ConnectionArn", "ConnectionState", "CreationTime", "LastModifiedTime"))


def describe_connection(pf: Any, p: Params) -> dict[str, Any]:
    return dict(pf.connections.describe(_name(p)))


def update_connection(pf: Any, p: Params) -> dict[str, Any]:
    name = _name(p)
    kind = p.enum("AuthorizationType", registry.AUTHORIZATION_TYPES)
    auth = p.struct("AuthParameters")
    description = p.string("Description", high=512)
    current = pf.connections.describe(name, verb="update")
    if auth is not None:
        changed = kind is not None and kind != current["AuthorizationType"]
        _auth(kind or current["AuthorizationType"], auth, creating=changed)
    elif kind is not None and kind != current["AuthorizationType"]:
        raise errors.ValidationException(f"{_MEMBER[kind]} must be specified for authorization type {kind}.")
    updated = pf.connections.update(name, authorization_type=kind, auth=auth, description=description)
    if auth is not None or kind is not None:
        http_auth.forget(updated["ConnectionArn"])  # authorized again at the next call, as EventBridge does
    return _summary(updated, ("ConnectionArn", "ConnectionState", "CreationTime", "LastModifiedTime",
                              "LastAuthorizedTime"))


def delete_connection(pf: Any, p: Params) -> dict[str, Any]:
    deleted = pf.connections.delete(_name(p))
    http_auth.forget(deleted["ConnectionArn"])
    return _summary(deleted, ("ConnectionArn", "ConnectionState", "CreationTime", "LastModifiedTime",
                              "LastAuthorizedTime"))


def list_connections(pf: Any, p: Params) -> dict[str, Any]:
    prefix = p.string("NamePrefix", low=1, high=64)
    state = p.enum("ConnectionState", _STATES)
    limit = p.integer("Limit", low=1, high=100) or 100
    token = p.string("NextToken", low=1, high=2048)
    found = pf.connections.list(prefix, state)
    if token is not None:
        found = [c for c in found if c["Name"] > token]
    page = found[:limit]
    answer: dict[str, Any] = {"Connections": [_summary(c, (
        "ConnectionArn", "Name", "ConnectionState", "StateReason", "AuthorizationType", "CreationTime",
        "LastModifiedTime", "LastAuthorizedTime")) for c in page]}
    if len(found) > limit:
        answer["NextToken"] = page[-1]["Name"]
    return answer


def _summary(config: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: config[key] for key in keys if config.get(key) is not None}


OPERATIONS: dict[str, awsjson.Handler] = {
    "CreateConnection": create_connection,
    "DescribeConnection": describe_connection,
    "UpdateConnection": update_connection,
    "DeleteConnection": delete_connection,
    "ListConnections": list_connections,
}


async def handle(request: Request) -> Response:
    """Answer one EventBridge request (the app routes `X-Amz-Target: AWSEvents.*` here)."""
    answer = await awsjson.dispatch(request, TARGET_PREFIX, OPERATIONS, request.app.state.pinflow)
    answer.headers["content-type"] = CONTENT_TYPE
    return answer
