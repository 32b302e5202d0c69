"""The console's Starlette sub-app: JSON routes under `/console/api/`, the built front end under
`/console/static/`, and the front end's page for every other path (it routes in the browser).

With access keys configured (`pinflow server --auth`), every route but signing in needs a session
cookie (`session`); a page asked for without one redirects to the sign-in page.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from pinflow import arns, errors
from pinflow.console import PREFIX, executions, inventory, web
from pinflow.console import session as session_module
from pinflow.console.histories import Histories

STATIC = Path(__file__).parent / "static"
ASSETS = ("console.js", "console.css", "elk-worker.min.js")
SIGN_IN = f"{PREFIX}/sign-in"


def routes(pf: Any, *, auth: Any = None) -> list[BaseRoute]:
    """`PREFIX` redirected to `PREFIX/`, and the console app mounted under it."""

    async def to_console(request: Request) -> Response:
        return RedirectResponse(f"{PREFIX}/", status_code=307)

    return [Route(PREFIX, to_console, methods=["GET", "HEAD"]), Mount(PREFIX, app=create(pf, auth=auth))]


def create(pf: Any, *, auth: Any = None) -> ASGIApp:
    """The console app for the service `pf`; `auth` (an `Auth`) turns sign-in on."""
    sessions = session_module.Sessions(auth.keys) if auth is not None else None
    histories = Histories(pf)
    api = _api_routes(pf, histories, sessions)
    app = Starlette(routes=[
        *api,
        Mount("/static", app=StaticFiles(directory=STATIC)),
        Route("/{path:path}", _page_for(histories), methods=["GET", "HEAD"]),
    ])
    return SessionGate(app, sessions)


def _api_routes(pf: Any, histories: Histories, sessions: session_module.Sessions | None) -> list[BaseRoute]:
    def arn(request: Request) -> str:
        return str(request.path_params["arn"])

    def selection(request: Request) -> Any:
        return executions.parse_selection(request.query_params.get("iteration"))

    def version(request: Request) -> int | None:
        return web.bounded(request, "version", 1, web.LARGEST)

    def machine_executions(request: Request) -> Any:
        return inventory.executions(
            pf, request.path_params["name"], status=request.query_params.get("status") or None,
            version=version(request), before=web.bounded(request, "before", 0, inventory.LAST_POSITION),
            limit=web.integer(request, "limit", 50, 1, 1000))

    def start(request: Request, body: dict[str, Any]) -> Any:
        target = body.get("target") or arns.state_machine(request.path_params["name"])
        if not isinstance(target, str):
            raise web.Refused(400, "ValidationException", "'target' must be a state machine, version or alias ARN")
        described = pf.machines.describe(target)
        if described["name"] != request.path_params["name"]:
            raise web.Refused(400, "ValidationException", "'target' must be this state machine, a version or an alias")
        return executions.start(pf, target, body)

    def events(request: Request) -> Any:
        types = request.query_params.get("types")
        return executions.events(
            histories, arn(request), types=set(types.split(",")) if types else None,
            state_name=request.query_params.get("state") or None, page=web.integer(request, "page", 0, 0, 1_000_000),
            size=web.integer(request, "size", 100, 1, 1000), newest_first=request.query_params.get("order") == "desc")

    def iterations(request: Request) -> Any:
        return executions.iterations(
            histories, arn(request), request.path_params["name"], selection(request),
            request.query_params.get("status") or None, web.integer(request, "offset", 0, 0, 10_000_000),
            web.integer(request, "limit", executions.ITERATION_PAGE, 1, 1000))

    return [
        Route("/api/session", _session_route(sessions), methods=["GET", "POST", "DELETE"]),
        Route("/api/state-machines", web.json_route(lambda request: inventory.machines(pf))),
        Route("/api/state-machines/{name}", web.json_route(
            lambda request: inventory.machine(pf, request.path_params["name"], version(request)))),
        Route("/api/state-machines/{name}/executions", web.json_route(machine_executions)),
        Route("/api/state-machines/{name}/executions", web.json_route(start), methods=["POST"]),
        Route("/api/functions", web.json_route(lambda request: inventory.functions(pf))),
        Route("/api/functions/{name}", web.json_route(
            lambda request: inventory.function(pf, request.path_params["name"]))),
        Route("/api/executions/{arn}", web.json_route(
            lambda request: executions.describe(pf, histories, arn(request)))),
        Route("/api/executions/{arn}/summary", web.json_route(
            lambda request: executions.summary(pf, histories, arn(request), selection(request)))),
        Route("/api/executions/{arn}/events", web.json_route(events)),
        Route("/api/executions/{arn}/states/{name}", web.json_route(
            lambda request: executions.state(pf, histories, arn(request), request.path_params["name"],
                                             selection(request)))),
        Route("/api/executions/{arn}/maps/{name}/iterations", web.json_route(iterations)),
        Route("/api/executions/{arn}/stop", web.json_route(
            lambda request, body: executions.stop(pf, arn(request), body)), methods=["POST"]),
        Route("/api/executions/{arn}/redrive", web.json_route(
            lambda request, body: executions.redrive(pf, arn(request))), methods=["POST"]),
        Route("/api/{path:path}", _no_route, methods=["GET", "HEAD", "POST", "PUT", "DELETE"]),
    ]


async def _no_route(request: Request) -> Response:
    return web.error(404, "UnknownOperation", f"No console route {request.method} {request.url.path}")


def _session_route(sessions: session_module.Sessions | None) -> Any:
    """GET: whether sign-in is needed and who is signed in. POST {accessKeyId, secretAccessKey}: sign in.
    DELETE: sign out."""

    def work(request: Request, body: dict[str, Any] | None = None) -> Response:
        if request.method == "GET":
            who = sessions.check(request.cookies.get(session_module.COOKIE)) if sessions else None
            return web.answer({"authRequired": sessions is not None, "signedIn": sessions is None or who is not None,
                           "accessKeyId": who})
        if request.method == "DELETE":
            if sessions is not None:
                sessions.sign_out(request.cookies.get(session_module.COOKIE))
            response = web.answer({"signedIn": False})
            response.delete_cookie(session_module.COOKIE, path=PREFIX)
            return response
        if sessions is None:
            return web.answer({"authRequired": False, "signedIn": True, "accessKeyId": None})
        key_id, secret = (body or {}).get("accessKeyId"), (body or {}).get("secretAccessKey")
        if not isinstance(key_id, str) or not isinstance(secret, str) or not key_id or not secret:
            raise web.Refused(400, "ValidationException", "Give an access key id and a secret access key")
        try:
            token = sessions.sign_in(key_id, secret)
        except session_module.SignInFailed as exc:
            raise web.Refused(403, "UnrecognizedClientException", str(exc)) from None
        response = web.answer({"authRequired": True, "signedIn": True, "accessKeyId": key_id})
        # Secure over HTTPS as the server sees it: behind a TLS proxy, uvicorn takes the scheme from
        # X-Forwarded-Proto when the proxy's address is trusted (FORWARDED_ALLOW_IPS; docs/console.md).
        response.set_cookie(session_module.COOKIE, token, max_age=sessions.lifetime, path=PREFIX, httponly=True,
                            samesite="strict", secure=request.url.scheme == "https")
        return response

    return web.json_route(work)


def _page_for(histories: Histories) -> Any:
    async def page(request: Request) -> Response:
        """The front end's page (it shows the view the path names). For an execution's page, its
        history is digested once the page is sent, while the browser loads the front end."""
        warm = None
        parts = request.path_params["path"].split("/")
        if len(parts) == 2 and parts[0] == "executions" and parts[1]:
            warm = BackgroundTask(_warm, histories, parts[1])
        # The first call reads and hashes the assets (the ELK worker is ~1.5 MB): not on the event loop.
        return HTMLResponse(await run_in_threadpool(_index), headers={"Cache-Control": "no-store"}, background=warm)

    return page


def _warm(histories: Histories, arn: str) -> None:
    try:
        with histories.current(arn):
            pass
    except errors.ServiceError:
        pass  # no such execution: its page says so when it asks


@cache
def _index() -> str:
    """index.html with each asset's URL carrying its content hash (a new build is never served stale)."""
    text = (STATIC / "index.html").read_text(encoding="utf-8")
    for asset in ASSETS:
        path = STATIC / asset
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path.exists() else "missing"
        text = text.replace(f"{{{{{asset}}}}}", f"{PREFIX}/static/{asset}?v={digest}")
    return text


class SessionGate:
    """With sign-in on, lets through only requests with a valid session: signing in and the front end's
    files need none; an API route answers 401; a page redirects to the sign-in page."""

    def __init__(self, app: ASGIApp, sessions: session_module.Sessions | None) -> None:
        self.app = app
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.sessions is None:
            await self.app(scope, receive, send)
            return
        path = _route_path(scope)
        if path in ("/api/session", "/sign-in") or path.startswith("/static/"):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if self.sessions.check(request.cookies.get(session_module.COOKIE)) is not None:
            await self.app(scope, receive, send)
            return
        response: Response
        if path.startswith("/api/"):
            response = web.error(401, "NotSignedIn", "Sign in to the console first")
        else:
            target = quote(scope["path"] + (f"?{scope['query_string'].decode('latin-1')}"
                                            if scope.get("query_string") else ""), safe="/:")
            response = RedirectResponse(f"{SIGN_IN}?next={target}", status_code=303)
        await response(scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The path inside the console (without the prefix it is mounted under)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path
