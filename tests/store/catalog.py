"""Each database's schema as its own catalog describes it, in one dialect-neutral shape.

What the schema tests compare: tables, columns (a portable type, nullability), primary keys, unique
column sets and the indexes created by name. Read from `sqlite_master`/`PRAGMA` on SQLite and from
`information_schema`/`pg_catalog` on PostgreSQL, never from our SQL files.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Declared types that mean the same in both dialects. SQLite's INTEGER is 64 bits; PostgreSQL's
# INTEGER (32) and BIGINT (64) both hold what our code writes into an INTEGER column. PostgreSQL's
# REAL is a 4-byte float and is deliberately absent: timestamps stored in it would lose seconds.
SQLITE_TYPES = {"INTEGER": "integer", "TEXT": "text", "BLOB": "bytes", "REAL": "float"}
POSTGRES_TYPES = {"integer": "integer", "bigint": "integer", "smallint": "integer", "text": "text",
                  "bytea": "bytes", "double precision": "float"}


@dataclass
class Table:
    columns: dict[str, tuple[str, bool]] = field(default_factory=dict)  # name -> (portable type, NOT NULL)
    primary_key: tuple[str, ...] = ()
    unique: set[tuple[str, ...]] = field(default_factory=set)  # column sets, constraint or index
    # Indexes made by CREATE INDEX: name -> (columns, unique).
    indexes: dict[str, tuple[tuple[str, ...], bool]] = field(default_factory=dict)


def sqlite_schema(path: Path) -> dict[str, Table]:
    connection = sqlite3.connect(path)
    try:
        names = [r[0] for r in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")]
        schema = {}
        for name in names:
            table = Table()
            primary = []
            for _cid, column, declared, notnull, _default, pk in connection.execute(f'PRAGMA table_info("{name}")'):
                kind = SQLITE_TYPES.get(declared.upper(), f"sqlite:{declared}")
                # A PRIMARY KEY column that is not an INTEGER rowid alias may hold NULL on SQLite (a
                # documented quirk kept for compatibility); our code never writes one, so count it NOT
                # NULL as PostgreSQL does.
                table.columns[column] = (kind, bool(notnull) or pk > 0)
                if pk:
                    primary.append((pk, column))
            table.primary_key = tuple(c for _, c in sorted(primary))
            for _seq, index, unique, origin, _partial in connection.execute(f'PRAGMA index_list("{name}")'):
                columns = tuple(r[2] for r in sorted(connection.execute(f'PRAGMA index_info("{index}")')))
                if origin == "pk":
                    continue
                if unique:
                    table.unique.add(columns)
                if origin == "c":
                    table.indexes[index] = (columns, bool(unique))
            schema[name] = table
        return schema
    finally:
        connection.close()


def postgres_schema(connection: Any) -> dict[str, Table]:
    schema: dict[str, Table] = {}
    for (name,) in connection.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"):
        schema[name] = Table()
    for table, column, data_type, nullable in connection.execute(
            "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns"
            " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"):
        schema[table].columns[column] = (POSTGRES_TYPES.get(data_type, f"postgres:{data_type}"), nullable == "NO")
    rows = connection.execute(
        "SELECT t.relname, i.relname, x.indisprimary, x.indisunique, c.conname IS NOT NULL,"
        "       ARRAY(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, n)"
        "             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.n)"
        "  FROM pg_index x"
        "  JOIN pg_class t ON t.oid = x.indrelid"
        "  JOIN pg_class i ON i.oid = x.indexrelid"
        "  JOIN pg_namespace s ON s.oid = t.relnamespace AND s.nspname = current_schema()"
        "  LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.contype IN ('p', 'u')")
    for table, index, primary, unique, constraint, columns in rows:
        columns = tuple(columns)
        if primary:
            schema[table].primary_key = columns
            continue
        if unique:
            schema[table].unique.add(columns)
        if not constraint:
            schema[table].indexes[index] = (columns, bool(unique))
    return schema
