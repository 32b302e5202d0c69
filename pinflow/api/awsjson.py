"""AWS JSON 1.0: an operation named by `X-Amz-Target`, a JSON object in, a JSON object or AWS's error out.

This module knows the protocol, not the service: `dispatch` takes a table of operations (name ->
handler taking the service facade and the request's parameters) and turns what a handler returns or
raises into the answer botocore expects.
"""

from __future__ import annotations

import inspect
import logging
import random
from collections.abc import Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from pinflow import errors, jsontext
from pinflow.api import lanes, shapes

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/x-amz-json-1.0"
REQUEST_ID_HEADER = "x-amzn-RequestId"

# A handler blocks (it runs on the threadpool), or is a coroutine function (awaited on the event loop,
# for operations that wait long, such as GetActivityTask's long poll).
Handler = Callable[[Any, shapes.Params], Any]


class SerializationException(errors.ServiceError):
    """The body is not a JSON object, or a member has the wrong JSON type."""

    code = "SerializationException"
    status = 400


class UnknownOperationException(errors.ServiceError):
    """`X-Amz-Target` names no operation of the service."""

    code = "UnknownOperationException"
    status = 400


class InternalFailure(errors.ServiceError):
    code = "InternalFailure"
    status = 500


def encode(value: Any) -> bytes:
    """A JSON body, compact, UTF-8 (non-ASCII kept as is, as AWS sends it), whatever the value holds."""
    return jsontext.encode(value)


def answer(payload: Mapping[str, Any] | None, status: int = 200) -> Response:
    """A successful (or error) answer with the protocol's content type and a request id."""
    return response(status, encode(payload or {}))


def response(status: int, body: bytes) -> Response:
    """An encoded answer as a Starlette response (what `Outcome` gives, for the routed services)."""
    return Response(body, status_code=status, media_type=CONTENT_TYPE, headers={REQUEST_ID_HEADER: request_id()})


def request_id() -> str:
    """A request id as AWS gives them: a random (version 4) UUID.

    Drawn from `random`, not the system's source: an id names a request in logs and guards nothing, and
    `str(uuid.uuid4())` (a system call and a `UUID` object) costs three times as much.
    """
    digits = f"{_bits(128):032x}"
    return (f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{_VARIANT[int(digits[16], 16) & 3]}{digits[17:20]}-"
            f"{digits[20:]}")


_bits = random.getrandbits
# The RFC 4122 variant: the first digit of the fourth group is 8, 9, a or b.
_VARIANT = "89ab"


def error_body(exc: errors.ServiceError) -> bytes:
    """AWS's JSON 1.0 error: `{"__type": code, "message": ...}` plus the shape's extra members."""
    body: dict[str, Any] = {"__type": exc.code, "message": exc.message}
    for key, value in exc.extra.items():
        if value is not None:
            body[key] = value
    return encode(body)


def error_answer(exc: errors.ServiceError) -> Response:
    """AWS's JSON 1.0 error as a response (`error_body`, with the error's status)."""
    return response(exc.status, error_body(exc))


def parse_body(raw: bytes) -> dict[str, Any]:
    """The request's parameters; an empty body is no parameters.

    Raises:
        SerializationException: not a JSON object (or nested too deeply to read).
        ValidationException: a string in it holds a lone surrogate, which can be neither stored nor
            answered back.
    """
    if not raw.strip():
        return {}
    try:
        body = jsontext.parse(raw)
    except jsontext.NotJson:
        raise SerializationException("Unable to parse the request body as JSON") from None
    except jsontext.UnpairedSurrogate as exc:
        raise errors.validation(exc.member or "body", None, "Member must be valid Unicode text (it holds an "
                             "unpaired surrogate)", sensitive=True) from None
    if not isinstance(body, dict):
        raise SerializationException("Start of structure or map found where not expected.")
    return body


def operation_name(target: str | None, prefix: str) -> str | None:
    """`AWSStepFunctions.StartExecution` -> `StartExecution` (None when the prefix differs)."""
    if not target:
        return None
    service, _, name = target.partition(".")
    return name if service == prefix and name else None


# An answer, encoded: (HTTP status, body).
Outcome = tuple[int, bytes]


def _failure(handler: Handler, exc: Exception) -> Outcome:
    """What the client gets when an operation raised `exc` (called inside the `except`)."""
    if isinstance(exc, errors.ServiceError):
        return exc.status, error_body(exc)
    if isinstance(exc, shapes.ParamError):
        return SerializationException.status, error_body(SerializationException(str(exc)))
    # A client must get an AWS-shaped answer, whatever broke.
    log.exception("operation %s failed", getattr(handler, "__name__", handler))
    return InternalFailure.status, error_body(InternalFailure("An internal error occurred while handling the request."))


def call(handler: Handler, service: Any, body: dict[str, Any]) -> Outcome:
    """Run one blocking operation and encode its outcome (the caller picks the thread)."""
    try:
        return 200, encode(handler(service, shapes.Params(body)) or {})
    except Exception as exc:  # noqa: BLE001 - _failure logs what is not an API error
        return _failure(handler, exc)


async def call_async(handler: Handler, service: Any, body: dict[str, Any]) -> Outcome:
    """Await one coroutine operation and encode its outcome."""
    try:
        return 200, encode(await handler(service, shapes.Params(body)) or {})
    except Exception as exc:  # noqa: BLE001 - _failure logs what is not an API error
        return _failure(handler, exc)


async def dispatch(request: Request, prefix: str, operations: Mapping[str, Handler],
                   service: Any) -> Response:
    """Answer one AWS JSON 1.0 request (`dispatch_body` with the request's target header and body).

    Args:
        request: the HTTP request (POST /, `X-Amz-Target: <prefix>.<Operation>`).
        prefix: the service's target prefix (`AWSStepFunctions`).
        operations: operation name -> handler(service, params) returning the output members.
        service: what handlers are given (the `Pinflow` facade).
    """
    status, body = await dispatch_body(request.headers.get("x-amz-target"), await request.body(), prefix,
                                       operations, service)
    return response(status, body)


# Whether each handler is a coroutine function, asked once per handler (inspect's check costs more than
# the rest of the dispatch).
_awaited: dict[Handler, bool] = {}


async def dispatch_body(target: str | None, raw: bytes, prefix: str, operations: Mapping[str, Handler],
                        service: Any) -> Outcome:
    """Answer one AWS JSON 1.0 request from its `X-Amz-Target` header and its body, encoded.

    Blocking handlers (the store, the engine's commits) run on the shared pool (`lanes.blocking`);
    coroutine handlers are awaited here.
    """
    name = operation_name(target, prefix)
    handler = operations.get(name) if name else None
    if handler is None:
        return UnknownOperationException.status, error_body(UnknownOperationException(f"Unknown operation {target!r}"))
    try:
        # A large body is parsed on the pool: the event loop serves every other request meanwhile.
        body = parse_body(raw) if len(raw) < jsontext.INLINE_BYTES else await lanes.blocking(parse_body, raw)
    except errors.ServiceError as exc:
        return exc.status, error_body(exc)
    awaited = _awaited.get(handler)
    if awaited is None:
        awaited = _awaited[handler] = inspect.iscoroutinefunction(handler)
    if awaited:
        return await call_async(handler, service, body)
    return await lanes.blocking(call, handler, service, body)
