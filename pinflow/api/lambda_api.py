"""The Lambda API (REST-JSON under /2015-03-31/functions): functions, versions, aliases and Invoke.

Each endpoint parses Lambda's request, makes one call to the function registry or the invoker (the
same ones the engine uses) and answers with Lambda's shapes, status codes and headers.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import random
import re
import threading
import time
import weakref
import zipfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pinflow import errors
from pinflow.api import lambda_layers, lambda_resources, lanes, restjson
from pinflow.api.restjson import member
from pinflow.functions import errors as function_errors
from pinflow.functions import package, runtimes
from pinflow.registry import functions as function_registry
from pinflow.registry import lambda_shapes, paging

log = logging.getLogger(__name__)

BASE = "/2015-03-31/functions"

# ListFunctions and ListVersionsByFunction answer at most 50 items, whatever MaxItems asks for.
PAGE_LIMIT = 50
MAX_ITEMS = 10_000

SYNC_PAYLOAD_LIMIT = 6_291_456
EVENT_PAYLOAD_LIMIT = 1_048_576
# Lambda's figure for a request carrying a zip directly: 50 MB of zip once base64 has made it 4/3 larger.
CODE_UPLOAD_LIMIT = 69_905_067
# Every other operation's body is a small JSON document.
OTHER_REQUEST_LIMIT = 1_048_576
# Lambda's own figure for the largest response it passes back (a little over 6 MiB).
RESPONSE_PAYLOAD_LIMIT = 6_291_556

# How long an Event invocation is tried again (every EVENT_THROTTLE_RETRY seconds) while its function's
# reserved concurrency is taken, before it is dropped.
EVENT_THROTTLE_WAIT = 300
EVENT_THROTTLE_RETRY = 1.0
INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")
LOG_TYPES = ("None", "Tail")
EVENT_WORKERS = 4

_ROLE_ARN = re.compile(r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+")
_ROLE_PATTERN = r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"
_HANDLER = re.compile(r"[^\s]+")
_UNZIPPABLE = "Could not unzip uploaded file. Please check your file, then try to upload again."
_CODE_PATH = re.compile(BASE + r"/[^/]+/code/?")
_LAYER_PUBLISH_PATH = re.compile(lambda_layers.BASE + r"/[^/]+/versions/?")
_INVOKE_PATH = re.compile(BASE + r"/[^/]+/invocations/?")


class InvalidRuntimeException(errors.ServiceError):
    """The function's runtime cannot run here (see `pinflow.functions.runtimes`)."""

    code = "InvalidRuntimeException"
    status = 502


class RequestEntityTooLargeException(errors.ServiceError):
    """A request body over Lambda's limit for its operation (Invoke has RequestTooLargeException)."""

    code = "RequestEntityTooLargeException"
    status = 413


class UnknownOperationException(errors.ServiceError):
    """A path or method Lambda has no operation for."""

    code = "UnknownOperationException"
    status = 404


def body_limit(method: str, path: str) -> tuple[int, errors.ServiceError]:
    """The largest request body Lambda takes for the operation at `method` `path`, and its answer to a
    larger one (the server answers it before reading the body)."""
    if method == "POST" and path.rstrip("/") == BASE:
        operation, limit = "CreateFunction", CODE_UPLOAD_LIMIT
    elif method == "PUT" and _CODE_PATH.fullmatch(path):
        operation, limit = "UpdateFunctionCode", CODE_UPLOAD_LIMIT
    elif method == "POST" and _LAYER_PUBLISH_PATH.fullmatch(path):
        operation, limit = "PublishLayerVersion", CODE_UPLOAD_LIMIT
    elif method == "POST" and _INVOKE_PATH.fullmatch(path):
        return SYNC_PAYLOAD_LIMIT, errors.RequestTooLargeException(
            f"Request must be smaller than {SYNC_PAYLOAD_LIMIT} bytes for the InvokeFunction operation")
    else:
        operation, limit = "", OTHER_REQUEST_LIMIT
    for_operation = f" for the {operation} operation" if operation else ""
    return limit, RequestEntityTooLargeException(f"Request must be smaller than {limit} bytes{for_operation}")


# --- plumbing --------------------------------------------------------------------------------------


def _pinflow(request: Request) -> Any:
    return request.app.state.pinflow


