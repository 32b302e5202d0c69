"""The console's execution views: the execution and what it is pinned to, each state's status for the
graph, one state's input, output, error and events, a Map's iterations, the event history in pages,
and starting, stopping and redriving."""

from __future__ import annotations

from typing import Any

from pinflow import errors, jsontext
from pinflow.asl import history
from pinflow.console import digest, pinned, web
from pinflow.console.histories import Histories

# A state's panel lists this many of its events; the table has them all.
STATE_EVENTS = 200
ITERATION_PAGE = 100


def execution_item(row: dict[str, Any]) -> dict[str, Any]:
    """An execution row as the console shows it (DescribeExecution's members, times in epoch seconds)."""
    item: dict[str, Any] = {
        "executionArn": row["arn"],
        "name": row["name"],
        "stateMachineName": row["machine"],
        "status": row["status"],
        "startDate": row["started_at"],
        "stopDate": row["stopped_at"],
        "stateMachineVersionArn": row["version_arn"],
        "stateMachineAliasArn": row["alias_arn"],
        "redriveCount": int(row.get("redrive_count") or 0),
        "redriveDate": row.get("redrive_date"),
    }
    return item


def describe(pf: Any, histories: Histories, arn: str) -> dict[str, Any]:
    """The execution, its input and output, its definition and what it is pinned to. It does not wait
    for the history's digest (the summary brings each state's status), so the page can lay out its
    graph while a long history is read."""
    row = pf.engine.execution_row(arn)
    definition = histories.definition(arn)
    shaped = execution_item(row)
    shaped.update({
        "input": row["input"],
        "output": row["output"],
        "error": row["error"],
        "cause": row["cause"],
        "roleArn": row["role_arn"],
        "revisionId": row["revision_id"],
        "redrivable": row["status"] in ("FAILED", "TIMED_OUT", "ABORTED"),
    })
    return {"execution": shaped, "definition": definition,
            "pinned": pinned.pinned(pf, row, definition)}


def summary(pf: Any, histories: Histories, arn: str, selection: digest.Context) -> dict[str, Any]:
    """Each state's status (in the selected Map iterations), each Map's iterations by status, and the
    execution's status; what a live page polls."""
    # The row first: if it says RUNNING, the page polls again and sees whatever the history adds later.
    row = pf.engine.execution_row(arn)
    with histories.current(arn) as digested:
        states = {}
        for name in digested.layout.kind:
            status, runs = digested.status(name, selection)
            states[name] = {"status": status, "runs": runs}
        mapped = [name for name, kind in digested.layout.kind.items() if kind == "Map"]
        by_state: dict[str, list[dict[str, str]]] = {}
        if any(map_mode(digested.layout.state(name)) == "DISTRIBUTED" for name in mapped):
            # A Distributed Map's Map Runs (its processor block is named after the state), newest first.
            for run in pf.engine.mapruns.list(arn, None, 100)[0]:
                by_state.setdefault(run.block, []).append({"mapRunArn": run.arn, "status": run.status})

        maps = {name: _map_summary(digested, name, selection, by_state.get(name, [])) for name in mapped}
        last = digested.last_id
    return {"execution": execution_item(row) | {"error": row["error"], "cause": row["cause"]},
            "lastEventId": last, "states": states, "maps": maps}


def _map_summary(digested: digest.Digest, name: str, selection: digest.Context,
                 map_runs: list[dict[str, str]]) -> dict[str, Any]:
    context = digested.selected(name, selection)
    counts: dict[str, int] = {}
    for (state, where), iterations in digested.iterations.items():
        if state != name or where[:len(context)] != context:
            continue
        for status in iterations.values():
            counts[status] = counts.get(status, 0) + 1
    complete = len(context) == len(digested.layout.maps.get(name, ()))
    return {"context": [list(step) for step in context], "complete": complete,
            "iterations": sum(counts.values()), "byStatus": counts, "mode": map_mode(digested.layout.state(name)),
            "mapRuns": map_runs}


