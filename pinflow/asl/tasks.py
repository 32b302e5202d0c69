"""The states that wait on something outside their frame: Task (a command) and Map and Parallel
(child frames: one per branch or iteration)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pinflow.asl import commands as cmd
from pinflow.asl import errors, maprun, templates, tokens
from pinflow.asl.definition import JSONATA
from pinflow.asl.errors import AslError
from pinflow.asl.scope import Scope, compact

if TYPE_CHECKING:
    from pinflow.asl.interpreter import _Machine

Frame = dict[str, Any]
State = dict[str, Any]


# --- Task --------------------------------------------------------------------------------------------


def classify(resource: str) -> tuple[str, str, str, str]:
    """(history kind, pattern, resourceType, resource name) for a Task's Resource ARN.

    History kind is the prefix of the task's history events: "LambdaFunction" for a bare function
    ARN, "Activity" for an activity, "Task" for every service integration. The pattern is one of
    `PATTERNS`' values.
    """
    parts = resource.split(":")
    if len(parts) >= 7 and parts[2] == "lambda" and parts[5] == "function":
        return "LambdaFunction", "request_response", "lambda", resource
    if len(parts) >= 7 and parts[2] == "states" and parts[5] == "activity":
        return "Activity", "wait_for_task_token", "activity", resource
    service_api = ":".join(parts[5:]) if len(parts) > 5 else resource
    service, _, api = service_api.partition(":")
    if service == "aws-sdk":  # AWS records `aws-sdk:s3` and `putObject` (LocalStack's aws-sdk snapshots)
        name, _, api = api.partition(":")
        service = f"aws-sdk:{name}"
    return "Task", pattern_of(api), service, api


# A resource's suffix and the pattern the engine is told (`commands.InvokeTask.pattern`).
PATTERNS = {"": "request_response", ".sync": "sync", ".sync:2": "sync2", ".waitForTaskToken": "wait_for_task_token"}


def pattern_of(api: str) -> str:
    """The integration pattern an action names: `startExecution.sync:2` -> "sync2"."""
    for suffix in (".waitForTaskToken", ".sync:2", ".sync"):
        if api.endswith(suffix):
            return PATTERNS[suffix]
    return "request_response"


def _positive_int(m: _Machine, state: State, key: str, scope: Scope, bindings: dict[str, Any] | None) -> int | None:
    if key in state:
        value = state[key]
        if bindings is not None and isinstance(value, str):
            value = m.jsonata_value(value, bindings, key)
    elif f"{key}Path" in state:
        value = scope.resolve_text(state[f"{key}Path"])
    else:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        raise AslError(errors.RUNTIME, m.located(
            f"The {key} field refers to value {compact(value)} which is not a valid positive integer", None))
    return int(value)


def task(m: _Machine, frame: Frame, state: State) -> None:
    m.locate(frame)
    resource = state["Resource"]
    kind, pattern, resource_type, resource_name, region = _classified(m, state)
    scope = m.scope(frame, frame["input"])
    task_id = m.new_id("t")
    token = None
    extra: dict[str, Any] = {}
    if pattern == "wait_for_task_token":
        token = tokens.make(str(m.state["execution"].get("Id", "")), task_id, m.rng().getrandbits(128))
        given = (m.test.context or {}).get("Task") if m.test is not None else None
        if isinstance(given, dict) and isinstance(given.get("Token"), str):
            token = given["Token"]  # TestState: the token the given context object holds
        extra["Task"] = {"Token": token}
    inspecting = m.outcome is not None  # TestState: keep the stages of the data flow
    if inspecting:
        m.inspect("input", frame["input"])
    if m.d.language(state) == JSONATA:
        bindings = m.bindings(scope.with_context(extra) if extra else scope)
        payload = m.jsonata_field(state, "Arguments", bindings, default=frame["input"])
        if inspecting:
            m.inspect("afterArguments", payload)
        timeout = _positive_int(m, state, "TimeoutSeconds", scope, bindings)
        heartbeat = _positive_int(m, state, "HeartbeatSeconds", scope, bindings)
        credentials = m.jsonata_field(state, "Credentials", bindings, default=None)
    else:
        effective = m.input_path(state, frame["input"], scope)
        if inspecting:
            m.inspect("afterInputPath", effective)
        timeout = _positive_int(m, state, "TimeoutSeconds", scope.with_input(effective), None)
        heartbeat = _positive_int(m, state, "HeartbeatSeconds", scope.with_input(effective), None)
        payload = effective
        if "Parameters" in state:
            inner = scope.with_input(effective)
            payload = m.template(state["Parameters"]).evaluate(inner.with_context(extra) if extra else inner)
        if inspecting:
            m.inspect("afterParameters", payload)
        credentials = state.get("Credentials")
        if isinstance(credentials, dict):
            credentials = m.template(credentials).evaluate(scope.with_input(effective))
    m.check_size(frame, payload)
    timers = []
    if timeout is not None:
        timers.append(f"{task_id}/timeout")
        m.start_timer(frame, timers[-1], m.at + timeout, "timeout", task_id)
    if heartbeat is not None:
        timers.append(f"{task_id}/heartbeat")
        m.start_timer(frame, timers[-1], m.at + heartbeat, "heartbeat", task_id)
    frame["wait"] = {"kind": "task", "task": task_id, "events": kind, "timers": timers,
                     "resource_type": resource_type, "resource_name": resource_name,
                     "started": kind != "Activity"}
    m.state["tasks"][task_id] = frame["id"]
    details: dict[str, Any]
    if kind == "Task":
        details = {"resourceType": resource_type, "resource": resource_name, "region": region,
                   "parameters": compact(payload)}
    else:
        details = {"resource": resource, "input": payload, "inputDetails": {"truncated": False}}
    if timeout is not None:
        details["timeoutInSeconds"] = timeout
    if heartbeat is not None:
        details["heartbeatInSeconds"] = heartbeat
    m.record(frame, f"{kind}Scheduled", details)
    if kind == "Task":
        m.record(frame, "TaskStarted", {"resourceType": resource_type, "resource": resource_name})
    elif kind == "LambdaFunction":
        m.record(frame, "LambdaFunctionStarted", None)
    # Calls of this state so far in the execution (retries and loops alike), by state name.
    invocations = m.state.setdefault("invocations", {})
    invocation = invocations.get(frame["state"], 0)
    invocations[frame["state"]] = invocation + 1
    m.commands.append(cmd.InvokeTask(
        task_id=task_id, resource=resource, payload=payload, state_name=frame["state"],
        attempt=frame["retry_count"], pattern=pattern, task_token=token, timeout_seconds=timeout,
        heartbeat_seconds=heartbeat, credentials=credentials, invocation=invocation,
    ))


def _classified(m: _Machine, state: State) -> tuple[str, str, str, str, str]:
    """`classify` of a Task's Resource and its region, worked out once per state."""
    key = ("classified", id(state))
    found: tuple[str, str, str, str, str] | None = m.d.cache.get(key)
    if found is None:
        resource = state["Resource"]
        found = m.d.cache[key] = (*classify(resource), _region(resource))
    return found


