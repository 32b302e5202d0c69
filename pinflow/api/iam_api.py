"""The IAM API (Query protocol): roles and their inline policies, answered in IAM's XML.

A request is `POST /` with a form body (`Action=CreateRole&Version=2010-05-08&RoleName=...`); the
answer is `<{Action}Response xmlns=...><{Action}Result>...</{Action}Result><ResponseMetadata>` or
IAM's `<ErrorResponse>`. IAM sends policy documents URL-encoded (botocore decodes them) and dates
as ISO 8601.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from pinflow import errors
from pinflow.api import querytext

log = logging.getLogger(__name__)

NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/"
VERSION = "2010-05-08"
CONTENT_TYPE = "text/xml"

_NAME = re.compile(r"[\w+=,.@-]+")
_NAME_PATTERN = r"[\w+=,.@-]+"

# IAM calls the generic validation failure ValidationError; the rest of pinflow says ValidationException.
_IAM_CODES = {"ValidationException": "ValidationError"}


class InvalidAction(errors.ServiceError):
    """The Action names no IAM operation pinflow serves."""

    code = "InvalidAction"
    status = 400


class ServiceFailure(errors.ServiceError):
    code = "ServiceFailure"
    status = 500


Params = Mapping[str, str]
Operation = Callable[[Any, Params], dict[str, Any] | None]


# --- parameters ------------------------------------------------------------------------------------


def _validation(field: str, value: object, constraint: str) -> errors.ServiceError:
    shown = "null" if value is None else f"'{value}'"
    return errors.ValidationException(
        f"1 validation error detected: Value {shown} at '{field}' failed to satisfy constraint: {constraint}")


def _text(params: Params, name: str, field: str, *, required: bool = True, limit: int | None = None,
          default: str | None = None) -> str | None:
    value = params.get(name)
    if value is None:
        if required:
            raise _validation(field, None, "Member must not be null")
        return default
    if limit is not None and len(value) > limit:
        raise _validation(field, value, f"Member must have length less than or equal to {limit}")
    return value


def _name(params: Params, name: str, field: str, limit: int) -> str:
    """A role or policy name: required, at most `limit` characters of IAM's name alphabet."""
    value = _text(params, name, field, limit=limit)
    assert value is not None
    if not value:
        raise _validation(field, value, "Member must have length greater than or equal to 1")
    if not _NAME.fullmatch(value):
        raise _validation(field, value, f"Member must satisfy regular expression pattern: {_NAME_PATTERN}")
    return value


def _max_items(params: Params) -> int:
    text = params.get("MaxItems")
    if text is None:
        return 100
    try:
        value = int(text)
    except ValueError:
        raise _validation("maxItems", text, "Member must be an integer") from None
    if value < 1:
        raise _validation("maxItems", value, "Member must have value greater than or equal to 1")
    if value > 1000:
        raise _validation("maxItems", value, "Member must have value less than or equal to 1000")
    return value


def _tags(params: Params) -> dict[str, str]:
    """`Tags.member.N.Key` / `Tags.member.N.Value` pairs, in N order."""
    tags: dict[str, str] = {}
    index = 1
    while f"Tags.member.{index}.Key" in params:
        tags[params[f"Tags.member.{index}.Key"]] = params.get(f"Tags.member.{index}.Value", "")
        index += 1
    return tags


# --- shapes ----------------------------------------------------------------------------------------


def iso_time(seconds: float) -> str:
    """IAM's date format: ISO 8601 in UTC, to the second."""
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def encode_policy(document: str) -> str:
    """A policy document as IAM sends it: percent-encoded (botocore unquotes and parses it)."""
    return quote(document, safe="")


def _role(role: Mapping[str, Any], *, last_used: bool = False) -> dict[str, Any]:
    """The `Role` shape, in the order IAM writes its members."""
    shaped: dict[str, Any] = {
        "Path": role["Path"],
        "RoleName": role["RoleName"],
        "RoleId": role["RoleId"],
        "Arn": role["Arn"],
        "CreateDate": iso_time(role["CreateDate"]),
        "AssumeRolePolicyDocument": encode_policy(role["AssumeRolePolicyDocument"]),
    }
    if role.get("Description"):
        shaped["Description"] = role["Description"]
    shaped["MaxSessionDuration"] = role.get("MaxSessionDuration", 3600)
    if role.get("Tags"):
        shaped["Tags"] = [{"Key": tag["Key"], "Value": tag["Value"]} for tag in role["Tags"]]
    if last_used:
        shaped["RoleLastUsed"] = {}
    return shaped


