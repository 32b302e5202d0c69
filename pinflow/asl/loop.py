"""The in-memory command loop: `run`, `test_state` and Express executions all run through it.

The loop steps the interpreter, hands each step's commands to itself as a `commands.Carrier` (through
`commands.carry_out`, which holds the rule for tasks cancelled in the same step), and feeds what came
of them back as events: task outcomes first, then timers in due order. Tasks run through the `invoke`
callable the driver gives, synchronously; timers wait on the driver's clock (or on none: a virtual
clock jumps to each timer's due time).
"""

from __future__ import annotations

import dataclasses
import heapq
import json
import random
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pinflow.asl import commands as cmd
from pinflow.asl import events, interpreter, maprun, testing
from pinflow.asl.definition import Definition

# Carries out one InvokeTask at the given time: its outcome as an event, or None when the outcome
# cannot come back inside the loop (a callback task).
Invoke = Callable[[cmd.InvokeTask, float], "events.Event | None"]


@dataclass(slots=True)
class Finished:
    """Where a loop stopped: the execution state, its whole history and TestState's outcome."""

    state: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    test: testing.Outcome | None = None


class Loop:
    """One in-memory execution. Implements `commands.Carrier` for its own steps.

    Args:
        definition: the parsed definition.
        invoke: carries out a task (see `Invoke`).
        wait_until: called with a timer's due time before it fires; None for a virtual clock.
        test: TestState's options, handed to every step.
    """

    def __init__(self, definition: Definition, invoke: Invoke, *, wait_until: Callable[[float], None] | None = None,
                 test: testing.Options | None = None) -> None:
        self.definition = definition
        self._invoke = invoke
        self._wait_until = wait_until
        self._test = test
        self._timers: list[tuple[float, int, str]] = []
        self._due: dict[str, float] = {}
        self._inbox: deque[events.Event] = deque()
        self._sequence = 0
        self._now = 0.0
        # The children of Map Runs whose results a ResultWriter writes, by Map Run ARN: in memory they
        # are nowhere else, so the writer's InvokeTask carries them (`writer["Children"]`).
        self._written: dict[str, list[dict[str, Any]]] = {}

    def run(self, start: events.Start, max_events: int = 1_000_000) -> Finished:
        """Run from `start` until the execution ends, `max_events` events were applied, or it waits
        on something nothing in the loop will deliver (its status then stays RUNNING)."""
        test = self._test
        outcome = testing.Outcome() if test is not None else None
        history: list[dict[str, Any]] = []
        state: dict[str, Any] | None = None
        event: events.Event | None = start
        self._now = start.at
        for _ in range(max_events):
            if event is None:
                break
            step = interpreter.step(self.definition, state, event, test=test)
            state = step.state
            history += step.history
            if outcome is not None:
                outcome.merge(step.test)
            if state["status"] != interpreter.RUNNING:
                break
            if step.commands:
                cmd.carry_out(step.commands, self)
            event = self._next_event()
            if event is not None:
                self._now = event.at
        assert state is not None
        return Finished(state, history, outcome)

    # --- commands.Carrier -----------------------------------------------------------------------------

    def invoke(self, command: cmd.InvokeTask) -> None:
        if command.pattern == "result_writer" and command.writer is not None:
            children = self._written.pop(str(command.writer.get("MapRunArn")), None)
            if children is not None:
                command = dataclasses.replace(command, writer={**command.writer, "Children": children})
        outcome = self._invoke(command, self._now)
        if outcome is not None:
            self._inbox.append(outcome)

    def start_timer(self, command: cmd.StartTimer) -> None:
        self._sequence += 1
        self._due[command.timer_id] = command.due_at
        heapq.heappush(self._timers, (command.due_at, self._sequence, command.timer_id))

    def cancel_timer(self, command: cmd.CancelTimer) -> None:
        self._due.pop(command.timer_id, None)

    def cancel_task(self, command: cmd.CancelTask) -> None:
        pass  # tasks run synchronously: a task still pending has no outcome left to stop

    def redrive_map_run(self, command: cmd.RedriveMapRun) -> None:
        pass  # in memory an execution is never redriven

    def start_map_run(self, command: cmd.StartMapRun) -> None:
        """Run a Map Run's children one after another, each an execution of its own in a loop of its
        own (sharing this one's tasks and clock), until they are done or their failures go over the
        thresholds; then deliver MapRunEnded."""
        key = ("maprun", command.block)
        child = self.definition.cache.get(key)
        if child is None:
            child = self.definition.cache[key] = Definition(maprun.child_definition(self.definition, command.block))
        tally = maprun.Tally(len(command.items))
        outputs: list[Any] = []
        machine = {"Id": maprun.run_machine_arn(command.map_run_arn),
                   "Name": maprun.run_machine_arn(command.map_run_arn).rpartition(":")[2]}
        now = self._now
        written: list[dict[str, Any]] | None = [] if command.writes_results else None
        for index, item in enumerate(command.items):
            draw = random.Random(f"{command.map_run_arn}/{index}").getrandbits(128)
            name = str(uuid.UUID(int=draw, version=4))
            execution = {"Id": maprun.child_execution_arn(command.map_run_arn, name), "Name": name}
            start = events.Start(input=item, at=now, execution=execution, state_machine=machine, seed=draw >> 65,
                                 type=command.execution_type)
            runner = Loop(child, self._invoke, wait_until=self._wait_until)
            started_at = now
            finished = runner.run(start)
            now = max(now, runner._now)
            state = finished.state
            if written is not None:
                written.append(_child_record(execution["Id"], item, state, started_at, now))
            tally.started += 1
            tally.ended(state["status"])
            if state["status"] == interpreter.SUCCEEDED:
                outputs.append(state.get("output"))
            else:
                outputs.append(maprun.error_output(state.get("error"), state.get("cause")))
            if tally.over(command.tolerated):
                error, cause = maprun.failure()
                self._inbox.append(events.MapRunEnded(command.run_id, "FAILED", now, error=error, cause=cause))
                return
        if written is not None:
            self._written[command.map_run_arn] = written
            outputs = []
        self._inbox.append(events.MapRunEnded(command.run_id, "SUCCEEDED", now, outputs))

    # --- events ------------------------------------------------------------------------------------------

    def _next_event(self) -> events.Event | None:
        if self._inbox:
            return self._inbox.popleft()
        while self._timers:
            due, _, timer_id = heapq.heappop(self._timers)
            if self._due.get(timer_id) != due:
                continue  # cancelled or re-armed
            del self._due[timer_id]
            if self._wait_until is not None:
                self._wait_until(due)
            return events.TimerFired(timer_id, due)
        return None


def _child_record(arn: str, item: Any, state: dict[str, Any], started_at: float, stopped_at: float) -> dict[str, Any]:
    """A child run in memory, as a ResultWriter reads a child execution's row."""
    succeeded = state["status"] == interpreter.SUCCEEDED
    return {"arn": arn, "status": state["status"], "input": json.dumps(item, separators=(",", ":")),
            "output": json.dumps(state.get("output"), separators=(",", ":")) if succeeded else None,
            "error": state.get("error"), "cause": state.get("cause"), "started_at": started_at,
            "stopped_at": stopped_at, "redrive_count": 0}
