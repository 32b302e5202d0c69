"""The web console, served by `pinflow server` under /console/: JSON routes over the engine and the
registry, and the built front end (package data in `static/`).

`routes(pf, auth=...)` gives the routes the API app mounts; requests under `PREFIX` skip the API's
SigV4 gate, since the console signs people in with a session cookie of its own (`session`).
"""

from __future__ import annotations

from typing import Any

PREFIX = "/console"

__all__ = ["PREFIX", "app", "digest", "executions", "histories", "inventory", "owns", "pinned", "routes",
           "session", "web"]


def owns(path: str) -> bool:
    """Whether a request path is the console's."""
    return path == PREFIX or path.startswith(PREFIX + "/")


def routes(pf: Any, *, auth: Any = None) -> list[Any]:
    """The console's routes for the API app: the sub-app under `PREFIX`, and `PREFIX` itself redirected
    to it.

    Args:
        pf: the running service (`pinflow.service.Pinflow`).
        auth: the API's `pinflow.api.auth.Auth` (its access keys sign people in); None: no sign-in.
    """
    from pinflow.console import app

    return app.routes(pf, auth=auth)
