"""The Lambda Runtime API (version 2018-06-01) served to one worker, on a loopback port of its own.

A custom runtime's `bootstrap` (or an official runtime interface client) finds the API through
`AWS_LAMBDA_RUNTIME_API` (`127.0.0.1:<port>`) and loops: `GET /runtime/invocation/next` hands it an
event with Lambda's headers, `POST /runtime/invocation/{id}/response` or `.../error` answers it;
`POST /runtime/init/error` reports a failed start. Each worker gets its own port, as each Lambda
execution environment gets its own endpoint: events of one worker are never handed to another, and
a connection that does not come from the worker's own processes is refused (the network is shared
with every other function, so a port is not a secret).

What the runtime posts is turned into the frames of `pinflow.functions.protocol` and written to a pipe
that the worker's pool reads like any other worker's: READY at the first `next`, then RESULT, ERROR or
INIT_ERROR.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pinflow.functions import protocol

VERSION = "2018-06-01"
# The largest response or error body Lambda takes from a runtime (its synchronous response limit).
MAX_RESPONSE_BYTES = 6_291_556
_INVOCATION = re.compile(rf"/{VERSION}/runtime/invocation/([^/]+)/(response|error)")


@dataclass(frozen=True)
class Invocation:
    """One event for the runtime, with what Lambda's headers carry."""

    request_id: str
    deadline_ms: int
    invoked_function_arn: str
    event: bytes
    client_context: str | None = None
    identity: str | None = None

    @property
    def trace_id(self) -> str:
        """An X-Ray trace header for the invocation (Lambda always sends one; pinflow traces nothing)."""
        return f"Root=1-{self.deadline_ms // 1000:08x}-{secrets.token_hex(12)};Parent={secrets.token_hex(8)};Sampled=0"


class RuntimeApi:
    """The Runtime API of one worker: a small HTTP server on 127.0.0.1, in threads of its own.

    `deliver` hands it the next event; replies come out as frames on `reply_fd` (the read end of a
    pipe, for the worker's pool). `attach` names the worker's process once it has started: from then on
    only connections from that process or its descendants are served.
    """

    def __init__(self) -> None:
        read, write = os.pipe()
        self.reply_fd = read
        self._write_fd = write
        self._cond = threading.Condition()
        self._pending: Invocation | None = None
        self._current: str | None = None
        self._ready = False
        self._closed = False
        self._pid: int | None = None
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.api = self
        self.address = f"127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._accept, name="pinflow-runtime-api", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        """Take connections until closed; each is served on a thread of its own (a `next` blocks)."""
        listener = self._server.socket
        while True:
            try:
                connection, peer = listener.accept()
            except OSError:
                return
            if not self.allowed(peer):
                connection.close()
                continue
            threading.Thread(target=self._server.process_request_thread, args=(connection, peer),
                             name="pinflow-runtime-api-connection", daemon=True).start()

    def attach(self, pid: int) -> None:
        """Serve only `pid` (the worker's process on the host) and what it starts."""
        self._pid = pid

    def deliver(self, invocation: Invocation) -> None:
        """Queue the event that the runtime's next (or pending) `next` call receives."""
        with self._cond:
            self._pending = invocation
            self._cond.notify_all()

    def close(self) -> None:
        """Stop serving; a `next` still waiting is answered with an error, and the reply pipe's write end
        is closed."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        with contextlib.suppress(OSError):
            self._server.socket.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        self._server.server_close()
        with contextlib.suppress(OSError):
            os.close(self._write_fd)

    # --- called from the handler's threads ------------------------------------------------------------

    def allowed(self, peer: tuple[str, int]) -> bool:
        """Whether a connection from `peer` comes from the worker's own processes."""
        pid = self._pid
        if pid is None:
            return False
        return _peer_in_tree(peer, self._server.server_address[1], pid)

    def next_invocation(self) -> Invocation | None:
        """Block until an event is there (None once closed); the first call says the runtime is ready."""
        with self._cond:
            if not self._ready:
                self._ready = True
                self._write(protocol.READY, b"")
            while self._pending is None and not self._closed:
                self._cond.wait()
            if self._closed:
                return None
            invocation, self._pending = self._pending, None
            if invocation is not None:
                self._current = invocation.request_id
            return invocation

    def answer(self, request_id: str, tag: bytes, body: bytes) -> bool:
        """Hand back the answer to an invocation; False when it is not the one under way."""
        with self._cond:
            if self._closed or request_id != self._current:
                return False
            self._current = None
            self._write(tag, body)
            return True

    def init_error(self, body: bytes) -> bool:
        """Report a failed start; False when the runtime already said it was ready, or it was reported."""
        with self._cond:
            if self._closed or self._ready:
                return False
            self._ready = True
            self._write(protocol.INIT_ERROR, body)
            return True

    def _write(self, tag: bytes, body: bytes) -> None:
        with contextlib.suppress(OSError):
            protocol.write_all(self._write_fd, protocol.reply_frame(tag, body))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    api: RuntimeApi

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a worker killed mid-request (a timeout, a stop) breaks its connection: nothing to report


class _Handler(BaseHTTPRequestHandler):
    """Lambda's four Runtime API routes, with its status codes and error bodies."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and the client's
    # delayed ACK hold each answer back some 40 ms.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the runtime's requests are not the server's log

    def do_GET(self) -> None:
        if self.path != f"/{VERSION}/runtime/invocation/next":
            self._error(404, "InvalidRequest", "Unknown path")
            return
        invocation = self.server.api.next_invocation()
        if invocation is None:
            self._error(500, "ServiceShutdown", "The execution environment is shutting down")
            self.close_connection = True
            return
        headers = {
            "Content-Type": "application/json",
            "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
            "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": invocation.invoked_function_arn,
            "Lambda-Runtime-Trace-Id": invocation.trace_id,
        }
        if invocation.client_context is not None:
            headers["Lambda-Runtime-Client-Context"] = invocation.client_context
        if invocation.identity is not None:
            headers["Lambda-Runtime-Cognito-Identity"] = invocation.identity
        self._send(200, invocation.event, headers)

    def do_POST(self) -> None:
        body = self._body()
        if body is None:
            self._error(413, "RequestEntityTooLarge",
                        f"Exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes).")
            return
        api = self.server.api
        if self.path == f"/{VERSION}/runtime/init/error":
            if not api.init_error(_error_document(body, self.headers.get("Lambda-Runtime-Function-Error-Type"))):
                self._error(403, "InvalidStateTransition", "State transition from Ready to InitError failed")
                return
            self._send(202, b'{"status":"OK"}')
            return
        match = _INVOCATION.fullmatch(self.path)
        if match is None:
            self._error(404, "InvalidRequest", "Unknown path")
            return
        request_id, kind = match.groups()
        if kind == "response":
            tag, text = protocol.RESULT, body
        else:
            tag, text = protocol.ERROR, _error_document(body, self.headers.get("Lambda-Runtime-Function-Error-Type"))
        if not api.answer(request_id, tag, text):
            self._error(400, "InvalidRequestID", "Invalid request ID")
            return
        self._send(202, b'{"status":"OK"}')

    def _body(self) -> bytes | None:
        """The request's body, by Content-Length or chunked; None past the limit (the rest is drained)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
                total += size
            return b"".join(chunks) if total <= MAX_RESPONSE_BYTES else None
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        return data if length <= MAX_RESPONSE_BYTES else None

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {"Content-Type": "application/json"}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, error_type: str, message: str) -> None:
        self._send(status, json.dumps({"errorMessage": message, "errorType": error_type}).encode())


