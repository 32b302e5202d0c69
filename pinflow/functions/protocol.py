"""The length-prefixed frames spoken between the invoker and a worker process.

Requests (invoker to worker) are a 4-byte big-endian length and a compact JSON array
`[request_id, deadline_epoch_ms, invoked_function_arn, event]`, with the client context (a JSON
object) as a fifth item when the caller gave one.
Replies (worker to invoker) are a 1-byte tag, a 4-byte big-endian length and a body:
`READY` (empty) once the handler is imported, `INIT_ERROR` (a Lambda error document) when it
cannot be, then one `RESULT` (the JSON result) or `ERROR` (a Lambda error document) per request.
Each direction has its own pipe; the handler's stdout and stderr go to a log file instead, so a
print can never corrupt a frame.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

import orjson

REQUEST_HEADER = struct.Struct(">I")
REPLY_HEADER = struct.Struct(">cI")

READY = b"K"
RESULT = b"R"
ERROR = b"E"
INIT_ERROR = b"I"

# Environment variables through which the invoker tells a worker its pipe descriptors.
REQUEST_FD_ENV = "_PINFLOW_REQUEST_FD"
REPLY_FD_ENV = "_PINFLOW_REPLY_FD"


@dataclass(frozen=True, slots=True)
class Request:
    """One invocation as the invoker hands it to a worker; `event` and `client_context` are JSON texts."""

    request_id: str
    deadline_ms: int
    invoked_arn: str
    event: bytes
    client_context: bytes | None = None

    def encode(self) -> bytes:
        """The request's body for the pipe."""
        head = b"[%s,%d,%s,%s" % (orjson.dumps(self.request_id), self.deadline_ms,
                                  orjson.dumps(self.invoked_arn), self.event)
        return head + (b",%s]" % self.client_context if self.client_context is not None else b"]")


def request_frame(body: bytes) -> bytes:
    """A request frame around an encoded request body."""
    return REQUEST_HEADER.pack(len(body)) + body


def reply_frame(tag: bytes, body: bytes) -> bytes:
    """A reply frame with its tag around `body`."""
    return REPLY_HEADER.pack(tag, len(body)) + body


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of `data` to `fd` (a pipe may take less than asked)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class FrameReader:
    """Blocking reads of whole request frames from a pipe, with one read call per frame when it fits."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._buffer = bytearray()

    def _fill(self, size: int) -> bool:
        """Read until the buffer holds `size` bytes; False when the pipe closed first."""
        while len(self._buffer) < size:
            chunk = os.read(self._fd, max(size - len(self._buffer), 1 << 16))
            if not chunk:
                return False
            self._buffer += chunk
        return True

    def next_request(self) -> bytes | None:
        """The next request body, or None once the invoker has closed the pipe."""
        if not self._fill(REQUEST_HEADER.size):
            return None
        (length,) = REQUEST_HEADER.unpack_from(self._buffer)
        if not self._fill(REQUEST_HEADER.size + length):
            return None
        body = bytes(self._buffer[REQUEST_HEADER.size : REQUEST_HEADER.size + length])
        del self._buffer[: REQUEST_HEADER.size + length]
        return body
