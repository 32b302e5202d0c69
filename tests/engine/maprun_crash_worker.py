"""A pinflow process for the Map Run crash test: starts one execution with a Distributed Map, runs until
it ends. Run as `python -m tests.engine.maprun_crash_worker DATA_DIR ITEMS TYPE [DATABASE_URL]` (TYPE: the children's
ExecutionType, or REDRIVE: Standard children, some of which fail on their first run, so the Map Run fails,
stops the children still running, and the parent is redriven until it succeeds); safe to start again after
a SIGKILL at any point."""

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


# REDRIVE: these items fail until their child is redriven (a redrive reruns the state that failed:
# Fragile fails while $$.Execution.RedriveCount is 0, an index of -1); no failure is tolerated.
FAILING = (250, 650, 1050)
FIRST_RUN_FAILS = {
    "Type": "Choice", "Default": "Item",
    "Choices": [{"Or": [{"Variable": "$", "NumericEquals": n} for n in FAILING], "Next": "Fragile"}]}
FRAGILE = {"Type": "Pass", "ResultPath": None, "Next": "Item", "Parameters": {
    "v.$": "States.ArrayGetItem(States.Array(1), States.MathAdd($$.Execution.RedriveCount, -1))"}}


def main(data_dir: str, items: int, kind: str, db: str | None = None) -> int:
    pf = Pinflow.open(data_dir=data_dir, db=db, workers=8)
    definition = json.loads(json.dumps(DEFINITION))
    fan = definition["States"]["Fan"]
    redrive = kind == "REDRIVE"
    if redrive:
        # Past STARTS_PER_TRANSACTION and STOPS_PER_TRANSACTION (500): no MaxConcurrency.
        fan["MaxConcurrency"] = 0
        # Each run's children wait 3 s (timers keep time while the process is down): the run and the
        # run after its redrive outlast the test's first kills however fast the machine is.
        fan["ItemProcessor"]["States"]["Pause"]["Seconds"] = 3
        fan["ItemProcessor"]["States"]["Pause"]["Next"] = "Check"
        fan["ItemProcessor"]["States"]["Check"] = FIRST_RUN_FAILS
        fan["ItemProcessor"]["States"]["Fragile"] = FRAGILE
    else:
        fan["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] = kind
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
        parent = arns.execution("fanout", "parent")
        while True:
            failed = redrive and pf.engine.execution_row(parent)["status"] == "FAILED"
            if failed:
                try:
                    pf.engine.redrive_execution(parent)
                    continue
                except errors.ExecutionNotRedrivable:
                    pass
            with pf.store.transaction(write=False) as tx:
                running = tx.scalar("SELECT COUNT(*) FROM executions WHERE status = 'RUNNING'")
                running += tx.scalar("SELECT COUNT(*) FROM map_runs WHERE status = 'RUNNING'")
            if running == 0 and not failed and pf.engine.execution_row(parent)["status"] != "RUNNING":
                return 0
            time.sleep(0.05)
    finally:
        pf.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None))
