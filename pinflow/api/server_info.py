"""What a pinflow server says about itself on every answer: that it is pinflow, and how it treats IAM.

Clients (`pinflow deploy`, the remote commands) read `x-pinflow-iam` to tell a pinflow server from
anything else at the same address, and to print in a deploy plan that a server was started with
`--permissive-iam`; `x-pinflow-node` (the version of the machine's `node`, absent without one) lets a
plan say which Node.js runs a `nodejs*` function before it exists.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "x-pinflow-iam"
NODE_HEADER = "x-pinflow-node"
ENFORCED = "enforced"
PERMISSIVE = "permissive"


def headers(permissive: bool) -> list[tuple[bytes, bytes]]:
    """The headers every answer carries, as an ASGI response start lists them."""
    from pinflow.functions.runtimes import node

    version = node.version()
    return [(HEADER.encode(), (PERMISSIVE if permissive else ENFORCED).encode("ascii")),
            *([(NODE_HEADER.encode(), version.encode("ascii"))] if version else [])]


class Identify:
    """Adds `x-pinflow-iam: enforced|permissive` (and `x-pinflow-node`) to every HTTP answer."""

    def __init__(self, app: ASGIApp, permissive: bool) -> None:
        self.app = app
        self.headers = headers(permissive)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self.headers]}
            await send(message)

        await self.app(scope, receive, sending)
