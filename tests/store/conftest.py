"""Fixtures for the store's own tests: a fresh SQLite file, and a fresh PostgreSQL database that is
dropped afterwards (skipped when the server is not reachable); `store`, an opened store on each."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path

import pytest

from pinflow.store import Store, open_store
from tests import backends


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database (`pf_store_...`), dropped after the test."""
    with backends.postgres_database("pf_store") as url:
        yield url


@pytest.fixture(params=backends.BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated store on SQLite, then on PostgreSQL (a schema of its own, dropped afterwards)."""
    with backends.postgres_schema("pf_store") if request.param == "postgres" else nullcontext() as url:
        opened = open_store(url, data_dir=tmp_path)
        try:
            yield opened
        finally:
            opened.close()