def _region(resource: str) -> str:
    parts = resource.split(":")
    return parts[3] if len(parts) > 3 and parts[3] else "us-east-1"


def task_submitted(m: _Machine, frame: Frame, output: Any) -> None:
    """What started a `.sync` task answered (AWS records it once, as TaskSubmitted, between TaskStarted
    and the task's end)."""
    wait = frame["wait"]
    if wait["events"] != "Task" or wait.get("submitted"):
        return
    wait["submitted"] = True
    m.record(frame, "TaskSubmitted", {"resourceType": wait["resource_type"], "resource": wait["resource_name"],
                                      "output": output, "outputDetails": {"truncated": False}})


def task_succeeded(m: _Machine, frame: Frame, output: Any) -> None:
    m.locate(frame)
    state = m.d.state(frame["block"], frame["state"])
    m.check_size(frame, output)
    m.finish_result(frame, state, output)


# --- Parallel and Map ----------------------------------------------------------------------------------


def parallel(m: _Machine, frame: Frame, state: State) -> None:
    m.locate(frame)
    scope = m.scope(frame, frame["input"])
    if m.d.language(state) == JSONATA:
        effective = m.jsonata_field(state, "Arguments", m.bindings(scope), default=frame["input"])
    else:
        effective = m.effective_input(frame, state, scope)
    branches = len(state.get("Branches") or ())
    m.record(frame, "ParallelStateStarted", None)
    frame["wait"] = _children_wait(branches, [effective] * branches, max_concurrency=0, isolated=False,
                                   tolerated=None)
    launch_children(m, frame)


