"""The store seam: transactions over named SQL queries, the same for SQLite and PostgreSQL.

Queries live in `queries/<aggregate>.sql` (portable SQL, `:name` parameters), run only by the
repositories (`pinflow.store.repositories`, one module per aggregate), and the schema in numbered
migrations under `sql/<dialect>/`. A dialect adapter supplies connections and the few differences
(placeholders, how to take the write lock).
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, TypeVar

_NAME = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)
_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_STRING_LITERAL = re.compile(r"('(?:[^']|'')*')")
_BARE_WORD = re.compile(r"^\w+$")
R = TypeVar("R")


def load_queries(text: str) -> dict[str, str]:
    """Named queries from a file of `-- name: x` sections, without their comment lines (an apostrophe
    in a comment must not read as the start of a string literal when parameters are translated)."""
    parts = _NAME.split(text)
    return {parts[i]: _uncommented(parts[i + 1]).strip().rstrip(";") for i in range(1, len(parts), 2)}


def _uncommented(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))


def _all_queries() -> tuple[dict[str, str], dict[str, str]]:
    """Every named query's SQL, and the file (aggregate) each comes from."""
    found: dict[str, str] = {}
    files: dict[str, str] = {}
    for entry in sorted(resources.files("pinflow.store").joinpath("queries").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".sql"):
            for name, sql in load_queries(entry.read_text(encoding="utf-8")).items():
                if name in found:
                    raise ValueError(f"query {name!r} is defined twice")
                found[name] = sql
                files[name] = entry.name.removesuffix(".sql")
    return found, files


QUERIES, QUERY_FILES = _all_queries()
_WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
# The statements that change the registry: functions, roles and policies, state machines and what
# belongs to them (every write outside the executions' own file). A transaction that ran one moves
# `Store.generation` on when it commits.
REGISTRY_WRITES = frozenset(name for name, sql in QUERIES.items()
                            if QUERY_FILES[name] != "executions" and _WRITES.match(sql))


class Dialect(Protocol):
    name: str
    # Whether several processes (nodes) may work on this database at once: their leases then matter. A
    # database only one process works on (SQLite) lets a starting node take every unit of work at once.
    shared: bool

    def connect(self) -> Any: ...
    def begin(self, connection: Any, write: bool) -> None: ...
    def translate(self, sql: str) -> str: ...
    def migrations(self) -> list[tuple[int, str]]: ...
    def maintain(self, connection: Any) -> None: ...
    def lock_migrations(self, connection: Any) -> None: ...
    def notify(self, connection: Any, channel: str, payload: str) -> None: ...
    def limit_waits(self, connection: Any, seconds: float) -> None: ...
    def clock(self, connection: Any) -> float | None: ...
    def listen(self, channel: str, deliver: Callable[[str], None], stop: threading.Event) -> None: ...


