"""The context object a handler receives as its second argument, shaped like Lambda's Python one."""

from __future__ import annotations

import os
import sys
import time
from typing import Any


class ClientContext:
    """Invoke's client context as Lambda's Python runtime gives it: `client`, `custom` and `env`."""

    def __init__(self, document: dict[str, Any]) -> None:
        client = document.get("client")
        self.client: Any = None
        if isinstance(client, dict):
            self.client = type("Client", (), {
                "installation_id": client.get("installation_id"), "app_title": client.get("app_title"),
                "app_version_name": client.get("app_version_name"), "app_version_code": client.get("app_version_code"),
                "app_package_name": client.get("app_package_name")})()
        self.custom = document.get("custom")
        self.env = document.get("env")


class LambdaContext:
    """What Lambda's Python runtime passes as `context`.

    As in Lambda, the per-function fields come from the worker's environment variables, so
    `memory_limit_in_mb` is a string ("128"), and the per-invocation fields from the request.
    """

    def __init__(self, aws_request_id: str, deadline_epoch_ms: int, invoked_function_arn: str) -> None:
        self.aws_request_id = aws_request_id
        self.invoked_function_arn = invoked_function_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.client_context: Any = None
        self.identity: Any = None
        self.tenant_id: str | None = None
        self._deadline_epoch_ms = deadline_epoch_ms

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the invocation times out, never below zero."""
        remaining = self._deadline_epoch_ms - int(time.time() * 1000)
        return remaining if remaining > 0 else 0

    def log(self, msg: object) -> None:
        """Write `msg` to the function's log, as Lambda's `context.log` does."""
        sys.stdout.write(str(msg))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},invoked_function_arn={self.invoked_function_arn}])"
        )