def map_state(m: _Machine, frame: Frame, state: State) -> None:
    m.locate(frame)
    scope = m.scope(frame, frame["input"])
    processor = state.get("ItemProcessor") or state.get("Iterator") or {}
    distributed = (processor.get("ProcessorConfig") or {}).get("Mode") == "DISTRIBUTED"
    read = frame.pop("read_items", None)
    if "ItemReader" in state and read is None:
        _read_items(m, frame, state, scope)
        return
    if m.d.language(state) == JSONATA:
        bindings = m.bindings(scope)
        if read is not None:
            items = read
        elif "Items" in state:
            items = m.jsonata_value(state["Items"], bindings, "Items")
        else:
            items = frame["input"]
        if not isinstance(items, list):
            # Without Items a Map iterates its input, as if Items were `$states.input`; AWS fails any
            # value but an array with States.QueryEvaluationError.
            written = state.get("Items", "{% $states.input %}")
            raise m.type_error(written if isinstance(written, str) else compact(written), "Items", "array", items)
        inputs = []
        for index, item in enumerate(items):
            if "ItemSelector" in state:
                item_scope = scope.with_context({"Map": {"Item": {"Index": index, "Value": item}}})
                inputs.append(m.jsonata_value(state["ItemSelector"], m.bindings(item_scope), "ItemSelector"))
            else:
                inputs.append(item)
        max_concurrency = int(_jsonata_number(m, state, bindings, "MaxConcurrency") or 0)
    else:
        effective = m.input_path(state, frame["input"], scope)
        inner = scope.with_input(effective)
        items_path = state.get("ItemsPath", "$")
        items = read if read is not None else inner.resolve_text(items_path)
        if not isinstance(items, list):
            raise AslError(errors.RUNTIME, m.located(
                f"Invalid path '{items_path}': The ItemsPath field must reference an array, but the value was "
                f"{compact(items)}", None))
        selector = state.get("ItemSelector", state.get("Parameters"))
        template = m.template(selector) if selector is not None else None
        inputs = []
        for index, item in enumerate(items):
            if template is not None:
                item_scope = inner.with_context({"Map": {"Item": {"Index": index, "Value": item}}})
                inputs.append(template.evaluate(item_scope))
            else:
                inputs.append(item)
        max_concurrency = int(_int_field(m, state, "MaxConcurrency", inner) or 0)
    if "ItemBatcher" in state:
        inputs = _batches(m, state, inputs, scope)
    m.record(frame, "MapStateStarted", {"length": len(inputs)})
    # AWS reads the tolerated failure thresholds after MapStateStarted.
    if m.d.language(state) == JSONATA:
        tolerated = _tolerated_jsonata(m, state, bindings)
    else:
        tolerated = _tolerated_jsonpath(m, state, inner)
    if distributed:
        _start_map_run(m, frame, state, processor, inputs, max_concurrency, tolerated)
        return
    frame["wait"] = _children_wait(len(inputs), inputs, max_concurrency=max_concurrency, isolated=distributed,
                                   tolerated=tolerated)
    launch_children(m, frame)


def _read_items(m: _Machine, frame: Frame, state: State, scope: Scope) -> None:
    """Ask the driver to read the Map's items (ItemReader); `items_read` resumes the state with them."""
    reader = state["ItemReader"]
    config = dict(reader.get("ReaderConfig") or {})
    if m.d.language(state) == JSONATA:
        bindings = m.bindings(scope)
        parameters = m.jsonata_field(reader, "Arguments", bindings, default={})
        if isinstance(config.get("MaxItems"), str):
            config["MaxItems"] = m.jsonata_value(config["MaxItems"], bindings, "ItemReader/ReaderConfig/MaxItems")
    else:
        inner = scope.with_input(m.input_path(state, frame["input"], scope))
        parameters = templates.evaluate(reader.get("Parameters") or {}, inner)
        if "MaxItemsPath" in config:
            config["MaxItems"] = inner.resolve_text(config.pop("MaxItemsPath"))
    limit = config.get("MaxItems")
    if limit is not None and (not isinstance(limit, int | float) or isinstance(limit, bool) or limit < 0
                              or (isinstance(limit, float) and not limit.is_integer())):
        raise AslError(errors.RUNTIME, f"The MaxItems field refers to value {compact(limit)} which is not a valid "
                       "positive integer")
    if limit is not None:
        config["MaxItems"] = int(limit)
    task_id = m.new_id("t")
    m.state["tasks"][task_id] = frame["id"]
    frame["wait"] = {"kind": "task", "task": task_id, "reader": True, "events": "Task", "timers": []}
    m.commands.append(cmd.InvokeTask(task_id, reader["Resource"], parameters, frame["state"], frame["retry_count"],
                                     pattern="item_reader", reader=config))


