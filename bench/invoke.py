"""Median overhead of a warm invocation of a no-op handler per runtime, in microseconds (and a cold start's, in ms).

Usage: python bench/invoke.py [--runs 5] [--calls 2000] [--cold 10] [--isolation sandbox|none]
                              [--runtime python|nodejs|runtime-api ...] [--json]

Each run times `calls` sequential invocations of one warm worker; the figure is the median of the runs'
medians. The handler does nothing, so the time is the invoker's own cost: encoding, the round trip
(through the pipes for Python and Node.js; through the worker's Runtime API, over HTTP on loopback, for a
custom runtime, here awslambdaric's Python client as a `provided.al2023` bootstrap), decoding and the log
check. A cold start (a version's first invocation: the code check, the sandbox, the interpreter, the
import) is timed `cold` times. Workers run in the sandbox by default (`--isolation none` measures them
without). Targets: Python under 300 us, Node.js under 1 ms, the Runtime API under 2 ms.
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

# Each runtime's no-op function: its files and handler.
FUNCTIONS = {
    "python": ("python3.11", {"noop.py": "def handler(event, context):\n    return None\n"}, "noop.handler"),
    "nodejs": ("nodejs20.x", {"noop.js": "exports.handler = async () => null;\n"}, "noop.handler"),
    "runtime-api": ("provided.al2023", {
        "noop.py": "def handler(event, context):\n    return None\n",
        "bootstrap": "#!/bin/sh\nexec python3 -m awslambdaric \"$_HANDLER\"\n"}, "noop.handler"),
}
TARGETS_US = {"python": 300, "nodejs": 1000, "runtime-api": 2000}


def measure(runtime: str, runs: int, calls: int, cold: int, isolation: sandbox.Isolation) -> tuple[float, float]:
    """The median of each run's median invocation time in microseconds, and the median cold start in ms."""
    declared, files, handler = FUNCTIONS[runtime]
    with tempfile.TemporaryDirectory(prefix="pinflow-bench-") as tmp:
        source = Path(tmp, "src")
        source.mkdir()
        for name, text in files.items():
            (source / name).write_text(text)
            if name == "bootstrap":
                (source / name).chmod(0o755)
        code = package.package_folder(source)
        digest = package.sha256_hex(code)
        spec = invoker.FunctionSpec(
            function_name="noop",
            version="1",
            arn="arn:aws:lambda:us-east-1:123456789012:function:noop:1",
            code_sha256=digest,
            handler=handler,
            runtime=declared,
            timeout=10.0,
        )
        with invoker.Invoker(Path(tmp, "code"), {digest: code}.__getitem__, isolation=isolation) as inv:
            starts = []
            for number in range(2, cold + 2):  # each version number is a pool of its own: a cold start
                started = time.perf_counter()
                inv.invoke(dataclasses.replace(spec, version=str(number)), {}, request_id=f"cold-{number}")
                starts.append(time.perf_counter() - started)
            event = {"key": "value"}
            for i in range(200):  # start the worker and let both sides warm up
                result = inv.invoke(spec, event, request_id=f"warm-{i}")
                if result.function_error:
                    raise SystemExit(f"{runtime}: the no-op function failed: {result.payload}")
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
    """Parse the options, run the benchmark for each runtime, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--cold", type=int, default=10, help="cold starts to time")
    parser.add_argument("--isolation", choices=(sandbox.SANDBOX, sandbox.NONE), default=sandbox.SANDBOX)
    parser.add_argument("--runtime", choices=tuple(FUNCTIONS), action="append",
                        help="a runtime to measure (repeat for several; default: all)")
    parser.add_argument("--json", action="store_true", help='print {"runtimes": {name: {...}}, "isolation": ...}')
    args = parser.parse_args()
    isolation = sandbox.create(args.isolation)
    figures = {}
    for runtime in args.runtime or list(FUNCTIONS):
        overhead, cold = measure(runtime, args.runs, args.calls, args.cold, isolation)
        figures[runtime] = {"warm_invoke_overhead_us": round(overhead, 1), "cold_start_ms": round(cold, 1),
                            "target_us": TARGETS_US[runtime]}
        if not args.json:
            verdict = "within" if overhead < TARGETS_US[runtime] else "OVER"
            print(f"{runtime:12} warm invoke overhead: {overhead:7.1f} us ({verdict} its {TARGETS_US[runtime]} us "
                  f"target; median of {args.runs} runs x {args.calls} calls, isolation {args.isolation}); "
                  f"cold start: {cold:.1f} ms (median of {args.cold})")
    if args.json:
        print(json.dumps({"runtimes": figures, "isolation": args.isolation}))


if __name__ == "__main__":
    main()
