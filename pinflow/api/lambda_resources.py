"""Lambda operations deploy tools call around a function: its resource-based policy (AddPermission,
RemovePermission, GetPolicy), tags (TagResource, UntagResource, ListTags), reserved concurrency,
GetAccountSettings and GetFunctionCodeSigningConfig. Paths and status codes are Lambda's."""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pinflow import arns, errors
from pinflow.api import restjson
from pinflow.api.restjson import member
from pinflow.registry import lambda_shapes

_SID = re.compile(r"[a-zA-Z0-9-_.]+")
_ACTION = re.compile(r"(lambda:[*]|lambda:[a-zA-Z]+|[*])")
_PRINCIPAL = re.compile(r"[^\s]+")


def _checked(body: dict[str, Any], name: str, field: str, pattern: re.Pattern[str], limit: int) -> str:
    value = member(body, name, str)
    if value is None:
        raise errors.validation(field, None, "Member must not be null")
    if not 1 <= len(value) <= limit:
        raise errors.validation(field, value, f"Member must have length less than or equal to {limit}")
    if not pattern.fullmatch(value):
        raise errors.validation(field, value, f"Member must satisfy regular expression pattern: {pattern.pattern}")
    return value


def _name(request: Request) -> str:
    return str(request.path_params["FunctionName"])


# --- resource-based policy -------------------------------------------------------------------------


@restjson.endpoint
async def add_permission(request: Request) -> Response:
    """AddPermission (201): {"Statement": the statement added, as JSON text}."""
    body = await restjson.read_json(request)
    sid = _checked(body, "StatementId", "statementId", _SID, 100)
    action = _checked(body, "Action", "action", _ACTION, 256)
    principal = _checked(body, "Principal", "principal", _PRINCIPAL, 256)
    pf = request.app.state.pinflow
    made = await run_in_threadpool(
        pf.function_policies.add_permission, _name(request), restjson.qualifier(request), sid, action, principal,
        member(body, "RevisionId", str), source_arn=member(body, "SourceArn", str),
        source_account=member(body, "SourceAccount", str), event_source_token=member(body, "EventSourceToken", str),
        principal_org_id=member(body, "PrincipalOrgID", str),
        function_url_auth_type=member(body, "FunctionUrlAuthType", str))
    return restjson.json_response({"Statement": json.dumps(made, separators=(",", ":"))}, 201)


@restjson.endpoint
async def remove_permission(request: Request) -> Response:
    """RemovePermission (204)."""
    pf = request.app.state.pinflow
    await run_in_threadpool(pf.function_policies.remove_permission, _name(request), restjson.qualifier(request),
                            str(request.path_params["StatementId"]), request.query_params.get("RevisionId"))
    return restjson.empty_response(204)


@restjson.endpoint
async def get_policy(request: Request) -> Response:
    """GetPolicy: the policy as JSON text and its RevisionId."""
    pf = request.app.state.pinflow
    answer = await run_in_threadpool(pf.function_policies.get_policy, _name(request), restjson.qualifier(request))
    return restjson.json_response(answer)


# --- tags ------------------------------------------------------------------------------------------


def _tagged_function(request: Request) -> str:
    """The function a tagging path names: an unqualified function ARN of this server's region and account.

    Raises:
        ValidationException: not a function ARN.
        InvalidParameterValueException: a version or alias ARN (tags belong to the function).
        ResourceNotFoundException: a function of another region or account, which this server has not.
    """
    resource = str(request.path_params["ARN"])
    ref = arns.split_function(resource) if resource.startswith("arn:") else None
    if ref is None:
        raise errors.validation("resource", resource, "Member must satisfy regular expression pattern: "
                                r"arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:"
                                r"\d{12}:(function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?)")
    if ref.qualifier is not None:
        raise errors.InvalidParameterValueException(
            "Tags are not supported on function versions or aliases; tag the function's unqualified ARN.")
    if (ref.region, ref.account) != (arns.DEFAULT_REGION, arns.DEFAULT_ACCOUNT):
        raise errors.ResourceNotFoundException(f"Function not found: {resource}")
    return ref.name


