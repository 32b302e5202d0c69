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
- A Distributed Map records MapStateStarted, MapRunStarted (linked to it), then, when its Map Run
  ends, MapRunSucceeded (linked to MapRunStarted) and MapStateSucceeded (linked to MapRunSucceeded);
  its MapStateExited links to MapRunSucceeded too, except for a Map entered after other states and
  without a ResultPath, whose MapStateExited AWS links to MapRunStarted (`maprun.exit_links_run_start`).
  Its iterations are child executions with histories of their own: no iteration events in the parent.
- EvaluationFailed (a JSONata field that cannot be evaluated, or whose value is of the wrong kind)
  links by when AWS evaluates the field: one evaluated as the state is entered links to the event
  before its StateEntered (as StateEntered does); one evaluated in a later step links to the state's
  last event: a result's fields (after the task's or the children's end), a Catch's, a Map's
  tolerated failure thresholds (after MapStateStarted), and every field of the state types in
  `EVALUATED_AFTER_ENTERED`. A Map or Parallel whose fields fail with an error a Catch could handle
  records its StateFailed next; States.Runtime ends the execution at once.
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
    "MapRunAborted": None,
    "MapRunRedriven": "mapRunRedrivenEventDetails",
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


# State types whose fields AWS evaluates in a step after StateEntered, by field (the first part of an
# EvaluationFailed's location). A Wait works out when to wake once WaitStateEntered is recorded: AWS's
# recording of a JSONata Timestamp that cannot be parsed links its EvaluationFailed to WaitStateEntered,
# and a failure of a field is met when the field is evaluated, whatever the kind of failure.
EVALUATED_AFTER_ENTERED: dict[str, frozenset[str]] = {
    "Wait": frozenset({"Seconds", "Timestamp", "Output", "Assign"}),
}


def evaluated_after_entered(state_type: str, location: str | None) -> bool:
    """Whether AWS evaluates the field at `location` of a state of `state_type` after its StateEntered."""
    fields = EVALUATED_AFTER_ENTERED.get(state_type)
    return fields is not None and location is not None and location.split("/", 1)[0] in fields


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
