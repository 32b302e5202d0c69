"""Median time of the IAM check made before every task call, for a role at IAM's limits, in microseconds.

The role has ten managed policies attached (IAM's default quota per role), each near IAM's 6,144-character
limit for a managed policy, and inline policies near the 10,240 characters a role's inline policies may
hold together; the check asks for a call none of them allows until the last statement of the last policy
(so every document is evaluated). Each run times `calls` checks on SQLite; the figure is the median of the
runs' medians.

Usage: python bench/authorise.py [--runs 5] [--calls 500] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from pinflow import arns
from pinflow.engine.integrations.base import Need
from pinflow.service import Pinflow

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:"


def _policy(prefix: str, statements: int) -> str:
    body = [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": f"{FUNCTION}{prefix}{i:04d}"}
            for i in range(statements)]
    return json.dumps({"Version": "2012-10-17", "Statement": body}, separators=(",", ":"))


def measure(runs: int, calls: int) -> float:
    """The median of each run's median check time, in microseconds."""
    with tempfile.TemporaryDirectory(prefix="pinflow-bench-") as tmp, \
            Pinflow.open(data_dir=Path(tmp, "data"), isolation="none") as pf:
        pf.roles.create_role("limits", TRUST)
        pf.roles.put_role_policy("limits", "a", _policy("a", 40))
        pf.roles.put_role_policy("limits", "b", _policy("b", 40))
        for index in range(10):
            arn = pf.policies.create_policy(f"p{index}", _policy(f"p{index}-", 50))["Arn"]
            pf.policies.attach_role_policy("limits", arn)
        role = arns.role("limits")
        need = Need("lambda:InvokeFunction", f"{FUNCTION}p9-0049")
        check = pf.engine.dispatcher.authoriser.check
        pinned = {"aliases": {}, "refs": [], "policies": pf.roles.policies_for(role)}
        check(role, pinned, need)  # allowed: the last statement of the last policy
        medians = []
        for _ in range(runs):
            samples = []
            for _ in range(calls):
                started = time.perf_counter()
                check(role, pinned, need)
                samples.append(time.perf_counter() - started)
            medians.append(statistics.median(samples))
    return statistics.median(medians) * 1e6


def main() -> None:
    """Parse the options, run the benchmark, print the figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--json", action="store_true", help='print {"iam_check_us": N}')
    args = parser.parse_args()
    figure = measure(args.runs, args.calls)
    if args.json:
        print(json.dumps({"iam_check_us": round(figure, 1)}))
    else:
        print(f"IAM check before a task call, role at IAM's limits: {figure:.1f} us "
              f"(median of {args.runs} runs x {args.calls} calls)")


if __name__ == "__main__":
    main()
