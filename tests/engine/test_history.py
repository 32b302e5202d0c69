"""The durable engine records the history AWS records: AWS-recorded event histories (../shared/conformance)
replayed through real executions on SQLite and PostgreSQL, and compared as `check.py --history` compares
them. GetExecutionHistory reads these rows."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from tests import recorded
from tests.roles import execution_role

# The events whose linking rules the interpreter applies (Map and Parallel, evaluation failures).
RULED = {"MapIterationStarted", "ParallelStateStarted", "EvaluationFailed", "MapStateFailed", "ParallelStateFailed"}

if not recorded.AVAILABLE:
    pytest.skip(recorded.SKIP_REASON, allow_module_level=True)

CHECK = recorded.check()
KNOWN = recorded.known().HISTORY_KNOWN_DIFFERENCES


def _cases() -> list[Any]:
    """Recorded histories that involve the linking rules and run without a Wait state (`tests/conformance`
    compares every recorded history through the same interpreter in memory)."""
    chosen = []
    for case in recorded.cases("executions"):
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
    role = execution_role(pf, "history-role")
    failures = []
    for index, case in enumerate(HISTORIES):
        definition = case["definition"] if isinstance(case["definition"], str) else json.dumps(case["definition"])
        machine = pf.machines.create(f"recorded-{index}", definition, role)["stateMachineArn"]
        arn = pf.engine.start_execution(machine, name="run", input=json.dumps(case.get("input", {})))["executionArn"]
        while pf.engine.wait_for(arn, timeout=0.5)["status"] == "RUNNING":
            clock.advance(60)  # a retry's back-off is a timer
        history = pf.engine.history(arn, limit=1000)
        differences = CHECK.judge_history(case, SimpleNamespace(history=history))
        if differences:
            failures.append((case["id"], differences[0][2]))
    assert failures == []
