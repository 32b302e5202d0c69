"""A pinflow process for the crash tests: sets up a machine, starts N executions, runs until done.

Run as `python -m tests.engine.crash_worker DATA_DIR COUNT [DATABASE_URL]`; safe to start again after a SIGKILL at
any point (every step is idempotent).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from pinflow import arns, errors
from pinflow.functions.package import package_folder
from pinflow.service import Pinflow
from tests.roles import execution_role

FLAKY = '''
def handler(event, context):
    if event["attempt"] == 0:
        raise RuntimeError("first attempts fail")
    return {"value": event["value"] * 2}
'''

DEFINITION = {
    "StartAt": "Start",
    "States": {
        "Start": {"Type": "Pass", "Parameters": {"value.$": "$.n", "items": [1, 2, 3]},
                  "Next": "Pause"},
        "Pause": {"Type": "Wait", "Seconds": 2, "Next": "Call"},
        "Call": {
            "Type": "Task", "Resource": arns.function("flaky", "1"),
            "Parameters": {"value.$": "$.value", "attempt.$": "$$.State.RetryCount"},
            "Retry": [{"ErrorEquals": ["RuntimeError"], "IntervalSeconds": 1, "BackoffRate": 1.0, "MaxAttempts": 3}],
            "ResultPath": "$.result",
            "Next": "Fan",
        },
        "Fan": {"Type": "Map", "ItemsPath": "$.items", "ItemSelector": {"i.$": "$$.Map.Item.Value"},
                "ItemProcessor": {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": True}}},
                "ResultPath": "$.fanned", "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}


def main(data_dir: str, count: int, db: str | None = None) -> int:
    # One node id across restarts: each run takes over what the killed one held at once.
    pf = Pinflow.open(data_dir=data_dir, db=db, workers=8, node_id="crash-worker")
    try:
        source = Path(data_dir) / "src"
        source.mkdir(parents=True, exist_ok=True)
        (source / "app.py").write_text(FLAKY)
        try:
            pf.functions.create_function("flaky", package_folder(source), handler="app.handler", publish=True)
        except errors.ServiceError:
            pass  # made before a crash
        definition = dict(DEFINITION)
        definition["States"] = dict(DEFINITION["States"])
        definition["States"]["Call"] = dict(DEFINITION["States"]["Call"])
        try:
            machine = pf.machines.create("crashy", json.dumps(definition),
                                         execution_role(pf, "crash-role"))["stateMachineArn"]
        except errors.StateMachineAlreadyExists:
            machine = arns.state_machine("crashy")
        for i in range(count):
            try:
                pf.engine.start_execution(machine, name=f"run-{i:03d}", input=json.dumps({"n": i}))
            except errors.ExecutionAlreadyExists:
                pass
        while True:
            with pf.store.transaction(write=False) as tx:
                running = tx.scalar("SELECT COUNT(*) FROM executions WHERE status = 'RUNNING'")
            if running == 0:
                return 0
            time.sleep(0.05)
    finally:
        pf.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None))
