"""SQLite in WAL mode: the embedded default."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pinflow.store.base import read_migrations

# Row locks for nodes sharing a database: SQLite has one writer at a time (BEGIN IMMEDIATE) instead.
_ROW_LOCKS = re.compile(r"\s+FOR UPDATE(\s+SKIP LOCKED)?", re.IGNORECASE)


class SqliteDialect:
    name = "sqlite"
    shared = False  # one process works on the file

    def __init__(self, path: Path, *, synchronous: str = "FULL") -> None:
        self.path = path
        self.synchronous = synchronous

    def connect(self) -> Any:
        # isolation_level=None: we issue BEGIN ourselves, so a read and the write that follows it
        # sit in one transaction taken with the write lock (BEGIN IMMEDIATE).
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(f"PRAGMA synchronous={self.synchronous}")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA busy_timeout=30000")
        # No checkpoints on the commit path (they cost a writer milliseconds at random); the
        # engine checkpoints in the background (`maintain`), and the last connection to close does.
        connection.execute("PRAGMA wal_autocheckpoint=0")
        return connection

    def maintain(self, connection: Any) -> None:
        """Copy the write-ahead log into the database without blocking writers (PASSIVE)."""
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def begin(self, connection: Any, write: bool) -> None:
        # Reads run in autocommit mode: each statement sees a consistent snapshot (WAL), and
        # skipping BEGIN/COMMIT saves two round trips into SQLite (each one a GIL hand-off).
        if write:
            connection.execute("BEGIN IMMEDIATE")

    def translate(self, sql: str) -> str:
        return _ROW_LOCKS.sub("", sql)

    def lock_migrations(self, connection: Any) -> None:
        """Nothing more: BEGIN IMMEDIATE already holds the database's one write lock."""

    def notify(self, connection: Any, channel: str, payload: str) -> None:
        """Nothing: no other node works on this file."""

    def clock(self, connection: Any) -> float | None:
        """None: the one process's own clock is the only clock."""
        return None

    def limit_waits(self, connection: Any, seconds: float) -> None:
        """Nothing: no row locks (the busy timeout bounds a wait for the write lock)."""

    def listen(self, channel: str, deliver: Callable[[str], None], stop: threading.Event) -> None:
        """Nothing to hear: returns at once."""

    def migrations(self) -> list[tuple[int, str]]:
        return read_migrations("sqlite")
