"""Express executions: the same interpreter and command loop (`pinflow.asl.loop`), in memory, with no
history kept (as on AWS).

StartSyncExecution runs one to its end and answers with the outcome; StartExecution on an Express
machine runs it in the background. Waits really wait (up to Express's five minutes).
"""

from __future__ import annotations

import functools
import json
import random
import time
import uuid
from typing import TYPE_CHECKING, Any

from pinflow import arns
from pinflow.asl import commands as cmd
from pinflow.asl import events, loop

if TYPE_CHECKING:
    from pinflow.engine.runner import Engine


def _run(engine: Engine, target: Any, execution_arn: str, name: str, input_value: Any,
         mocked: dict[str, str] | None = None) -> dict[str, Any]:
    definition = engine.parsed(target.revision_id, target.definition)
    rng = random.Random()
    pinned = engine.pin(definition, target.role_arn, rng)
    if mocked is not None:
        pinned["mock"] = mocked
    started = engine.clock()
    context = {"Id": execution_arn, "Name": name, "RoleArn": target.role_arn}
    start = events.Start(
        input=input_value, at=started, execution=context,
        state_machine={"Id": target.machine["arn"], "Name": target.machine["name"]},
        seed=rng.getrandbits(63), type="EXPRESS")

    def invoke(command: cmd.InvokeTask, now: float) -> events.Event | None:
        return engine.dispatcher.outcome(execution_arn, target.role_arn, pinned, command)

    # A callback task (its outcome cannot come back here) leaves the execution RUNNING: the loop ends.
    state = loop.Loop(definition, invoke, wait_until=functools.partial(_wait_until, engine.clock)).run(start).state
    return {
        "executionArn": execution_arn, "stateMachineArn": target.machine["arn"], "name": name,
        "startDate": started, "stopDate": engine.clock(), "status": state["status"],
        "output": json.dumps(state.get("output")) if state["status"] == "SUCCEEDED" else None,
        "error": state.get("error"), "cause": state.get("cause"),
    }


def _wait_until(clock: Any, due: float) -> None:
    """Express waits really wait, on the engine's clock (a fake clock in tests only advances)."""
    delay = due - clock()
    if delay > 0:
        sleep = getattr(clock, "sleep", None)
        (sleep or time.sleep)(delay)


def start_sync(engine: Engine, target: Any, name: str | None, input_value: Any,
               test_case: str | None = None) -> dict[str, Any]:
    """StartSyncExecution: run to the end and answer with the outcome (`test_case`: see
    `Engine.start_execution`)."""
    mocked = engine.test_case(target.machine["name"], test_case)
    name = name or str(uuid.uuid4())
    execution_arn = arns.execution(target.machine["name"], name, express=True) + f":{uuid.uuid4()}"
    return _run(engine, target, execution_arn, name, input_value, mocked)


def start_async(engine: Engine, target: Any, name: str, input_value: Any, trace_header: str | None,
                mocked: dict[str, str] | None = None) -> dict[str, Any]:
    """StartExecution on an Express machine: run in the background (at least once, no history)."""
    execution_arn = arns.execution(target.machine["name"], name, express=True) + f":{uuid.uuid4()}"
    started = engine.clock()
    engine.express_pool.submit(_run, engine, target, execution_arn, name, input_value, mocked)
    return {"executionArn": execution_arn, "startDate": started}
