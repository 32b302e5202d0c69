"""Cluster figures: `pinflow server` processes on one PostgreSQL database, driven through boto3.

1. Durable transitions per second with 1, 2 and 3 nodes: E executions (default 300) of a chain of five
   Pass states and five Lambda Tasks (a function that returns at once), started round robin through the
   nodes; states entered per second from the first start to the last end, median of several runs.
2. Takeover: two nodes with `--lease-seconds L` (default 5); 8 executions whose Task's function takes
   3 s (few enough that the surviving node has workers free: the figure is the takeover, not a
   backlog); one node is killed (SIGKILL) while invocations are in flight on it. The time from the kill to
   each of its invocations starting again on the other node (the function notes when it starts, by
   request id), median over them; the median of several runs. The bound is L + L/5 plus a function
   start.

Usage: python bench/cluster.py [--runs 3] [--executions 300] [--lease 5] [--json]
       (PINFLOW_BENCH_POSTGRES: an admin URL, default postgresql://postgres@127.0.0.1:5432/test)
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3
import psycopg
from botocore.config import Config

ADMIN = os.environ.get("PINFLOW_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
CONFIG = Config(inject_host_prefix=False, retries={"max_attempts": 0}, region_name="us-east-1",
                max_pool_connections=32, read_timeout=60)
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:{}"
QUICK = "def handler(event, context):\n    return event\n"
SLOW = '''
import os, time

def handler(event, context):
    with open({path!r}, "a") as out:
        out.write(f"{{context.aws_request_id}} {{os.getppid()}} {{time.time()}}\\n")
    time.sleep(3)
    return event
'''


def chain() -> str:
    states: dict[str, Any] = {}
    for i in range(5):
        states[f"P{i}"] = {"Type": "Pass", "Next": f"T{i}"}
        states[f"T{i}"] = {"Type": "Task", "Resource": FUNCTION.format("quick"),
                           "Next": f"P{i + 1}" if i < 4 else "End"}
    states["End"] = {"Type": "Succeed"}
    return json.dumps({"StartAt": "P0", "States": states})


def zipped(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def database():
    admin = psycopg.connect(ADMIN, autocommit=True)
    name = f"pf_bench_cluster_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(ADMIN)
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))
    finally:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


class Node:
    def __init__(self, db: str, folder: Path, lease: float) -> None:
        self.port = free_port()
        log = (folder / f"node-{self.port}.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from pinflow.cli import main; main()", "server", "--port", str(self.port),
             "--db", db, "--isolation", "none", "--lease-seconds", str(lease), "--log-level", "warning"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.sfn = self.client("stepfunctions")

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=f"http://127.0.0.1:{self.port}", config=CONFIG,
                            aws_access_key_id="a", aws_secret_access_key="b")

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.sfn.list_state_machines()
                return
            except Exception:  # noqa: BLE001 - not listening yet
                time.sleep(0.05)
        raise RuntimeError("node not ready")

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@contextmanager
def cluster(count: int, folder: Path, lease: float):
    with database() as db:
        nodes = [Node(db, folder, lease) for _ in range(count)]
        try:
            for node in nodes:
                node.wait_ready()
            yield nodes
        finally:
            for node in nodes:
                node.kill()


def setup(node: Node, functions: dict[str, str], definition: str) -> str:
    iam, lam = node.client("iam"), node.client("lambda")
    role = iam.create_role(RoleName="bench", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    iam.attach_role_policy(RoleName="bench", PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaRole")
    for name, source in functions.items():
        lam.create_function(FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler",
                            Code={"ZipFile": zipped(source)})
    return str(node.sfn.create_state_machine(name="bench", roleArn=role, definition=definition)["stateMachineArn"])


def start_all(nodes: list[Node], machine: str, count: int) -> list[str]:
    def start(i: int) -> str:
        return str(nodes[i % len(nodes)].sfn.start_execution(stateMachineArn=machine, input=json.dumps({"i": i}))[
            "executionArn"])

    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(start, range(count)))


def wait_done(node: Node, machine: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while True:
        pages = node.sfn.get_paginator("list_executions").paginate(stateMachineArn=machine, statusFilter="RUNNING")
        if not any(page["executions"] for page in pages):
            return
        if time.monotonic() > deadline:
            raise RuntimeError("executions still running")
        time.sleep(0.05)


def transitions(count: int, executions: int, folder: Path) -> float:
    with cluster(count, folder, 20) as nodes:
        machine = setup(nodes[0], {"quick": QUICK}, chain())
        start_all(nodes, machine, 6)  # warm each node's function workers
        wait_done(nodes[0], machine)
        began = time.monotonic()
        start_all(nodes, machine, executions)
        wait_done(nodes[0], machine)
        took = time.monotonic() - began
    return executions * 11 / took  # ten states and the Succeed state


def takeover(lease: float, folder: Path) -> float:
    starts = folder / f"starts-{uuid.uuid4().hex[:6]}.txt"
    definition = json.dumps({"StartAt": "Slow", "States": {
        "Slow": {"Type": "Task", "Resource": FUNCTION.format("slow"), "End": True}}})
    with cluster(2, folder, lease) as nodes:
        machine = setup(nodes[0], {"slow": SLOW.format(path=str(starts))}, definition)
        start_all(nodes, machine, 8)
        victim = nodes[1]
        deadline = time.monotonic() + 30
        while not any(line.split()[1] == str(victim.process.pid) for line in _lines(starts)):
            if time.monotonic() > deadline:
                raise RuntimeError("the victim ran nothing")
            time.sleep(0.05)
        time.sleep(0.5)
        victim.kill()
        killed = time.time()
        wait_done(nodes[0], machine)
    first: dict[str, str] = {}
    again: list[float] = []
    for line in _lines(starts):
        request_id, pid, at = line.split()
        if request_id not in first:
            first[request_id] = pid
        elif first[request_id] == str(victim.process.pid):
            again.append(float(at) - killed)
    if not again:
        raise RuntimeError("no invocation was in flight on the killed node")
    return statistics.median(again)


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.count(" ") == 2] if path.exists() else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--executions", type=int, default=300)
    parser.add_argument("--lease", type=float, default=5.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: dict[str, Any] = {"cores": os.cpu_count(), "executions": args.executions, "lease_seconds": args.lease}
    with tempfile.TemporaryDirectory(prefix="pinflow-bench-cluster-") as tmp:
        folder = Path(tmp)
        for count in (1, 2, 3):
            rates = [transitions(count, args.executions, folder) for _ in range(args.runs)]
            results[f"transitions_per_second_{count}_nodes"] = round(statistics.median(rates), 1)
        times = [takeover(args.lease, folder) for _ in range(args.runs)]
        results["takeover_seconds_median"] = round(statistics.median(times), 2)
        results["takeover_seconds_runs"] = [round(t, 2) for t in times]
    if args.json:
        print(json.dumps(results))
    else:
        for key, value in results.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
