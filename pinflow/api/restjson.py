"""REST-JSON plumbing for the Lambda API: JSON bodies and query values in, AWS's answers and errors out."""

from __future__ import annotations

import functools
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from pinflow import errors, jsontext

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "x-amzn-RequestId"
ERROR_TYPE_HEADER = "x-amzn-ErrorType"
JSON_CONTENT_TYPE = "application/json"

# Lambda's error shapes disagree on the spelling of the message member; botocore reads either for
# the error message, but the modeled member (`response["Message"]`) follows the shape.
_CAPITALISED_MESSAGE = frozenset({
    "ResourceNotFoundException", "ServiceException", "InvalidRuntimeException", "InvalidZipFileException",
    "ResourceInUseException", "ServiceQuotaExceededException", "RecursiveInvocationException",
})

Endpoint = Callable[[Request], Awaitable[Response]]

QUALIFIER_LIMIT = 128
_QUALIFIER = re.compile(r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+")


class ServiceException(errors.ServiceError):
    """Lambda's answer to a failure on its side (HTTP 500)."""

    code = "ServiceException"
    status = 500


def new_request_id() -> str:
    """A fresh request id, as Lambda formats them (a UUID)."""
    return str(uuid.uuid4())


def json_response(body: Any, status: int = 200, *, request_id: str | None = None,
                  headers: Mapping[str, str] | None = None) -> Response:
    """A JSON answer with Lambda's request-id header, whatever the body holds."""
    return raw_response(jsontext.encode(body), status, request_id=request_id, headers=headers)


def raw_response(content: bytes, status: int = 200, *, request_id: str | None = None,
                 headers: Mapping[str, str] | None = None,
                 content_type: str | None = JSON_CONTENT_TYPE) -> Response:
    """An answer whose body is already bytes (an Invoke payload, or nothing)."""
    all_headers = {REQUEST_ID_HEADER: request_id or new_request_id(), **(headers or {})}
    return Response(content, status_code=status, headers=all_headers, media_type=content_type)


def empty_response(status: int, *, request_id: str | None = None,
                   headers: Mapping[str, str] | None = None) -> Response:
    """A body-less answer (204, 202)."""
    return raw_response(b"", status, request_id=request_id, headers=headers, content_type=None)


def error_response(exc: errors.ServiceError, *, request_id: str | None = None) -> Response:
    """AWS's REST-JSON error: the code in `x-amzn-ErrorType`, `{"Type", "message"}` as the body."""
    key = "Message" if exc.code in _CAPITALISED_MESSAGE else "message"
    body = {"Type": "User" if exc.status < 500 else "Service", key: exc.message, **exc.extra}
    return json_response(body, exc.status, request_id=request_id, headers={ERROR_TYPE_HEADER: exc.code})


def endpoint(handler: Endpoint) -> Endpoint:
    """Wrap a handler so that a `ServiceError` becomes AWS's error answer and anything else a 500."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except errors.ServiceError as exc:
            return error_response(exc)
        except Exception:  # a client must get an AWS-shaped answer, whatever broke
            log.exception("%s %s failed", request.method, request.url.path)
            return error_response(ServiceException("An internal error occurred while handling the request."))

    return wrapped


async def read_json(request: Request) -> dict[str, Any]:
    """The request body as a JSON object ({} for an empty body).

    Raises:
        InvalidRequestContentException: the body is not a JSON object (or nested too deeply to read).
        InvalidParameterValueException: a string in it holds a lone surrogate, which can be neither
            stored nor answered back.
    """
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        # A large body (CreateFunction's can be 70 MB) is parsed on the threadpool, off the event loop.
        body = jsontext.parse(raw) if len(raw) < jsontext.INLINE_BYTES else await run_in_threadpool(
            jsontext.parse, raw)
    except jsontext.NotJson as exc:
        raise errors.InvalidRequestContentException(f"Could not parse request body into json: {exc}") from None
    except jsontext.UnpairedSurrogate as exc:
        raise errors.InvalidParameterValueException(
            f"The value of {exc.member or 'the request body'} is not valid Unicode text: it holds an unpaired "
            "surrogate") from None
    if not isinstance(body, dict):
        raise errors.InvalidRequestContentException(
            "Could not parse request body into json: the body must be a JSON object")
    return body


_JSON_TYPES: dict[type, str] = {str: "a string", int: "an integer", bool: "a boolean", dict: "an object",
                                list: "an array"}


def member(body: Mapping[str, Any], name: str, kind: type, default: Any = None) -> Any:
    """A body member checked for its JSON type, or `default` when it is absent or null.

    Raises:
        InvalidRequestContentException: the member has another type.
    """
    value = body.get(name)
    if value is None:
        return default
    # bool is an int in Python, so an integer member must refuse true/false explicitly.
    wrong = not isinstance(value, kind) or (kind is int and isinstance(value, bool))
    if wrong:
        raise errors.InvalidRequestContentException(
            f"Could not parse request body into json: member '{name}' must be {_JSON_TYPES.get(kind, kind.__name__)}")
    return value


def string_map(body: Mapping[str, Any], name: str) -> dict[str, str] | None:
    """A body member that is an object of strings (tags), or None when it is absent or null.

    Raises:
        InvalidRequestContentException: not an object, or a value that is not a string.
    """
    value = member(body, name, dict)
    if value is not None and not all(isinstance(item, str) for item in value.values()):
        raise errors.InvalidRequestContentException(
            f"Could not parse request body into json: member '{name}' must be an object of strings")
    return value


def qualifier(request: Request) -> str | None:
    """The Qualifier query parameter (a version, an alias or $LATEST), None when absent or empty.

    Raises:
        ValidationException: longer than 128 characters, or off Lambda's pattern for it
            (NumericLatestPublishedOrAliasQualifier in Lambda's service model), as Lambda refuses it.
    """
    value = request.query_params.get("Qualifier")
    if not value:
        return None
    if len(value) > QUALIFIER_LIMIT:
        raise errors.validation("qualifier", value, f"Member must have length less than or equal to {QUALIFIER_LIMIT}")
    if not _QUALIFIER.fullmatch(value):
        raise errors.validation("qualifier", value,
                                f"Member must satisfy regular expression pattern: {_QUALIFIER.pattern}")
    return value


def query_int(request: Request, name: str, field: str, *, low: int, high: int) -> int | None:
    """An integer query parameter within [low, high], or None when absent.

    Raises:
        ValidationException: out of range, with Lambda's constraint wording.
        InvalidParameterValueException: not an integer.
    """
    text = request.query_params.get(name)
    if text is None or text == "":
        return None
    try:
        value = int(text)
    except ValueError:
        raise errors.InvalidParameterValueException(f"Invalid value for {field}: '{text}'") from None
    if value < low:
        raise errors.validation(field, value, f"Member must have value greater than or equal to {low}")
    if value > high:
        raise errors.validation(field, value, f"Member must have value less than or equal to {high}")
    return value
