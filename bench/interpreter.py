"""Median state transitions per second through the in-memory driver (`pinflow.asl.run`).

Usage: python bench/interpreter.py [--runs 5] [--scale 1.0] [--json]

A transition is one state entered (each Map iteration's states count). Four workloads:
  chain     10 states: Pass states with Parameters and a Choice in the middle
  map       an inline Map over 1,000 items with a Pass inside
  template  one Pass whose Parameters have 20 `.$` fields
  jsonata   10 JSONata states: Tasks with Arguments and Output, Passes with Output, a Choice
Each run times enough executions for a few thousand transitions; the figure is the median of the runs.
Definitions are parsed once, as the engine does for a state machine version.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from pinflow import asl

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:echo"
HANDLERS = {FUNCTION: lambda payload: payload}


def chain_definition() -> dict[str, Any]:
    """Ten states: four Passes, a Choice, five Passes."""
    states: dict[str, Any] = {}
    for i in range(10):
        name, following = f"S{i}", f"S{i + 1}" if i < 9 else None
        if i == 4:
            states[name] = {"Type": "Choice", "Default": "Stop", "Choices": [
                {"Variable": "$.n", "NumericGreaterThanEquals": 0, "Next": following},
            ]}
            continue
        state: dict[str, Any] = {"Type": "Pass", "Parameters": {
            "n.$": "$.n", "step": i, "order.$": "$.order", "label.$": "$.label"}}
        state.update({"Next": following} if following else {"End": True})
        states[name] = state
    states["Stop"] = {"Type": "Fail", "Error": "Unexpected"}
    return {"StartAt": "S0", "States": states}


def map_definition() -> dict[str, Any]:
    processor = {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": True}}}
    fan = {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": processor, "End": True}
    return {"StartAt": "Fan", "States": {"Fan": fan}}


def template_definition() -> dict[str, Any]:
    parameters = {f"f{i}.$": f"$.fields.f{i}" for i in range(18)}
    parameters["nested.$"] = "$.order.lines[0].sku"
    parameters["state.$"] = "$$.State.Name"
    return {"StartAt": "Shape", "States": {"Shape": {"Type": "Pass", "Parameters": parameters, "End": True}}}


def jsonata_definition() -> dict[str, Any]:
    states: dict[str, Any] = {}
    for i in range(10):
        name, following = f"J{i}", f"J{i + 1}" if i < 9 else None
        state: dict[str, Any]
        if i == 4:
            states[name] = {"Type": "Choice", "Default": "Stop", "Choices": [
                {"Condition": "{% $states.input.n >= 0 %}", "Next": following},
            ]}
            continue
        if i % 2:
            state = {"Type": "Task", "Resource": FUNCTION,
                     "Arguments": {"n": "{% $states.input.n + 1 %}",
                                   "label": "{% $uppercase($states.input.label) %}"},
                     "Output": {"n": "{% $states.result.n %}", "label": "{% $states.result.label %}"}}
        else:
            state = {"Type": "Pass", "Output": {"n": "{% $states.input.n %}",
                                                "label": "{% $lowercase($states.input.label) %}"}}
        state.update({"Next": following} if following else {"End": True})
        states[name] = state
    states["Stop"] = {"Type": "Fail", "Error": "Unexpected"}
    return {"QueryLanguage": "JSONata", "StartAt": "J0", "States": states}


def transitions(result: asl.Result) -> int:
    return sum(1 for event in result.history if event["type"].endswith("StateEntered"))


def measure(definition: dict[str, Any], input: Any, executions: int, runs: int) -> float:
    """Median transitions per second over `runs` runs of `executions` executions each."""
    parsed = asl.parse(definition)
    warm = asl.run(parsed, input, handlers=HANDLERS)
    if warm.status != "SUCCEEDED":
        raise RuntimeError(f"the workload failed: {warm.error}: {warm.cause}")
    per_execution = transitions(warm)
    clock = time.perf_counter
    rates = []
    for _ in range(runs):
        started = clock()
        for _ in range(executions):
            asl.run(parsed, input, handlers=HANDLERS)
        rates.append(per_execution * executions / (clock() - started))
    return statistics.median(rates)


def workloads(scale: float) -> dict[str, Callable[[int], float]]:
    def count(n: int) -> int:
        return max(1, round(n * scale))

    chain_input = {"n": 1, "order": {"id": "o-1", "lines": [{"sku": "A", "qty": 2}]}, "label": "Chain"}
    template_input = {"fields": {f"f{i}": {"value": i, "text": f"v{i}"} for i in range(18)},
                      "order": {"lines": [{"sku": "A"}]}}
    map_input = {"items": list(range(1000))}
    jsonata_input = {"n": 1, "label": "Chain"}
    return {
        "chain_transitions_per_s": lambda runs: measure(chain_definition(), chain_input, count(500), runs),
        "map_transitions_per_s": lambda runs: measure(map_definition(), map_input, count(5), runs),
        "template_transitions_per_s": lambda runs: measure(
            template_definition(), template_input, count(2000), runs),
        "jsonata_chain_transitions_per_s": lambda runs: measure(
            jsonata_definition(), jsonata_input, count(100), runs),
    }


def main() -> None:
    """Parse the options, run the workloads, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the executions per run")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    figures: dict[str, float] = {}
    for key, workload in workloads(args.scale).items():
        try:
            figures[key] = round(workload(args.runs))
        except Exception as exc:  # JSONata may be missing or broken: report the other figures
            if not key.startswith("jsonata"):
                raise
            if not args.json:
                print(f"{key}: skipped ({type(exc).__name__}: {exc})")
    if args.json:
        print(json.dumps(figures))
        return
    for key, value in figures.items():
        name = key.removesuffix("_transitions_per_s")
        print(f"{name}: {value:,.0f} transitions/s (median of {args.runs} runs)")


if __name__ == "__main__":
    main()
