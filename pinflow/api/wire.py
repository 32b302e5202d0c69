"""uvicorn's httptools protocol, writing each answer to the socket once rather than once per ASGI message.

An ASGI app sends an answer as two messages (the status line and headers, then the body), and
uvicorn writes each to the socket as it comes: two `send` system calls and two TCP segments per
answer, the first of which costs more CPU than the rest of a small answer's HTTP handling. Here the
connection's transport keeps what is written during one turn of the event loop and writes it as one
piece at the end of that turn (or at once, past `HOLD_BYTES`, or before the connection closes), so an
answer whose messages are sent one after the other leaves in one write. Nothing is reordered or
delayed past the current turn of the loop.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# Past this many bytes kept, they are written at once (a large body is not copied to join it).
HOLD_BYTES = 65_536


class CoalescingTransport:
    """A transport that writes what it is given during one turn of the event loop as one piece.

    Everything but writing, closing and the size of the write buffer is the wrapped transport's.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []
        self._held_bytes = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if len(data) >= HOLD_BYTES:
            self.flush()  # what was held first goes first; a large piece is not copied to join it
            self._transport.write(data)
            return
        if not self._held:
            self._loop.call_soon(self.flush)
        self._held.append(bytes(data))
        self._held_bytes += len(data)
        if self._held_bytes >= HOLD_BYTES:
            self.flush()

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        """Write what is kept (a scheduled flush finding nothing kept does nothing)."""
        if self._held:
            held, self._held, self._held_bytes = self._held, [], 0
            self._transport.write(held[0] if len(held) == 1 else b"".join(held))

    def is_closing(self) -> bool:
        return self._transport.is_closing()  # asked after every answer: spared `__getattr__`

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + self._held_bytes

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.flush()
        self._transport.set_protocol(protocol)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._held, self._held_bytes = [], 0
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol over a `CoalescingTransport` (uvicorn's `http` setting)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        wrapped: Any = CoalescingTransport(transport, self.loop)
        super().connection_made(wrapped)
