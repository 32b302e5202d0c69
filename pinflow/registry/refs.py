"""Which executions hold on to a version: the `execution_refs` rows the engine writes at start and
keeps while the execution runs, and while a failed, timed-out or aborted one can still be redriven."""

from __future__ import annotations

from collections.abc import Callable

from pinflow import arns
from pinflow.store import Tx
from pinflow.store.repositories import executions as exec_repo


def holders(tx: Tx, ref: str) -> list[str]:
    """The executions that reference exactly `ref` (a version ARN), in ARN order."""
    return exec_repo.holders(tx, ref=ref)


def holders_matching(tx: Tx, pattern: str, keep: Callable[[str], bool]) -> list[str]:
    """The executions holding a ref that matches a LIKE `pattern` (escape character `!`) and `keep`.

    LIKE only narrows the rows: SQLite compares ASCII letters without case, so `keep` decides.
    """
    found = {row.execution for row in exec_repo.refs_like(tx, pattern=pattern) if keep(row.ref)}
    return sorted(found)


def holders_by_ref(tx: Tx, pattern: str, keep: Callable[[str], bool]) -> dict[str, list[str]]:
    """As `holders_matching`, grouped by the ref held: ref -> executions, in ARN order."""
    found: dict[str, set[str]] = {}
    for row in exec_repo.refs_like(tx, pattern=pattern):
        if keep(row.ref):
            found.setdefault(row.ref, set()).add(row.execution)
    return {ref: sorted(executions) for ref, executions in sorted(found.items())}


def function_holders(tx: Tx) -> dict[str, dict[str, list[str]]]:
    """Every function version an execution holds, in one read: name -> version -> executions (ARN order).

    The rows are those of running executions and of failed ones that can still be redriven, so reading
    every Lambda ref once costs what is running, not what was ever run.
    """
    found: dict[str, dict[str, set[str]]] = {}
    for row in exec_repo.refs_starting(tx, prefix="arn:aws:lambda:"):
        parsed = arns.split_function(row.ref)
        if parsed is not None and parsed.qualifier:
            found.setdefault(parsed.name, {}).setdefault(parsed.qualifier, set()).add(row.execution)

    return {name: {version: sorted(held) for version, held in versions.items()}
            for name, versions in found.items()}


def like_literal(text: str) -> str:
    """`text` escaped for a LIKE pattern whose escape character is `!`."""
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def describe(executions: list[str]) -> str:
    """The executions for an error message: `[arn1, arn2]`."""
    return "[" + ", ".join(executions) + "]"
