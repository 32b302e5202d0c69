"""Distributed Map figures on SQLite (synchronous=FULL): items per second, time to finish and peak RSS.

For each size (default 10,000 and 100,000), a Distributed Map reads that many items from a JSONL object
(ItemReader, from moto's S3 server run in a process of its own) and runs each as a child execution of one
state, MaxConcurrency 1,000, its results discarded (ResultPath null; the children's rows keep them). The
state is a Pass (`--processor pass`, the default) or a Task calling a published Python function version
that answers its input (`--processor lambda`: one warm worker per concurrent call, in the sandbox when
the machine has one).
Each size runs in a fresh process on a fresh database, so the peak RSS is that run's: the engine, the
store and the Map Run, moto excluded. Items per second = items / (the parent's stop - its start).

Usage: python bench/map.py [--sizes 10000,100000] [--concurrency 1000] [--processor pass|lambda] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _function(pf: object, folder: Path) -> str:
    """A published Python function version that answers its input."""
    from pinflow import arns
    from pinflow.functions.package import package_folder

    folder.mkdir(parents=True)
    (folder / "app.py").write_text("def handler(event, context):\n    return event\n")
    pf.functions.create_function("item", package_folder(folder), handler="app.handler",  # type: ignore[attr-defined]
                                 publish=True)
    return arns.function("item", "1")


def _child(size: int, concurrency: int, endpoint: str, processor: str) -> dict[str, float]:
    import boto3

    from pinflow import arns
    from pinflow.engine.integrations.aws_settings import AwsSettings
    from pinflow.service import Pinflow

    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    bucket = f"bench-{size}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="items.jsonl", Body="".join(f'{{"n": {n}}}\n' for n in range(size)).encode())
    s3.close()
    with tempfile.TemporaryDirectory() as folder:
        pf = Pinflow.open(data_dir=Path(folder) / "data", aws=AwsSettings(endpoints={"*": endpoint}))
        try:
            item: dict = {"Type": "Pass", "End": True}
            if processor == "lambda":
                item = {"Type": "Task", "Resource": _function(pf, Path(folder) / "fn"), "End": True}
            definition = {"StartAt": "Each", "States": {"Each": {
                "Type": "Map", "MaxConcurrency": concurrency, "ResultPath": None, "End": True,
                "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSONL"},
                               "Parameters": {"Bucket": bucket, "Key": "items.jsonl"}},
                "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                                  "StartAt": "Item", "States": {"Item": item}}}}}
            trust = json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
            pf.roles.create_role("bench-role", trust)
            pf.roles.put_role_policy("bench-role", "s3", json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket", "lambda:InvokeFunction"],
                 "Resource": "*"}]}))
            machine = pf.machines.create("fan", json.dumps(definition), arns.role("bench-role"))["stateMachineArn"]
            began = time.time()
            started = pf.engine.start_execution(machine, input="{}")
            row = pf.engine.wait_for(started["executionArn"], timeout=3600, poll=0.05)
            finished = time.time()
            if row["status"] != "SUCCEEDED":
                raise RuntimeError(f"the execution ended {row['status']}: {row['error']} {row['cause']}")
            seconds = (row["stopped_at"] or finished) - row["started_at"]
        finally:
            pf.close()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"processor": processor, "items": size, "seconds": round(seconds, 2),
            "items_per_second": round(size / seconds), "wall_seconds": round(finished - began, 2),
            "peak_rss_mb": round(peak_kib / 1024, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--concurrency", type=int, default=1000)
    parser.add_argument("--processor", choices=("pass", "lambda"), default="pass")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.concurrency, args.endpoint, args.processor)))
        return 0
    from integrations import start_moto  # bench/integrations.py, beside this script

    moto, endpoint = start_moto()
    results = []
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            done = subprocess.run([sys.executable, __file__, "--child", str(size), "--concurrency",
                                   str(args.concurrency), "--endpoint", endpoint, "--processor", args.processor],
                                  cwd=ROOT, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(done.stderr[-3000:], file=sys.stderr)
                return 1
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    finally:
        moto.kill()
        moto.wait()
    if args.json:
        print(json.dumps(results))
    else:
        for r in results:
            print(f"{r['processor']:>6} {r['items']:>7} items: {r['seconds']:>7.2f} s to finish, "
                  f"{r['items_per_second']:>6} items/s, peak RSS {r['peak_rss_mb']} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