def items_read(m: _Machine, frame: Frame, items: Any) -> None:
    """The ItemReader's items came: the Map goes on with them as if its input held them."""
    frame["read_items"] = items if isinstance(items, list) else []
    m.execute(frame)


def _start_map_run(m: _Machine, frame: Frame, state: State, processor: dict[str, Any], inputs: list[Any],
                   max_concurrency: int, tolerated: dict[str, float] | None) -> None:
    """A Distributed Map: record MapRunStarted and ask the driver for the Map Run; the frame waits on
    its end (`map_run_ended`) and keeps nothing per item."""
    run_id = m.new_id(maprun.RUN_ID_PREFIX)
    label = state.get("Label") or frame["state"]
    arn = maprun.arn(m.state["execution"].get("Id") or "", m.state["state_machine"].get("Name") or "", label,
                     m.rng().getrandbits(128))
    started = m.record(frame, "MapRunStarted", {"mapRunArn": arn})
    m.state["tasks"][run_id] = frame["id"]
    # Whether the state's MapStateEntered, recorded in this step, linked to no event (see `history`).
    first = m.memo.get(frame["id"]) == 0
    frame["wait"] = {"kind": "maprun", "task": run_id, "arn": arn, "started": started, "first": first}
    config = processor.get("ProcessorConfig") or {}
    m.commands.append(cmd.StartMapRun(
        run_id, arn, frame["state"], frame["state"], label, inputs, max_concurrency, tolerated,
        config.get("ExecutionType") or "STANDARD", writes_results="ResultWriter" in state,
        batched="ItemBatcher" in state))


def _map_succeeded(m: _Machine, frame: Frame, state: State, wait: dict[str, Any], output: Any) -> None:
    m.record(frame, "MapStateSucceeded", None, advance=False)
    if maprun.exit_links_run_start(state, wait["first"]):
        frame["last"] = wait["started"]
    m.guard(frame, lambda: m.finish_result(frame, state, output), state_failed=False)


def _write_results(m: _Machine, frame: Frame, state: State, run: dict[str, Any]) -> None:
    """Ask the driver to write the Map Run's results (ResultWriter); `results_written` goes on."""
    writer = state["ResultWriter"]
    scope = m.scope(frame, frame["input"])
    if m.d.language(state) == JSONATA:
        parameters = m.jsonata_field(writer, "Arguments", m.bindings(scope), default={})
    else:
        inner = scope.with_input(m.input_path(state, frame["input"], scope))
        parameters = templates.evaluate(writer.get("Parameters") or {}, inner)
    task_id = m.new_id("t")
    m.state["tasks"][task_id] = frame["id"]
    frame["wait"] = {"kind": "task", "task": task_id, "writer": True, "events": "Task", "timers": [], "run": run}
    m.commands.append(cmd.InvokeTask(
        task_id, writer.get("Resource") or "", parameters, frame["state"], frame["retry_count"],
        pattern="result_writer", writer={"MapRunArn": run["arn"], "WriterConfig": writer.get("WriterConfig")}))


def results_written(m: _Machine, frame: Frame, output: Any) -> None:
    """The ResultWriter wrote the results: the Map's result is `{MapRunArn, ResultWriterDetails}`."""
    run = frame["wait"]["run"]
    state = m.d.state(frame["block"], frame["state"])
    m.clear_task(frame)
    _map_succeeded(m, frame, state, run, output)