def map_mode(state: dict[str, Any] | None) -> str:
    """INLINE or DISTRIBUTED, as the Map state's ItemProcessor says."""
    processor = (state or {}).get("ItemProcessor")
    config = processor.get("ProcessorConfig") if isinstance(processor, dict) else None
    mode = config.get("Mode") if isinstance(config, dict) else None
    return mode if mode in ("INLINE", "DISTRIBUTED") else "INLINE"


def iterations(histories: Histories, arn: str, name: str, selection: digest.Context, status: str | None,
               offset: int, limit: int) -> dict[str, Any]:
    """A page of a Map state's iterations in the selected iteration path (its own must be fully given)."""
    with histories.current(arn) as digested:
        if digested.layout.kind.get(name) != "Map":
            raise web.Refused(404, "ResourceNotFound", f"No Map state named {name!r}")
        context = digested.selected(name, selection)
        if len(context) != len(digested.layout.maps.get(name, ())):
            raise web.Refused(400, "ValidationException",
                          f"Select an iteration of {', '.join(digested.layout.maps[name])} first")
        found = sorted(digested.iteration_statuses(name, context).items())
    if status:
        found = [item for item in found if item[1] == status]
    page = found[offset:offset + limit]
    return {"context": [list(step) for step in context], "total": len(found),
            "items": [{"index": index, "status": item_status} for index, item_status in page]}


def state(pf: Any, histories: Histories, arn: str, name: str, selection: digest.Context) -> dict[str, Any]:
    """One state's run (in the selected iteration): its status, input, output, error, cause, retries and
    events."""
    with histories.current(arn) as digested:
        if name not in digested.layout.kind:
            raise web.Refused(404, "ResourceNotFound", f"No state named {name!r}")
        status, runs = digested.status(name, selection)
        run = digested.run(name, selection)
        ids = [] if run is None else [i for i in digested.event_ids(state=name, context=run.context)
                                      if i >= run.entered]
        started = digested.timestamps[0] if digested.timestamps else None
    shaped: dict[str, Any] = {"name": name, "type": digested.layout.kind[name], "status": status, "runs": runs,
                              "definition": digested.layout.state(name)}
    if run is None:
        return shaped | {"events": [], "eventCount": 0}
    shown = ids[:STATE_EVENTS]
    wanted = sorted({*shown, run.entered, *(i for i in (run.exited, run.failure) if i is not None)})
    by_id = {event["id"]: event for event in histories.events(arn, wanted)}
    entered = by_id.get(run.entered)
    exited = by_id.get(run.exited) if run.exited is not None else None
    failure = by_id.get(run.failure) if run.failure is not None else None
    shaped.update({
        "runStatus": run.status,
        "context": [list(step) for step in run.context],
        "retries": run.retries,
        "enteredAt": entered["timestamp"] if entered else None,
        "exitedAt": exited["timestamp"] if exited else None,
        "input": _data(entered, "input"),
        "output": _data(exited, "output"),
        "eventCount": len(ids),
        "events": [table_row(by_id[i], started, name, run.context, digested.layout) for i in shown if i in by_id],
    })
    if failure is not None and run.status in (digest.FAILED, digest.CAUGHT):
        error, cause = _failure(failure, shaped["definition"])
        shaped.update({"error": error, "cause": cause, "failedAt": failure["timestamp"]})
    return shaped


def _data(event: dict[str, Any] | None, member: str) -> Any:
    if event is None:
        return None
    details = event.get("stateEnteredEventDetails") or event.get("stateExitedEventDetails") or {}
    return {"value": details[member]} if member in details else None


def _failure(event: dict[str, Any], state_definition: dict[str, Any] | None) -> tuple[Any, Any]:
    details = history.details_of(event)
    error, cause = details.get("error"), details.get("cause")
    if error is None and state_definition is not None and state_definition.get("Type") == "Fail":
        # A Fail state's entry holds no error; its definition (or the execution's failure) does.
        error, cause = state_definition.get("Error"), state_definition.get("Cause")
    return error, cause


