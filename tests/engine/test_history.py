"""The durable engine records the history AWS records: AWS-recorded event histories (../shared/conformance)
replayed through real executions on SQLite and PostgreSQL, and compared as `check.py --history` compares
them. GetExecutionHistory reads these rows."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from pinflow import arns
from tests.roles import execution_role

CASES = Path(__file__).resolve().parents[2].parent / "shared" / "conformance"
ROLE = arns.role("history-role")
# The events whose linking rules the interpreter applies (Map and Parallel, evaluation failures).
RULED = {"MapIterationStarted", "ParallelStateStarted", "EvaluationFailed", "MapStateFailed", "ParallelStateFailed"}

if not (CASES / "check.py").is_file():
    pytest.skip(f"no conformance cases at {CASES}: the recorded event histories are not checked",
                allow_module_level=True)


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CHECK = _load("pinflow_conformance_check_engine", CASES / "check.py")
KNOWN = _load("pinflow_known_differences_engine",
              Path(__file__).resolve().parents[1] / "conformance" / "known_differences.py").HISTORY_KNOWN_DIFFERENCES


def _cases() -> list[Any]:
    """Recorded histories that involve the linking rules and run without a Wait state (`tests/conformance`
    compares every recorded history through the same interpreter in memory)."""
    chosen = []
    for line in (CASES / "executions.jsonl").read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        history = case["expected"].get("history")
        if not history or case["id"] in KNOWN or CHECK.corpus_defect(case["id"]):
            continue
        text = case["definition"] if isinstance(case["definition"], str) else json.dumps(case["definition"])
        if '"Wait"' in text or not RULED & {event["type"] for event in history}:
            continue
        chosen.append(case)
    return chosen


HISTORIES = _cases()


def test_recorded_histories_are_chosen() -> None:
    assert len(HISTORIES) >= 20


def test_the_engine_records_aws_histories(open_pinflow, clock) -> None:
    pf = open_pinflow()
    execution_role(pf, "history-role")  # CreateStateMachine refuses a role Step Functions cannot assume
    failures = []
    for index, case in enumerate(HISTORIES):
        definition = case["definition"] if isinstance(case["definition"], str) else json.dumps(case["definition"])
        machine = pf.machines.create(f"recorded-{index}", definition, ROLE)["stateMachineArn"]
        arn = pf.engine.start_execution(machine, name="run", input=json.dumps(case.get("input", {})))["executionArn"]
        while pf.engine.wait_for(arn, timeout=0.5)["status"] == "RUNNING":
            clock.advance(60)  # a retry's back-off is a timer
        history = pf.engine.history(arn, limit=1000)
        differences = CHECK.judge_history(case, SimpleNamespace(history=history))
        if differences:
            failures.append((case["id"], differences[0][2]))
    assert failures == []
