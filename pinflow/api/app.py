"""The ASGI app: AWS's wire protocols for Step Functions, Lambda and IAM on one port.

Routing, as AWS endpoints tell them apart:
- `POST /` with `X-Amz-Target: AWSStepFunctions.<Op>` -> Step Functions (AWS JSON 1.0);
- `POST /` with `X-Amz-Target: AWSEvents.<Op>` -> EventBridge's connections (AWS JSON 1.1);
- `POST /` with a form body (`Action=...`) -> IAM (Query), when `pinflow.api.iam_api` exists;
- the Lambda paths (`/2015-03-31/...`) -> `pinflow.api.lambda_api.ROUTES`, when that module exists;
  any other path or method is Lambda's 404 `UnknownOperationException`.
The Host header does not matter, so `sync-<host>` (botocore's prefix for StartSyncExecution and
TestState) reaches the same app. Before any handler runs, `Gate` checks the request: with `auth`, the
SigV4 headers first (no body is read for a request that is not signed by a known key), then the body's
size against its operation's limit (the declared Content-Length first, then as it streams), then the
signature over the body.

Step Functions' requests, the busiest by far (every start, every poll), are answered by `Front` as
plain ASGI, with the same checks, log line and headers as the routed app gives the others; the
routed app (Starlette, its error middleware, `Identify`, `RequestLog`, `Gate`) costs more than the
rest of a DescribeExecution's HTTP handling.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging
import time
import uuid
from typing import Any, cast

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from pinflow import console, errors
from pinflow.api import auth as auth_module
from pinflow.api import awsjson, events_api, querytext, server_info, stepfunctions

log = logging.getLogger("pinflow.api")

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
IAM_XMLNS = "https://iam.amazonaws.com/doc/2010-05-08/"
# Step Functions and IAM take API requests of up to 1 MB.
ROOT_REQUEST_LIMIT = 1_048_576
_EVENTS = events_api.TARGET_PREFIX + "."
_JSON_CONTENT_TYPE = awsjson.CONTENT_TYPE.encode()
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _optional(module: str) -> Any | None:
    """A sibling API module if it is installed (it is looked up, not imported blindly, so that an
    error inside it is not mistaken for its absence)."""
    if importlib.util.find_spec(module) is None:
        return None
    return importlib.import_module(module)


async def _root(request: Request) -> Response:
    """POST /: Step Functions by its target header, IAM by its form body."""
    target = request.headers.get("x-amz-target")
    if target is not None and target.startswith(events_api.TARGET_PREFIX + "."):
        return await events_api.handle(request)
    if target is not None:
        return await stepfunctions.handle(request)
    content_type = request.headers.get("content-type", "")
    iam = request.app.state.iam
    if content_type.startswith(FORM_CONTENT_TYPE) and iam is not None:
        answer = iam.handle(request)
        return await answer if inspect.isawaitable(answer) else answer
    return awsjson.error_answer(awsjson.UnknownOperationException(
        "The request names no operation (no X-Amz-Target header and no Action)"))


async def _unknown(request: Request) -> Response:
    """A path or method no operation serves."""
    lambda_api = _optional("pinflow.api.lambda_api")
    if lambda_api is not None:
        answer: Response = await lambda_api.unknown_operation(request)
        return answer
    return Response(b"", status_code=404)


async def _no_route(scope: Scope, receive: Receive, send: Send) -> None:
    response = await _unknown(Request(scope, receive))
    await response(scope, receive, send)


def create_app(pf: Any, *, auth: auth_module.Auth | None = None,
               forwarded_allow_ips: str | list[str] | None = None) -> ASGIApp:
    """The API server's app for the `Pinflow` instance `pf`.

    Args:
        pf: the running service (`pinflow.service.Pinflow`); the app does not start or stop it.
        auth: verify every request's SigV4 signature against these keys; None accepts any.
        forwarded_allow_ips: take the client's address and scheme from `X-Forwarded-For` and
            `X-Forwarded-Proto` of requests from these proxies (uvicorn's `--forwarded-allow-ips`),
            for the routed app (Step Functions' answers read neither); for a server that gives uvicorn
            `proxy_headers=False`, so that Step Functions' requests skip that middleware.
    """
    routes: list[BaseRoute] = [Route("/", _root, methods=["POST"])]
    lambda_api = _optional("pinflow.api.lambda_api")
    if lambda_api is not None:
        routes.extend(lambda_api.ROUTES)
    routes.extend(console.routes(pf, auth=auth))  # the web console, under /console/, signs in on its own
    # Last, so that it answers only what no route above serves (a known path with another method too).
    routes.append(Route("/{path:path}", _unknown, methods=_METHODS))
    app = Starlette(routes=routes)
    # A path even the catch-all cannot match (one holding a newline) gets the same answer, not a plain 404.
    app.router.default = _no_route
    app.state.pinflow = pf
    app.state.iam = _optional("pinflow.api.iam_api")
    app.state.auth = auth
    permissive = bool(getattr(pf.roles, "permissive", False))
    app.add_middleware(Gate, auth=auth, lambda_api=lambda_api)
    app.add_middleware(RequestLog)
    app.add_middleware(server_info.Identify, permissive=permissive)
    routed: ASGIApp = app
    if forwarded_allow_ips is not None:
        # uvicorn types ASGI apps its own way; starlette's and uvicorn's callables are the same protocol.
        routed = cast(ASGIApp, ProxyHeadersMiddleware(cast(Any, app), trusted_hosts=forwarded_allow_ips))
    return Front(routed, pf=pf, auth=auth, identity=server_info.headers(permissive))


class Front:
    """Answers Step Functions' requests (`POST /` with an `X-Amz-Target` that is not EventBridge's)
    itself and hands every other request to the routed app.

    What a Step Functions request goes through is what the routed app would do with it: `Gate`'s checks
    (SigV4 headers, the body's limit, the signature) and its answers in AWS JSON's error shape,
    `RequestLog`'s line, `Identify`'s headers; anything that breaks is answered as InternalFailure,
    never as a bare 500.
    """

    def __init__(self, app: ASGIApp, *, pf: Any, auth: auth_module.Auth | None,
                 identity: list[tuple[bytes, bytes]]) -> None:
        self.app = app
        self.pf = pf
        self.auth = auth
        self.identity = identity
        self.service = auth_module.Service("states", auth.region if auth is not None else "us-east-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        target = declared = None
        for key, value in scope["headers"]:
            if key == b"x-amz-target":
                if target is None:
                    target = value.decode("latin-1")
            elif key == b"content-length" and declared is None:
                declared = value.decode("latin-1")
        if target is None or target.startswith(_EVENTS):
            await self.app(scope, receive, send)
            return
        logged = log.isEnabledFor(logging.DEBUG)
        began = time.perf_counter() if logged else 0.0
        status = 500
        try:
            status, body = await self._answer(scope, receive, target, declared)
        except Exception:
            log.exception("%s %s failed", scope["method"], scope["path"])
            status, body = 500, awsjson.error_body(_internal_failure(scope))
        if status:
            await send({"type": "http.response.start", "status": status, "headers": [
                (b"x-amzn-requestid", awsjson.request_id().encode()), (b"content-length", str(len(body)).encode()),
                (b"content-type", _JSON_CONTENT_TYPE), *self.identity]})
            await send({"type": "http.response.body", "body": body})
        else:
            status = 500  # the client went away before its body came: no answer, logged as RequestLog does
        if logged:
            log.debug("%s %s %s %d %.1fms", scope["method"], scope["path"], target.partition(".")[2], status,
                      (time.perf_counter() - began) * 1000)

    async def _answer(self, scope: Scope, receive: Receive, target: str, declared: str | None) -> awsjson.Outcome:
        """The request's answer as `Gate` and the operation give it; status 0 when the client went away."""
        signed = None
        if self.auth is not None:
            headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]]
            try:
                signed = self.auth.check_headers(headers, self.service)
            except errors.ServiceError as exc:
                log.info("refused %s %s: %s", scope["method"], scope["path"], exc.code)
                return exc.status, awsjson.error_body(exc)
        try:
            raw = await _read_within(receive, declared, ROOT_REQUEST_LIMIT)
        except _TooLarge:
            log.info("refused %s %s: body over %d bytes", scope["method"], scope["path"], ROOT_REQUEST_LIMIT)
            too_large = _root_too_large(target)
            return too_large.status, awsjson.error_body(too_large)
        if raw is None:
            return 0, b""
        if signed is not None:
            assert self.auth is not None
            raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
            try:
                self.auth.check_signature(signed, scope["method"], raw_path, scope["query_string"].decode("latin-1"),
                                          raw, self.service)
            except errors.ServiceError as exc:
                log.info("refused %s %s: %s", scope["method"], scope["path"], exc.code)
                return exc.status, awsjson.error_body(exc)
        return await awsjson.dispatch_body(target, raw, stepfunctions.TARGET_PREFIX, stepfunctions.OPERATIONS,
                                           self.pf)


