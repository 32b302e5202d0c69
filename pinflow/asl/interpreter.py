"""The decider: `step(definition, state, event) -> Step(state, commands, history)`.

An execution's state is a JSON-serialisable dict holding a tree of *frames*: the top level, each
Parallel branch and each Map iteration, each at one state with its input and variables. An event
resumes the frame it belongs to; frames then run until each is blocked on a task, a timer or its
children, or has ended. Nothing here performs I/O or reads a clock: time comes from the event, and
randomness from the seed kept in the state.
"""

from __future__ import annotations

import json
import random
from collections import ChainMap, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pinflow.asl import commands as cmd
from pinflow.asl import dataflow, errors, events, history, retry, testing, timestamps
from pinflow.asl.definition import JSONATA, Definition, parse
from pinflow.asl.errors import AslError
from pinflow.asl.scope import Scope, compact

SCHEMA_VERSION = 1
HISTORY_LIMIT = 25_000  # events in one execution's history (AWS's hard quota)
EXPRESS_SECONDS = 300  # an Express execution's longest run

RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED = "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"
TERMINAL = frozenset({SUCCEEDED, FAILED, TIMED_OUT, ABORTED})
ROOT = "root"
# A tuple rather than a union: `isinstance` checks one at half the cost, and every task event is checked.
_TASK_EVENTS = (events.TaskSucceeded, events.TaskFailed, events.TaskStarted, events.TaskSubmitted)


@dataclass(slots=True)
class Step:
    """What one event did: the new execution state, the commands to carry out, the history added."""

    state: dict[str, Any]
    commands: list[cmd.Command] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    test: testing.Outcome | None = None  # TestState's report of this step (only when testing)

    @property
    def status(self) -> str:
        return self.state["status"]


def step(definition: Definition | dict[str, Any] | str, state: dict[str, Any] | None,
         event: events.Event, *, test: testing.Options | None = None) -> Step:
    """Apply one event to an execution.

    Args:
        definition: the definition the execution runs on (pass the parsed `Definition` on hot paths).
        state: the execution state from the previous step, or None for a `Start` event. The dict is
            taken over by this call: use the returned state afterwards, never the one passed in.
        event: what happened.
        test: TestState's options, given with every step of a tested state: the execution then
            runs that one state and ends, and `Step.test` reports TestState's outcome.

    Returns:
        The new state, the commands to carry out and the history events to append. An event for a
        task or timer that is no longer pending changes nothing (drivers may deliver twice).
    """
    machine = _Machine(parse(definition), state, event.at, test)
    machine.apply(event)
    return Step(machine.state, machine.commands, machine.history, machine.outcome)


