"""Named queries: every name the code runs is defined, every defined query is run somewhere, and every
query plans against both dialects' migrated schemas (a column or table that does not exist fails)."""

from __future__ import annotations

import ast
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

import pinflow
from pinflow.store import base, open_store

PACKAGE = Path(pinflow.__file__).parent
TX_METHODS = {"execute", "executemany", "all", "one", "scalar", "run", "run_many", "rows", "row", "value"}


def _string_values(node: ast.expr) -> list[str] | None:
    """The strings an expression can evaluate to, when it is made only of string literals."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _string_values(node.body), _string_values(node.orelse)
        return None if body is None or orelse is None else body + orelse
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        values: list[str] = []
        for element in node.elts:
            found = _string_values(element)
            if found is None:
                return None
            values += found
        return values
    return None


def _bindings(function: ast.AST, name: str) -> list[str] | None:
    """What a local name used as a query name is bound to: `for name in (...)` or `name = ...`."""
    values: list[str] = []
    seen = False
    for node in ast.walk(function):
        if isinstance(node, ast.For) and isinstance(node.target, ast.Name) and node.target.id == name:
            found = _string_values(node.iter)
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            found = _string_values(node.value)
        else:
            continue
        seen = True
        if found is None:
            return None
        values += found
    return values if seen else None


def _tx_calls() -> Iterator[tuple[str, int, list[str] | None]]:
    """(file, line, query names) for every call of a transaction's query methods in pinflow."""
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in TX_METHODS and node.args):
                continue
            # Transactions are `tx` wherever the code holds one (`with store.transaction() as tx`).
            if not ast.unparse(node.func.value).endswith("tx"):
                continue
            argument = node.args[0]
            names = _string_values(argument)
            if names is None and isinstance(argument, ast.Name):
                enclosing = [f for f in functions if f.lineno <= node.lineno <= (f.end_lineno or f.lineno)]
                names = _bindings(enclosing[-1], argument.id) if enclosing else None
            yield str(path.relative_to(PACKAGE.parent)), node.lineno, names


def test_the_scan_finds_the_code_s_queries() -> None:
    """The scan itself: it sees hundreds of calls, including names bound by a loop."""
    calls = list(_tx_calls())
    assert len(calls) > 200
    assert any("function_versions_delete" in (names or []) for _, _, names in calls)


def test_only_repositories_run_queries() -> None:
    """The engine, the registry and the API reach the database through the repositories alone (one
    module per aggregate, named parameters, typed rows): no other module runs a query."""
    elsewhere = sorted({f"{path}:{line}" for path, line, _ in _tx_calls()
                        if not path.startswith("pinflow/store/repositories/")})
    assert elsewhere == []


def test_every_query_the_code_runs_is_defined() -> None:
    unreadable = [f"{path}:{line}" for path, line, names in _tx_calls() if names is None]
    assert unreadable == [], "query names the scan cannot read (use string literals)"
    missing = sorted({f"{path}:{line}: {name}" for path, line, names in _tx_calls() for name in names or []
                      if name not in base.QUERIES})
    assert missing == []


def test_every_defined_query_is_run_somewhere() -> None:
    used = {name for _, _, names in _tx_calls() for name in names or []}
    assert sorted(set(base.QUERIES) - used) == []


def test_an_unknown_query_name_is_refused(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'pinflow.db'}")
    try:
        with pytest.raises(KeyError, match="exec_get_nonexistent"), store.transaction(write=False) as tx:
            tx.all("exec_get_nonexistent")
    finally:
        store.close()


_LITERAL = re.compile(r"('(?:[^']|'')*')")


_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def _placeholders(sql: str) -> tuple[str, int]:
    """`sql` with its `?` and `:name` placeholders numbered `$1`, `$2`... (a name keeps its number;
    none inside string literals), and their count."""
    numbers: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        key = match.group(0) if match.group(0) != "?" else f"?{len(numbers)}"
        return f"${numbers.setdefault(key, len(numbers) + 1)}"

    parts = _LITERAL.split(sql)
    for i in range(0, len(parts), 2):  # the odd ones are literals
        parts[i] = re.sub(r"\?|" + _NAMED.pattern, number, parts[i])
    return "".join(parts), len(numbers)


def test_every_query_plans_on_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "pinflow.db"
    store = open_store(f"sqlite:///{path}")
    translate = store.dialect.translate
    store.close()
    connection = sqlite3.connect(path)
    failures = {}
    try:
        for name, sql in sorted(base.QUERIES.items()):
            try:
                text, count = _placeholders(translate(sql))
                connection.execute(f"EXPLAIN {text}", {f"{n}": None for n in range(1, count + 1)}).fetchall()
            except sqlite3.Error as exc:
                failures[name] = str(exc)
    finally:
        connection.close()
    assert failures == {}


@pytest.mark.postgres
def test_every_query_plans_on_postgres(postgres_database: str) -> None:
    import psycopg

    open_store(postgres_database).close()
    failures = {}
    with psycopg.connect(postgres_database, autocommit=True) as connection:
        for name, sql in sorted(base.QUERIES.items()):
            text, count = _placeholders(sql)
            # PostgreSQL infers each parameter's type from where it stands, as it does for the typed
            # values psycopg sends; then plans the statement with NULLs for them.
            try:
                connection.execute(f"PREPARE q AS {text}")
                try:
                    arguments = ", ".join(["NULL"] * count)
                    connection.execute(f"EXPLAIN EXECUTE q({arguments})" if count else "EXPLAIN EXECUTE q").fetchall()
                finally:
                    connection.execute("DEALLOCATE q")
            except psycopg.Error as exc:
                failures[name] = str(exc).strip()
    assert failures == {}


def test_run_many_binds_each_row_s_parameters_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`run_many` sends positional parameters to the database: each `:name` (a repeated one too) gets its
    row's value, whatever the order of the mapping's keys, and a `:word` inside a string literal stays text."""
    monkeypatch.setitem(base.QUERIES, "test_pairs_insert",
                        "INSERT INTO pairs (a, label, b, again) VALUES (:b, ':a stays', :a, :b)")
    store = open_store(f"sqlite:///{tmp_path / 'pinflow.db'}")
    try:
        with store.transaction() as tx:
            tx.execute("CREATE TABLE pairs (a TEXT, label TEXT, b TEXT, again TEXT)")
            tx.run_many("test_pairs_insert", [{"a": "a1", "b": "b1"}, {"b": "b2", "a": "a2"}])
            rows = tx.all("SELECT a, label, b, again FROM pairs ORDER BY a")
    finally:
        store.close()
    assert rows == [{"a": "b1", "label": ":a stays", "b": "a1", "again": "b1"},
                    {"a": "b2", "label": ":a stays", "b": "a2", "again": "b2"}]
