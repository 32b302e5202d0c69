"""The executions repository's typed rows: each row class's fields are exactly the columns its query
gives back, on both databases (a column a query selects that its class lacks, or the other way round,
fails here rather than on the one path that reads it)."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pinflow.store import base, open_store
from pinflow.store.repositories import executions, mapruns, work

MODULES = (executions, work, mapruns)
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def _typed_queries() -> Iterator[tuple[str, type[Any]]]:
    """(query name, row class) for every `tx.rows(...)` and `tx.row(...)` of the repository's modules."""
    for module in MODULES:
        tree = ast.parse(inspect.getsource(module))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("rows", "row") and len(node.args) >= 2):
                name, row = node.args[0], node.args[1]
                assert isinstance(name, ast.Constant) and isinstance(row, ast.Name), ast.unparse(node)
                yield name.value, getattr(module, row.id)


TYPED = sorted(set(_typed_queries()), key=lambda pair: pair[0])


def _fields(row: type[Any]) -> list[str]:
    return [field.name for field in dataclasses.fields(row)]


def _nulls(sql: str) -> dict[str, int | None]:
    """NULL for every parameter, but 0 for a LIMIT (SQLite wants an integer there)."""
    return {name: 0 if name == "limit" else None for name in _NAMED.findall(sql)}


def test_the_scan_finds_the_typed_queries() -> None:
    found = {name for name, _ in TYPED}
    assert {"exec_get", "outbox_claim_expired", "maprun_get_for_update", "watches_claim"} <= found
    assert all(dataclasses.is_dataclass(row) for _, row in TYPED)


def test_row_classes_are_frozen_and_slotted() -> None:
    for _, row in TYPED:
        assert row.__dataclass_params__.frozen, row  # type: ignore[attr-defined]
        assert "__slots__" in vars(row), row


def test_every_row_class_matches_its_query_s_columns_on_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "pinflow.db"
    store = open_store(f"sqlite:///{path}")
    translate = store.dialect.translate
    store.close()
    connection = sqlite3.connect(path)
    mismatched = {}
    try:
        for name, row in TYPED:
            sql = translate(base.QUERIES[name])
            columns = [c[0] for c in connection.execute(sql, _nulls(sql)).description]
            if columns != _fields(row):
                mismatched[name] = (columns, _fields(row))
    finally:
        connection.rollback()
        connection.close()
    assert mismatched == {}


@pytest.mark.postgres
def test_every_row_class_matches_its_query_s_columns_on_postgres(postgres_database: str) -> None:
    import psycopg

    store = open_store(postgres_database)
    translate = store.dialect.translate
    store.close()
    mismatched = {}
    with psycopg.connect(postgres_database) as connection:
        try:
            for name, row in TYPED:
                cursor = connection.execute(translate(base.QUERIES[name]), _nulls(base.QUERIES[name]))
                assert cursor.description is not None, name
                columns = [c.name for c in cursor.description]
                if columns != _fields(row):
                    mismatched[name] = (columns, _fields(row))
        finally:
            connection.rollback()
    assert mismatched == {}

