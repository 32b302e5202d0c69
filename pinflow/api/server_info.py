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


class Identify:
    """Adds `x-pinflow-iam: enforced|permissive` to every HTTP answer."""

    def __init__(self, app: ASGIApp, permissive: bool) -> None:
        from pinflow.functions.runtimes import node

        self.app = app
        self.value = (PERMISSIVE if permissive else ENFORCED).encode("ascii")
        version = node.version()
        self.extra = [(NODE_HEADER.encode(), version.encode("ascii"))] if version else []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (HEADER.encode(), self.value),
                                                  *self.extra]}
            await send(message)

        await self.app(scope, receive, sending)
