"""What every console route shares: JSON answers, errors in one shape, request bodies and query
integers read with the checks the API applies (`pinflow.jsontext`), so bad input is a 400, never a 500."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from pinflow import errors, jsontext

# Step Functions takes API requests of up to 1 MB; the console's bodies (an execution's input) too.
BODY_LIMIT = 1_048_576
LARGEST = 2**63 - 1  # the stores' largest integer (SQLite's INTEGER, PostgreSQL's BIGINT)
# An integer in a query: ASCII digits only ('²'.isdigit() is true in Python), and few enough of them.
_INTEGER = re.compile(r"-?[0-9]{1,30}")


class Refused(Exception):
    """A console request refused before it reached the engine (bad parameters, no session...)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def answer(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer, never cached (a console page always shows what is true now)."""
    try:
        body = orjson.dumps(value)
    except TypeError:  # an integer beyond 64 bits in someone's input: the standard library copes
        body = json.dumps(value, ensure_ascii=False).encode("utf-8")
    return Response(body, status_code=status, media_type="application/json",
                    headers={"Cache-Control": "no-store", **(headers or {})})


def error(status: int, code: str, message: str) -> Response:
    """An error answer: `{"error": code, "message": ...}`."""
    return answer({"error": code, "message": message}, status)


Handler = Callable[[Request], Awaitable[Response]]


def json_route(work: Callable[..., Any]) -> Handler:
    """A route whose work runs on a worker thread (it reads the store) and whose value is answered as
    JSON. AWS API errors keep their code and status; a refusal its own."""

    async def route(request: Request) -> Response:
        try:
            if request.method == "POST":
                _same_origin(request)
                value = await run_in_threadpool(work, request, await read_json(request))
            elif request.method == "DELETE":
                _same_origin(request)
                value = await run_in_threadpool(work, request, {})
            else:
                value = await run_in_threadpool(work, request)
        except Refused as exc:
            return error(exc.status, exc.code, exc.message)
        except errors.ServiceError as exc:
            return error(exc.status, exc.code, exc.message)
        if isinstance(value, Response):
            return value
        return answer(value)

    return route


def _same_origin(request: Request) -> None:
    """A browser names the page a request comes from: a change asked for by another site's page is
    refused (the session cookie is SameSite=Strict too; this covers the console without sign-in)."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    if urlsplit(origin).netloc != request.headers.get("host", ""):
        raise Refused(403, "AccessDenied", "Cross-origin requests are refused")


async def read_json(request: Request, limit: int = BODY_LIMIT) -> dict[str, Any]:
    """A JSON object body, read up to `limit` bytes.

    Raises:
        Refused: not `application/json` (a form posted from another site cannot be), too large, or not
            a JSON object.
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise Refused(415, "UnsupportedMediaType", "The console's requests are application/json")
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise Refused(413, "RequestEntityTooLarge", f"Request must be smaller than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(413, "RequestEntityTooLarge", f"Request must be smaller than {limit} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return {}
    value = await run_in_threadpool(parse_body, raw) if len(raw) > jsontext.INLINE_BYTES else parse_body(raw)
    if not isinstance(value, dict):
        raise Refused(400, "SerializationException", "The body must be a JSON object")
    return value


def parse_body(raw: bytes | str) -> Any:
    """A request's JSON text, with `pinflow.jsontext`'s checks.

    Raises:
        Refused: not UTF-8 JSON, nested too deeply, or holding a lone surrogate (it could never be stored
            or answered back).
    """
    try:
        return jsontext.parse(raw)
    except jsontext.NotJson as exc:
        raise Refused(400, "SerializationException", f"The body is not JSON: {exc}") from None
    except jsontext.UnpairedSurrogate as exc:
        raise Refused(400, "ValidationException", f"Invalid request: {exc}") from None


def integer(request: Request, name: str, default: int, low: int = 0, high: int = 10_000) -> int:
    """A query parameter read as an integer and brought within [low, high] (a page size, an offset).

    Raises:
        Refused: not an integer.
    """
    value = _integer(request, name)
    return default if value is None else max(low, min(high, value))


def bounded(request: Request, name: str, low: int, high: int) -> int | None:
    """An optional query parameter that must be an integer within [low, high] (a version number, a position
    in a list); None when it is not given.

    Raises:
        Refused: not an integer, or outside [low, high].
    """
    value = _integer(request, name)
    if value is not None and not low <= value <= high:
        raise Refused(400, "ValidationException", f"'{name}' must be between {low} and {high}")
    return value


def _integer(request: Request, name: str) -> int | None:
    text = request.query_params.get(name)
    if text is None or text == "":
        return None
    if not _INTEGER.fullmatch(text):
        raise Refused(400, "ValidationException", f"'{name}' must be an integer")
    return int(text)
