"""The repositories agree with their queries on both dialects, whichever aggregate: each aggregate's
queries (`queries/<aggregate>.sql`) are run by its own repository modules alone, each call passes exactly
the query's `:name` parameters, and each typed row's fields are, in order, the columns its query selects
on the migrated schema (rows are built from the columns in that order), frozen and slotted. A query that
selects a column more or less, or a call that misses a parameter, fails here rather than on the first
call that happens to find a row."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import pkgutil
import re
from collections.abc import Iterator
from contextlib import nullcontext
from importlib import import_module, resources
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from pinflow.store import base, open_store, repositories
from tests.backends import BACKENDS, postgres_schema
from tests.store.test_queries import _bindings, _string_values

MODULES = [import_module(f"{repositories.__name__}.{info.name}")
           for info in pkgutil.iter_modules(repositories.__path__)]
# Which repository modules own each query file (an aggregate may span several modules).
OWNERS = {"executions": {"executions", "work", "mapruns"}, "functions": {"functions"}, "roles": {"roles"},
          "state_machines": {"state_machines"}}
NAMED_FORMS = {"run", "run_many", "rows", "row", "value"}
_LITERAL = re.compile(r"'(?:[^']|'')*'")
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_COUNTS = re.compile(r"(?:LIMIT|OFFSET)\s+:(\w+)", re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class Call:
    module: str
    where: str
    query: str
    row_class: type | None  # for `rows` and `row`
    keywords: frozenset[str] | None  # None: passed as mappings (`run_many`)


def _calls(module: ModuleType) -> list[Call]:
    """Every query call in a repository module."""
    tree = ast.parse(inspect.getsource(module))
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    short = module.__name__.rsplit(".", 1)[-1]
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "tx"):
            continue
        where = f"{short}.py:{node.lineno}"
        assert node.func.attr in NAMED_FORMS, f"{where}: positional form {node.func.attr}"
        names = _string_values(node.args[0])
        if names is None and isinstance(node.args[0], ast.Name):
            enclosing = [f for f in functions if f.lineno <= node.lineno <= (f.end_lineno or f.lineno)]
            names = _bindings(enclosing[-1], node.args[0].id)
        assert names, f"{where}: a query name the scan cannot read"
        row_class = None
        if node.func.attr in ("rows", "row"):
            assert isinstance(node.args[1], ast.Name), where
            row_class = getattr(module, node.args[1].id)
        keywords = None if node.func.attr == "run_many" else frozenset(k.arg for k in node.keywords if k.arg)
        found += [Call(short, where, name, row_class, keywords) for name in names]
    return found


CALLS = [call for module in MODULES for call in _calls(module)]
TYPED = sorted({(call.query, call.row_class) for call in CALLS if call.row_class is not None},
               key=lambda pair: pair[0])


def _parameters(sql: str) -> set[str]:
    return set(_NAMED.findall(_LITERAL.sub("''", sql)))


def test_the_scan_sees_every_repository() -> None:
    assert {module.__name__.rsplit(".", 1)[-1] for module in MODULES} == set().union(*OWNERS.values())
    assert {"exec_get", "outbox_claim_expired", "function_get", "role_page", "state_machine_status"} <= {
        call.query for call in CALLS}
    assert len(TYPED) >= 60


def test_each_aggregate_s_queries_are_run_by_its_own_repository_alone() -> None:
    strays = []
    for aggregate, owners in OWNERS.items():
        text = resources.files("pinflow.store").joinpath("queries", f"{aggregate}.sql").read_text(encoding="utf-8")
        defined = set(base.load_queries(text))
        strays += [f"{call.where}: {call.query} ({aggregate}.sql)" for call in CALLS
                   if call.query in defined and call.module not in owners]
    assert strays == []


def test_rows_are_frozen_and_slotted() -> None:
    loose = {row.__name__ for _, row in TYPED
             if not (row.__dataclass_params__.frozen and "__slots__" in vars(row))}  # type: ignore[attr-defined]
    assert loose == set()


@pytest.mark.parametrize("call", [call for call in CALLS if call.keywords is not None],
                         ids=lambda call: f"{call.where}:{call.query}")
def test_each_call_passes_exactly_the_query_s_parameters(call: Call) -> None:
    assert call.keywords == _parameters(base.QUERIES[call.query])


@pytest.fixture(params=BACKENDS)
def connection(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    """(a connection to a migrated empty database, its dialect)."""
    with postgres_schema("pinflow_repositories") if request.param == "postgres" else nullcontext() as url:
        store = open_store(url or f"sqlite:///{tmp_path / 'pinflow.db'}")
        connection = store.dialect.connect()
        try:
            yield connection, store.dialect
        finally:
            connection.rollback()
            connection.close()
            store.close()


def test_each_row_class_has_the_columns_of_its_queries_in_order(connection: tuple[Any, Any]) -> None:
    database, dialect = connection
    mismatched = {}
    for query, row in TYPED:
        sql = base.QUERIES[query]
        # NULL for every parameter (0 for a LIMIT or OFFSET, where SQLite refuses NULL): no row comes
        # back, but the cursor still names its columns.
        counts = set(_COUNTS.findall(sql))
        values = {name: 0 if name in counts else None for name in _parameters(sql)}
        cursor = database.execute(dialect.translate(sql), values)
        columns = [column[0] for column in cursor.description]
        fields = [field.name for field in dataclasses.fields(row)]
        if columns != fields:
            mismatched[query] = (row.__name__, columns, fields)
        cursor.fetchall()
    assert mismatched == {}