class RequestLog:
    """One debug line per request: method, path, operation, status, milliseconds."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not log.isEnabledFor(logging.DEBUG):
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            target = _header(scope, b"x-amz-target")
            operation = target.partition(".")[2] if target else ""
            log.debug("%s %s %s %d %.1fms", scope["method"], scope["path"], operation, status,
                      (time.perf_counter() - began) * 1000)


class _TooLarge(Exception):
    """The body grew past its limit while it was read."""


class Gate:
    """Checks a request before any handler sees it, answering a refusal in its protocol's error shape.

    With `auth`, the Authorization header, access key, date and signed headers are checked before a
    byte of the body is read. The body is then read up to its operation's limit (a Content-Length over
    the limit is refused at once; a body that streams past it is refused as soon as it does), and with
    `auth` its signature is checked. The handler gets the body as read.

    Step Functions' operations do not come here: `Front` answers them, with the same checks.
    """

    def __init__(self, app: ASGIApp, auth: auth_module.Auth | None, lambda_api: Any | None) -> None:
        self.app = app
        self.auth = auth
        self.lambda_api = lambda_api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or console.owns(scope["path"]):
            await self.app(scope, receive, send)
            return
        signed = None
        target = _header(scope, b"x-amz-target")
        service = self._service(scope, target)
        if self.auth is not None:
            headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]]
            try:
                signed = self.auth.check_headers(headers, service)
            except errors.ServiceError as exc:
                await self._refuse(scope, receive, send, exc)
                return
        limit, too_large = self._limit(scope, target)
        declared = _header(scope, b"content-length")
        try:
            body = await _read_within(receive, declared, limit)
        except _TooLarge:
            # What the client still sends is read and dropped by the server, never kept.
            log.info("refused %s %s: body over %d bytes", scope["method"], scope["path"], limit)
            await _answer(scope, too_large)(scope, receive, send)
            return
        if body is None:
            return  # the client went away
        if self.auth is not None and signed is not None:
            raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
            try:
                self.auth.check_signature(signed, scope["method"], raw_path,
                                          scope["query_string"].decode("latin-1"), body, service)
            except errors.ServiceError as exc:
                await self._refuse(scope, receive, send, exc)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, replay, sending)
        except Exception:
            log.exception("%s %s failed", scope["method"], scope["path"])
            if not started:
                await _answer(scope, _internal_failure(scope))(scope, receive, send)

    def _service(self, scope: Scope, target: str | None) -> auth_module.Service:
        """The service a request is for, as its signature must be scoped: Step Functions by its target
        header, Lambda by its path, IAM otherwise (a global service, signed for us-east-1)."""
        region = self.auth.region if self.auth is not None else "us-east-1"
        if target is not None:
            return auth_module.Service("states", region)
        if scope["path"] != "/":
            # Lambda's REST API takes unsigned payloads (botocore never sends them to it, but SDKs may).
            return auth_module.Service("lambda", region, payload_signed=False)
        return auth_module.Service("iam", auth_module.IAM_REGION)

    def _limit(self, scope: Scope, target: str | None) -> tuple[int, errors.ServiceError]:
        """The body limit of the request's operation, and the answer past it."""
        if scope["path"] != "/" and self.lambda_api is not None:
            limit, error = self.lambda_api.body_limit(scope["method"], scope["path"])
            return int(limit), error
        return ROOT_REQUEST_LIMIT, _root_too_large(target)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, exc: errors.ServiceError) -> None:
        log.info("refused %s %s: %s", scope["method"], scope["path"], exc.code)
        await _rejection(scope, exc)(scope, receive, send)