def _function_name(request: Request) -> str:
    return str(request.path_params["FunctionName"])


def _required(body: dict[str, Any], name: str, field: str) -> Any:
    value = member(body, name, str)
    if value is None:
        raise errors.validation(field, None, "Member must not be null")
    return value


def _check_role(role: str | None) -> None:
    if role is not None and not _ROLE_ARN.fullmatch(role):
        raise errors.validation("role", role, f"Member must satisfy regular expression pattern: {_ROLE_PATTERN}")


def _check_handler(handler: str | None) -> None:
    if handler is None:
        return
    if len(handler) > 128:
        raise errors.validation("handler", handler, "Member must have length less than or equal to 128")
    if not _HANDLER.fullmatch(handler):
        raise errors.validation("handler", handler, r"Member must satisfy regular expression pattern: [^\s]+")


def _check_description(description: str | None) -> None:
    if description is not None and len(description) > 256:
        raise errors.validation("description", description, "Member must have length less than or equal to 256")


def _environment(body: dict[str, Any]) -> dict[str, str] | None:
    """The variables of an `Environment` member; None when the member is absent."""
    environment = member(body, "Environment", dict)
    if environment is None:
        return None
    return dict(member(environment, "Variables", dict, {}))


def _layer_arns(body: dict[str, Any]) -> list[str] | None:
    """The `Layers` member (layer version ARNs); None when absent."""
    value = member(body, "Layers", list)
    if value is not None and not all(isinstance(item, str) for item in value):
        raise errors.InvalidRequestContentException(
            "Could not parse request body into json: member 'Layers' must be a list of strings")
    return value


def code_zip(body: dict[str, Any]) -> bytes:
    """The ZipFile member (base64 on the wire), checked as the invoker will unpack it.

    Raises:
        InvalidParameterValueException: no ZipFile (S3 and images are not served here), not a zip, a
            zip the invoker would refuse to unpack (a name leaving the code folder, a name that is both
            a file and a folder, a damaged entry), or one too large once unpacked.
    """
    encoded = member(body, "ZipFile", str)
    if encoded is None:
        if body.get("S3Bucket") or body.get("S3Key") or body.get("ImageUri"):
            raise errors.InvalidParameterValueException(
                "Only ZipFile code is supported by this server: S3Bucket/S3Key and ImageUri are not")
        raise errors.InvalidParameterValueException("Please provide a source for function code.")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise errors.InvalidRequestContentException(
            "Could not parse request body into json: member 'ZipFile' is not valid base64") from None
    try:
        package.check(data)
    except package.ArchiveTooLargeError:
        raise errors.InvalidParameterValueException(
            f"Unzipped size must be smaller than {package.MAX_UNZIPPED_BYTES} bytes") from None
    except (zipfile.BadZipFile, ValueError, EOFError):
        # UnsafeArchiveError is a ValueError: what would fail at the first Invoke fails here instead.
        raise errors.InvalidParameterValueException(_UNZIPPABLE) from None
    return data


def _max_items(request: Request) -> int | None:
    return restjson.query_int(request, "MaxItems", "maxItems", low=1, high=MAX_ITEMS)


def _listing(key: str, items: list[dict[str, Any]], marker: str | None) -> Response:
    answer: dict[str, Any] = {key: items}
    if marker is not None:
        answer["NextMarker"] = marker
    return restjson.json_response(answer)


# --- functions -------------------------------------------------------------------------------------


@restjson.endpoint
async def create_function(request: Request) -> Response:
    """CreateFunction (201): a function from a base64 zip, optionally published at once as version 1.."""
    body = await restjson.read_json(request)
    name = lambda_shapes.function_ref(_required(body, "FunctionName", "functionName")).name
    role = _required(body, "Role", "role")
    _check_role(role)
    if member(body, "PackageType", str, "Zip") != "Zip":
        raise errors.InvalidParameterValueException(
            "Only the Zip package type is supported by this server")
    # Decoding and reading every entry of up to 50 MB of zip must not hold up the event loop.
    zip_bytes = await run_in_threadpool(code_zip, member(body, "Code", dict, {}))
    runtime, handler = member(body, "Runtime", str), member(body, "Handler", str)
    if runtime is None or handler is None:
        raise errors.InvalidParameterValueException(
            "Runtime and Handler are mandatory parameters for functions created with deployment packages.")
    _check_handler(handler)
    description = member(body, "Description", str, "")
    _check_description(description)
    pf = _pinflow(request)
    configuration = await run_in_threadpool(
        pf.functions.create_function, name, zip_bytes, handler=handler, runtime=runtime,
        timeout=member(body, "Timeout", int, 3), memory_size=member(body, "MemorySize", int, 128),
        environment=_environment(body), description=description, role=role,
        publish=bool(member(body, "Publish", bool, False)), tags=restjson.string_map(body, "Tags"),
        layer_arns=_layer_arns(body))
    return restjson.json_response(configuration, 201)


