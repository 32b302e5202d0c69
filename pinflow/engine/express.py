"""Express executions: the same interpreter, in memory, with no history kept (as on AWS).

StartSyncExecution runs one to its end and answers with the outcome; StartExecution on an Express
machine runs it in the background. Waits really wait (up to Express's five minutes).
"""

from __future__ import annotations

import heapq
import json
import random
import uuid
from collections import deque
from typing import TYPE_CHECKING, Any

from pinflow import arns
from pinflow.asl import commands as cmd
from pinflow.asl import events, interpreter

if TYPE_CHECKING:
    from pinflow.engine.runner import Engine



def _run(engine: Engine, target: Any, execution_arn: str, name: str, input_value: Any) -> dict[str, Any]:
    definition = engine.parsed(target.revision_id, target.definition)
    rng = random.Random()
    pinned = engine.pin(definition, target.role_arn, rng)
    started = engine.clock()
    context = {"Id": execution_arn, "Name": name, "RoleArn": target.role_arn}
    step = interpreter.step(definition, None, events.Start(
        input=input_value, at=started, execution=context,
        state_machine={"Id": target.machine["arn"], "Name": target.machine["name"]},
        seed=rng.getrandbits(63), type="EXPRESS"))
    timers: list[tuple[float, int, str]] = []
    due: dict[str, float] = {}
    inbox: deque[events.Event] = deque()
    sequence = 0
    while step.state["status"] == "RUNNING":
        for command in step.commands:
            if isinstance(command, cmd.StartTimer):
                sequence += 1
                due[command.timer_id] = command.due_at
                heapq.heappush(timers, (command.due_at, sequence, command.timer_id))
            elif isinstance(command, cmd.CancelTimer):
                due.pop(command.timer_id, None)
            elif isinstance(command, cmd.InvokeTask):
                outcome = engine.dispatcher.outcome(execution_arn, target.role_arn, pinned, command)
                if outcome is not None:
                    inbox.append(outcome)
        event: events.Event | None = inbox.popleft() if inbox else None
        while event is None and timers:
            at, _, timer_id = heapq.heappop(timers)
            if due.get(timer_id) != at:
                continue
            del due[timer_id]
            sleep = getattr(engine.clock, "sleep", None)
            delay = at - engine.clock()
            if delay > 0:
                if sleep is not None:
                    sleep(delay)
                else:
                    import time

                    time.sleep(delay)
            event = events.TimerFired(timer_id, at)
        if event is None:
            break  # waiting on a callback that Express cannot take
        step = interpreter.step(definition, step.state, event)
    state = step.state
    return {
        "executionArn": execution_arn, "stateMachineArn": target.machine["arn"], "name": name,
        "startDate": started, "stopDate": engine.clock(), "status": state["status"],
        "output": json.dumps(state.get("output")) if state["status"] == "SUCCEEDED" else None,
        "error": state.get("error"), "cause": state.get("cause"),
    }


def start_sync(engine: Engine, target: Any, name: str | None, input_value: Any) -> dict[str, Any]:
    """StartSyncExecution: run to the end and answer with the outcome."""
    name = name or str(uuid.uuid4())
    execution_arn = arns.execution(target.machine["name"], name, express=True) + f":{uuid.uuid4()}"
    return _run(engine, target, execution_arn, name, input_value)


def start_async(engine: Engine, target: Any, name: str, input_value: Any, trace_header: str | None) -> dict[str, Any]:
    """StartExecution on an Express machine: run in the background (at least once, no history)."""
    execution_arn = arns.execution(target.machine["name"], name, express=True) + f":{uuid.uuid4()}"
    started = engine.clock()
    engine.express_pool.submit(_run, engine, target, execution_arn, name, input_value)
    return {"executionArn": execution_arn, "startDate": started}