def events(histories: Histories, arn: str, *, types: set[str] | None, state_name: str | None, page: int,
           size: int, newest_first: bool) -> dict[str, Any]:
    """A page of the event history (AWS's columns), filtered by event type and state."""
    with histories.current(arn) as digested:
        total, chosen = digested.page(types=types, state=state_name, offset=page * size, size=size,
                                      newest_first=newest_first)
        present = digested.event_types()
        started = digested.timestamps[0] if digested.timestamps else None
        where = {i: (digested.states[i - 1], digested.contexts[i - 1]) for i in chosen}
        last = digested.last_id
        layout = digested.layout
    by_id = {event["id"]: event for event in histories.events(arn, sorted(chosen))}
    rows = [table_row(by_id[i], started, *where[i], layout) for i in chosen if i in by_id]
    return {"total": total, "page": page, "size": size, "types": present, "lastEventId": last, "items": rows}


def table_row(event: dict[str, Any], started: float | None, state_name: str | None, context: digest.Context,
              layout: digest.Layout) -> dict[str, Any]:
    """One row of the events table: id, type, step, resource, time since the start, and the details."""
    details = history.details_of(event)
    resource = details.get("resource")
    if resource is None and state_name is not None:
        found = layout.state(state_name) or {}
        if found.get("Type") == "Task" and isinstance(found.get("Resource"), str):
            resource = found["Resource"]
    return {
        "id": event["id"],
        "previousEventId": event.get("previousEventId"),
        "type": event["type"],
        "timestamp": event["timestamp"],
        "elapsedMs": None if started is None else round((event["timestamp"] - started) * 1000),
        "step": state_name,
        "iteration": [list(step) for step in context],
        "resource": resource,
        "details": details,
    }


def parse_selection(text: str | None) -> digest.Context:
    """An iteration path from the query: JSON `[["Map", 3], ...]` (a state name and an index per Map).

    Raises:
        Refused: not such a list.
    """
    if not text:
        return digest.ROOT
    refused = web.Refused(400, "ValidationException", "'iteration' must be a JSON list of [map, index] pairs")
    try:
        value = jsontext.parse(text)
    except ValueError:  # not JSON, nested too deeply, or holding a lone surrogate
        raise refused from None
    if not isinstance(value, list):
        raise refused
    path = []
    for pair in value:
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)
                and isinstance(pair[1], int) and not isinstance(pair[1], bool) and 0 <= pair[1] < 2**31):
            raise refused
        path.append((pair[0], pair[1]))
    return tuple(path)


# --- control -------------------------------------------------------------------------------------------


def start(pf: Any, target: str, body: dict[str, Any]) -> dict[str, Any]:
    """StartExecution of a machine, version or alias ARN with a name (optional) and JSON input."""
    name = body.get("name") or None
    input_text = body.get("input")
    if input_text is not None and not isinstance(input_text, str):
        raise errors.InvalidExecutionInput("Invalid State Machine Execution Input: 'the input must be JSON text'")
    if name is not None and not isinstance(name, str):
        raise errors.InvalidName("Invalid Name: the name must be text")
    started = pf.engine.start_execution(target, name=name, input=input_text)
    return {"executionArn": started["executionArn"], "startDate": started["startDate"],
            "express": ":express:" in started["executionArn"]}


def stop(pf: Any, arn: str, body: dict[str, Any]) -> dict[str, Any]:
    """StopExecution, with an optional error and cause."""
    error, cause = body.get("error") or None, body.get("cause") or None
    # StopExecution's limits: an error of up to 256 characters, a cause of up to 32,768.
    for member, value, high in (("error", error, 256), ("cause", cause, 32_768)):
        if value is not None and (not isinstance(value, str) or len(value) > high):
            raise web.Refused(400, "ValidationException",
                          f"'{member}' must be text of at most {high} characters")
    return pf.engine.stop_execution(arn, error=error, cause=cause)


def redrive(pf: Any, arn: str) -> dict[str, Any]:
    """RedriveExecution of a failed, timed-out or aborted execution."""
    return pf.engine.redrive_execution(arn)
