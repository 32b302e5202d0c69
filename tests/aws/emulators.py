"""Small endpoints on loopback that speak what moto's server does not: Athena's REST-JSON protocol (the
botocore models here are newer than moto's Athena), Bedrock Runtime's InvokeModel, and an API behind
API Gateway. Each records the requests it gets, so tests can check what was sent."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Emulator:
    """A threaded HTTP server; `answer(method, path, headers, body)` -> (status, headers, body bytes)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                owner.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                       "body": body})
                status, headers, data = owner.answer(self.command, self.path, dict(self.headers), body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815  (http.server's names)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        raise NotImplementedError

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _json(status: int, value: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(value).encode()


class Athena(Emulator):
    """StartQueryExecution, GetQueryExecution and StopQueryExecution; queries stay RUNNING until `end`."""

    def __init__(self) -> None:
        self.queries: dict[str, dict[str, Any]] = {}
        super().__init__()

    def end(self, query_id: str, state: str) -> None:
        self.queries[query_id]["Status"]["State"] = state

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        if method == "POST" and path == "/query-executions":
            query_id = str(uuid.uuid4())
            given = json.loads(body or b"{}")
            self.queries[query_id] = {"QueryExecutionId": query_id, "Query": given.get("QueryString"),
                                      "WorkGroup": given.get("WorkGroup", "primary"),
                                      "Status": {"State": "RUNNING", "SubmissionDateTime": time.time()}}
            return _json(200, {"QueryExecutionId": query_id})
        found = re.fullmatch(r"/query-executions/([^/]+)(/stop)?", path)
        if found is None or found.group(1) not in self.queries:
            return _json(400, {"__type": "InvalidRequestException", "Message": "QueryExecution was not found"})
        query = self.queries[found.group(1)]
        if found.group(2):
            query["Status"]["State"] = "CANCELLED"
            return _json(200, {})
        return _json(200, {"QueryExecution": query})


class Bedrock(Emulator):
    """InvokeModel: answers `{"completion": ..., "asked": <the body sent>}` as JSON."""

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        model = re.fullmatch(r"/model/([^/]+)/invoke", path)
        if model is None:
            return _json(404, {"message": "unknown model"})
        return _json(200, {"completion": f"hello from {model.group(1)}", "asked": json.loads(body or b"null")})


class Api(Emulator):
    """An API's stage: `/prod/orders` answers JSON, `/prod/broken` a 500."""

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        if path.startswith("/prod/broken"):
            return 500, {"Content-Type": "text/plain"}, b"it broke"
        return 200, {"Content-Type": "application/json", "X-Trace": "t-1"}, json.dumps(
            {"method": method, "path": path, "got": json.loads(body) if body else None}).encode()


class HangingAthena(Athena):
    """Athena whose GetQueryExecution does not answer until `release` is set (a service that hangs)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.hung = threading.Event()
        super().__init__()

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        if method == "GET" and path.startswith("/query-executions/") and not path.endswith("/stop"):
            self.hung.set()
            self.release.wait(120)
        return super().answer(method, path, headers, body)


class Hanging(Emulator):
    """An API that answers nothing until `release` is set; `waiting` counts the requests held."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.waiting = 0
        super().__init__()

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        self.waiting += 1
        self.release.wait(120)
        return _json(200, {"late": True})