class _Machine(dataflow.DataFlow):
    """One step's worth of work on an execution state (how its states' fields are evaluated is in
    `dataflow`)."""

    def __init__(self, definition: Definition, state: dict[str, Any] | None, at: float,
                 test: testing.Options | None = None) -> None:
        self.d = definition
        self.test = test
        self.outcome = testing.Outcome() if test is not None else None
        self.state: dict[str, Any] = state if state is not None else {}
        self.at = at
        self.commands: list[cmd.Command] = []
        self.history: list[dict[str, Any]] = []
        self.queue: deque[tuple[dict[str, Any], str, Any]] = deque()
        # The step's memo, one dict for what is worked out once per step: timestamps by time (float
        # keys), context objects by (frame, state, attempt), and by frame id the previousEventId of the
        # StateEntered the frame recorded in this step (str keys).
        self.memo: dict[Any, Any] = {}

    # --- events ---------------------------------------------------------------------------------

    def apply(self, event: events.Event) -> None:
        if isinstance(event, events.Start):
            try:
                self.start(event)
            except Exception as exc:  # noqa: BLE001 - see crash()
                self.crash(exc)
            return
        if self.state.get("schema") != SCHEMA_VERSION:
            raise ValueError(f"unsupported execution state schema {self.state.get('schema')!r}")
        if isinstance(event, events.Redrive):
            self.redrive()
            return
        if self.state["status"] != RUNNING:
            return
        try:
            if isinstance(event, _TASK_EVENTS):
                self.on_task(event)
            elif isinstance(event, events.TimerFired):
                self.on_timer(event.timer_id)
            elif isinstance(event, events.MapRunEnded):
                self.on_map_run(event)
            elif isinstance(event, events.StopRequested):
                self.finish(ABORTED, "ExecutionAborted", {"error": event.error, "cause": event.cause},
                            error=event.error, cause=event.cause)
        except Exception as exc:  # noqa: BLE001 - a defect here must end the execution, not the driver
            self.crash(exc)

    def crash(self, exc: Exception) -> None:
        """Fail the execution on an unexpected error inside the interpreter (a defect), with its
        history intact, so no driver ever sees a Python exception from `step`."""
        if self.state.get("status") == RUNNING:
            cause = f"An internal error occurred: {type(exc).__name__}: {exc}"
            self.finish(FAILED, "ExecutionFailed", {"error": errors.RUNTIME, "cause": cause},
                        error=errors.RUNTIME, cause=cause)

    def start(self, event: events.Start) -> None:
        execution = dict(event.execution)
        if "StartTime" not in execution:
            # Through the step's memo: the first state's EnteredTime is the same moment.
            execution["StartTime"] = self.iso(event.at)
        execution["Input"] = event.input
        if event.type != "EXPRESS":  # AWS's Express context object has no RedriveCount (no redrive)
            execution.setdefault("RedriveCount", 0)
        self.state.update({
            "schema": SCHEMA_VERSION, "status": RUNNING, "type": event.type, "seed": event.seed,
            "draws": 0, "counter": 0, "last_id": 0, "execution": execution,
            "state_machine": dict(event.state_machine), "frames": {}, "tasks": {}, "timers": {},
            "invocations": {}, "output": None, "error": None, "cause": None, "var_bytes": 0,
        })
        details: dict[str, Any] = {"input": event.input, "inputDetails": {"truncated": False}}
        for key, member in (("RoleArn", "roleArn"), ("StateMachineVersionArn", "stateMachineVersionArn"),
                            ("StateMachineAliasArn", "stateMachineAliasArn")):
            if execution.get(key):
                details[member] = execution[key]
        self.record(None, "ExecutionStarted", details)
        timeout = self.d.timeout_seconds
        if event.type == "EXPRESS":
            timeout = min(timeout or EXPRESS_SECONDS, EXPRESS_SECONDS)
        if timeout:
            self.start_timer(None, cmd.EXECUTION_TIMEOUT_TIMER, self.at + timeout, "execution")
        test = self.test
        # TestState may run any state of a machine, one inside a Map or a Parallel too.
        block = self.d.block_of.get(test.state_name, "") if test else ""
        frame = self.new_frame(ROOT, None, block, dict(test.variables) if test else {}, isolated=False, slot=0)
        # AWS links the first state's StateEntered to no event (previousEventId 0).
        self.enter(frame, test.state_name if test else self.d.start_at(""), event.input)
        self.run_ready()

    def on_task(self, event: events.TaskSucceeded | events.TaskFailed | events.TaskStarted
                | events.TaskSubmitted) -> None:
        frame_id = self.state["tasks"].get(event.task_id)
        frame = self.state["frames"].get(frame_id) if frame_id else None
        if frame is None or (frame.get("wait") or {}).get("task") != event.task_id:
            return  # late or repeated delivery
        wait = frame["wait"]
        kind = wait["events"]
        if wait.get("writer"):
            if isinstance(event, events.TaskSucceeded):
                _tasks.results_written(self, frame, event.output)
                self.run_ready()
            elif isinstance(event, events.TaskFailed):
                # Kept so that a redrive of the execution writes the results again (`redrive_map_run`).
                frame["unwritten_run"] = dict(wait["run"], state=frame["state"])
                self.clear_task(frame)
                cause = f"{event.error}: {event.cause}" if event.cause else event.error
                self.handle_error(frame, AslError(errors.RESULT_WRITER_FAILED, cause))
                self.run_ready()
            return
        if wait.get("reader"):
            # A Map's ItemReader: no history of its own; the Map goes on, or fails with
            # States.ItemReaderFailed.
            if isinstance(event, events.TaskSucceeded | events.TaskFailed):
                self.clear_task(frame)
                if isinstance(event, events.TaskSucceeded):
                    _tasks.items_read(self, frame, event.output)
                else:
                    cause = f"{event.error}: {event.cause}" if event.cause else event.error
                    self.handle_error(frame, AslError(errors.ITEM_READER_FAILED, cause))
                self.run_ready()
            return
        if isinstance(event, events.TaskStarted):
            if not wait.get("started"):
                wait["started"] = True
                self.record(frame, f"{kind}Started", {"workerName": event.worker_name} if event.worker_name
                            else ({} if kind == "Activity" else None) if kind != "Task" else
                            {"resourceType": wait["resource_type"], "resource": wait["resource_name"]})
            return
        if isinstance(event, events.TaskSubmitted):
            _tasks.task_submitted(self, frame, event.output)
            return
        self.clear_task(frame)
        if isinstance(event, events.TaskSucceeded):
            details = {"output": event.output, "outputDetails": {"truncated": False}}
            if kind == "Task":
                details.update(resourceType=wait["resource_type"], resource=wait["resource_name"])
            self.record(frame, f"{kind}Succeeded", details)
            self.guard(frame, lambda: self.task_succeeded(frame, event.output))
        else:
            details = {"error": event.error, "cause": event.cause}
            if kind == "Task":
                details.update(resourceType=wait["resource_type"], resource=wait["resource_name"])
            self.record(frame, f"{kind}Failed", details)
            self.handle_error(frame, AslError(event.error, event.cause))
        self.run_ready()

    def on_map_run(self, event: events.MapRunEnded) -> None:
        frame_id = self.state["tasks"].get(event.run_id)
        frame = self.state["frames"].get(frame_id) if frame_id else None
        if frame is None or (frame.get("wait") or {}).get("task") != event.run_id:
            return  # late or repeated delivery
        _tasks.map_run_ended(self, frame, event.status, event.output, event.error, event.cause)
        self.run_ready()

    def on_timer(self, timer_id: str) -> None:
        timer = self.state["timers"].pop(timer_id, None)
        if timer is None:
            return
        if timer["kind"] == "execution":
            self.finish(TIMED_OUT, "ExecutionTimedOut",
                        {"error": errors.TIMEOUT, "cause": "The execution timed out."},
                        error=errors.TIMEOUT, cause="The execution timed out.")
            return
        frame = self.state["frames"].get(timer["frame"])
        if frame is None:
            return
        wait = frame.get("wait") or {}
        if timer["kind"] == "wait" and wait.get("timer") == timer_id:
            frame["wait"] = None
            self.exit(frame, frame["pending_output"], frame.pop("pending_next"))
        elif timer["kind"] == "retry" and wait.get("timer") == timer_id:
            frame["wait"] = None
            self.execute(frame)
        elif timer["kind"] in ("timeout", "heartbeat") and wait.get("task") == timer["task"]:
            kind = wait["events"]
            heartbeat = timer["kind"] == "heartbeat"
            error = errors.HEARTBEAT_TIMEOUT if heartbeat else errors.TIMEOUT
            self.commands.append(cmd.CancelTask(wait["task"]))
            self.clear_task(frame)
            details: dict[str, Any] = {"error": error, "cause": None}
            if kind == "Task":
                details.update(resourceType=wait["resource_type"], resource=wait["resource_name"])
            self.record(frame, f"{kind}TimedOut", details)
            self.handle_error(frame, AslError(error, None))
        self.run_ready()

    def redrive(self) -> None:
        if self.state["status"] not in (FAILED, TIMED_OUT, ABORTED):
            return
        execution = self.state["execution"]
        execution["RedriveCount"] = execution.get("RedriveCount", 0) + 1
        execution["RedriveTime"] = timestamps.format(self.at)
        self.state.update(status=RUNNING, error=None, cause=None, output=None)
        self.record(None, "ExecutionRedriven", {"redriveCount": execution["RedriveCount"]})
        if self.d.timeout_seconds:
            self.start_timer(None, cmd.EXECUTION_TIMEOUT_TIMER, self.at + self.d.timeout_seconds, "execution")
        root = self.state["frames"][ROOT]
        self.resume_failed(root)
        self.run_ready()

    def resume_failed(self, frame: dict[str, Any]) -> None:
        """Re-run a frame from the state where it stopped; Map and Parallel rerun only unfinished children."""
        frame["retries"] = {}
        frame["retry_count"] = 0
        wait = frame.get("wait")
        if wait and wait.get("kind") == "children" and not wait.get("data_limit"):
            wait["failed"] = 0
            wait["closed"] = False
            wait["queue"] = [slot for slot in range(wait["total"]) if not wait["done"][slot]]
            wait["running"] = 0
            self.launch_children(frame)
            return
        if _tasks.redrive_map_run(self, frame):
            return
        frame["wait"] = None
        self.enter(frame, frame["state"], frame["input"])

    # --- frames ---------------------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        self.state["counter"] += 1
        return f"{prefix}{self.state['counter']}"

    def new_frame(self, frame_id: str, parent: str | None, block: str, vars: dict[str, Any], *,
                  isolated: bool, slot: int) -> dict[str, Any]:
        frame: dict[str, Any] = {
            "id": frame_id, "parent": parent, "block": block, "state": None, "input": None, "vars": vars,
            "isolated": isolated, "slot": slot, "retries": {}, "retry_count": 0, "wait": None,
            "last": 0, "entered_id": 0, "entered_at": self.at,
        }
        self.state["frames"][frame_id] = frame
        return frame

    def variables(self, frame: dict[str, Any]) -> Mapping[str, Any]:
        """The variables a frame can read: its own scope, then the enclosing ones."""
        if frame["parent"] is None or frame["isolated"]:
            return frame["vars"]  # the top level, or a distributed Map's iteration: no enclosing scope
        scopes = [frame["vars"]]
        while frame["parent"] is not None and not frame["isolated"]:
            frame = self.state["frames"][frame["parent"]]
            scopes.append(frame["vars"])
        return scopes[0] if len(scopes) == 1 else ChainMap(*scopes)

    def rng(self) -> random.Random:
        """A generator for one draw, seeded from the execution's seed and a counter."""
        self.state["draws"] += 1
        return random.Random(f"{self.state['seed']}/{self.state['draws']}")

    def lazy_rng(self) -> random.Random:
        """A generator made (and counted as a draw) only if something draws from it: most
        expressions never do, and seeding costs more than evaluating a simple one."""
        return _OnDemandRandom(self.rng)  # type: ignore[return-value]

    def iso(self, seconds: float) -> str:
        """`timestamps.format`, memoised for the step (many states share an entry time)."""
        text: str | None = self.memo.get(seconds)
        if text is None:
            text = self.memo[seconds] = timestamps.format(seconds)
        return text

    def scope(self, frame: dict[str, Any], input: Any) -> Scope:
        name = frame["state"]

        def context() -> dict[str, Any]:
            if self.test is not None and self.test.context is not None:
                # TestState's context stands for the whole context object (AWS's recordings: an empty
                # one gives an empty `$$`); a copy, so an expression never changes the given one.
                given: dict[str, Any] = json.loads(json.dumps(self.test.context))
                return given
            # One context object per state entered and attempt, for the step: a JSONata state reads
            # it for every field it evaluates. Values are never changed in place, so sharing is safe.
            key = (frame["id"], name, frame["retry_count"])
            built: dict[str, Any] | None = self.memo.get(key)
            if built is None:
                state: dict[str, Any] = {"EnteredTime": self.iso(frame["entered_at"]), "Name": name}
                if self.d.type_of.get(name) == "Task":
                    state["RetryCount"] = frame["retry_count"]  # AWS has it in Task states only
                built = self.memo[key] = {
                    "Execution": self.state["execution"],
                    "State": state,
                    "StateMachine": self.state["state_machine"],
                }
            return built

        return Scope(input, context, self.variables(frame), self.rng, self.at, name)

    def record(self, frame: dict[str, Any] | None, type: str, details: dict[str, Any] | None, *,
               previous: int | None = None, advance: bool = True) -> int:
        """Append a history event; returns its id.

        The event links (previousEventId) to `previous` when given, else to the frame's last event
        (the event before it in the history for events of no frame). With `advance`, it becomes
        the frame's last event. `pinflow.asl.history` states AWS's linking rules that callers apply.
        """
        event_id: int = self.state["last_id"] + 1
        self.state["last_id"] = event_id
        if previous is None:
            previous = frame["last"] if frame is not None else event_id - 1
        self.history.append(history.make(event_id, previous, self.at, type, details))
        if frame is not None and advance:
            frame["last"] = event_id
        return event_id

    def start_timer(self, frame: dict[str, Any] | None, timer_id: str, due: float, kind: str,
                    task: str | None = None) -> None:
        self.state["timers"][timer_id] = {"frame": frame["id"] if frame else None, "kind": kind, "task": task}
        self.commands.append(cmd.StartTimer(timer_id, due))

    def cancel_timer(self, timer_id: str) -> None:
        if self.state["timers"].pop(timer_id, None) is not None:
            self.commands.append(cmd.CancelTimer(timer_id))

    def clear_task(self, frame: dict[str, Any]) -> None:
        wait = frame["wait"]
        self.state["tasks"].pop(wait["task"], None)
        for timer_id in wait.get("timers", ()):
            self.cancel_timer(timer_id)
        frame["wait"] = None

    def run_ready(self) -> None:
        """Enter queued states until every frame is blocked or ended.

        Transitions go through this queue rather than nested calls, so a long loop of states, or a
        Map of many iterations, never deepens the Python stack.
        """
        queue = self.queue
        frames = self.state["frames"]
        while queue and self.state["status"] == RUNNING:
            if self.state["last_id"] >= HISTORY_LIMIT:
                # AWS's hard quota on a Standard execution's history: a runaway loop ends here.
                cause = f"The execution reached the maximum number of history events ({HISTORY_LIMIT})."
                self.finish(FAILED, "ExecutionFailed", {"error": errors.RUNTIME, "cause": cause},
                            error=errors.RUNTIME, cause=cause)
                return
            frame, name, input = queue.popleft()
            if frames.get(frame["id"]) is frame:
                self.enter_now(frame, name, input)

    def task_succeeded(self, frame: dict[str, Any], output: Any) -> None:
        _tasks.task_succeeded(self, frame, output)

    def launch_children(self, frame: dict[str, Any]) -> None:
        _tasks.launch_children(self, frame)

    def child_done(self, parent: dict[str, Any], child: dict[str, Any], output: Any,
                   exc: AslError | None) -> None:
        _tasks.child_done(self, parent, child, output, exc)

    def guard(self, frame: dict[str, Any], action: Any, *, state_failed: bool = True) -> None:
        """Run `action`, turning an AslError into the state's error handling (see handle_error)."""
        try:
            action()
        except AslError as exc:
            self.handle_error(frame, exc, state_failed=state_failed)

    # --- entering and leaving states -------------------------------------------------------------

    def enter(self, frame: dict[str, Any], name: str, input: Any) -> None:
        """Queue entering state `name` with `input` (see run_ready)."""
        self.queue.append((frame, name, input))

    def enter_now(self, frame: dict[str, Any], name: str, input: Any) -> None:
        state = self.d.state(frame["block"], name)
        frame["state"] = name
        frame["input"] = input
        frame["entered_at"] = self.at
        if frame["retries"]:
            frame["retries"] = {}
        frame["retry_count"] = 0
        frame["wait"] = None
        frame.pop("failed_run", None)
        frame.pop("unwritten_run", None)
        self.memo[frame["id"]] = frame["last"]  # for an EvaluationFailed met while entering
        frame["entered_id"] = self.record(frame, _ENTERED[state["Type"]],
                                          {"name": name, "input": input, "inputDetails": {"truncated": False}})
        self.execute(frame, state)

    def execute(self, frame: dict[str, Any], state: dict[str, Any] | None = None) -> None:
        if state is None:
            state = self.d.state(frame["block"], frame["state"])
        handler = _HANDLERS[state["Type"]]
        try:
            handler(self, frame, state)
        except AslError as exc:
            if exc.error in (errors.RUNTIME, errors.QUERY_EVALUATION_ERROR):
                self.locate(frame)
                exc = AslError(exc.error, self.located(exc.cause, None), exc.location)
            self.handle_error(frame, exc)

    def exit(self, frame: dict[str, Any], output: Any, next_name: str | None,
             assigned: dict[str, Any] | None = None) -> None:
        state = self.d.state(frame["block"], frame["state"])
        try:
            if output is not frame["input"]:  # the input was checked when it was an output
                self.check_size(frame, output)
        except AslError as exc:
            self.fail_frame(frame, exc.error, exc.cause)
            return
        details: dict[str, Any] = {"name": frame["state"], "output": output, "outputDetails": {"truncated": False}}
        if assigned:
            details["assignedVariables"] = {k: compact(v) for k, v in assigned.items()}
            details["assignedVariablesDetails"] = {"truncated": False}
        if state["Type"] != "Fail":
            self.record(frame, _EXITED[state["Type"]], details)
        if self.outcome is not None:
            self.outcome.next_state = next_name
            self.frame_succeeded(frame, output)
        elif next_name is not None:
            self.enter(frame, next_name, output)
        else:
            self.frame_succeeded(frame, output)

    # --- ending frames ----------------------------------------------------------------------------

    def frame_succeeded(self, frame: dict[str, Any], output: Any) -> None:
        if frame["parent"] is None:
            self.finish(SUCCEEDED, "ExecutionSucceeded", {"output": output, "outputDetails": {"truncated": False}},
                        output=output)
            return
        parent = self.state["frames"][frame["parent"]]
        self.child_done(parent, frame, output, None)

    def fail_frame(self, frame: dict[str, Any], error: str, cause: str | None) -> None:
        if frame["parent"] is None:
            self.finish(FAILED, "ExecutionFailed", {"error": error, "cause": cause}, error=error, cause=cause)
            return
        parent = self.state["frames"][frame["parent"]]
        self.child_done(parent, frame, None, AslError(error, cause))

    def finish(self, status: str, type: str, details: dict[str, Any], *, output: Any = None,
               error: str | None = None, cause: str | None = None) -> None:
        for task_id in list(self.state["tasks"]):
            self.commands.append(cmd.CancelTask(task_id))
        self.state["tasks"].clear()
        for timer_id in list(self.state["timers"]):
            self.cancel_timer(timer_id)
        # Branches and iterations still running end with the execution; a Map or Parallel keeps
        # which of its children finished, so a redrive reruns only the others.
        frames = self.state["frames"]
        if len(frames) > 1:  # not only the top level's
            for frame_id in [f for f in frames if f != ROOT]:
                parent = frames[frame_id]["parent"]
                if parent in frames and parent != frame_id:
                    wait = frames[parent].get("wait") or {}
                    if wait.get("kind") == "children":
                        wait["children"].pop(frame_id, None)
                        wait["running"] = 0
            for frame_id in [f for f in frames if f != ROOT]:
                self.drop_variables(frames.pop(frame_id))
        root = self.state["frames"].get(ROOT)
        # An error or cause that is not there is left out; an output of null is sent ("null").
        if None in details.values():
            details = {k: v for k, v in details.items() if v is not None or k == "output"}
        self.record(root, type, details)
        self.state.update(status=status, output=output, error=error, cause=cause)

    # --- errors -------------------------------------------------------------------------------

    def handle_error(self, frame: dict[str, Any], exc: AslError, *, state_failed: bool = True) -> None:
        """Retry, catch, or fail the frame, as the state's Retry and Catch say.

        A Map or Parallel that is not retried records MapStateFailed/ParallelStateFailed first
        (AWS does, for the errors a Catch could handle), unless `state_failed` is False: its
        XStateSucceeded is already recorded and the error came from processing its result.
        """
        if self.state["status"] != RUNNING:
            return
        state = self.d.state(frame["block"], frame["state"])
        if exc.error == errors.QUERY_EVALUATION_ERROR:
            details = {"error": exc.error, "cause": exc.cause, "state": frame["state"]}
            if exc.location:
                details["location"] = exc.location
            # Linked by when AWS evaluates the field (see `history`): while entering the state, to the
            # event before its StateEntered; in a later step, to the state's last event.
            entering = frame["last"] == frame["entered_id"] and not history.evaluated_after_entered(
                state["Type"], exc.location)
            self.record(frame, "EvaluationFailed", details,
                        previous=self.memo.get(frame["id"]) if entering else None)
        if state["Type"] in ("Task", "Parallel", "Map"):
            index = retry.find(state.get("Retry"), exc.error)
            if index is not None:
                retrier = state["Retry"][index]
                attempts = frame["retries"].get(str(index), 0)
                if attempts < retry.max_attempts(retrier):
                    frame["retries"][str(index)] = attempts + 1
                    frame["retry_count"] += 1
                    seconds = retry.delay(retrier, attempts, self.rng())
                    timer_id = self.new_id("r")
                    frame["wait"] = {"kind": "retry", "timer": timer_id}
                    if self.outcome is not None:
                        self.outcome.status = testing.RETRIABLE
                        self.fail_frame(frame, exc.error, exc.cause)
                        return
                    self.start_timer(frame, timer_id, self.at + seconds, "retry")
                    return
        if state_failed and state["Type"] in ("Parallel", "Map") and exc.error not in errors.UNCATCHABLE:
            self.record(frame, f"{state['Type']}StateFailed", None)
        if state["Type"] in ("Task", "Parallel", "Map"):
            index = retry.find(state.get("Catch"), exc.error)
            if index is not None:
                self.catch(frame, state, state["Catch"][index], exc)
                return
        self.fail_frame(frame, exc.error, exc.cause)

    def catch(self, frame: dict[str, Any], state: dict[str, Any], catcher: dict[str, Any],
              exc: AslError) -> None:
        error_output = exc.as_output()
        scope = self.scope(frame, frame["input"])
        try:
            if self.d.language(state) == JSONATA:
                bindings = self.bindings(scope, errorOutput=error_output)
                output = self.jsonata_field(catcher, "Output", bindings, default=error_output)
                assigned = self.jsonata_assign(catcher, bindings)
            else:
                assigned = self.jsonpath_assign(catcher, scope.with_input(error_output))
                output = self.apply_result_path(catcher, frame["input"], error_output)
            self.assign(frame, assigned)
        except AslError as inner:
            self.fail_frame(frame, inner.error, inner.cause)
            return
        if self.outcome is not None:
            self.outcome.status = testing.CAUGHT_ERROR
            self.outcome.error = exc.as_output()
        self.exit(frame, output, catcher["Next"], assigned)


class _OnDemandRandom:
    """Stands in for a random.Random, creating it on first use."""

    __slots__ = ("_make", "_rng")

    def __init__(self, make: Any) -> None:
        self._make = make
        self._rng: random.Random | None = None

    def __getattr__(self, name: str) -> Any:
        if self._rng is None:
            self._rng = self._make()
        return getattr(self._rng, name)


# --- state handlers ------------------------------------------------------------------------------


_KINDS = ("Pass", "Succeed", "Fail", "Choice", "Wait", "Task", "Parallel", "Map")

# The state-type dispatch: every state type and the one function that runs it. It lives here, and
# only here; the handlers build on _Machine, so they are imported after it.
from pinflow.asl import states as _states  # noqa: E402
from pinflow.asl import tasks as _tasks  # noqa: E402

_ENTERED = {kind: f"{kind}StateEntered" for kind in _KINDS}
_EXITED = {kind: f"{kind}StateExited" for kind in _KINDS}

_HANDLERS = {
    "Pass": _states.pass_state,
    "Succeed": _states.succeed,
    "Fail": _states.fail,
    "Choice": _states.choice,
    "Wait": _states.wait,
    "Task": _tasks.task,
    "Parallel": _tasks.parallel,
    "Map": _tasks.map_state,
}
