"""A real HTTP server on loopback that HTTP Task tests call: it records what it is sent and answers as
each path says (JSON echo, a chosen status, an OAuth client-credentials token endpoint)."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

CLIENT_ID, CLIENT_SECRET, TOKEN = "pinflow-client", "client-secret-value-7f3a", "access-token-value-91bd"
# After a connection's secret is rotated (UpdateConnection), `/token-rotated` issues ROTATED_TOKEN for it.
ROTATED_SECRET, ROTATED_TOKEN = "client-secret-rotated-2d6e", "access-token-rotated-e04c"
# `/token-newline` issues a token a header cannot carry (a line break in it), LEAKY_TOKEN its text.
LEAKY_TOKEN = "leaky-token-value-8a1f"
ENDLESS = 64 * 1024 * 1024  # what `/endless` would send, a chunk at a time, if it were all read


class Target:
    """The server, and every request it got: {method, path, query, headers, body}."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.endless_sent = 0  # bytes of `/endless` the client took before it hung up
        target = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                seen = {"method": self.command, "path": parts.path, "query": parse_qs(parts.query),
                        "raw_query": parts.query, "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body.decode()}
                with target.lock:
                    target.requests.append(seen)
                if parts.path == "/endless":
                    self._endless()
                    return
                status, answer = target.answer(seen)
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "image/png" if parts.path == "/image" else
                                 "text/plain" if parts.path == "/latin1" else "application/json")
                self.send_header("X-Target", "yes")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def _endless(self) -> None:
                """A body with no length given, sent until the client hangs up (or ENDLESS bytes)."""
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Connection", "close")
                self.end_headers()
                chunk = b"x" * 65536
                try:
                    while target.endless_sent < ENDLESS:
                        self.wfile.write(chunk)
                        target.endless_sent += len(chunk)
                except OSError:
                    pass
                self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, seen: dict[str, Any]) -> tuple[int, Any]:
        path = seen["path"]
        if path.startswith("/status/"):
            return int(path.rsplit("/", 1)[1]), {"message": f"answered {path}"}
        if path == "/token":
            expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            form = parse_qs(seen["body"])
            if seen["headers"].get("authorization") != expected or form.get("grant_type") != ["client_credentials"]:
                return 401, {"error": "invalid_client"}
            return 200, {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 3600}
        if path == "/image":
            return 200, b"\x89PNG\r\n\x1a\n"
        if path == "/latin1":
            return 200, "café".encode("latin-1")
        if path.startswith("/bytes/"):
            return 200, b"y" * int(path.rsplit("/", 1)[1])
        if path == "/token-rotated":
            expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{ROTATED_SECRET}".encode()).decode()
            if seen["headers"].get("authorization") != expected:
                return 401, {"error": "invalid_client"}
            return 200, {"access_token": ROTATED_TOKEN, "token_type": "Bearer", "expires_in": 3600}
        if path == "/token-newline":
            return 200, {"access_token": f"{LEAKY_TOKEN}\r\nX-Injected: 1", "expires_in": 3600}
        if path == "/secure" and seen["headers"].get("authorization") != f"Bearer {TOKEN}":
            return 401, {"message": "no token"}
        return 200, {"echo": {"method": seen["method"], "query": seen["query"], "body": seen["body"]}}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
