"""Fixtures for registry tests: one contract, run on real SQLite and on real PostgreSQL."""

from __future__ import annotations

import io
import os
import re
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pinflow.clock import FakeClock
from pinflow.store import Store, open_store

# Each PostgreSQL run gets a schema of its own, dropped afterwards, so runs never collide.
POSTGRES_URL = os.environ.get("PINFLOW_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_store() -> Iterator[Store]:
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc}")
    schema = f"pinflow_registry_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in POSTGRES_URL else "?"
    store = open_store(f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}")
    try:
        yield store
    finally:
        store.close()
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
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