# --- operations ------------------------------------------------------------------------------------


def create_role(pf: Any, params: Params) -> dict[str, Any]:
    """CreateRole."""
    name = _name(params, "RoleName", "roleName", 64)
    document = _text(params, "AssumeRolePolicyDocument", "assumeRolePolicyDocument", limit=131072)
    description = _text(params, "Description", "description", required=False, limit=1000, default="")
    path = _text(params, "Path", "path", required=False, limit=512, default="/")
    assert document is not None and path is not None
    role = pf.roles.create_role(name, document, path=path, description=description or "",
                                tags=_tags(params) or None)
    return {"Role": _role(role)}


def get_role(pf: Any, params: Params) -> dict[str, Any]:
    """GetRole."""
    return {"Role": _role(pf.roles.get_role(_name(params, "RoleName", "roleName", 64)), last_used=True)}


def delete_role(pf: Any, params: Params) -> None:
    """DeleteRole (refused while the role has inline policies)."""
    pf.roles.delete_role(_name(params, "RoleName", "roleName", 64))


def list_roles(pf: Any, params: Params) -> dict[str, Any]:
    """ListRoles, by name, optionally under a path prefix."""
    prefix = _text(params, "PathPrefix", "pathPrefix", required=False, limit=512, default="/") or "/"
    size = _max_items(params)
    marker = params.get("Marker") or None
    found: list[dict[str, Any]] = []
    while len(found) <= size:
        page = pf.roles.list_roles(marker, 100)
        found.extend(role for role in page["Roles"] if role["Path"].startswith(prefix))
        marker = page.get("Marker")
        if not page["IsTruncated"]:
            break
    answer: dict[str, Any] = {"Roles": [_role(role) for role in found[:size]],
                              "IsTruncated": len(found) > size}
    if len(found) > size:
        answer["Marker"] = found[size - 1]["RoleName"]
    return answer


def put_role_policy(pf: Any, params: Params) -> None:
    """PutRolePolicy: add or replace an inline policy."""
    role = _name(params, "RoleName", "roleName", 64)
    policy = _name(params, "PolicyName", "policyName", 128)
    document = _text(params, "PolicyDocument", "policyDocument", limit=131072)
    assert document is not None
    pf.roles.put_role_policy(role, policy, document)


def get_role_policy(pf: Any, params: Params) -> dict[str, Any]:
    """GetRolePolicy: the document comes back URL-encoded, as IAM sends it."""
    found = pf.roles.get_role_policy(_name(params, "RoleName", "roleName", 64),
                                     _name(params, "PolicyName", "policyName", 128))
    return {"RoleName": found["RoleName"], "PolicyName": found["PolicyName"],
            "PolicyDocument": encode_policy(found["PolicyDocument"])}


def delete_role_policy(pf: Any, params: Params) -> None:
    """DeleteRolePolicy."""
    pf.roles.delete_role_policy(_name(params, "RoleName", "roleName", 64),
                                _name(params, "PolicyName", "policyName", 128))


def list_role_policies(pf: Any, params: Params) -> dict[str, Any]:
    """ListRolePolicies: policy names by name, with IAM's Marker/IsTruncated paging."""
    listed = pf.roles.list_role_policies(_name(params, "RoleName", "roleName", 64),
                                         params.get("Marker") or None, _max_items(params))
    answer: dict[str, Any] = {"PolicyNames": listed["PolicyNames"], "IsTruncated": listed["IsTruncated"]}
    if listed.get("Marker"):
        answer["Marker"] = listed["Marker"]
    return answer


OPERATIONS: dict[str, Operation] = {
    "CreateRole": create_role,
    "GetRole": get_role,
    "DeleteRole": delete_role,
    "ListRoles": list_roles,
    "PutRolePolicy": put_role_policy,
    "GetRolePolicy": get_role_policy,
    "DeleteRolePolicy": delete_role_policy,
    "ListRolePolicies": list_role_policies,
}


