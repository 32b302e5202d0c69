"""Load on any Step Functions-compatible endpoint through boto3: executions/s, transitions/s, latencies.

A 13-state machine (11 Pass, a Choice, a Succeed; created when missing) is run N times from C client
threads.

STANDARD: each thread calls StartExecution, then DescribeExecution until the execution has ended
(polling as a client would: at once, then after 0.5 ms, doubling up to 50 ms between polls).
Reported: executions/s and state transitions/s over the whole run, requests per execution (the start
and the polls), StartExecution latency p50/p99,
start-to-terminal p50/p99 as the client sees it, and the server-side duration (stopDate - startDate)
p50.

EXPRESS: each thread calls StartSyncExecution (the execution has ended when it answers), then
StartExecution the same number of times. Reported: executions/s, transitions/s, StartSyncExecution
p50/p99 (= start to terminal), server-side duration p50, StartExecution p50/p99.

Usage:
    python bench/api_load.py --endpoint http://127.0.0.1:8083 --executions 2000 --kind STANDARD \
        --concurrency 8 [--runs 3] [--json]

With `--server-pid PID` (the server's process on this machine), the server's CPU time (user + system,
from /proc, its threads included) per execution is reported too: every request an execution costs
(StartExecution, the DescribeExecution polls) and the engine's work to run it.

Medians over `--runs` are printed. The same script drives moto's server (`python3 -m moto.server -p PORT`).
moto 5 by default never ends an execution (the script stops waiting after `--timeout`); with
SF_EXECUTION_HISTORY_TYPE=FAILURE it reports every execution FAILED at once without running it; its
interpreter (POST /moto-api/config {"stepfunctions": {"execute_state_machine": true}}) runs the first
execution of the process and answers 500 to every later one (moto 5.2.1); it has no StartSyncExecution.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

ROLE = "arn:aws:iam::123456789012:role/api-load"
TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
PASSES = 11


def definition() -> str:
    """11 Pass states, a Choice and a Succeed: 13 states, 13 transitions per execution."""
    states: dict[str, Any] = {}
    for i in range(PASSES):
        states[f"P{i}"] = {"Type": "Pass", "Result": {"i": i}, "ResultPath": "$.last",
                           "Next": f"P{i + 1}" if i < PASSES - 1 else "Check"}
    states["Check"] = {"Type": "Choice", "Choices": [
        {"Variable": "$.last.i", "NumericEquals": PASSES - 1, "Next": "Done"}], "Default": "Done"}
    states["Done"] = {"Type": "Succeed"}
    return json.dumps({"Comment": "api_load", "StartAt": "P0", "States": states})


def client(endpoint: str, concurrency: int) -> Any:
    config = Config(inject_host_prefix=False, retries={"max_attempts": 0}, connect_timeout=5,
                    read_timeout=120, max_pool_connections=concurrency + 2, tcp_keepalive=True)
    return boto3.client("stepfunctions", endpoint_url=endpoint, region_name="us-east-1", config=config,
                        aws_access_key_id="api-load", aws_secret_access_key="api-load")


def ensure_machine(sfn: Any, kind: str) -> str:
    """The benchmark machine's ARN, creating it when missing."""
    name = f"api-load-{kind.lower()}"
    paginator = sfn.get_paginator("list_state_machines")
    for page in paginator.paginate():
        for item in page["stateMachines"]:
            if item["name"] == name:
                return str(item["stateMachineArn"])
    # Step Functions refuses a role it cannot assume: the benchmark's role is made first.
    iam = boto3.client("iam", endpoint_url=sfn.meta.endpoint_url, region_name="us-east-1",
                       aws_access_key_id="api-load", aws_secret_access_key="api-load")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    try:
        iam.create_role(RoleName=ROLE.rsplit("/", 1)[-1], AssumeRolePolicyDocument=trust)
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    return str(sfn.create_state_machine(name=name, definition=definition(), roleArn=ROLE, type=kind)[
        "stateMachineArn"])


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Run:
    """What one run measured (seconds)."""

    started: int = 0
    finished: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    gave_up: bool = False
    wall: float = 0.0
    start_latency: list[float] = field(default_factory=list)
    to_terminal: list[float] = field(default_factory=list)
    server_side: list[float] = field(default_factory=list)
    sync_latency: list[float] = field(default_factory=list)
    sync_error: str | None = None
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, value: Any) -> None:
        with self.lock:
            getattr(self, name).append(value)

    def count(self, requests: int = 1) -> None:
        with self.lock:
            self.requests += requests

    def ended(self, described: dict[str, Any], began: float) -> None:
        """An execution reached a terminal status (its answer is DescribeExecution's or StartSync's)."""
        now = time.perf_counter()
        with self.lock:
            self.to_terminal.append(now - began)
            self.statuses[described["status"]] = self.statuses.get(described["status"], 0) + 1
            # A service that reports no stopDate (moto's static answers) has no server-side duration.
            if described.get("stopDate") is not None:
                self.server_side.append((described["stopDate"] - described["startDate"]).total_seconds())