def _error_document(body: bytes, error_type: str | None) -> bytes:
    """The error document for an `/error` or `/init/error` post: the runtime's JSON object as it sent it,
    else one made from the `Lambda-Runtime-Function-Error-Type` header."""
    try:
        parsed = json.loads(body) if body.strip() else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return body
    return json.dumps({"errorMessage": body.decode("utf-8", "replace"),
                       "errorType": error_type or "Runtime.Unknown"}).encode()


# --- who is calling ------------------------------------------------------------------------------------


def _peer_in_tree(peer: tuple[str, int], port: int, root_pid: int) -> bool:
    """Whether the TCP connection from `peer` to our `port` belongs to `root_pid` or a descendant.

    The connection's socket is found in /proc/net/tcp (its inode), then among the open descriptors of
    the worker's processes: a process of another function cannot pass for this worker.
    """
    inode = _socket_inode(peer[1], port)
    if inode is None:
        return False
    wanted = f"socket:[{inode}]"
    for pid in _tree(root_pid):
        try:
            names = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue  # ended meanwhile
        for name in names:
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{pid}/fd/{name}") == wanted:
                    return True
    return False


def _socket_inode(local_port: int, remote_port: int) -> str | None:
    """The inode of the loopback TCP socket from `local_port` to `remote_port` (the client's side)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if int(local.rsplit(":", 1)[1], 16) == local_port and int(remote.rsplit(":", 1)[1], 16) == remote_port:
                return inode
    return None


def _tree(root_pid: int) -> list[int]:
    """`root_pid` and its descendants, as /proc shows them now."""
    found, queue = [], [root_pid]
    while queue:
        pid = queue.pop()
        found.append(pid)
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for task in tasks:
            with contextlib.suppress(OSError):
                queue.extend(int(child) for child in Path(f"/proc/{pid}/task/{task}/children").read_text().split())
    return found