# --- XML -------------------------------------------------------------------------------------------


def _append(parent: ElementTree.Element, name: str, value: Any) -> None:
    """`value` as IAM's XML: structures as elements, lists as `<member>`s, booleans lower-case."""
    child = ElementTree.SubElement(parent, name)
    if isinstance(value, Mapping):
        for key, item in value.items():
            _append(child, key, item)
    elif isinstance(value, list):
        for item in value:
            _append(child, "member", item)
    elif isinstance(value, bool):
        child.text = "true" if value else "false"
    else:
        child.text = querytext.xml_text(str(value))  # a value stored before the checks at the door included


def _document(root: ElementTree.Element) -> bytes:
    return bytes(ElementTree.tostring(root, encoding="utf-8", xml_declaration=False))


def success_xml(action: str, result: Mapping[str, Any] | None, request_id: str) -> bytes:
    """`<{action}Response>` with the result (if the operation has one) and the request id."""
    root = ElementTree.Element(f"{action}Response", {"xmlns": NAMESPACE})
    if result is not None:
        wrapper = ElementTree.SubElement(root, f"{action}Result")
        for key, value in result.items():
            _append(wrapper, key, value)
    _append(root, "ResponseMetadata", {"RequestId": request_id})
    return _document(root)


def error_xml(exc: errors.ServiceError, request_id: str) -> bytes:
    """IAM's `<ErrorResponse>`: Type (Sender or Receiver), Code, Message, then the request id."""
    root = ElementTree.Element("ErrorResponse", {"xmlns": NAMESPACE})
    _append(root, "Error", {"Type": "Sender" if exc.status < 500 else "Receiver",
                            "Code": _IAM_CODES.get(exc.code, exc.code), "Message": exc.message})
    _append(root, "RequestId", request_id)
    return _document(root)


def _xml_response(content: bytes, status: int, request_id: str) -> Response:
    return Response(content, status_code=status, media_type=CONTENT_TYPE,
                    headers={"x-amzn-RequestId": request_id})


def error_response(exc: errors.ServiceError) -> Response:
    """IAM's XML error answer for `exc` (for failures found before an operation runs, such as auth)."""
    request_id = str(uuid.uuid4())
    return _xml_response(error_xml(exc, request_id), exc.status, request_id)


# --- entry point -----------------------------------------------------------------------------------


def call(pf: Any, params: Params) -> tuple[bytes, int, str]:
    """Run the operation `params["Action"]` names; (XML body, HTTP status, request id)."""
    request_id = str(uuid.uuid4())
    action = params.get("Action", "")
    operation = OPERATIONS.get(action)
    try:
        if operation is None:
            raise InvalidAction(f"Could not find operation {action} for version {params.get('Version', VERSION)}")
        querytext.check_text(params, "iam", action)
        return success_xml(action, operation(pf, params), request_id), 200, request_id
    except errors.ServiceError as exc:
        return error_xml(exc, request_id), exc.status, request_id
    except Exception:  # a client must get an IAM-shaped answer, whatever broke
        log.exception("IAM %s failed", action)
        failure = ServiceFailure("An internal error occurred while handling the request.")
        return error_xml(failure, request_id), failure.status, request_id


def _call_raw(pf: Any, body: bytes, query_string: str) -> tuple[bytes, int, str]:
    """`call` on a request's raw parameters (decoded here, off the event loop: a body may be 1 MB)."""
    try:
        params = querytext.parameters(body, query_string)
    except errors.ServiceError as exc:
        request_id = str(uuid.uuid4())
        return error_xml(exc, request_id), exc.status, request_id
    return call(pf, params)


async def handle(request: Request) -> Response:
    """Answer one IAM Query request (form body, or query string) with IAM's XML.

    Args:
        request: `POST /` with `Action=...&Version=2010-05-08&...` form-encoded; the Pinflow facade
            is `request.app.state.pinflow`.

    Returns:
        The XML answer: 200 with the operation's result, or IAM's error document and status.
    """
    raw = await request.body()
    content, status, request_id = await run_in_threadpool(_call_raw, request.app.state.pinflow, raw,
                                                          request.url.query)
    return _xml_response(content, status, request_id)
