"""Fixtures for the store's own tests: a fresh SQLite file, and a fresh PostgreSQL database that is
dropped afterwards (skipped when the server is not reachable)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import backends


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database (`pf_store_...`), dropped after the test."""
    with backends.postgres_database("pf_store") as url:
        yield url
