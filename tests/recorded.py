"""The AWS-recorded conformance cases beside the repository (`../shared/conformance`), for every test that
reads them: `check.py` (how a result or a history is judged), the known-differences tables, and the
cases of a kind. `AVAILABLE` says whether the folder is there; tests skip with `SKIP_REASON` when not."""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

CASES = Path(__file__).resolve().parents[1].parent / "shared" / "conformance"
AVAILABLE = (CASES / "check.py").is_file()
SKIP_REASON = f"no conformance cases at {CASES}: the AWS-recorded cases and their event histories are not checked"


def _load(name: str, path: Path) -> ModuleType:
    """A module from its file, whatever pytest's import mode (neither folder is a package)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def check() -> ModuleType:
    """`check.py`: `run_case`, `judge_history`, `corpus_defect`."""
    return _load("pinflow_conformance_check", CASES / "check.py")


@cache
def known() -> ModuleType:
    """`tests/conformance/known_differences.py`: KNOWN_DIFFERENCES and HISTORY_KNOWN_DIFFERENCES."""
    return _load("pinflow_known_differences", Path(__file__).with_name("conformance") / "known_differences.py")


@cache
def cases(kind: str) -> tuple[dict[str, Any], ...]:
    """The cases of one file (`executions`, `validation`, `test_state`), in order; none if it is absent."""
    path = CASES / f"{kind}.jsonl"
    if not path.is_file():
        return ()
    return tuple(json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
