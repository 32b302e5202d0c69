"""What an AWS service integration adds to the call it makes: the latency of a Task's call through pinflow's
integration (the table lookup, the IAM check against the role's policies, converting the parameters by the
operation's model, botocore's call, shaping the result) over the same call made directly with boto3, to
the same endpoint: moto's server, in a process of its own on loopback.

Calls alternate (direct, SDK integration, optimized integration) so that the endpoint's own pace weighs on
each alike; each run reports median latencies, and the figure is the median over runs of the added
latency. Target: under 2 ms.

Usage: python bench/integrations.py [--runs 5] [--calls 300] [--json]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import boto3

from pinflow import arns
from pinflow.asl import commands as cmd
from pinflow.engine.integrations import base
from pinflow.engine.integrations.aws_settings import AwsSettings
from pinflow.service import Pinflow

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
            return process, url
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.1)


def _call(pf: Pinflow, resource: str, table: str, role: str, n: int) -> base.Call:
    payload = {"TableName": table, "Key": {"id": {"S": "a"}}}
    command = cmd.InvokeTask(task_id=f"t{n}", resource=resource, payload=payload, state_name="Get", attempt=0)
    return base.Call(pf.engine, arns.execution("bench", "e1"), role, {"aliases": {}, "refs": [], "policies": None},
                     command)


def one_run(pf: Pinflow, direct: Any, table: str, role: str, calls: int) -> dict[str, float]:
    timings: dict[str, list[float]] = {"direct": [], "sdk": [], "optimized": []}
    resources = {"sdk": "arn:aws:states:::aws-sdk:dynamodb:getItem", "optimized": "arn:aws:states:::dynamodb:getItem"}
    for n in range(calls):
        began = time.perf_counter()
        direct.get_item(TableName=table, Key={"id": {"S": "a"}})
        timings["direct"].append(time.perf_counter() - began)
        for kind, resource in resources.items():
            call = _call(pf, resource, table, role, n)
            began = time.perf_counter()
            started = pf.engine.dispatcher.start(call)
            timings[kind].append(time.perf_counter() - began)
            assert isinstance(started, base.Done) and started.event.__class__.__name__ == "TaskSucceeded", started
    return {kind: statistics.median(values) * 1000 for kind, values in timings.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    process, url = start_moto()
    try:
        options = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="bench",
                       aws_secret_access_key="bench")
        direct = boto3.client("dynamodb", **options)
        direct.create_table(TableName="bench", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                            BillingMode="PAY_PER_REQUEST")
        direct.put_item(TableName="bench", Item={"id": {"S": "a"}, "n": {"N": "1"}})
        with tempfile.TemporaryDirectory() as tmp:
            pf = Pinflow.open(data_dir=Path(tmp) / "data", aws=AwsSettings(endpoints={"dynamodb": url}))
            try:
                pf.roles.create_role("bench", TRUST)
                pf.roles.put_role_policy("bench", "ddb", json.dumps({"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Action": "dynamodb:GetItem",
                    "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/bench"}]}))
                role = arns.role("bench")
                one_run(pf, direct, "bench", role, 20)  # clients, models and policies loaded once
                runs = [one_run(pf, direct, "bench", role, args.calls) for _ in range(args.runs)]
            finally:
                pf.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
    figures = {
        "direct_call_ms": statistics.median(r["direct"] for r in runs),
        "sdk_integration_call_ms": statistics.median(r["sdk"] for r in runs),
        "optimized_integration_call_ms": statistics.median(r["optimized"] for r in runs),
        "sdk_added_ms": statistics.median(r["sdk"] - r["direct"] for r in runs),
        "optimized_added_ms": statistics.median(r["optimized"] - r["direct"] for r in runs),
    }
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"DynamoDB GetItem against moto's server, median of {args.runs} runs of {args.calls} calls each")
    print(f"  direct boto3 call:          {figures['direct_call_ms']:.2f} ms")
    print(f"  aws-sdk:dynamodb:getItem:   {figures['sdk_integration_call_ms']:.2f} ms "
          f"(added {figures['sdk_added_ms']:.2f} ms; runs: "
          f"{', '.join(format(r['sdk'] - r['direct'], '.2f') for r in runs)})")
    print(f"  dynamodb:getItem optimized: {figures['optimized_integration_call_ms']:.2f} ms "
          f"(added {figures['optimized_added_ms']:.2f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