class Tx:
    """One open transaction: run named queries (or plain SQL) and read rows as dicts.

    A bare word is a query name and must be defined: a misspelt name raises instead of reaching the
    database as SQL text.

    Repositories (one module per aggregate) use the named forms: `run`, `run_many`, `rows`, `row` and
    `value` take the query's `:name` parameters as keywords and give rows as the repository's typed
    row class (a dataclass whose fields are the query's columns).
    """

    def __init__(self, connection: Any, dialect: Dialect, cache: dict[str, str],
                 columns: dict[str, tuple[str, ...]] | None = None,
                 builders: dict[tuple[str, Any], Callable[[Sequence[Any]], Any]] | None = None,
                 positional: dict[str, tuple[str, Callable[[Mapping[str, Any]], tuple[Any, ...]]]] | None = None,
                 ) -> None:
        self._connection = connection
        self._dialect = dialect
        self._cache = cache
        # A query's column names by its SQL text: the cursor's description is a tuple of 7-tuples built
        # again on every call, which costs more than the rest of reading a row of twenty columns.
        self._columns: dict[str, tuple[str, ...]] = columns if columns is not None else {}
        # How a query's rows become a row class's instances: positionally where the class's fields are
        # the columns in order (what the repositories' tests hold them to: a frozen dataclass built
        # from keywords costs several times more), else from keywords.
        self._builders = builders if builders is not None else {}
        # `run_many`'s statements with positional parameters, and how to pick them from a mapping.
        self._positional = positional if positional is not None else {}
        # Whether this transaction ran a statement that changes the registry (REGISTRY_WRITES), or
        # SQL of its own (which may): see Store.generation.
        self.changed_registry = False

    def _sql(self, name: str) -> str:
        sql = self._cache.get(name)
        if sql is None:
            text = QUERIES.get(name)
            if text is None:
                if _BARE_WORD.match(name):
                    raise KeyError(f"no query named {name!r} in pinflow/store/queries/*.sql")
                text = name
            sql = self._dialect.translate(text)
            self._cache[name] = sql
        return sql

    def execute(self, name: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; returns the number of rows it changed."""
        self.changed_registry = True
        cursor = self._connection.execute(self._sql(name), tuple(params))
        return int(cursor.rowcount or 0)

    def executemany(self, name: str, rows: Sequence[Sequence[Any]]) -> None:
        self.changed_registry = True
        if rows:
            cursor = self._connection.cursor()
            cursor.executemany(self._sql(name), [tuple(r) for r in rows])

    def all(self, name: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        sql = self._sql(name)
        cursor = self._connection.execute(sql, tuple(params))
        rows = cursor.fetchall()
        if not rows:
            return []
        columns = self._names(sql, cursor, len(rows[0]))
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def _names(self, sql: str, cursor: Any, width: int) -> tuple[str, ...]:
        """The column names of `sql`'s rows (`width` of them), from the cursor the first time."""
        columns = self._columns.get(sql)
        if columns is None or len(columns) != width:
            columns = self._columns[sql] = tuple(c[0] for c in cursor.description)
        return columns

    def one(self, name: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        rows = self.all(name, params)
        return rows[0] if rows else None

    def notify(self, channel: str, payload: str) -> None:
        """Tell the other nodes on this database `payload` once this transaction commits (nothing where
        the database has no such thing; they then find out by polling)."""
        self._dialect.notify(self._connection, channel, payload)

    def scalar(self, name: str, params: Sequence[Any] = ()) -> Any:
        cursor = self._connection.execute(self._sql(name), tuple(params))
        row = cursor.fetchone()
        return row[0] if row else None

    # Named parameters and typed rows: what repositories call.

    def run(self, name: str, /, **params: Any) -> int:
        """Run a statement with `:name` parameters; returns the number of rows it changed."""
        if name in REGISTRY_WRITES or name not in QUERIES:
            self.changed_registry = True
        cursor = self._connection.execute(self._sql(name), params)
        return int(cursor.rowcount or 0)

    def run_many(self, name: str, params: Sequence[Mapping[str, Any]], /) -> None:
        """Run a statement once per mapping of `:name` parameters.

        The rows go to the database with positional parameters: binding each row's parameters by name
        costs SQLite more than the rest of inserting it (a Map Run's items are a row each)."""
        if name in REGISTRY_WRITES or name not in QUERIES:
            self.changed_registry = True
        if params and name not in QUERIES:  # SQL of its own: bound by name
            self._connection.cursor().executemany(self._sql(name), list(params))
        elif params:
            plan = self._positional.get(name)
            if plan is None:
                plan = self._positional[name] = self._positional_plan(name)
            sql, pick = plan
            self._connection.cursor().executemany(sql, [pick(row) for row in params])

    def _positional_plan(self, name: str) -> tuple[str, Callable[[Mapping[str, Any]], tuple[Any, ...]]]:
        """Query `name` with `?` for each `:name` (outside string literals), translated for the dialect,
        and a function picking a mapping's values in that order."""
        text = QUERIES[name]
        names: list[str] = []
        parts = _STRING_LITERAL.split(text)
        for i in range(0, len(parts), 2):
            names += _PARAMETER.findall(parts[i])
            parts[i] = _PARAMETER.sub("?", parts[i])
        sql = self._dialect.translate("".join(parts))
        if not names:
            return sql, lambda row: ()
        if len(names) == 1:
            only = names[0]
            return sql, lambda row: (row[only],)
        return sql, operator.itemgetter(*names)

    def _builder(self, sql: str, row: Callable[..., R], cursor: Any, width: int) -> Callable[[Sequence[Any]], R]:
        """How to build `row` from one of `sql`'s rows (worked out once per query and class)."""
        key = (sql, row)
        build = self._builders.get(key)
        if build is None:
            columns = self._names(sql, cursor, width)
            fields = (tuple(f.name for f in dataclasses.fields(row)) if isinstance(row, type)
                      and dataclasses.is_dataclass(row) else None)
            if fields == columns:
                build = functools.partial(_positional, row)
            else:
                build = functools.partial(_by_name, row, columns)
            self._builders[key] = build
        return build

    def rows(self, name: str, row: Callable[..., R], /, **params: Any) -> list[R]:
        """Every row of a query, each built as `row(**columns)`."""
        sql = self._sql(name)
        cursor = self._connection.execute(sql, params)
        found = cursor.fetchall()
        if not found:
            return []
        build = self._builder(sql, row, cursor, len(found[0]))
        return [build(values) for values in found]

    def row(self, name: str, row: Callable[..., R], /, **params: Any) -> R | None:
        """The first row of a query (built as `row(**columns)`), or None."""
        sql = self._sql(name)
        cursor = self._connection.execute(sql, params)
        values = cursor.fetchone()
        if values is None:
            return None
        return self._builder(sql, row, cursor, len(values))(values)

    def value(self, name: str, /, **params: Any) -> Any:
        """The first column of the first row, or None."""
        cursor = self._connection.execute(self._sql(name), params)
        values = cursor.fetchone()
        return values[0] if values else None


def _positional(row: Callable[..., R], values: Sequence[Any]) -> R:
    return row(*values)


def _by_name(row: Callable[..., R], columns: tuple[str, ...], values: Sequence[Any]) -> R:
    return row(**dict(zip(columns, values, strict=True)))


class SchemaAhead(RuntimeError):
    """The database was migrated past the versions this code knows: an older node starting against a
    database a newer one migrated, whose tables it would write wrongly."""


class Store:
    """A database: connections (one per thread, or a bounded pool where the dialect asks for one),
    transactions, migrations."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._local = threading.local()
        self._sql_cache: dict[str, str] = {}
        self._columns: dict[str, tuple[str, ...]] = {}  # filled after migrations, which never read through Tx
        self._builders: dict[tuple[str, Any], Callable[[Sequence[Any]], Any]] = {}
        self._positional: dict[str, tuple[str, Callable[[Mapping[str, Any]], tuple[Any, ...]]]] = {}
        self._write_lock = threading.Lock()
        # Moves on once a transaction that changed the registry has committed (in this process): what
        # was read from the registry under an earlier generation may be stale. Read it before reading
        # the registry, and use what was read only while it has not moved.
        self.generation = 0
        self._generation_lock = threading.Lock()
        self._connections: list[Any] = []
        self._connections_lock = threading.Lock()
        # A database server counts its connections (PostgreSQL: max_connections): transactions then
        # borrow one of at most `pool_size` connections; a reserved transaction (the lease heartbeat)
        # keeps a connection of its own, so it never waits for one. 0: a connection per thread (SQLite).
        self.pool_size = int(getattr(dialect, "pool_size", 0) or 0)
        self._pool: Any = None  # the dialect's pool, opened at the first pooled transaction
        self.found_version = 0  # the schema version the database was at when this store opened it
        self.applied: list[int] = []  # the migrations this store applied when it opened the database
        self.version = self.migrate()

    @property
    def name(self) -> str:
        return self.dialect.name

    def _connection(self) -> Any:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self.dialect.connect()
            self._local.connection = connection
            with self._connections_lock:
                self._connections.append(connection)
        return connection

    def _take(self, reserved: bool, wait: float | None = None) -> tuple[Any, bool]:
        """A connection for one transaction: this thread's own, or one from the pool (then True: give
        it back with `_give`), waiting for one at most `wait` seconds (else the pool's own limit)."""
        if not self.pool_size or reserved:
            return self._connection(), False
        held = getattr(self._local, "borrowed", None)
        if held is not None:  # a transaction opened inside another on this thread: the same connection
            return held, False
        with self._connections_lock:
            if self._pool is None:
                self._pool = self.dialect.pool()  # type: ignore[attr-defined]
            pool = self._pool
        connection = pool.getconn() if wait is None else pool.getconn(timeout=wait)
        self._local.borrowed = connection
        return connection, True

    def _give(self, connection: Any) -> None:
        """Back to the pool, which replaces a connection the server dropped."""
        self._local.borrowed = None
        self._pool.putconn(connection)

    @contextmanager
    def transaction(self, write: bool = True, *, queue: bool = True, reserved: bool = False,
                    wait_limit: float | None = None) -> Iterator[Tx]:
        """A transaction; commits on success, rolls back on an exception.

        Writes are serialised within the process (SQLite has one writer; on PostgreSQL row locks
        order writers across processes and this lock only saves round trips).

        Args:
            queue: False lets a write skip that queue where the database orders writers itself
                (PostgreSQL): the lease heartbeat, and a worker checking its lease, which must not
                wait behind a stalled write of their own process. Ignored where the database has one
                writer (SQLite).
            reserved: run on this thread's own connection, never waiting for one from the pool (the
                lease heartbeat, one thread); every other thread borrows from the pool, so a node's
                connections stay bounded.
            wait_limit: give up (raise) when a statement waits this many seconds for a lock (PostgreSQL),
                and, for a transaction that skips the write queue, when it waits that long for a
                pooled connection.
        """
        connection, pooled = self._take(reserved=reserved, wait=None if queue else wait_limit)
        lock = self._write_lock if write and (queue or not self.dialect.shared) else None
        try:
            if lock is not None:
                lock.acquire()
            try:
                self.dialect.begin(connection, write)
                if wait_limit is not None:
                    self.dialect.limit_waits(connection, wait_limit)
                tx = Tx(connection, self.dialect, self._sql_cache, self._columns, self._builders, self._positional)
                try:
                    yield tx
                except BaseException:
                    self._rollback(connection)
                    raise
                connection.commit()
                if tx.changed_registry:
                    with self._generation_lock:
                        self.generation += 1
            except BaseException:
                if (connection is getattr(self._local, "connection", None)
                        and (getattr(connection, "closed", False) or getattr(connection, "broken", False))):
                    # The server dropped the connection: forget it, so this thread's next transaction
                    # opens a new one instead of failing forever.
                    self._local.connection = None
                raise
            finally:
                if lock is not None:
                    lock.release()
        finally:
            if pooled:
                self._give(connection)

    def listen(self, channel: str, deliver: Callable[[str], None], stop: threading.Event) -> None:
        """Call `deliver(payload)` for each notification on `channel` until `stop` is set (returns at
        once where the database has no notifications)."""
        self.dialect.listen(channel, deliver, stop)

    def clock(self, reserved: bool = False) -> float | None:
        """The database server's clock (seconds since the epoch); None where it has none of its own."""
        connection, pooled = self._take(reserved)
        try:
            return self.dialect.clock(connection)
        finally:
            self._rollback(connection)
            if pooled:
                self._give(connection)

    def maintain(self) -> None:
        """Housekeeping a long-running process does now and then (SQLite: a WAL checkpoint)."""
        connection, pooled = self._take(reserved=False)
        try:
            self.dialect.maintain(connection)
        finally:
            if pooled:
                self._give(connection)

    @staticmethod
    def _rollback(connection: Any) -> None:
        try:
            connection.rollback()
        except Exception:  # noqa: BLE001 - a broken connection cannot roll back; the error above matters
            pass

    def migrate(self) -> int:
        """Apply the dialect's numbered migrations not applied yet; returns the schema version."""
        connection = self._connection()
        try:
            return self._migrate(connection)
        except BaseException:
            # Roll back and close at once: the failed transaction would otherwise keep the migration
            # lock, and every other node starting would wait on it.
            self._rollback(connection)
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - closing is best effort; the error above matters
                pass
            self._local.connection = None
            with self._connections_lock:
                if connection in self._connections:
                    self._connections.remove(connection)
            raise

    def _migrate(self, connection: Any) -> int:
        self.dialect.begin(connection, True)
        # Nodes starting at once against one database migrate one after the other: the second finds
        # the first's versions applied.
        self.dialect.lock_migrations(connection)
        connection.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)")
        applied = {row[0] for row in connection.execute("SELECT version FROM schema_migrations").fetchall()}
        current = max(applied, default=0)
        self.found_version = current
        self.applied = []
        migrations = self.dialect.migrations()
        known = max((version for version, _ in migrations), default=0)
        if current > known:
            raise SchemaAhead(
                f"the database's schema is at version {current}, past this pinflow's last ({known}): a newer "
                "pinflow migrated it. Run that version or a later one; going back is not supported")
        for version, sql in migrations:
            # By number, not by the highest applied: numbers reserved for work that lands later (a 0003
            # after a 0005) are still applied when they arrive.
            if version in applied:
                continue
            for statement in _statements(sql):
                connection.execute(statement)
            connection.execute(self.dialect.translate("INSERT INTO schema_migrations (version) VALUES (?)"),
                               (version,))
            self.applied.append(version)
            current = max(current, version)
        connection.commit()
        return int(current)

    def close(self) -> None:
        with self._connections_lock:
            for connection in self._connections:
                try:
                    connection.close()
                except Exception:  # noqa: BLE001 - closing is best effort
                    pass
            self._connections.clear()
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()
        self._local = threading.local()


def _statements(sql: str) -> list[str]:
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    cleaned = "\n".join(line.split("--", 1)[0] for line in lines)
    return [s.strip() for s in cleaned.split(";") if s.strip()]


def read_migrations(dialect: str) -> list[tuple[int, str]]:
    folder = resources.files("pinflow.store").joinpath("sql", dialect)
    found = []
    for entry in folder.iterdir():
        match = re.match(r"(\d+)_.*\.sql$", entry.name)
        if match:
            found.append((int(match.group(1)), entry.read_text(encoding="utf-8")))
    return sorted(found)


def open_store(url: str | None = None, *, data_dir: str | Path = ".pinflow", synchronous: str = "FULL") -> Store:
    """Open the store named by `url` (postgresql://...), else SQLite in `data_dir`.

    Args:
        url: a PostgreSQL URL, or `sqlite:///path/to/file.db`, or None for the data directory's database.
        data_dir: where the embedded SQLite database lives (created if missing).
        synchronous: SQLite's synchronous pragma (FULL is crash-safe on power loss too).
    """
    path = sqlite_path(url, data_dir=data_dir)
    if path is None:
        from pinflow.store.postgres import PostgresDialect

        return Store(PostgresDialect(str(url)))
    from pinflow.store.sqlite import SqliteDialect

    path.parent.mkdir(parents=True, exist_ok=True)
    return Store(SqliteDialect(path, synchronous=synchronous))


def sqlite_path(url: str | None, *, data_dir: str | Path = ".pinflow") -> Path | None:
    """The SQLite file `open_store(url, data_dir=data_dir)` opens; None for a PostgreSQL URL."""
    if url and url.startswith(("postgres://", "postgresql://")):
        return None
    if url and url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///"):])
    return Path(data_dir) / "pinflow.db"