def redrive_map_run(m: _Machine, frame: Frame) -> bool:
    """RedriveExecution reaching a Distributed Map whose Map Run failed, or was aborted when the execution
    was stopped or timed out: the same run goes on with its unsuccessful children rerun (MapRunRedriven).
    One whose Map Run succeeded but whose ResultWriter failed (or was cut short) writes the results
    again, the run left as it is. False when the frame did not stop at such a run."""
    run = frame.pop("failed_run", None)
    unwritten = frame.pop("unwritten_run", None)
    wait = frame.get("wait") or {}
    if wait.get("kind") == "maprun":  # the execution ended while the run ran: the run was aborted
        run = dict(wait, state=frame["state"])
    elif wait.get("writer"):  # the execution ended while the results were being written
        unwritten = dict(wait["run"], state=frame["state"])
    if unwritten is not None and unwritten.get("state") == frame["state"]:
        frame["wait"] = None
        state = m.d.state(frame["block"], frame["state"])
        written = {k: v for k, v in unwritten.items() if k != "state"}
        m.guard(frame, lambda: _write_results(m, frame, state, written))
        return True
    if run is None or run.get("state") != frame["state"]:
        return False
    m.state["tasks"][run["task"]] = frame["id"]
    frame["wait"] = {k: v for k, v in run.items() if k != "state"}
    redrives = m.state["execution"].get("RedriveCount", 1)
    m.record(frame, "MapRunRedriven", {"mapRunArn": run["arn"], "redriveCount": redrives})
    m.commands.append(cmd.RedriveMapRun(run["task"], run["arn"]))
    return True


def map_run_ended(m: _Machine, frame: Frame, status: str, output: Any, error: str | None,
                  cause: str | None) -> None:
    """The Map Run a Distributed Map waits on ended (see `pinflow.asl.history` for the links)."""
    wait = frame["wait"]
    m.state["tasks"].pop(wait["task"], None)
    frame["wait"] = None
    state = m.d.state(frame["block"], frame["state"])
    if status == "SUCCEEDED":
        m.record(frame, "MapRunSucceeded", None)
        if "ResultWriter" in state:
            m.guard(frame, lambda: _write_results(m, frame, state, wait))
            return
        _map_succeeded(m, frame, state, wait, output)
        return
    # Kept so that a redrive of the execution redrives this Map Run (`redrive_map_run`).
    frame["failed_run"] = dict(wait, state=frame["state"])
    if status == "ABORTED":
        m.record(frame, "MapRunAborted", None)
    else:
        m.record(frame, "MapRunFailed", {k: v for k, v in (("error", error), ("cause", cause)) if v is not None})
    m.handle_error(frame, AslError(error or errors.EXCEED_TOLERATED_FAILURE_THRESHOLD, cause))


def _int_field(m: _Machine, state: State, key: str, scope: Scope) -> int | float | None:
    if key in state:
        return state[key]
    if f"{key}Path" not in state:
        return None
    text = state[f"{key}Path"]
    value = scope.resolve_text(text)
    if isinstance(value, str):
        # AWS parses numeric strings (as assigned variables often hold them).
        try:
            value = float(value) if "." in value else int(value)
        except ValueError:
            pass
    kind = "float" if key == "ToleratedFailurePercentage" else "integer"
    if not isinstance(value, int | float) or isinstance(value, bool) or (
            kind == "integer" and isinstance(value, float) and not value.is_integer()):
        shown = value if isinstance(value, str) else compact(value)
        raise AslError(errors.RUNTIME, f"The {key}Path field refers to value \"{shown}\" which is not a valid "
                       f"{kind}: {text}")
    return value


def _tolerated_jsonpath(m: _Machine, state: State, scope: Scope) -> dict[str, float] | None:
    tolerated: dict[str, float] = {}
    count = _int_field(m, state, "ToleratedFailureCount", scope)
    percentage = _int_field(m, state, "ToleratedFailurePercentage", scope)
    if count is not None:
        if count < 0:
            raise AslError(errors.RUNTIME, "ToleratedFailureCount cannot be negative.")
        tolerated["count"] = count
    if percentage is not None:
        if not 0 <= percentage <= 100:
            raise AslError(errors.RUNTIME, "ToleratedFailurePercentage must be between 0 and 100.")
        tolerated["percentage"] = percentage
    return tolerated or None


def _jsonata_number(m: _Machine, state: State, bindings: dict[str, Any], key: str,
                    kind: str = "integer") -> float | None:
    raw = state.get(key)
    if raw is None:
        return None
    value = m.jsonata_value(raw, bindings, key) if isinstance(raw, str) else raw
    whole = isinstance(value, float) and value.is_integer()
    if not isinstance(value, int | float) or isinstance(value, bool) or (
            kind == "integer" and isinstance(value, float) and not whole) or value < 0:
        raise m.type_error(raw, key, kind, value)
    return int(value) if kind == "integer" else value


