"""The two store backends every contract test runs on: SQLite in a temporary folder, and the real
PostgreSQL server (one schema per test, dropped afterwards, so runs never collide)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

POSTGRES_URL = os.environ.get("PINFLOW_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
# Set by .ci/run: a PostgreSQL test fails, rather than skips, where the server cannot be reached.
REQUIRE_POSTGRES = "PINFLOW_REQUIRE_POSTGRES"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _admin() -> Any:
    """A connection to the test server's database `test`; skips the test where PostgreSQL is away,
    or fails it where PINFLOW_REQUIRE_POSTGRES is set."""
    required = bool(os.environ.get(REQUIRE_POSTGRES))
    try:
        import psycopg
    except ImportError as exc:
        if required:
            pytest.fail(f"{REQUIRE_POSTGRES} is set and psycopg is not installed: {exc}")
        pytest.skip(f"psycopg is not installed: {exc}")
    try:
        return psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if required:
            pytest.fail(f"{REQUIRE_POSTGRES} is set and PostgreSQL is not reachable at {POSTGRES_URL}: {exc}")
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc}")


@contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database (`<prefix>_...`), dropped afterwards; skips the test
    when PostgreSQL is away. For what a schema cannot give: NOTIFY channels, several processes,
    migrations from nothing."""
    admin = _admin()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(POSTGRES_URL)
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))
    finally:
        # FORCE: a connection a failed test left open must not keep the database alive.
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@contextmanager
def postgres_schema(prefix: str = "pinflow_test") -> Iterator[str]:
    """A database URL whose search_path is a fresh schema; skips the test when PostgreSQL is away."""
    admin = _admin()
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()
