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


class Target:
    """The server, and every request it got: {method, path, query, headers, body}."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
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
                status, answer = target.answer(seen)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Target", "yes")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

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
        if path == "/secure" and seen["headers"].get("authorization") != f"Bearer {TOKEN}":
            return 401, {"message": "no token"}
        return 200, {"echo": {"method": seen["method"], "query": seen["query"], "body": seen["body"]}}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
