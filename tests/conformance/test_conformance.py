"""The AWS-recorded conformance cases, judged as `conformance/check.py` judges them: results, and the
event histories of the cases that carry one (`check.py --history`).

Cases live beside the repository in `../shared/conformance/*.jsonl`; the module is skipped when that
folder is absent. Cases listed in `known_differences.KNOWN_DIFFERENCES` (results) and
`known_differences.HISTORY_KNOWN_DIFFERENCES` (histories) are expected to fail (strictly: a case that
starts passing must leave its table).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from pinflow import asl
from tests import recorded

KINDS = ("executions", "validation", "test_state")

if not recorded.AVAILABLE:
    pytest.skip(recorded.SKIP_REASON, allow_module_level=True)

CHECK = recorded.check()
KNOWN_DIFFERENCES: dict[str, str] = recorded.known().KNOWN_DIFFERENCES
HISTORY_KNOWN_DIFFERENCES: dict[str, str] = recorded.known().HISTORY_KNOWN_DIFFERENCES


def _slug(case_id: str) -> str:
    """A short readable name: the recorded test's parameter, else its function name."""
    test = case_id.split("::")[-2] if case_id.count("::") >= 2 else case_id
    match = re.search(r"\[(.*)\]$", test)
    name = match.group(1) if match else test.removeprefix("test_")
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:40]


def _cases(history: bool = False) -> list[Any]:
    """Every case as a pytest parameter; with `history`, the execution cases that carry an event
    history, except those whose recording `check.py` leaves out as unreproducible."""
    known = HISTORY_KNOWN_DIFFERENCES if history else KNOWN_DIFFERENCES
    params = []
    for kind in ("executions",) if history else KINDS:
        for index, case in enumerate(recorded.cases(kind)):
            if history and ("history" not in case["expected"] or CHECK.corpus_defect(case["id"])):
                continue
            marks = []
            if case["id"] in known:
                marks.append(pytest.mark.xfail(strict=True, reason=known[case["id"]]))
            name = f"{kind[0]}{index:03d}-{_slug(case['id'])}"
            params.append(pytest.param(kind, case, id=name, marks=marks))
    return params


ALL_CASES = _cases()
HISTORY_CASES = _cases(history=True)


@pytest.mark.parametrize(("kind", "case"), ALL_CASES)
def test_case(kind: str, case: dict[str, Any]) -> None:
    why = CHECK.run_case(kind, case, asl)
    assert why is None, why


def test_known_differences_name_existing_cases() -> None:
    ids = {param.values[1]["id"] for param in ALL_CASES}
    assert sorted(set(KNOWN_DIFFERENCES) - ids) == []


@pytest.mark.parametrize(("kind", "case"), HISTORY_CASES)
def test_history(kind: str, case: dict[str, Any]) -> None:
    """The event history, event by event, as `check.py --history` compares it with AWS's recording."""
    result = asl.run(case["definition"], case.get("input"))
    differences = CHECK.judge_history(case, result)
    assert differences == [], "\n".join(f"event {index}: {why}" for index, _, why, *_ in differences[:3])


def test_history_known_differences_name_existing_cases() -> None:
    ids = {param.values[1]["id"] for param in HISTORY_CASES}
    assert sorted(set(HISTORY_KNOWN_DIFFERENCES) - ids) == []
