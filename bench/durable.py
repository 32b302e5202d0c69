"""Durable engine figures on SQLite (synchronous=FULL): transitions/s, and parked executions.

1. 1,000 concurrent executions of a 10-state chain (Pass states and one local function Task):
   durable state transitions per second (a transition = a state entered), median of several runs.
2. N executions (default 100,000) started into a 5-second Wait: the time to create them, the
   lateness with which they resume (WaitStateExited minus the due time; p50 and p99), and the
   process's peak RSS.
3. 500 parents, each starting one child with a nested `.sync:2` call (child: a Pass state) and
   ending with the child's output: parent+child executions per second (a pair counts once), median
   of several runs.
4. 1,000 concurrent executions of a chain of 10 AWS service Tasks (DynamoDB, SNS, SQS, EventBridge,
   S3 through the SDK), every one answered by a mock configuration's test case (no endpoint at all):
   mocked Task transitions per second, median of several runs.

Where the time goes (figure 1, on a 2-core machine; per-thread CPU time from /proc and cProfile with a
CPU clock): the process is bound by the interpreter lock, not by fsync. Group commit puts a hundred or
more items in each transaction. Measured warm, an execution costs about 0.6 ms of CPU in the engine's
process (and about 0.3 ms in the function's worker process): the writer about 0.3 ms (measured while
histories were kept one row per event: SQLite's inserts of 25 history rows, the execution, its
references and the outbox row, a third of it; applying the task's result, a step of the interpreter, a
fifth), the Lambda lane about 0.12 ms (the round trip to the
warm worker through a pipe, a system call or more each way, and waiting for one of the version's four
workers: sixteen lane threads share them, a worker given back going straight to the longest waiter; the
IAM check is evaluated once per role grants and function, as AWSLambdaRole has no Condition, and the
worker's log is not read), and the starting thread about 0.2 ms (the first step through ten states and
encoding 22 history events). The registry is not read on the way (`pinflow/store/kept.py`: a start's
machine, revision and pins, a call's role grants and function version are kept until the registry
changes). The figure includes the function's four workers starting cold.

Usage: python bench/durable.py [--runs 3] [--executions 1000] [--parked 100000] [--nested 500] [--mocked 1000]
       [--json]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from pinflow import arns
from pinflow.functions.package import package_folder
from pinflow.service import Pinflow

ROLE = arns.role("bench-role")
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def make_role(pf: Pinflow) -> str:
    """The machines' role: Step Functions may assume it, and AWSLambdaRole (attached) lets it invoke, so
    every Task pays for the IAM check it pays on a real deploy; it may start and watch child executions."""
    pf.roles.create_role("bench-role", TRUST)
    pf.policies.attach_role_policy("bench-role", "arn:aws:iam::aws:policy/service-role/AWSLambdaRole")
    pf.roles.put_role_policy("bench-role", "nested", json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["states:StartExecution", "states:DescribeExecution", "states:StopExecution"],
        "Resource": "*"}]}))
    return ROLE


def chain(function_arn: str) -> str:
    states: dict[str, dict] = {}
    names = [f"P{i}" for i in range(9)]
    for i, name in enumerate(names):
        states[name] = {"Type": "Pass", "Parameters": {"i": i, "v.$": "$"}, "Next": names[i + 1] if i < 8 else "Call"}
    states["Call"] = {"Type": "Task", "Resource": function_arn, "End": True}
    return json.dumps({"StartAt": "P0", "States": states})


def make_function(pf: Pinflow, folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(textwrap.dedent("""
        def handler(event, context):
            return {"ok": True}
    """))
    pf.functions.create_function("noop", package_folder(folder), handler="app.handler", publish=True)
    return arns.function("noop", "1")


def start_all(pf: Pinflow, machine_arn: str, count: int, prefix: str, in_flight: int = 1000) -> float:
    """Start `count` executions with up to `in_flight` starts outstanding at once, as that many
    concurrent clients would; returns the seconds it took until every start was durable."""
    began = time.perf_counter()
    pending: list = []
    for i in range(count):
        pending.append(pf.engine.start_execution_async(machine_arn, name=f"{prefix}-{i}"))
        if len(pending) >= in_flight:
            pending.pop(0).result()
    for future in pending:
        future.result()
    return time.perf_counter() - began


def wait_all(pf: Pinflow, machine: str, count: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with pf.store.transaction(write=False) as tx:
            running = tx.scalar("SELECT COUNT(*) FROM executions WHERE machine = ? AND status = 'RUNNING'", (machine,))
        if running == 0:
            return
        time.sleep(0.02)
    raise TimeoutError(f"{machine}: executions still running after {timeout} s")


def transitions_run(executions: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        pf = Pinflow.open(data_dir=Path(tmp) / "data", synchronous="FULL")
        try:
            function_arn = make_function(pf, Path(tmp) / "src")
            name = "chain"
            machine = pf.machines.create(name, chain(function_arn), make_role(pf))["stateMachineArn"]
            began = time.perf_counter()
            start_all(pf, machine, executions, "run")
            wait_all(pf, name, executions)
            elapsed = time.perf_counter() - began
            with pf.store.transaction(write=False) as tx:
                failed = tx.scalar("SELECT COUNT(*) FROM executions WHERE status <> 'SUCCEEDED'")
            if failed:
                raise RuntimeError(f"{failed} executions did not succeed")
            return executions * 10 / elapsed
        finally:
            pf.close()


def nested_run(pairs: int) -> float:
    """Parent+child executions per second: `pairs` parents, each one nested `.sync:2` call."""
    with tempfile.TemporaryDirectory() as tmp:
        pf = Pinflow.open(data_dir=Path(tmp) / "data", synchronous="FULL")
        try:
            role = make_role(pf)
            child = pf.machines.create("child", json.dumps({"StartAt": "Answer", "States": {
                "Answer": {"Type": "Pass", "Result": {"ok": True}, "End": True}}}), role)["stateMachineArn"]
            parent = pf.machines.create("parent", json.dumps({"StartAt": "Call", "States": {"Call": {
                "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
                "Parameters": {"StateMachineArn": child, "Input": {}}, "OutputPath": "$.Output", "End": True}}}),
                role)["stateMachineArn"]
            began = time.perf_counter()
            start_all(pf, parent, pairs, "pair", in_flight=pairs)
            wait_all(pf, "parent", pairs)
            elapsed = time.perf_counter() - began
            with pf.store.transaction(write=False) as tx:
                failed = tx.scalar("SELECT COUNT(*) FROM executions WHERE status <> 'SUCCEEDED'")
            if failed:
                raise RuntimeError(f"{failed} executions did not succeed")
            return pairs / elapsed
        finally:
            pf.close()


MOCKED_RESOURCES = ("arn:aws:states:::dynamodb:putItem", "arn:aws:states:::sns:publish",
                    "arn:aws:states:::sqs:sendMessage", "arn:aws:states:::events:putEvents",
                    "arn:aws:states:::aws-sdk:s3:putObject")


def mocked_run(executions: int) -> float:
    """Mocked Task transitions per second: `executions` runs of a 10-Task chain, every Task mocked."""
    names = [f"T{i}" for i in range(10)]
    states = {name: {"Type": "Task", "Resource": MOCKED_RESOURCES[i % len(MOCKED_RESOURCES)],
                     "Parameters": {"n": i}, "ResultPath": f"$.r{i}",
                     **({"Next": names[i + 1]} if i < 9 else {"End": True})} for i, name in enumerate(names)}
    config = {"StateMachines": {"mocked": {"TestCases": {"Bench": {name: "Answer" for name in names}}}},
              "MockedResponses": {"Answer": {"0": {"Return": {"MessageId": "m"}}}}}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "MockConfigFile.json"
        path.write_text(json.dumps(config))
        pf = Pinflow.open(data_dir=Path(tmp) / "data", synchronous="FULL", mock_config=path)
        try:
            machine = pf.machines.create("mocked", json.dumps({"StartAt": "T0", "States": states}),
                                         make_role(pf))["stateMachineArn"]
            began = time.perf_counter()
            pending = [pf.engine.start_execution_async(machine, name=f"m-{i}", test_case="Bench")
                       for i in range(executions)]
            for future in pending:
                future.result()
            wait_all(pf, "mocked", executions)
            elapsed = time.perf_counter() - began
            with pf.store.transaction(write=False) as tx:
                failed = tx.scalar("SELECT COUNT(*) FROM executions WHERE status <> 'SUCCEEDED'")
            if failed:
                raise RuntimeError(f"{failed} mocked executions did not succeed")
            return executions * 10 / elapsed
        finally:
            pf.close()


def parked_run(count: int, wait_seconds: int = 5) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        pf = Pinflow.open(data_dir=Path(tmp) / "data", synchronous="FULL")
        try:
            definition = json.dumps({"StartAt": "Park", "States": {
                "Park": {"Type": "Wait", "Seconds": wait_seconds, "Next": "Done"},
                "Done": {"Type": "Succeed"}}})
            machine = pf.machines.create("parked", definition, make_role(pf))["stateMachineArn"]
            created = start_all(pf, machine, count, "parked")
            wait_all(pf, "parked", count, timeout=600 + count / 100)
            lateness = []
            with pf.store.transaction(write=False) as tx:
                # Events 2 and 3 (the Wait entered, then exited), from the blocks (a step's events, one
                # per line) that begin at or before them.
                blocks = tx.all("SELECT execution, first_id, events FROM history_blocks WHERE first_id <= 3")
            rows = [{"execution": block["execution"], "event": text}
                    for block in blocks for offset, text in enumerate(block["events"].split("\n"))
                    if block["first_id"] + offset in (2, 3)]
            entered: dict[str, float] = {}
            exited: dict[str, float] = {}
            for row in rows:
                event = json.loads(row["event"])
                if event["type"] == "WaitStateEntered":
                    entered[row["execution"]] = event["timestamp"]
                elif event["type"] == "WaitStateExited":
                    exited[row["execution"]] = event["timestamp"]
            for execution, at in exited.items():
                lateness.append(at - (entered[execution] + wait_seconds))
            lateness.sort()
            return {
                "parked_executions": count,
                "parked_create_s": created,
                "parked_resume_p50_s": lateness[len(lateness) // 2],
                "parked_resume_p99_s": lateness[min(len(lateness) - 1, int(len(lateness) * 0.99))],
            }
        finally:
            pf.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--executions", type=int, default=1000)
    parser.add_argument("--parked", type=int, default=100_000)
    parser.add_argument("--nested", type=int, default=500, help="parent+child pairs per nested run")
    parser.add_argument("--mocked", type=int, default=1000, help="executions of 10 mocked Tasks per run")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures: dict[str, float] = {}

    def measure(key: str, label: str, run: Callable[[int], float], count: int) -> None:
        """Run `run(count)` --runs times; keep the median under `key`, print it under `label`."""
        rates = [run(count) for _ in range(args.runs)]
        figures[key] = statistics.median(rates)
        if not args.json:
            print(f"{label} (median of {args.runs}): {figures[key]:,.0f}  runs: "
                  f"{', '.join(f'{r:,.0f}' for r in rates)}", flush=True)

    measure("durable_transitions_per_s", "durable transitions/s", transitions_run, args.executions)
    # A figure whose count is 0 is skipped (`--parked 0 --nested 0 --mocked 0`: the first one alone).
    if args.nested:
        measure("nested_pairs_per_s", "parent+child executions/s, one nested .sync:2 call each", nested_run,
                args.nested)
    if args.mocked:
        measure("mocked_task_transitions_per_s", "mocked Task transitions/s, 10 mocked AWS Tasks per execution",
                mocked_run, args.mocked)
    if args.parked:
        figures.update(parked_run(args.parked))
        if not args.json:
            print(f"created {args.parked:,} parked executions in {figures['parked_create_s']:.1f} s; resumed "
                  f"late by p50 {figures['parked_resume_p50_s']:.3f} s, p99 {figures['parked_resume_p99_s']:.3f} s")
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"peak RSS: {figures['peak_rss_mb']:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
