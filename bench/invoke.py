"""Median overhead of a warm invocation of a no-op handler, in microseconds (and a cold start's, in ms).

Usage: python bench/invoke.py [--runs 5] [--calls 2000] [--cold 10] [--isolation sandbox|none] [--json]

Each run times `calls` sequential invocations of one warm worker; the figure is the median of
the runs' medians. The handler does nothing, so the time is the invoker's own cost: encoding,
the round trip through the pipes, decoding and the log check. A cold start (a version's first
invocation: the code check, the sandbox, the interpreter, the import) is timed `cold` times. The
worker runs in the sandbox by default (`--isolation none` measures it without).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import tempfile
import time
from pathlib import Path

from pinflow.functions import invoker, package, sandbox

HANDLER_SOURCE = "def handler(event, context):\n    return None\n"


def measure(runs: int, calls: int, cold: int, isolation: sandbox.Isolation) -> tuple[float, float]:
    """The median of each run's median invocation time in microseconds, and the median cold start in ms."""
    with tempfile.TemporaryDirectory(prefix="pinflow-bench-") as tmp:
        source = Path(tmp, "src")
        source.mkdir()
        (source / "noop.py").write_text(HANDLER_SOURCE)
        code = package.package_folder(source)
        digest = package.sha256_hex(code)
        spec = invoker.FunctionSpec(
            function_name="noop",
            version="1",
            arn="arn:aws:lambda:us-east-1:123456789012:function:noop:1",
            code_sha256=digest,
            handler="noop.handler",
        )
        with invoker.Invoker(Path(tmp, "code"), {digest: code}.__getitem__, isolation=isolation) as inv:
            starts = []
            for number in range(2, cold + 2):  # each version number is a pool of its own: a cold start
                started = time.perf_counter()
                inv.invoke(dataclasses.replace(spec, version=str(number)), {}, request_id=f"cold-{number}")
                starts.append(time.perf_counter() - started)
            event = {"key": "value"}
            for i in range(200):  # start the worker and let both sides warm up
                inv.invoke(spec, event, request_id=f"warm-{i}")
            medians = []
            clock = time.perf_counter
            for run in range(runs):
                samples = []
                for i in range(calls):
                    started = clock()
                    inv.invoke(spec, event, request_id=f"{run}-{i}")
                    samples.append(clock() - started)
                medians.append(statistics.median(samples))
    return statistics.median(medians) * 1e6, statistics.median(starts) * 1e3 if starts else 0.0


def main() -> None:
    """Parse the options, run the benchmark, print the figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--cold", type=int, default=10, help="cold starts to time")
    parser.add_argument("--isolation", choices=(sandbox.SANDBOX, sandbox.NONE), default=sandbox.SANDBOX)
    parser.add_argument("--json", action="store_true", help='print {"warm_invoke_overhead_us": N, ...}')
    args = parser.parse_args()
    overhead, cold = measure(args.runs, args.calls, args.cold, sandbox.create(args.isolation))
    if args.json:
        print(json.dumps({"warm_invoke_overhead_us": round(overhead, 1), "cold_start_ms": round(cold, 1),
                          "isolation": args.isolation}))
    else:
        print(f"warm invoke overhead: {overhead:.1f} us (median of {args.runs} runs x {args.calls} calls, "
              f"isolation {args.isolation}); cold start: {cold:.1f} ms (median of {args.cold})")


if __name__ == "__main__":
    main()
