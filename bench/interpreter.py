"""Median state transitions per second through the in-memory driver (`pinflow.asl.run`).

Usage: python bench/interpreter.py [--runs 5] [--scale 1.0] [--cpu] [--json]

A transition is one state entered (each Map iteration's states count). Five workloads:
  chain     10 states: Pass states with Parameters and a Choice in the middle
  map       an inline Map over 1,000 items with a Pass inside
  template  one Pass whose Parameters have 20 `.$` fields
  jsonata   10 JSONata states: Tasks with Arguments and Output, Passes with Output, a Choice
  durable   bench/durable.py's chain (9 Passes, then a Lambda Task) stepped as the durable engine steps
            it: `step` with `Start` (the ten states), then `step` with the task's result
Each run times enough executions for a few thousand transitions; the figure is the median of the runs,
also shown as microseconds per transition. `--cpu` times the process's CPU time rather than the wall
clock (steadier on a busy machine). Definitions are parsed once, as the engine does for a state
machine version.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from pinflow import asl
from pinflow.asl import commands, events

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


def durable_definition() -> dict[str, Any]:
    """bench/durable.py's chain: nine Pass states, then a Lambda Task."""
    states: dict[str, Any] = {}
    names = [f"P{i}" for i in range(9)]
    for i, name in enumerate(names):
        states[name] = {"Type": "Pass", "Parameters": {"i": i, "v.$": "$"}, "Next": names[i + 1] if i < 8 else "Call"}
    states["Call"] = {"Type": "Task", "Resource": FUNCTION, "End": True}
    return {"StartAt": "P0", "States": states}


def durable_steps(parsed: asl.Definition, input: Any, at: float) -> asl.Step:
    """One execution as the durable engine steps it: the first step, then the task's result."""
    execution = {"Id": "arn:aws:states:us-east-1:123456789012:execution:chain:run", "Name": "run",
                 "RoleArn": "arn:aws:iam::123456789012:role/bench-role", "StartTime": "2024-01-01T00:00:00.000Z"}
    first = asl.step(parsed, None, events.Start(
        input=input, at=at, execution=execution,
        state_machine={"Id": "arn:aws:states:us-east-1:123456789012:stateMachine:chain", "Name": "chain"},
        seed=12345, type="STANDARD"))
    task = first.commands[-1]
    assert isinstance(task, commands.InvokeTask)
    return asl.step(parsed, first.state, events.TaskSucceeded(task_id=task.task_id, output={"ok": True}, at=at + 0.5))


def transitions(result: asl.Result) -> int:
    return sum(1 for event in result.history if event["type"].endswith("StateEntered"))


Clock = Callable[[], float]


def measure(definition: dict[str, Any], input: Any, executions: int, runs: int, clock: Clock) -> float:
    """Median transitions per second over `runs` runs of `executions` executions each."""
    parsed = asl.parse(definition)
    warm = asl.run(parsed, input, handlers=HANDLERS)
    if warm.status != "SUCCEEDED":
        raise RuntimeError(f"the workload failed: {warm.error}: {warm.cause}")
    return median_rate(transitions(warm), executions, runs, clock,
                       lambda: asl.run(parsed, input, handlers=HANDLERS))


def measure_durable(executions: int, runs: int, clock: Clock) -> float:
    """Median transitions per second of `durable_steps` over `runs` runs of `executions` executions."""
    parsed = asl.parse(durable_definition())
    at = 1_700_000_000.0
    if durable_steps(parsed, {}, at).status != "SUCCEEDED":
        raise RuntimeError("the durable workload did not succeed")
    return median_rate(len(parsed.blocks[""]["States"]), executions, runs, clock,
                       lambda: durable_steps(parsed, {}, at))


def median_rate(per_execution: int, executions: int, runs: int, clock: Clock, execute: Callable[[], object]) -> float:
    rates = []
    for _ in range(runs):
        started = clock()
        for _ in range(executions):
            execute()
        rates.append(per_execution * executions / (clock() - started))
    return statistics.median(rates)


def workloads(scale: float, clock: Clock) -> dict[str, Callable[[int], float]]:
    def count(n: int) -> int:
        return max(1, round(n * scale))

    chain_input = {"n": 1, "order": {"id": "o-1", "lines": [{"sku": "A", "qty": 2}]}, "label": "Chain"}
    template_input = {"fields": {f"f{i}": {"value": i, "text": f"v{i}"} for i in range(18)},
                      "order": {"lines": [{"sku": "A"}]}}
    map_input = {"items": list(range(1000))}
    jsonata_input = {"n": 1, "label": "Chain"}
    return {
        "chain_transitions_per_s": lambda runs: measure(chain_definition(), chain_input, count(500), runs, clock),
        "map_transitions_per_s": lambda runs: measure(map_definition(), map_input, count(5), runs, clock),
        "template_transitions_per_s": lambda runs: measure(
            template_definition(), template_input, count(2000), runs, clock),
        "jsonata_chain_transitions_per_s": lambda runs: measure(
            jsonata_definition(), jsonata_input, count(100), runs, clock),
        "durable_chain_transitions_per_s": lambda runs: measure_durable(count(500), runs, clock),
    }


def main() -> None:
    """Parse the options, run the workloads, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the executions per run")
    parser.add_argument("--cpu", action="store_true", help="time the process's CPU time, not the wall clock")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    figures: dict[str, float] = {}
    clock = time.process_time if args.cpu else time.perf_counter
    for key, workload in workloads(args.scale, clock).items():
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
        print(f"{name}: {value:,.0f} transitions/s, {1e6 / value:.2f} µs per transition (median of {args.runs} runs)")


if __name__ == "__main__":
    main()