@restjson.endpoint
async def update_function_code(request: Request) -> Response:
    """UpdateFunctionCode: new zip for $LATEST, optionally published at once."""
    body = await restjson.read_json(request)
    zip_bytes = await run_in_threadpool(code_zip, body)
    pf = _pinflow(request)
    if member(body, "DryRun", bool, False):
        # Checks only: the answer shows the code that would be deployed, and nothing changes.
        current = await run_in_threadpool(pf.functions.get_configuration, _function_name(request))
        current.update(CodeSha256=package.sha256_b64(zip_bytes), CodeSize=len(zip_bytes))
        return restjson.json_response(current)
    configuration = await run_in_threadpool(
        pf.functions.update_function_code, _function_name(request), zip_bytes,
        publish=bool(member(body, "Publish", bool, False)), revision_id=member(body, "RevisionId", str))
    return restjson.json_response(configuration)


@restjson.endpoint
async def update_function_configuration(request: Request) -> Response:
    """UpdateFunctionConfiguration of $LATEST; members left out keep their value."""
    body = await restjson.read_json(request)
    role, handler = member(body, "Role", str), member(body, "Handler", str)
    description = member(body, "Description", str)
    _check_role(role)
    _check_handler(handler)
    _check_description(description)
    pf = _pinflow(request)
    configuration = await run_in_threadpool(
        pf.functions.update_function_configuration, _function_name(request), handler=handler,
        runtime=member(body, "Runtime", str), timeout=member(body, "Timeout", int),
        memory_size=member(body, "MemorySize", int), environment=_environment(body),
        description=description, role=role, revision_id=member(body, "RevisionId", str),
        layer_arns=_layer_arns(body))
    return restjson.json_response(configuration)


@restjson.endpoint
async def get_function(request: Request) -> Response:
    """GetFunction: configuration, code location and tags of $LATEST, a version or an alias's version."""
    pf = _pinflow(request)
    answer = await run_in_threadpool(pf.functions.get_function, _function_name(request),
                                     restjson.qualifier(request))
    return restjson.json_response(answer)


@restjson.endpoint
async def get_function_configuration(request: Request) -> Response:
    """GetFunctionConfiguration, optionally qualified."""
    pf = _pinflow(request)
    answer = await run_in_threadpool(pf.functions.get_configuration, _function_name(request),
                                     restjson.qualifier(request))
    return restjson.json_response(answer)


@restjson.endpoint
async def list_functions(request: Request) -> Response:
    """ListFunctions: $LATEST of every function, or every version too with FunctionVersion=ALL."""
    size = min(_max_items(request) or PAGE_LIMIT, PAGE_LIMIT)
    marker = request.query_params.get("Marker") or None
    which = request.query_params.get("FunctionVersion")
    pf = _pinflow(request)
    if which is None:
        page, next_marker = await run_in_threadpool(pf.functions.list_functions, marker, size)
        return _listing("Functions", page, next_marker)
    if which != "ALL":
        raise errors.validation("functionVersion", which, "Member must satisfy enum value set: [ALL]")
    everything = await run_in_threadpool(_every_version, pf.functions)
    page, next_marker = paging.keyset_page(
        everything, lambda item: (str(item["FunctionName"]), *function_registry.version_key(item)), marker, size,
        errors.InvalidParameterValueException)
    return _listing("Functions", page, next_marker)


