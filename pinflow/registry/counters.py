"""Numbers handed out once: version numbers live in `counters` (kept by the functions repository), so
deleting never frees one for reuse."""

from __future__ import annotations

from pinflow import arns
from pinflow.store import Tx
from pinflow.store.repositories import functions as functions_repo

# The largest number the stores keep (PostgreSQL's INTEGER); a larger one was never handed out.
MAX_NUMBER = 2**31 - 1


def storable(number: int) -> bool:
    """Whether `number` could have been handed out (and so can be looked up in the store at all)."""
    return 0 <= number <= MAX_NUMBER


def number(text: str) -> int | None:
    """The number a caller's `text` names in the store, or None when no number handed out has it.

    The one way a version or qualifier written by a caller becomes a store key: ASCII digits only
    (`arns.is_number`), and none past MAX_NUMBER (which SQLite's and PostgreSQL's integers refuse).
    """
    if not arns.is_number(text):
        return None
    digits = text.lstrip("0") or "0"
    if len(digits) > len(str(MAX_NUMBER)):  # and int() refuses strings of thousands of digits
        return None
    value = int(digits)
    return value if storable(value) else None


def current(tx: Tx, key: str) -> int:
    """The last number handed out under `key` (0 for none)."""
    return functions_repo.counter(tx, key=key)


def next_number(tx: Tx, key: str) -> int:
    """Hand out the next number under `key`; two writers never get the same number."""
    return functions_repo.bump_counter(tx, key=key)


def forget(tx: Tx, key: str) -> None:
    """Forget `key`: numbers under it start again from 1 (a thing deleted and created again)."""
    functions_repo.delete_counter(tx, key=key)
