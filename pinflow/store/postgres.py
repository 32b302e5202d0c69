"""PostgreSQL through psycopg 3: for several engine processes or hosts sharing one database."""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from pinflow.store.base import read_migrations

_PLACEHOLDER = re.compile(r"\?")
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_LITERAL = re.compile(r"('(?:[^']|'')*')")
# The advisory lock migrations are applied under (any constant all pinflow versions agree on).
MIGRATION_LOCK = 0x70696E666C6F77
DEFAULT_POOL = 16  # connections a node's transactions share (PINFLOW_PG_CONNECTIONS)
POOL_WAIT = 120.0  # seconds a transaction waits for one of them
MIGRATION_WAIT = 600.0  # seconds a node waits for another's migration before it gives up
_IDLE = 0  # psycopg.pq.TransactionStatus.IDLE (psycopg is imported only when PostgreSQL is used)
# TCP keepalives, unless the URL sets them: a server a partition cut off from the database is noticed
# (and its session, its locks, ended by the server) within about `idle + interval * count` seconds.
KEEPALIVES = {"keepalives": "1", "keepalives_idle": "5", "keepalives_interval": "2", "keepalives_count": "3"}
log = logging.getLogger(__name__)


class PostgresDialect:
    name = "postgres"
    shared = True

    def __init__(self, url: str) -> None:
        self.url = url
        # The engine's lease (`pinflow.engine.leases`): a session idle inside a transaction for this
        # long (a process stalled or cut off mid-transaction) is ended by the server, so the row locks
        # it holds do not keep other nodes from taking its work. Set before the engine's connections open.
        self.lease_seconds = 20.0
        # The engine's transactions share at most this many connections (the heartbeat, the listener
        # and the migration's connection come on top): a node holds at most `pool_size + 3`.
        self.pool_size = max(1, int(os.environ.get("PINFLOW_PG_CONNECTIONS", "") or DEFAULT_POOL))

    def idle_limit(self) -> float:
        """Seconds a session may sit idle inside a transaction: the lease, and never under 5 s."""
        return max(5.0, self.lease_seconds)

    def conninfo(self) -> str:
        """The URL with keepalives and the idle-in-transaction limit added (what the URL sets wins);
        read at each new connection, so a lease set after the store opened applies to it."""
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        given = conninfo_to_dict(self.url)
        settings = {key: value for key, value in KEEPALIVES.items() if key not in given}
        options = str(given.get("options") or "")
        if "idle_in_transaction_session_timeout" not in options:
            options = f"{options} -c idle_in_transaction_session_timeout={int(self.idle_limit() * 1000)}".strip()
        return make_conninfo(self.url, options=options, **settings)

    def connect(self) -> Any:
        import psycopg

        return psycopg.connect(self.conninfo(), autocommit=False)

    def pool(self) -> Any:
        """psycopg's connection pool for the engine's transactions: at most `pool_size` connections,
        opened as needed; a connection the server dropped is replaced. A transaction waits for a free
        connection at most POOL_WAIT seconds, then fails (psycopg_pool.PoolTimeout)."""
        from psycopg_pool import ConnectionPool

        return ConnectionPool(self.conninfo, kwargs={"autocommit": False}, min_size=1, max_size=self.pool_size,
                              timeout=POOL_WAIT, name="pinflow", open=True)

    def lets_in_without_password(self) -> bool:
        """Whether the database let this server in over the network without asking for a password: any
        process that reaches it the same way (a function in the sandbox, which shares the host's
        network) could then connect as this server does. A Unix socket is not counted: its folder is
        not in a function's view."""
        with self.connect() as connection:
            return not connection.info.host.startswith("/") and not connection.pgconn.used_password

    def begin(self, connection: Any, write: bool) -> None:
        # A write: psycopg opens a transaction on the first statement. A read runs in autocommit mode, as
        # on SQLite: under READ COMMITTED (PostgreSQL's default, which pinflow's transactions assume)
        # each statement sees its own snapshot anyway, and BEGIN and COMMIT would be two more round
        # trips for every read.
        if connection.autocommit == write and connection.info.transaction_status == _IDLE:
            connection.autocommit = not write  # (a read opened inside a write stays in that write)

    def maintain(self, connection: Any) -> None:
        """Nothing to do: the server looks after itself."""

    def lock_migrations(self, connection: Any) -> None:
        """Hold the migration lock until the migrating transaction ends; wait for another node's
        migration at most `MIGRATION_WAIT` seconds, saying so, then raise."""
        waited_from = time.monotonic()
        said = waited_from
        while not connection.execute("SELECT pg_try_advisory_xact_lock(%s)", (MIGRATION_LOCK,)).fetchone()[0]:
            now = time.monotonic()
            if now - waited_from > MIGRATION_WAIT:
                raise TimeoutError(f"another server held the schema migration lock for {MIGRATION_WAIT:.0f} s")
            if now - said > 10:
                log.warning("waiting for another server to finish migrating the schema (%.0f s)", now - waited_from)
                said = now
            time.sleep(0.1)

    def clock(self, connection: Any) -> float | None:
        """The database server's clock (seconds since the epoch)."""
        return float(connection.execute("SELECT EXTRACT(EPOCH FROM clock_timestamp())").fetchone()[0])

    def limit_waits(self, connection: Any, seconds: float) -> None:
        """A statement of this transaction that waits longer for a lock raises (lock_timeout)."""
        connection.execute("SELECT set_config('lock_timeout', %s, true)", (f"{max(1, int(seconds * 1000))}ms",))

    def notify(self, connection: Any, channel: str, payload: str) -> None:
        # NOTIFY is transactional: listeners hear it at commit, and not at all after a rollback.
        connection.execute("SELECT pg_notify(%s, %s)", (channel, payload))

    def listen(self, channel: str, deliver: Callable[[str], None], stop: threading.Event) -> None:
        """LISTEN on a connection of its own until `stop`. A lost connection is opened again (what was
        said meanwhile is missed, which the nodes' polling makes up for); it has the keepalives of the
        others, so one whose server went away without a word is found lost within seconds."""
        import psycopg

        while not stop.is_set():
            try:
                with psycopg.connect(self.conninfo(), autocommit=True) as connection:
                    connection.execute(f'LISTEN "{channel}"')
                    while not stop.is_set():
                        for note in connection.notifies(timeout=0.5):
                            deliver(note.payload)
            except Exception as exc:  # noqa: BLE001 - the database went away: try again shortly
                log.warning("listening for other nodes failed (%s); polling until it works again", exc)
                stop.wait(2.0)

    def translate(self, sql: str) -> str:
        # Portable queries use `?` or `:name`; psycopg wants `%s` or `%(name)s` (and a literal %
        # doubled). String literals are left alone: `'arn:aws:...'` holds no parameter.
        parts = _LITERAL.split(sql.replace("%", "%%"))
        for i in range(0, len(parts), 2):
            parts[i] = _NAMED.sub(r"%(\1)s", _PLACEHOLDER.sub("%s", parts[i]))
        return "".join(parts)

    def migrations(self) -> list[tuple[int, str]]:
        return read_migrations("postgres")