def _root_too_large(target: str | None) -> errors.ServiceError:
    """The answer to a `POST /` request whose body is over `ROOT_REQUEST_LIMIT`."""
    operation = (target or "").partition(".")[2]
    for_operation = f" for the {operation} operation" if operation else ""
    return _Coded("RequestEntityTooLargeException", 413,
                  f"Request must be smaller than {ROOT_REQUEST_LIMIT} bytes{for_operation}")


async def _read_within(receive: Receive, declared: str | None, limit: int) -> bytes | None:
    """The whole request body; None when the client disconnects first.

    Raises:
        _TooLarge: the declared length (`Content-Length`) is over `limit`, refused before a byte is read;
            or the body passed `limit` bytes as it streamed (what came past it is not kept).
    """
    if declared is not None and declared.strip().isascii() and declared.strip().isdigit() and int(declared) > limit:
        raise _TooLarge()
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge()
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


class _Coded(errors.ServiceError):
    """An error whose code and status are given: an authentication failure re-coded for a protocol that
    names or numbers it differently, or a refusal with no class of its own."""

    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def _internal_failure(scope: Scope) -> errors.ServiceError:
    """Each protocol's name for a failure on the server's side."""
    if _header(scope, b"x-amz-target") is not None:
        code = "InternalFailure"
    elif scope["path"] != "/":
        code = "ServiceException"
    else:
        code = "ServiceFailure"
    return _Coded(code, 500, "An internal error occurred while handling the request.")


