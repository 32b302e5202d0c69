"""A warm worker process: imports one handler, then serves invocations read from a pipe.

Run as `python -m pinflow.functions.worker_main` with the unpacked code folder as the working
directory. It imports as little as it can, so that a cold start stays cheap and the handler's
imports find the function's own modules first.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from pinflow.functions import errors, lambda_context, protocol

_THIS_FILE = os.path.abspath(__file__)
# Tracebacks show the function's files under Lambda's task root, wherever the code really is.
LAMBDA_TASK_ROOT = "/var/task"
_current_request_id = ""
_task_root = LAMBDA_TASK_ROOT


class _Fault(Exception):
    """A failure of the runtime itself, reported with one of Lambda's `Runtime.*` error types."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace


def load_handler(spec: str) -> Callable[[Any, Any], Any]:
    """Import `module.function` the way Lambda's Python runtime does, with its error wording.

    Raises:
        _Fault: the name is malformed, names a built-in module, cannot be imported, has a syntax
            error, or the module has no such attribute.
    """
    try:
        module_name, function_name = spec.rsplit(".", 1)
    except ValueError as exc:
        raise _Fault(errors.MALFORMED_HANDLER_NAME, f"Bad handler '{spec}': {exc}") from None
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise _Fault(
            errors.BUILT_IN_MODULE_CONFLICT, f"Cannot use built-in module {module_name} as a handler module"
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise _Fault(errors.IMPORT_MODULE_ERROR, f"Unable to import module '{module_name}': {exc}") from None
    except SyntaxError as exc:
        trace = [f'  File "{_shown(exc.filename)}" Line {exc.lineno}\n    {exc.text}']
        raise _Fault(
            errors.USER_CODE_SYNTAX_ERROR, f"Syntax error in module '{module_name}': {exc}", trace
        ) from None
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise _Fault(
            errors.HANDLER_NOT_FOUND, f"Handler '{function_name}' missing on module '{module_name}'"
        ) from None


def exception_document(exc: BaseException, request_id: str) -> dict[str, Any]:
    """The error document for an exception raised by user code, without this module's frames."""
    frames = traceback.extract_tb(exc.__traceback__)
    # Drop the runtime's own frames at the top of the stack, as Lambda drops bootstrap.py's.
    start = 0
    while start < len(frames) and frames[start].filename == _THIS_FILE:
        start += 1
    rows = [(_shown(f.filename), f.lineno, f.name, f.line) for f in frames[start:]]
    trace = traceback.format_list(rows)  # type: ignore[arg-type]
    return errors.runtime_error(str(exc), type(exc).__name__, trace, request_id)


def _shown(filename: str | None) -> str | None:
    """A file name as Lambda shows it: under /var/task when it is in the function's code."""
    if filename and _task_root != LAMBDA_TASK_ROOT and filename.startswith(_task_root + os.sep):
        return LAMBDA_TASK_ROOT + filename[len(_task_root):]
    return filename


def _log_error(document: dict[str, Any]) -> None:
    """Write an error to the function's log the way the runtime does."""
    lines = [f"[ERROR] {document['errorType']}: {document['errorMessage']}"]
    if document.get("stackTrace"):
        lines.append("Traceback (most recent call last):")
        lines.extend(line.rstrip("\n") for line in document["stackTrace"])
    sys.stdout.write("\n".join(lines) + "\n")


def _json_default(value: Any) -> Any:
    # DynamoDB hands out Decimals; Lambda's runtime serialises them as numbers.
    if type(value).__name__ == "Decimal":
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _current_request_id
        return True


def _setup_output() -> None:
    """Line-buffer stdout/stderr (both go to the log file) and give the root logger Lambda's format."""
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    handler = logging.StreamHandler(sys.stdout)
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s", "%Y-%m-%dT%H:%M:%S"
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.addFilter(_RequestIdFilter())
    logging.getLogger().addHandler(handler)


def _setup_sys_path(task_root: str) -> None:
    """Put the function's folder first, and take off the entry the invoker added to find pinflow.

    Only that one entry goes: when pinflow is installed, its root is site-packages, which the
    handler needs and which stays on the path through its own entry.
    """
    added = os.environ.pop("_PINFLOW_SOURCE_ROOT", None)
    paths = [p for p in sys.path if p not in (task_root, "")]
    if added is not None and added in paths:
        paths.remove(added)
        user_path = os.environ.get("PYTHONPATH", "")
        kept = [p for p in user_path.split(os.pathsep) if p and p != added]
        if kept:
            os.environ["PYTHONPATH"] = os.pathsep.join(kept)
        else:
            os.environ.pop("PYTHONPATH", None)
    sys.path[:] = [task_root, *paths]


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        # A handler may have closed or replaced a stream.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()


def serve(handler: Callable[[Any, Any], Any], reader: protocol.FrameReader, reply_fd: int) -> None:
    """Answer requests until the invoker closes the request pipe."""
    global _current_request_id
    dumps = json.dumps
    loads = json.loads
    while (body := reader.next_request()) is not None:
        request_id, deadline_ms, invoked_arn, event, *client_context = loads(body)
        _current_request_id = request_id
        context = lambda_context.LambdaContext(request_id, deadline_ms, invoked_arn)
        if client_context and isinstance(client_context[0], dict):
            context.client_context = lambda_context.ClientContext(client_context[0])
        try:
            result = handler(event, context)
        except Exception as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt end the process, as on Lambda
            document = exception_document(exc, request_id)
            _log_error(document)
            tag, out = protocol.ERROR, dumps(document)
        else:
            try:
                tag, out = protocol.RESULT, dumps(result, separators=(",", ":"), default=_json_default)
            except (TypeError, ValueError, RecursionError) as exc:
                document = errors.runtime_error(
                    f"Unable to marshal response: {exc}", errors.MARSHAL_ERROR, None, request_id
                )
                _log_error(document)
                tag, out = protocol.ERROR, dumps(document)
        _flush()
        protocol.write_all(reply_fd, protocol.reply_frame(tag, out.encode()))


def main() -> None:
    """Import the handler named by `_HANDLER`, report readiness, and serve until told to stop."""
    request_fd = int(os.environ.pop(protocol.REQUEST_FD_ENV))
    reply_fd = int(os.environ.pop(protocol.REPLY_FD_ENV))
    # Processes the handler starts must not hold the pipes open: the invoker learns of a crash
    # from the reply pipe closing.
    for fd in (request_fd, reply_fd):
        os.set_inheritable(fd, False)
    global _task_root
    _task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    _setup_sys_path(_task_root)
    _setup_output()
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except _Fault as fault:
        document = errors.runtime_error(fault.message, fault.error_type, fault.trace, "")
    except Exception as exc:  # noqa: BLE001 - an exception raised while importing the module
        document = exception_document(exc, "")
    else:
        protocol.write_all(reply_fd, protocol.reply_frame(protocol.READY, b""))
        serve(handler, protocol.FrameReader(request_fd), reply_fd)
        _flush()
        # A handler may leave non-daemon threads behind; they must not keep a stopped worker alive.
        os._exit(0)
    _log_error(document)
    _flush()
    protocol.write_all(reply_fd, protocol.reply_frame(protocol.INIT_ERROR, json.dumps(document).encode()))
    os._exit(0)


if __name__ == "__main__":
    main()