def _every_version(functions: Any) -> list[dict[str, Any]]:
    """$LATEST and the versions of every function, function by function."""
    found: list[dict[str, Any]] = []
    marker: str | None = None
    while True:
        page, marker = functions.list_functions(marker, PAGE_LIMIT)
        for configuration in page:
            versions_marker: str | None = None
            try:
                while True:
                    versions, versions_marker = functions.list_versions_by_function(
                        configuration["FunctionName"], versions_marker, PAGE_LIMIT)
                    found.extend(versions)
                    if versions_marker is None:
                        break
            except errors.ResourceNotFoundException:
                continue  # deleted while we listed
        if marker is None:
            return found


@restjson.endpoint
async def delete_function(request: Request) -> Response:
    """DeleteFunction (204): the function, or one version; refused while an alias or a running
    execution needs it."""
    pf = _pinflow(request)
    await run_in_threadpool(pf.functions.delete_function, _function_name(request),
                            restjson.qualifier(request))
    return restjson.empty_response(204)


# --- versions --------------------------------------------------------------------------------------


@restjson.endpoint
async def publish_version(request: Request) -> Response:
    """PublishVersion (201): $LATEST as the next version, or the last one when nothing changed."""
    body = await restjson.read_json(request)
    description = member(body, "Description", str)
    _check_description(description)
    pf = _pinflow(request)
    configuration = await run_in_threadpool(
        pf.functions.publish_version, _function_name(request), member(body, "CodeSha256", str),
        member(body, "RevisionId", str), description)
    return restjson.json_response(configuration, 201)


@restjson.endpoint
async def list_versions_by_function(request: Request) -> Response:
    """ListVersionsByFunction: $LATEST, then the versions in ascending order."""
    size = min(_max_items(request) or PAGE_LIMIT, PAGE_LIMIT)
    pf = _pinflow(request)
    page, marker = await run_in_threadpool(pf.functions.list_versions_by_function, _function_name(request),
                                           request.query_params.get("Marker") or None, size)
    return _listing("Versions", page, marker)


# --- aliases ---------------------------------------------------------------------------------------


def _routing(body: dict[str, Any]) -> dict[str, Any] | None:
    routing: dict[str, Any] | None = member(body, "RoutingConfig", dict)
    if routing is not None:
        member(routing, "AdditionalVersionWeights", dict)
    return routing


@restjson.endpoint
async def create_alias(request: Request) -> Response:
    """CreateAlias (201)."""
    body = await restjson.read_json(request)
    name = _required(body, "Name", "name")
    version = _required(body, "FunctionVersion", "functionVersion")
    description = member(body, "Description", str, "")
    _check_description(description)
    pf = _pinflow(request)
    alias = await run_in_threadpool(pf.functions.create_alias, _function_name(request), name, version,
                                    description, _routing(body))
    return restjson.json_response(alias, 201)


@restjson.endpoint
async def get_alias(request: Request) -> Response:
    """GetAlias."""
    pf = _pinflow(request)
    alias = await run_in_threadpool(pf.functions.get_alias, _function_name(request), request.path_params["Name"])
    return restjson.json_response(alias)


@restjson.endpoint
async def update_alias(request: Request) -> Response:
    """UpdateAlias; an empty RoutingConfig removes the routing."""
    body = await restjson.read_json(request)
    description = member(body, "Description", str)
    _check_description(description)
    pf = _pinflow(request)
    alias = await run_in_threadpool(
        pf.functions.update_alias, _function_name(request), request.path_params["Name"],
        member(body, "FunctionVersion", str), description, _routing(body), member(body, "RevisionId", str))
    return restjson.json_response(alias)


@restjson.endpoint
async def delete_alias(request: Request) -> Response:
    """DeleteAlias (204)."""
    pf = _pinflow(request)
    await run_in_threadpool(pf.functions.delete_alias, _function_name(request), request.path_params["Name"])
    return restjson.empty_response(204)


@restjson.endpoint
async def list_aliases(request: Request) -> Response:
    """ListAliases, optionally only those whose primary version is FunctionVersion."""
    size = _max_items(request) or PAGE_LIMIT
    pf = _pinflow(request)
    page, marker = await run_in_threadpool(
        pf.functions.list_aliases, _function_name(request), request.query_params.get("FunctionVersion"),
        request.query_params.get("Marker") or None, size)
    return _listing("Aliases", page, marker)


# --- invoke ----------------------------------------------------------------------------------------