def _rejection(scope: Scope, exc: errors.ServiceError) -> Response:
    """An authentication failure in the error shape of the protocol the request used."""
    if _header(scope, b"x-amz-target") is None and scope["path"] != "/":
        # Lambda (REST-JSON) answers every authentication failure with 403.
        return _answer(scope, _Coded(exc.code, 403, exc.message))
    return _answer(scope, exc)


def _answer(scope: Scope, exc: errors.ServiceError) -> Response:
    """`exc` in the error shape of the protocol the request used."""
    if _header(scope, b"x-amz-target") is not None:
        return awsjson.error_answer(exc)
    if scope["path"] != "/":
        restjson = _optional("pinflow.api.restjson")
        if restjson is not None:
            return restjson.error_response(exc)
        return Response(awsjson.encode({"Type": "User", "message": exc.message}), status_code=exc.status,
                        media_type="application/json",
                        headers={"x-amzn-ErrorType": exc.code, "x-amzn-RequestId": str(uuid.uuid4())})
    code, status = auth_module.QUERY_CODES.get(exc.code, (exc.code, exc.status))
    request_id = str(uuid.uuid4())
    kind = "Sender" if status < 500 else "Receiver"
    body = (f'<ErrorResponse xmlns="{IAM_XMLNS}"><Error><Type>{kind}</Type><Code>{code}</Code>'
            f"<Message>{_xml_escape(exc.message)}</Message></Error><RequestId>{request_id}</RequestId>"
            "</ErrorResponse>")
    return Response(body.encode("utf-8"), status_code=status, media_type="text/xml",
                    headers={"x-amzn-RequestId": request_id})


def _xml_escape(text: str) -> str:
    return querytext.xml_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
