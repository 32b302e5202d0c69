"""A pinflow process for the Map Run crash test: starts one execution with a Distributed Map, runs until
it ends. Run as `python -m tests.engine.maprun_crash_worker DATA_DIR ITEMS TYPE [DATABASE_URL]` (TYPE: the children's
ExecutionType); safe to start again after a SIGKILL at any point."""

from __future__ import annotations

import json
import sys
import time

from pinflow import arns, errors
from pinflow.service import Pinflow
from tests.roles import execution_role

DEFINITION = {
    "StartAt": "Fan",
    "States": {
        "Fan": {"Type": "Map", "MaxConcurrency": 40, "Label": "Fan",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Pause",
                    "States": {"Pause": {"Type": "Wait", "Seconds": 1, "Next": "Item"},
                               "Item": {"Type": "Pass", "Parameters": {"twice.$": "States.MathAdd($, $)"},
                                        "End": True}}},
                "End": True},
    },
}


def main(data_dir: str, items: int, kind: str, db: str | None = None) -> int:
    pf = Pinflow.open(data_dir=data_dir, db=db, workers=8)
    definition = json.loads(json.dumps(DEFINITION))
    definition["States"]["Fan"]["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] = kind
    try:
        try:
            machine = pf.machines.create("fanout", json.dumps(definition),
                                         execution_role(pf, "crash-role"))["stateMachineArn"]
        except errors.StateMachineAlreadyExists:
            machine = arns.state_machine("fanout")
        try:
            pf.engine.start_execution(machine, name="parent", input=json.dumps(list(range(items))))
        except errors.ExecutionAlreadyExists:
            pass
        while True:
            with pf.store.transaction(write=False) as tx:
                running = tx.scalar("SELECT COUNT(*) FROM executions WHERE status = 'RUNNING'")
                running += tx.scalar("SELECT COUNT(*) FROM map_runs WHERE status = 'RUNNING'")
            if running == 0:
                return 0
            time.sleep(0.05)
    finally:
        pf.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None))
