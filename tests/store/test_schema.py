"""Both dialects' migrations, applied in full, give the same schema as each database's catalog reads it."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from pinflow.store import open_store
from tests.store import catalog


def _migration_files(dialect: str) -> dict[int, str]:
    folder = resources.files("pinflow.store").joinpath("sql", dialect)
    found: dict[int, str] = {}
    for entry in folder.iterdir():
        match = re.match(r"(\d+)_(.*)\.sql$", entry.name)
        if match:
            assert int(match.group(1)) not in found, f"{dialect}: two migrations numbered {match.group(1)}"
            found[int(match.group(1))] = entry.name
    return found


def test_migrations_are_numbered_alike_in_both_dialects() -> None:
    sqlite, postgres = _migration_files("sqlite"), _migration_files("postgres")
    assert sqlite, "no SQLite migrations found"
    assert sqlite == postgres


def _sqlite_migrated(tmp_path: Path) -> Path:
    path = tmp_path / "pinflow.db"
    open_store(f"sqlite:///{path}").close()
    return path


def test_sqlite_catalog_reader_sees_what_a_migration_declares(tmp_path: Path) -> None:
    """The reader itself: PK, UNIQUE constraint, named index and nullability as `0001` declares them."""
    schema = catalog.sqlite_schema(_sqlite_migrated(tmp_path))
    machines = schema["state_machines"]
    assert machines.primary_key == ("name",)
    assert ("arn",) in machines.unique
    assert machines.columns["tags"] == ("text", True)
    assert schema["executions"].indexes["executions_by_name"] == (("machine", "name"), True)
    assert schema["executions"].columns["output"] == ("text", False)
    assert schema["blobs"].columns["data"] == ("bytes", True)


@pytest.mark.postgres
def test_both_dialects_have_the_same_schema(tmp_path: Path, postgres_database: str) -> None:
    import psycopg

    sqlite = catalog.sqlite_schema(_sqlite_migrated(tmp_path))
    open_store(postgres_database).close()
    with psycopg.connect(postgres_database) as connection:
        postgres = catalog.postgres_schema(connection)
        versions_pg = [r[0] for r in connection.execute("SELECT version FROM schema_migrations ORDER BY version")]

    assert sorted(sqlite) == sorted(postgres)
    for name in sorted(sqlite):
        assert sqlite[name].columns == postgres[name].columns, f"columns of {name}"
        assert sqlite[name].primary_key == postgres[name].primary_key, f"primary key of {name}"
        assert sqlite[name].unique == postgres[name].unique, f"unique column sets of {name}"
        assert sqlite[name].indexes == postgres[name].indexes, f"named indexes of {name}"
    assert versions_pg == sorted(_migration_files("postgres"))