def _wait_terminal(sfn: Any, arn: str, timeout: float, run: Run) -> dict[str, Any] | None:
    delay = 0.0005
    deadline = time.perf_counter() + timeout
    while True:
        described = sfn.describe_execution(executionArn=arn)
        run.count()
        if described["status"] in TERMINAL:
            return dict(described)
        if time.perf_counter() > deadline or run.gave_up:
            # One execution that never ends means a service that does not run them: stop waiting.
            run.gave_up = True
            return None
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def run_standard(endpoint: str, arn: str, count: int, concurrency: int, timeout: float) -> Run:
    run = Run()
    local = threading.local()

    def one(index: int) -> None:
        sfn = getattr(local, "sfn", None) or client(endpoint, concurrency)
        local.sfn = sfn
        began = time.perf_counter()
        try:
            started = sfn.start_execution(stateMachineArn=arn, name=f"l{uuid.uuid4().hex[:20]}-{index}",
                                          input='{"n": 1}')
            run.count()
            run.add("start_latency", time.perf_counter() - began)
            described = _wait_terminal(sfn, started["executionArn"], timeout, run)
        except (ClientError, BotoCoreError) as exc:
            run.add("errors", str(exc))
            return
        if described is None:
            run.add("errors", "did not end in time")
            return
        run.ended(described, began)

    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(count)))
    run.wall = time.perf_counter() - began
    run.started, run.finished = len(run.start_latency), len(run.to_terminal)
    return run


def run_express(endpoint: str, arn: str, count: int, concurrency: int) -> Run:
    run = Run()
    local = threading.local()

    def sfn_for_thread() -> Any:
        sfn = getattr(local, "sfn", None) or client(endpoint, concurrency)
        local.sfn = sfn
        return sfn

    def sync(index: int) -> None:
        began = time.perf_counter()
        try:
            done = sfn_for_thread().start_sync_execution(stateMachineArn=arn, input='{"n": 1}')
            run.count()
        except (ClientError, BotoCoreError) as exc:
            run.sync_error = run.sync_error or str(exc).splitlines()[0]
            return
        run.add("sync_latency", time.perf_counter() - began)
        if done["status"] in TERMINAL:
            run.ended(done, began)

    def start(index: int) -> None:
        began = time.perf_counter()
        try:
            sfn_for_thread().start_execution(stateMachineArn=arn, input='{"n": 1}')
        except (ClientError, BotoCoreError) as exc:
            run.add("errors", str(exc))
            return
        run.add("start_latency", time.perf_counter() - began)

    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(sync, range(count)))
    run.wall = time.perf_counter() - began
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(start, range(count)))
    run.started, run.finished = len(run.start_latency), len(run.to_terminal)
    return run


def transitions_per_execution(sfn: Any, arn: str, kind: str) -> int:
    """State transitions (states entered) of one execution, from its history when the service keeps one."""
    if kind == "STANDARD":
        found = sfn.list_executions(stateMachineArn=arn, statusFilter="SUCCEEDED", maxResults=1)["executions"]
        if found:
            history = sfn.get_execution_history(executionArn=found[0]["executionArn"], maxResults=1000)
            events = history["events"]
            entered = sum(1 for event in events if event["type"].endswith("StateEntered"))
            if entered:
                return entered
    return PASSES + 2


