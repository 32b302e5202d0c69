"""Lambda's error documents, and how Step Functions turns a function error into an ASL error."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pinflow.functions.invoker import InvokeResult

# The only FunctionError value Lambda still reports (the old "Handled" came from Node callbacks).
UNHANDLED = "Unhandled"

SANDBOX_TIMEDOUT = "Sandbox.Timedout"
RUNTIME_EXIT_ERROR = "Runtime.ExitError"
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
MARSHAL_ERROR = "Runtime.MarshalError"
LAMBDA_UNKNOWN = "Lambda.Unknown"
INVALID_ENTRYPOINT = "Runtime.InvalidEntrypoint"

# Errors that the Lambda service writes itself (not the Python runtime): compact JSON, errorType first.
_PLATFORM_ERRORS = frozenset({SANDBOX_TIMEDOUT, RUNTIME_EXIT_ERROR, INVALID_ENTRYPOINT})

# How Go (which runs Lambda's sandbox) names the signals that end a process.
_SIGNAL_NAMES = {
    1: "hangup",
    2: "interrupt",
    3: "quit",
    4: "illegal instruction",
    5: "trace/breakpoint trap",
    6: "aborted",
    7: "bus error",
    8: "floating point exception",
    9: "killed",
    10: "user defined signal 1",
    11: "segmentation fault",
    12: "user defined signal 2",
    13: "broken pipe",
    14: "alarm clock",
    15: "terminated",
}


def runtime_error(
    message: str, error_type: str, stack_trace: list[str] | None, request_id: str
) -> dict[str, Any]:
    """An error document as Lambda's Python runtime writes it (its key order included)."""
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": stack_trace or [],
    }


def timeout_error(request_id: str, timeout: float) -> dict[str, Any]:
    """The document Lambda returns when a handler runs past the function's timeout."""
    return {
        "errorType": SANDBOX_TIMEDOUT,
        "errorMessage": f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds",
    }


def entrypoint_error(request_id: str, reason: str) -> dict[str, Any]:
    """The document Lambda returns when a custom runtime has no bootstrap to start."""
    return {"errorType": INVALID_ENTRYPOINT, "errorMessage": f"RequestId: {request_id} Error: {reason}"}


def exit_error(request_id: str, returncode: int) -> dict[str, Any]:
    """The document Lambda returns when the runtime process ends in the middle of an invocation.

    Args:
        request_id: the invocation's request id.
        returncode: the process's exit status, negative for a signal (as `subprocess` reports it).
    """
    if returncode == 0:
        reason = "Runtime exited without providing a reason"
    elif returncode > 0:
        reason = f"Runtime exited with error: exit status {returncode}"
    else:
        signal_name = _SIGNAL_NAMES.get(-returncode, f"signal {-returncode}")
        reason = f"Runtime exited with error: signal: {signal_name}"
    return {"errorType": RUNTIME_EXIT_ERROR, "errorMessage": f"RequestId: {request_id} Error: {reason}"}


def payload_text(payload: Any) -> str:
    """The JSON text Lambda would have returned for an error document.

    The Python runtime writes `", "`/`": "` separators; the service's own documents
    (timeouts, crashes) and the Node.js runtime's (`JSON.stringify`, recognised by their `trace`)
    are compact.
    """
    if isinstance(payload, dict) and (payload.get("errorType") in _PLATFORM_ERRORS or "trace" in payload):
        return json.dumps(payload, separators=(",", ":"))
    return json.dumps(payload)


def asl_error_from(result: InvokeResult) -> tuple[str, str]:
    """The (Error, Cause) pair Step Functions reports for a failed Lambda invocation.

    Step Functions names the error after the document's `errorType` (so a timeout is
    `Sandbox.Timedout`, matched by `States.TaskFailed` and `States.ALL`, never by `States.Timeout`,
    which is the Task's own TimeoutSeconds) and gives the document's JSON text as the cause. A
    document without an `errorType` becomes `Lambda.Unknown`, with AWS's wording for the cause.

    Args:
        result: an invocation whose `function_error` is set.

    Returns:
        The error name and the cause text.

    Raises:
        ValueError: the invocation did not fail.
    """
    if result.function_error is None:
        raise ValueError("the invocation succeeded; there is no error to report")
    payload = result.payload
    error_type = payload.get("errorType") if isinstance(payload, dict) else None
    text = payload_text(payload)
    if not isinstance(error_type, str) or not error_type:
        return (
            LAMBDA_UNKNOWN,
            "The cause could not be determined because Lambda did not return an error type. "
            f"Returned payload: {text}",
        )
    return error_type, text
