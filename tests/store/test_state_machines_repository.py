"""The state machines repository: the only code that runs `queries/state_machines.sql`, with named
parameters, and each row class's fields are exactly the columns its queries give back on both dialects
(a row is built as `RowClass(**columns)`, so a column too many or too few fails at run time)."""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest

import pinflow
from pinflow.store import base, open_store
from pinflow.store.repositories import state_machines as repo
from tests.backends import BACKENDS, postgres_schema

PACKAGE = Path(pinflow.__file__).parent
MODULE = PACKAGE / "store" / "repositories" / "state_machines.py"
NAMED_FORMS = {"run", "run_many", "rows", "row", "value"}
POSITIONAL_FORMS = {"execute", "executemany", "all", "one", "scalar"}
_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def _defined() -> set[str]:
    text = resources.files("pinflow.store").joinpath("queries", "state_machines.sql").read_text(encoding="utf-8")
    return set(base.load_queries(text))


def _query_calls(path: Path) -> Iterator[tuple[str, str, ast.Call]]:
    """(method, query name, call) for each `tx.<method>("name", ...)` in a module."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in NAMED_FORMS | POSITIONAL_FORMS
                and ast.unparse(node.func.value).endswith("tx")
                and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            yield node.func.attr, node.args[0].value, node


def test_the_repository_alone_runs_its_queries_and_by_name() -> None:
    defined = _defined()
    calls = list(_query_calls(MODULE))
    assert {name for _, name, _ in calls} == defined
    assert sorted(name for method, name, _ in calls if method not in NAMED_FORMS) == []
    elsewhere = sorted(f"{path.relative_to(PACKAGE.parent)}: {name}"
                       for path in PACKAGE.rglob("*.py") if path != MODULE
                       for _, name, _ in _query_calls(path) if name in defined)
    assert elsewhere == []


def _row_queries() -> list[tuple[str, type]]:
    """(query name, row class) of each `tx.row` / `tx.rows` call in the repository."""
    found = []
    for method, name, call in _query_calls(MODULE):
        if method in ("row", "rows"):
            assert isinstance(call.args[1], ast.Name), ast.unparse(call)
            found.append((name, getattr(repo, call.args[1].id)))
    return found


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgres":
        with postgres_schema("pf_sm_repository") as found:
            yield found
    else:
        yield f"sqlite:///{tmp_path / 'pinflow.db'}"


def test_row_classes_match_the_columns_their_queries_select(url: str) -> None:
    store = open_store(url)
    connection = store.dialect.connect()
    try:
        mismatched = {}
        for name, row in _row_queries():
            sql = base.QUERIES[name]
            # NULL for every parameter (0 for a LIMIT or OFFSET, where SQLite refuses NULL): no row comes
            # back, but the cursor still names its columns.
            values = {parameter: 0 if parameter in ("limit", "offset") else None
                      for parameter in _PARAMETER.findall(sql)}
            cursor = connection.execute(store.dialect.translate(sql), values)
            columns = [column[0] for column in cursor.description]
            fields = [field.name for field in dataclasses.fields(row)]
            if sorted(columns) != sorted(fields) or len(set(columns)) != len(columns):
                mismatched[name] = (row.__name__, columns, fields)
        assert mismatched == {}
    finally:
        connection.rollback()
        connection.close()
        store.close()