def summarise(run: Run, transitions: int) -> dict[str, Any]:
    ms = 1000.0

    def p(values: list[float], q: float) -> float | None:
        value = percentile(values, q)
        return None if value is None else round(value * ms, 3)

    rate = run.finished / run.wall if run.wall and run.finished else 0.0
    return {
        "executions": run.finished,
        "statuses": dict(sorted(run.statuses.items())),
        "errors": len(run.errors),
        "executions_per_s": round(rate, 1),
        "transitions_per_s": round(rate * transitions, 1),
        # STANDARD: StartExecution and the DescribeExecution polls; EXPRESS: StartSyncExecution.
        "requests_per_execution": round(run.requests / run.finished, 2) if run.finished else None,
        "start_to_terminal_p50_ms": p(run.to_terminal, 0.5),
        "start_to_terminal_p99_ms": p(run.to_terminal, 0.99),
        "start_execution_p50_ms": p(run.start_latency, 0.5),
        "start_execution_p99_ms": p(run.start_latency, 0.99),
        "server_side_p50_ms": p(run.server_side, 0.5),
        "start_sync_execution_p50_ms": p(run.sync_latency, 0.5),
        "start_sync_execution_p99_ms": p(run.sync_latency, 0.99),
        "sync_error": run.sync_error,
        "first_error": run.errors[0] if run.errors else None,
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc; its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def median_of(results: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for key in results[0]:
        values = [r[key] for r in results if isinstance(r[key], int | float) and not isinstance(r[key], bool)]
        merged[key] = statistics.median(values) if values else results[0][key]
    return merged


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--executions", type=int, default=1000)
    ap.add_argument("--kind", choices=["STANDARD", "EXPRESS"], default="STANDARD")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--runs", type=int, default=1, help="repeat and report medians")
    ap.add_argument("--timeout", type=float, default=30.0,
                    help="seconds an execution may take to end (after one does not, none is waited for)")
    ap.add_argument("--server-pid", type=int, help="report this process's CPU time per execution")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    sfn = client(args.endpoint, args.concurrency)
    arn = ensure_machine(sfn, args.kind)
    results = []
    for _ in range(args.runs):
        cpu_before = cpu_seconds(args.server_pid) if args.server_pid else 0.0
        if args.kind == "STANDARD":
            run = run_standard(args.endpoint, arn, args.executions, args.concurrency, args.timeout)
        else:
            run = run_express(args.endpoint, arn, args.executions, args.concurrency)
        cpu_used = cpu_seconds(args.server_pid) - cpu_before if args.server_pid else 0.0
        result = summarise(run, transitions_per_execution(sfn, arn, args.kind))
        result["server_cpu_ms_per_execution"] = (
            round(cpu_used * 1000 / run.finished, 3) if args.server_pid and run.finished else None)
        results.append(result)
    summary = median_of(results)
    summary.update(endpoint=args.endpoint, kind=args.kind, concurrency=args.concurrency, runs=args.runs,
                   executions_per_run=args.executions)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"{args.kind} x{args.executions} at concurrency {args.concurrency} against {args.endpoint} "
          f"(median of {args.runs} run(s))")
    labels = [
        ("executions/s", "executions_per_s", ""), ("transitions/s", "transitions_per_s", ""),
        ("requests per execution", "requests_per_execution", ""),
        ("start->terminal p50", "start_to_terminal_p50_ms", " ms"),
        ("start->terminal p99", "start_to_terminal_p99_ms", " ms"),
        ("StartExecution p50", "start_execution_p50_ms", " ms"),
        ("StartExecution p99", "start_execution_p99_ms", " ms"),
        ("server-side duration p50", "server_side_p50_ms", " ms"),
        ("StartSyncExecution p50", "start_sync_execution_p50_ms", " ms"),
        ("StartSyncExecution p99", "start_sync_execution_p99_ms", " ms"),
        ("server CPU per execution", "server_cpu_ms_per_execution", " ms"),
    ]
    for label, key, unit in labels:
        value = summary[key]
        print(f"  {label:<26} {'n/a' if value is None else f'{value}{unit}'}")
    print(f"  {'terminal statuses':<26} {summary['statuses']}")
    for key in ("sync_error", "first_error"):
        if summary[key]:
            print(f"  {key}: {summary[key]}", file=sys.stderr)
    if summary["errors"]:
        print(f"  errors: {summary['errors']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
