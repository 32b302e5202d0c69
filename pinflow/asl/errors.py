"""ASL runtime error names and the one exception the interpreter uses for them internally.

An `AslError` never escapes `pinflow.asl.step`: the interpreter turns it into a failed state,
a Retry, a Catch or a failed execution, as AWS does.
"""

from __future__ import annotations

ALL = "States.ALL"
TASK_FAILED = "States.TaskFailed"
TIMEOUT = "States.Timeout"
HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
PERMISSIONS = "States.Permissions"
RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
PARAMETER_PATH_FAILURE = "States.ParameterPathFailure"
INTRINSIC_FAILURE = "States.IntrinsicFailure"
QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"
BRANCH_FAILED = "States.BranchFailed"
NO_CHOICE_MATCHED = "States.NoChoiceMatched"
EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"
ITEM_READER_FAILED = "States.ItemReaderFailed"
RESULT_WRITER_FAILED = "States.ResultWriterFailed"
DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"
RUNTIME = "States.Runtime"

# Errors that no Catch or Retry can handle, States.ALL included (AWS behaviour).
UNCATCHABLE = frozenset({DATA_LIMIT_EXCEEDED, RUNTIME})


class AslError(Exception):
    """An ASL runtime error: `error` is the name matched by ErrorEquals, `cause` the text shown to users."""

    def __init__(self, error: str, cause: str | None = None, location: str | None = None) -> None:
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = error
        self.cause = cause
        # The field whose evaluation failed ("Output/result"), for EvaluationFailed's `location`.
        self.location = location

    def as_output(self) -> dict[str, str | None]:
        """The Error Output a catcher sees."""
        return {"Error": self.error, "Cause": self.cause}