def _event(raw: bytes) -> Any:
    """The handler's event from an Invoke body; an empty body is the empty object, as on Lambda."""
    if not raw.strip():
        return {}
    try:
        return json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise errors.InvalidRequestContentException(
            "Could not parse request body into json: Could not parse payload into json: the JSON is nested too "
            "deeply") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise errors.InvalidRequestContentException(
            f"Could not parse request body into json: Could not parse payload into json: {exc}") from None


def _refuse_constant(name: str) -> Any:
    # Python's json accepts NaN and Infinity; JSON (and so Lambda) does not.
    raise ValueError(f"Unrecognized token '{name}'")


def _header_choice(request: Request, header: str, field: str, allowed: tuple[str, ...]) -> str:
    value = request.headers.get(header, allowed[0])
    if value not in allowed:
        raise errors.validation(field, value, f"Member must satisfy enum value set: [{', '.join(allowed)}]")
    return value


@restjson.endpoint
async def invoke(request: Request) -> Response:
    """Invoke: RequestResponse (200, the handler's result or error document), Event (202, run in the
    background) or DryRun (204, only checks the function)."""
    invocation_type = _header_choice(request, "X-Amz-Invocation-Type", "invocationType", INVOCATION_TYPES)
    log_type = _header_choice(request, "X-Amz-Log-Type", "logType", LOG_TYPES)
    raw = await request.body()
    limit = EVENT_PAYLOAD_LIMIT if invocation_type == "Event" else SYNC_PAYLOAD_LIMIT
    if len(raw) > limit:
        operation = "InvokeAsync" if invocation_type == "Event" else "InvokeFunction"
        raise errors.RequestTooLargeException(
            f"Request must be smaller than {limit} bytes for the {operation} operation")
    event = _event(raw)
    request_id = restjson.new_request_id()
    pf = _pinflow(request)
    resolved = await run_in_threadpool(pf.functions.resolve, _function_name(request),
                                       restjson.qualifier(request),
                                       rng=random.Random(request_id))
    if invocation_type == "DryRun":
        return restjson.empty_response(204, request_id=request_id)
    if not runtimes.runnable(resolved.spec.runtime):  # stored before CreateFunction checked runtimes, or no node
        raise InvalidRuntimeException(runtimes.refusal(resolved.spec.runtime))
    client_context = _client_context(request)
    if invocation_type == "Event":
        _event_runner(pf).submit(_invoke_in_background, pf, resolved.spec, event, request_id)
        return restjson.empty_response(202, request_id=request_id)
    result = await lanes.INVOKE.run(_invoke, pf, resolved.spec, event, request_id, client_context)
    payload, function_error = result.payload, result.function_error
    content = (function_errors.payload_text(payload) if function_error else json.dumps(payload)).encode()
    if len(content) > RESPONSE_PAYLOAD_LIMIT:
        function_error = function_errors.UNHANDLED
        content = json.dumps({
            "errorMessage": f"Response payload size ({len(content)} bytes) exceeded maximum allowed payload "
                            f"size ({RESPONSE_PAYLOAD_LIMIT} bytes).",
            "errorType": "Function.ResponseSizeTooLarge"}).encode()
    headers = {"X-Amz-Executed-Version": result.executed_version}
    if function_error:
        headers["X-Amz-Function-Error"] = function_error
    if log_type == "Tail":
        headers["X-Amz-Log-Result"] = base64.b64encode(result.log_tail.encode()).decode("ascii")
    return restjson.raw_response(content, 200, request_id=request_id, headers=headers)


