"""Fixtures for registry tests: one contract, run on real SQLite and on real PostgreSQL."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pinflow.clock import FakeClock
from pinflow.store import Store, open_store
from tests.backends import BACKENDS, postgres_schema


def _postgres_store() -> Iterator[Store]:
    with postgres_schema("pinflow_registry") as url:
        store = open_store(url)
        try:
            yield store
        finally:
            store.close()


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "postgres":
        yield from _postgres_store()
        return
    opened = open_store(data_dir=tmp_path / "data")
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=1_706_702_400.0)  # 2024-01-31T12:00:00Z


def code(body: str) -> bytes:
    """A function's zip: `app.py` holding `body`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("app.py", date_time=(1980, 1, 1, 0, 0, 0)), body)
    return buffer.getvalue()


def hold(store: Store, execution: str, ref: str) -> None:
    """What the engine writes at start: `execution` holds on to `ref` while it runs."""
    with store.transaction() as tx:
        tx.execute("INSERT INTO execution_refs (execution, ref) VALUES (?, ?)", (execution, ref))


def release(store: Store, execution: str) -> None:
    with store.transaction() as tx:
        tx.execute("DELETE FROM execution_refs WHERE execution = ?", (execution,))


def exactly(message: str) -> str:
    """A `pytest.raises(match=...)` pattern for exactly this message."""
    return "^" + re.escape(message) + "$"
