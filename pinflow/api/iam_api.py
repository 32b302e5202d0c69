"""The IAM API (Query protocol): roles, their inline policies and tags, answered in IAM's XML (managed
policies and attachments are in `iam_policies`).

A request is `POST /` with a form body (`Action=CreateRole&Version=2010-05-08&RoleName=...`); the
answer is `<{Action}Response xmlns=...><{Action}Result>...</{Action}Result><ResponseMetadata>` or
IAM's `<ErrorResponse>`. IAM sends policy documents URL-encoded (botocore decodes them) and dates
as ISO 8601.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from xml.etree import ElementTree

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from pinflow import errors
from pinflow.api import iam_policies, iam_query, querytext

log = logging.getLogger(__name__)

NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/"
VERSION = "2010-05-08"
CONTENT_TYPE = "text/xml"

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


# --- shapes ----------------------------------------------------------------------------------------

iso_time = iam_query.iso_time
encode_policy = iam_query.encode_policy
_text = iam_query.text
_name = iam_query.entity_name
_max_items = iam_query.max_items
_tags = iam_query.tags


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


def update_assume_role_policy(pf: Any, params: Params) -> None:
    """UpdateAssumeRolePolicy: a new trust policy (what decides whether Step Functions may use the role)."""
    pf.roles.update_assume_role_policy(_name(params, "RoleName", "roleName", 64),
                                       iam_query.required(params, "PolicyDocument", "policyDocument", 131072))


def tag_role(pf: Any, params: Params) -> None:
    """TagRole: add or overwrite tags (at most 50 per role)."""
    tags = _tags(params)
    if not tags:
        raise errors.validation("tags", None, "Member must not be null")
    pf.roles.tag_role(_name(params, "RoleName", "roleName", 64), tags)


def untag_role(pf: Any, params: Params) -> None:
    """UntagRole."""
    pf.roles.untag_role(_name(params, "RoleName", "roleName", 64), iam_query.members(params, "TagKeys"))


def list_role_tags(pf: Any, params: Params) -> dict[str, Any]:
    """ListRoleTags, with IAM's Marker/IsTruncated paging."""
    tags = pf.roles.list_role_tags(_name(params, "RoleName", "roleName", 64))
    return iam_query.page(tags, "Tags", params, lambda tag: tag["Key"])


OPERATIONS: dict[str, Operation] = {
    "CreateRole": create_role,
    "GetRole": get_role,
    "DeleteRole": delete_role,
    "ListRoles": list_roles,
    "PutRolePolicy": put_role_policy,
    "GetRolePolicy": get_role_policy,
    "DeleteRolePolicy": delete_role_policy,
    "ListRolePolicies": list_role_policies,
    "UpdateAssumeRolePolicy": update_assume_role_policy,
    "TagRole": tag_role,
    "UntagRole": untag_role,
    "ListRoleTags": list_role_tags,
    **iam_policies.OPERATIONS,
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
