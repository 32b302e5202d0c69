"""The functions and roles repositories agree with their queries on both dialects: each call passes
exactly the query's `:name` parameters, and each row class's fields are, in order, the columns its
query selects on the migrated schema (a query that selects a column more or less fails here, not at
the first call that happens to find a row)."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from pinflow.store import base, open_store
from pinflow.store.repositories import functions, roles
from tests.backends import BACKENDS

MODULES = [functions, roles]
NAMED_FORMS = {"run", "run_many", "rows", "row", "value"}
_LITERAL = re.compile(r"'(?:[^']|'')*'")
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@dataclasses.dataclass(frozen=True)
class Call:
    where: str
    query: str
    row_class: type | None  # for `rows` and `row`
    keywords: frozenset[str] | None  # None: passed as a mapping (`run_many`)


def _calls(module: ModuleType) -> list[Call]:
    """Every named-form query call in a repository module."""
    tree = ast.parse(inspect.getsource(module))
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in NAMED_FORMS
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "tx"):
            continue
        where = f"{Path(module.__file__ or '').name}:{node.lineno}"
        first = node.args[0]
        if isinstance(first, ast.Constant):
            names = [str(first.value)]
        else:  # a loop over literal names
            assert isinstance(first, ast.Name), where
            loops = [n for n in ast.walk(tree) if isinstance(n, ast.For) and isinstance(n.target, ast.Name)
                     and n.target.id == first.id]
            names = [str(element.value) for loop in loops for element in loop.iter.elts]  # type: ignore[attr-defined]
        row_class = None
        if node.func.attr in ("rows", "row"):
            assert isinstance(node.args[1], ast.Name), where
            row_class = getattr(module, node.args[1].id)
        keywords = None if node.func.attr == "run_many" else frozenset(k.arg for k in node.keywords if k.arg)
        found += [Call(where, name, row_class, keywords) for name in names]
    return found


CALLS = [call for module in MODULES for call in _calls(module)]


def _parameters(sql: str) -> set[str]:
    return set(_NAMED.findall(_LITERAL.sub("''", sql)))


def test_the_scan_sees_every_query_of_both_repositories() -> None:
    assert {call.query for call in CALLS} >= {"function_get", "function_versions_delete", "counter_bump",
                                              "role_page", "attachments_with_configs"}
    assert sum(call.row_class is not None for call in CALLS) >= 20


def test_rows_are_frozen_and_slotted() -> None:
    loose = {call.row_class.__name__ for call in CALLS if call.row_class is not None
             and not (call.row_class.__dataclass_params__.frozen and "__slots__" in vars(call.row_class))}  # type: ignore[attr-defined]
    assert loose == set()


@pytest.mark.parametrize("call", CALLS, ids=lambda call: f"{call.where}:{call.query}")
def test_each_call_passes_exactly_the_query_s_parameters(call: Call) -> None:
    if call.keywords is not None:
        assert call.keywords == _parameters(base.QUERIES[call.query])


@pytest.fixture(params=BACKENDS)
def connection(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, Any, Any]]:
    """(a connection to a migrated empty database, its dialect, the value to pass for every parameter)."""
    if request.param == "postgres":
        from tests import backends

        with backends.postgres_schema("pinflow_repositories") as url:
            store = open_store(url)
            connection = store.dialect.connect()
            try:
                yield connection, store.dialect, None  # NULL: PostgreSQL types it from where it stands
            finally:
                connection.close()
                store.close()
    else:
        store = open_store(f"sqlite:///{tmp_path / 'pinflow.db'}")
        connection = store.dialect.connect()
        try:
            yield connection, store.dialect, 0  # SQLite refuses `LIMIT NULL`; any value does on empty tables
        finally:
            connection.close()
            store.close()


def test_each_row_class_has_the_columns_of_its_queries(connection: tuple[Any, Any, Any]) -> None:
    database, dialect, value = connection
    mismatched = {}
    for call in CALLS:
        if call.row_class is None:
            continue
        sql = base.QUERIES[call.query]
        cursor = database.execute(dialect.translate(sql), {name: value for name in _parameters(sql)})
        columns = [column[0] for column in cursor.description]
        fields = [field.name for field in dataclasses.fields(call.row_class)]
        if columns != fields:
            mismatched[call.query] = (columns, fields)
        cursor.fetchall()
    assert mismatched == {}
