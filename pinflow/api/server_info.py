"""What a pinflow server says about itself on every answer: that it is pinflow, and how it treats IAM.

Clients (`pinflow deploy`, the remote commands) read `x-pinflow-iam` to tell a pinflow server from
anything else at the same address, and to print in a deploy plan that a server was started with
`--permissive-iam`.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "x-pinflow-iam"
ENFORCED = "enforced"
PERMISSIVE = "permissive"


class Identify:
    """Adds `x-pinflow-iam: enforced|permissive` to every HTTP answer."""

    def __init__(self, app: ASGIApp, permissive: bool) -> None:
        self.app = app
        self.value = (PERMISSIVE if permissive else ENFORCED).encode("ascii")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (HEADER.encode(), self.value)]}
            await send(message)

        await self.app(scope, receive, sending)