def _tolerated_jsonata(m: _Machine, state: State, bindings: dict[str, Any]) -> dict[str, float] | None:
    tolerated: dict[str, float] = {}
    count = _jsonata_number(m, state, bindings, "ToleratedFailureCount")
    if count is not None:
        tolerated["count"] = count
    percentage = _jsonata_number(m, state, bindings, "ToleratedFailurePercentage", "number")
    if percentage is not None:
        if percentage > 100:
            raise AslError(errors.RUNTIME, "ToleratedFailurePercentage must be between 0 and 100.")
        tolerated["percentage"] = percentage
    return tolerated or None


def _batch_limit(m: _Machine, state: State, batcher: dict[str, Any], key: str, scope: Scope) -> int | None:
    """MaxItemsPerBatch or MaxInputBytesPerBatch: a literal, a JSONata expression or a `...Path`."""
    if key in batcher:
        raw = batcher[key]
        value = raw
        if isinstance(raw, str) and m.d.language(state) == JSONATA:
            value = m.jsonata_value(raw, m.bindings(scope), f"ItemBatcher/{key}")
    elif f"{key}Path" in batcher:
        raw = batcher[f"{key}Path"]
        value = scope.resolve_text(raw)
    else:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0 or (
            isinstance(value, float) and not value.is_integer()):
        raise AslError(errors.RUNTIME, f"The {key} field refers to value {compact(value)} which is not a valid "
                       "positive integer")
    return int(value)


def _batches(m: _Machine, state: State, inputs: list[Any], scope: Scope) -> list[Any]:
    batcher = state["ItemBatcher"]
    size = _batch_limit(m, state, batcher, "MaxItemsPerBatch", scope)
    max_bytes = _batch_limit(m, state, batcher, "MaxInputBytesPerBatch", scope)
    batch_input = batcher.get("BatchInput")
    if batch_input is not None:
        if m.d.language(state) == JSONATA:
            batch_input = m.jsonata_value(batch_input, m.bindings(scope), "ItemBatcher/BatchInput")
        elif isinstance(batch_input, dict):
            batch_input = m.template(batch_input).evaluate(scope)
    batches: list[list[Any]] = []
    current: list[Any] = []
    current_bytes = 0
    for item in inputs:
        item_bytes = len(compact(item).encode("utf-8", "surrogatepass"))
        full = (size and len(current) >= size) or (
            max_bytes and current and current_bytes + item_bytes > max_bytes)
        if full:
            batches.append(current)
            current, current_bytes = [], 0
        current.append(item)
        current_bytes += item_bytes
    if current:
        batches.append(current)
    out = []
    for batch in batches:
        entry: dict[str, Any] = {"Items": batch}
        if batch_input is not None:
            entry["BatchInput"] = batch_input
        out.append(entry)
    return out


def _children_wait(total: int, inputs: list[Any], *, max_concurrency: int, isolated: bool,
                   tolerated: dict[str, float] | None) -> dict[str, Any]:
    return {"kind": "children", "total": total, "inputs": inputs, "results": [None] * total,
            "done": [False] * total,
            "queue": list(range(total)), "running": 0, "children": {}, "failed": 0, "max": max_concurrency,
            "isolated": isolated, "tolerated": tolerated, "closed": False}


def launch_children(m: _Machine, frame: Frame, after: int | None = None) -> None:
    """Start queued branches or iterations up to MaxConcurrency; complete at once when none remain.

    The first children link to the state's MapStateStarted/ParallelStateStarted; a child started
    because another ended (MaxConcurrency) links to `after`, the last event of the one that ended,
    as AWS's histories do.
    """
    wait = frame["wait"]
    state = m.d.state(frame["block"], frame["state"])
    is_map = state["Type"] == "Map"
    previous = frame["last"] if after is None else after
    while wait["queue"] and (wait["max"] <= 0 or wait["running"] < wait["max"]):
        slot = wait["queue"].pop(0)
        child_id = m.new_id("f")
        block = frame["state"] if is_map else f"{frame['state']}/{slot}"
        child = m.new_frame(child_id, frame["id"], block, {}, isolated=wait["isolated"], slot=slot)
        child["last"] = previous
        wait["children"][child_id] = slot
        wait["running"] += 1
        if is_map:
            child["last"] = m.record(frame, "MapIterationStarted", {"name": frame["state"], "index": slot},
                                     previous=previous, advance=False)
        m.enter(child, m.d.start_at(block), wait["inputs"][slot])
    if wait["running"] == 0 and not wait["queue"]:
        _complete(m, frame, state)