def _client_context(request: Request) -> dict[str, Any] | None:
    """Invoke's `X-Amz-Client-Context`: base64 of a JSON object (Lambda refuses anything else)."""
    text = request.headers.get("X-Amz-Client-Context")
    if text is None:
        return None
    try:
        decoded = json.loads(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        decoded = None
    if not isinstance(decoded, dict):
        raise errors.InvalidRequestContentException("Client context must be a valid Base64-encoded JSON object.")
    return decoded


def _invoke(pf: Any, spec: Any, event: Any, request_id: str, client_context: dict[str, Any] | None = None) -> Any:
    """One synchronous invocation through the engine's invoker, its failures worded as Lambda's."""
    from pinflow.functions.invoker import CodeIntegrityError, Throttled

    try:
        return pf.invoker.invoke(spec, event, request_id=request_id, client_context=client_context)
    except Throttled:
        raise errors.TooManyRequestsException(
            "Rate Exceeded.", Reason="ReservedFunctionConcurrentInvocationLimitExceeded") from None
    except (CodeIntegrityError, KeyError) as exc:
        # The code blob is missing or damaged: the service's fault, not the caller's.
        raise restjson.ServiceException(f"The function's code could not be loaded: {exc}") from None


def _invoke_in_background(pf: Any, spec: Any, event: Any, request_id: str, since: float | None = None) -> None:
    from pinflow.functions.invoker import Throttled

    since = time.monotonic() if since is None else since
    try:
        result = pf.invoker.invoke(spec, event, request_id=request_id)
    except Throttled:
        # Lambda keeps an event it cannot run for want of concurrency and tries it again later: here
        # every second for a while, from a timer, so that no Event worker waits meanwhile.
        if spec.reserved_concurrency and time.monotonic() - since < EVENT_THROTTLE_WAIT:
            retry = threading.Timer(EVENT_THROTTLE_RETRY, _resubmit, (pf, spec, event, request_id, since))
            retry.daemon = True
            retry.start()
        else:
            log.warning("Event invocation %s of %s dropped: the function's reserved concurrency stayed taken "
                        "(or is 0)", request_id, spec.arn)
        return
    except Exception:  # nobody waits for an Event invocation; its failure is only logged
        log.exception("Event invocation %s of %s failed", request_id, spec.arn)
        return
    if result.function_error:
        log.warning("Event invocation %s of %s ended in a function error: %s", request_id, spec.arn,
                    function_errors.payload_text(result.payload))


def _resubmit(pf: Any, spec: Any, event: Any, request_id: str, since: float) -> None:
    try:
        _event_runner(pf).submit(_invoke_in_background, pf, spec, event, request_id, since)
    except RuntimeError:  # the server is stopping
        log.warning("Event invocation %s of %s dropped: the server stopped", request_id, spec.arn)


# One small pool per pinflow for Event invocations, so that they outlive the request that queued them.
_event_runners: weakref.WeakKeyDictionary[Any, ThreadPoolExecutor] = weakref.WeakKeyDictionary()
_event_runners_lock = threading.Lock()


def _event_runner(pf: Any) -> ThreadPoolExecutor:
    with _event_runners_lock:
        runner = _event_runners.get(pf)
        if runner is None:
            runner = ThreadPoolExecutor(max_workers=EVENT_WORKERS, thread_name_prefix="pinflow-lambda-event")
            _event_runners[pf] = runner
        return runner


@restjson.endpoint
async def unknown_operation(request: Request) -> Response:
    """Any other path or method: Lambda's 404 with an error type that botocore reads."""
    raise UnknownOperationException("Unknown operation")


# --- routes ----------------------------------------------------------------------------------------

_ONE = BASE + "/{FunctionName}"

ROUTES = [
    Route(BASE, create_function, methods=["POST"]),
    Route(BASE, list_functions, methods=["GET"]),
    # Some botocore versions end these two paths in a slash.
    Route(BASE + "/", create_function, methods=["POST"]),
    Route(BASE + "/", list_functions, methods=["GET"]),
    Route(_ONE, get_function, methods=["GET"]),
    Route(_ONE, delete_function, methods=["DELETE"]),
    Route(_ONE + "/code", update_function_code, methods=["PUT"]),
    Route(_ONE + "/configuration", get_function_configuration, methods=["GET"]),
    Route(_ONE + "/configuration", update_function_configuration, methods=["PUT"]),
    Route(_ONE + "/versions", publish_version, methods=["POST"]),
    Route(_ONE + "/versions", list_versions_by_function, methods=["GET"]),
    Route(_ONE + "/aliases", create_alias, methods=["POST"]),
    Route(_ONE + "/aliases", list_aliases, methods=["GET"]),
    Route(_ONE + "/aliases/{Name}", get_alias, methods=["GET"]),
    Route(_ONE + "/aliases/{Name}", update_alias, methods=["PUT"]),
    Route(_ONE + "/aliases/{Name}", delete_alias, methods=["DELETE"]),
    Route(_ONE + "/invocations", invoke, methods=["POST"]),
    *lambda_resources.ROUTES,
    *lambda_layers.ROUTES,
]