@restjson.endpoint
async def tag_resource(request: Request) -> Response:
    """TagResource (204): add or overwrite tags (at most 50 per function)."""
    body = await restjson.read_json(request)
    tags = restjson.string_map(body, "Tags")
    if tags is None:
        raise errors.validation("tags", None, "Member must not be null")
    pf = request.app.state.pinflow
    await run_in_threadpool(pf.functions.tag_resource, _tagged_function(request), tags)
    return restjson.empty_response(204)


@restjson.endpoint
async def untag_resource(request: Request) -> Response:
    """UntagResource (204)."""
    keys = request.query_params.getlist("tagKeys")
    if not keys:
        raise errors.validation("tagKeys", None, "Member must not be null")
    pf = request.app.state.pinflow
    await run_in_threadpool(pf.functions.untag_resource, _tagged_function(request), keys)
    return restjson.empty_response(204)


@restjson.endpoint
async def list_tags(request: Request) -> Response:
    """ListTags: {"Tags": {...}}."""
    pf = request.app.state.pinflow
    tags = await run_in_threadpool(pf.functions.list_tags, _tagged_function(request))
    return restjson.json_response({"Tags": tags})


# --- concurrency, account, code signing ------------------------------------------------------------


@restjson.endpoint
async def put_concurrency(request: Request) -> Response:
    """PutFunctionConcurrency."""
    body = await restjson.read_json(request)
    reserved = member(body, "ReservedConcurrentExecutions", int)
    if reserved is None:
        raise errors.validation("reservedConcurrentExecutions", None, "Member must not be null")
    if reserved < 0:
        raise errors.validation("reservedConcurrentExecutions", reserved,
                          "Member must have value greater than or equal to 0")
    pf = request.app.state.pinflow
    value = await run_in_threadpool(pf.function_policies.put_concurrency, _name(request), reserved)
    return restjson.json_response({"ReservedConcurrentExecutions": value})


@restjson.endpoint
async def get_concurrency(request: Request) -> Response:
    """GetFunctionConcurrency: {} when none is reserved."""
    pf = request.app.state.pinflow
    value = await run_in_threadpool(pf.function_policies.get_concurrency, _name(request))
    return restjson.json_response({} if value is None else {"ReservedConcurrentExecutions": value})


@restjson.endpoint
async def delete_concurrency(request: Request) -> Response:
    """DeleteFunctionConcurrency (204)."""
    pf = request.app.state.pinflow
    await run_in_threadpool(pf.function_policies.delete_concurrency, _name(request))
    return restjson.empty_response(204)


@restjson.endpoint
async def get_account_settings(request: Request) -> Response:
    """GetAccountSettings."""
    pf = request.app.state.pinflow
    return restjson.json_response(await run_in_threadpool(pf.function_policies.account_settings))


@restjson.endpoint
async def get_code_signing_config(request: Request) -> Response:
    """GetFunctionCodeSigningConfig: pinflow signs nothing, so no function has a config (an empty ARN,
    what Terraform's provider reads after every create)."""
    pf = request.app.state.pinflow
    name = lambda_shapes.function_ref(_name(request)).name
    await run_in_threadpool(pf.functions.get_configuration, name)
    return restjson.json_response({"CodeSigningConfigArn": "", "FunctionName": name})


_ONE = "/2015-03-31/functions/{FunctionName}"

ROUTES = [
    Route(_ONE + "/policy", add_permission, methods=["POST"]),
    Route(_ONE + "/policy", get_policy, methods=["GET"]),
    Route(_ONE + "/policy/{StatementId}", remove_permission, methods=["DELETE"]),
    Route("/2017-03-31/tags/{ARN:path}", tag_resource, methods=["POST"]),
    Route("/2017-03-31/tags/{ARN:path}", untag_resource, methods=["DELETE"]),
    Route("/2017-03-31/tags/{ARN:path}", list_tags, methods=["GET"]),
    Route("/2017-10-31/functions/{FunctionName}/concurrency", put_concurrency, methods=["PUT"]),
    Route("/2017-10-31/functions/{FunctionName}/concurrency", delete_concurrency, methods=["DELETE"]),
    Route("/2019-09-30/functions/{FunctionName}/concurrency", get_concurrency, methods=["GET"]),
    Route("/2016-08-19/account-settings", get_account_settings, methods=["GET"]),
    Route("/2016-08-19/account-settings/", get_account_settings, methods=["GET"]),
    Route("/2020-06-30/functions/{FunctionName}/code-signing-config", get_code_signing_config, methods=["GET"]),
]