def child_done(m: _Machine, parent: Frame, child: Frame, output: Any, exc: AslError | None) -> None:
    """A branch or iteration ended: keep its result, start the next one, or fail the state."""
    wait = parent.get("wait") or {}
    if wait.get("kind") != "children" or child["id"] not in wait["children"]:
        return
    slot = wait["children"].pop(child["id"])
    remove_frame(m, child)
    wait["running"] -= 1
    state = m.d.state(parent["block"], parent["state"])
    is_map = state["Type"] == "Map"
    # AWS links a MapIteration{Succeeded,Failed} to the last event of its iteration, and a Parallel's
    # next event to the last event of the branch that ended.
    last = child["last"]
    if exc is None:
        wait["results"][slot] = output
        wait["done"][slot] = True
        if is_map:
            m.record(parent, "MapIterationSucceeded", {"name": parent["state"], "index": slot}, previous=last)
        else:
            parent["last"] = last
    else:
        if is_map:
            m.record(parent, "MapIterationFailed", {"name": parent["state"], "index": slot}, previous=last)
        else:
            parent["last"] = last
        wait["failed"] += 1
        tolerated = wait["tolerated"]
        if is_map and tolerated is not None and not _exceeded(wait, tolerated):
            wait["results"][slot] = exc.as_output()
            wait["done"][slot] = True
        else:
            if is_map and tolerated is not None:
                exc = AslError(errors.EXCEED_TOLERATED_FAILURE_THRESHOLD,
                               "The specified tolerated failure threshold was exceeded")
            abort_children(m, parent, wait, is_map)
            wait["closed"] = True
            parent["last"] = last
            m.handle_error(parent, exc)
            return
    launch_children(m, parent, last)


def _exceeded(wait: dict[str, Any], tolerated: dict[str, float]) -> bool:
    failed, total = wait["failed"], max(wait["total"], 1)
    over_count = "count" in tolerated and failed > tolerated["count"]
    over_percentage = "percentage" in tolerated and failed * 100.0 / total > tolerated["percentage"]
    return bool(over_count or over_percentage)


def _complete(m: _Machine, frame: Frame, state: State) -> None:
    wait = frame["wait"]
    if wait.get("closed"):
        return
    wait["closed"] = True
    # AWS's XStateExited links to the event before XStateSucceeded, as XStateSucceeded does.
    m.record(frame, "MapStateSucceeded" if state["Type"] == "Map" else "ParallelStateSucceeded", None,
             advance=False)
    results = wait["results"]
    frame["wait"] = None
    m.guard(frame, lambda: m.finish_result(frame, state, results), state_failed=False)


def abort_children(m: _Machine, parent: Frame, wait: dict[str, Any], is_map: bool) -> None:
    for child_id, slot in list(wait["children"].items()):
        child = m.state["frames"].get(child_id)
        if child is not None:
            remove_frame(m, child)
        if is_map:
            m.record(parent, "MapIterationAborted", {"name": parent["state"], "index": slot})
    wait["children"].clear()
    wait["running"] = 0


def remove_frame(m: _Machine, frame: Frame) -> None:
    """Drop a frame and everything under it, cancelling what they wait on."""
    if m.state["frames"].pop(frame["id"], None) is not None:
        m.drop_variables(frame)
    wait = frame.get("wait") or {}
    if wait.get("kind") == "task":
        m.state["tasks"].pop(wait["task"], None)
        m.commands.append(cmd.CancelTask(wait["task"]))
        for timer_id in wait.get("timers", ()):
            m.cancel_timer(timer_id)
    elif wait.get("kind") == "maprun":
        m.state["tasks"].pop(wait["task"], None)
        m.commands.append(cmd.CancelTask(wait["task"]))
    elif wait.get("timer"):
        m.cancel_timer(wait["timer"])
    elif wait.get("kind") == "children":
        for child_id in list(wait["children"]):
            child = m.state["frames"].get(child_id)
            if child is not None:
                remove_frame(m, child)
