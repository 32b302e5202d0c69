"""Execution history events, with AWS's type names and detail field names.

Events are plain dicts shaped like GetExecutionHistory's `HistoryEvent`: `id`, `previousEventId`,
`timestamp` (seconds since the epoch) and `type`, plus a `<type>EventDetails` member named as
botocore names it. Inputs and outputs are kept as JSON values; the API renders them as JSON text.

How AWS links events (`previousEventId`), as its recorded histories show and the interpreter follows:
- ExecutionStarted, and the first state's StateEntered, link to 0; every other event of a frame (the
  top level, a Parallel branch, a Map iteration) links to the frame's previous event.
- Map and Parallel: the first iterations or branches link to MapStateStarted/ParallelStateStarted; an
  iteration started because another ended (MaxConcurrency) links to the last event of the one that
  ended; MapIterationSucceeded/Failed link to the last event of their iteration; MapStateSucceeded
  links to the last MapIterationSucceeded and ParallelStateSucceeded to the last event of the last
  branch to end, and the StateExited that follows links to that same event. A failing iteration or
  branch is followed by MapStateFailed/ParallelStateFailed (linked to its last event) unless the state
  is retried: a retry records no StateFailed, and its MapStateStarted/ParallelStateStarted links to
  that last event.
- EvaluationFailed (a JSONata field that cannot be evaluated) links to the event before its state's
  StateEntered when the state is being entered, else (a result, a Wait's timestamp) to the state's
  last event. A Map or Parallel whose fields fail with an error a Catch could handle records its
  StateFailed next; States.Runtime ends the execution at once.
"""

from __future__ import annotations

from typing import Any

# Each event type and the member that carries its details (None: the event has no details).
DETAILS: dict[str, str | None] = {
    "ExecutionStarted": "executionStartedEventDetails",
    "ExecutionSucceeded": "executionSucceededEventDetails",
    "ExecutionFailed": "executionFailedEventDetails",
    "ExecutionAborted": "executionAbortedEventDetails",
    "ExecutionTimedOut": "executionTimedOutEventDetails",
    "ExecutionRedriven": "executionRedrivenEventDetails",
    "TaskScheduled": "taskScheduledEventDetails",
    "TaskStarted": "taskStartedEventDetails",
    "TaskSucceeded": "taskSucceededEventDetails",
    "TaskFailed": "taskFailedEventDetails",
    "TaskTimedOut": "taskTimedOutEventDetails",
    "TaskSubmitted": "taskSubmittedEventDetails",
    "LambdaFunctionScheduled": "lambdaFunctionScheduledEventDetails",
    "LambdaFunctionStarted": None,
    "LambdaFunctionSucceeded": "lambdaFunctionSucceededEventDetails",
    "LambdaFunctionFailed": "lambdaFunctionFailedEventDetails",
    "LambdaFunctionTimedOut": "lambdaFunctionTimedOutEventDetails",
    "ActivityScheduled": "activityScheduledEventDetails",
    "ActivityStarted": "activityStartedEventDetails",
    "ActivitySucceeded": "activitySucceededEventDetails",
    "ActivityFailed": "activityFailedEventDetails",
    "ActivityTimedOut": "activityTimedOutEventDetails",
    "MapStateStarted": "mapStateStartedEventDetails",
    "MapStateSucceeded": None,
    "MapStateFailed": None,
    "MapStateAborted": None,
    "MapIterationStarted": "mapIterationStartedEventDetails",
    "MapIterationSucceeded": "mapIterationSucceededEventDetails",
    "MapIterationFailed": "mapIterationFailedEventDetails",
    "MapIterationAborted": "mapIterationAbortedEventDetails",
    "MapRunStarted": "mapRunStartedEventDetails",
    "MapRunSucceeded": None,
    "MapRunFailed": "mapRunFailedEventDetails",
    "ParallelStateStarted": None,
    "ParallelStateSucceeded": None,
    "ParallelStateFailed": None,
    "ParallelStateAborted": None,
    "WaitStateAborted": None,
    "TaskStateAborted": None,
    "EvaluationFailed": "evaluationFailedEventDetails",
}
for _kind in ("Pass", "Task", "Choice", "Wait", "Succeed", "Parallel", "Map", "Fail"):
    DETAILS[f"{_kind}StateEntered"] = "stateEnteredEventDetails"
    if _kind != "Fail":
        DETAILS[f"{_kind}StateExited"] = "stateExitedEventDetails"


def make(event_id: int, previous: int, at: float, type: str, details: dict[str, Any] | None) -> dict[str, Any]:
    """One history event."""
    event: dict[str, Any] = {"id": event_id, "previousEventId": previous, "timestamp": at, "type": type}
    member = DETAILS.get(type)
    if member is not None and details is not None:
        event[member] = details
    return event


def details_of(event: dict[str, Any]) -> dict[str, Any]:
    """The details member of an event, or an empty dict."""
    member = DETAILS.get(event["type"])
    return event.get(member, {}) if member else {}
