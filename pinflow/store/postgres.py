"""PostgreSQL through psycopg 3: for several engine processes or hosts sharing one database."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from typing import Any

from pinflow.store.base import read_migrations

_PLACEHOLDER = re.compile(r"\?")
# The advisory lock migrations are applied under (any constant all pinflow versions agree on).
MIGRATION_LOCK = 0x70696E666C6F77
log = logging.getLogger(__name__)


class PostgresDialect:
    name = "postgres"
    shared = True

    def __init__(self, url: str) -> None:
        self.url = url

    def connect(self) -> Any:
        import psycopg

        return psycopg.connect(self.url, autocommit=False)

    def lets_in_without_password(self) -> bool:
        """Whether the database let this server in over the network without asking for a password: any
        process that reaches it the same way (a function in the sandbox, which shares the host's
        network) could then connect as this server does. A Unix socket is not counted: its folder is
        not in a function's view."""
        with self.connect() as connection:
            return not connection.info.host.startswith("/") and not connection.pgconn.used_password

    def begin(self, connection: Any, write: bool) -> None:
        # psycopg opens a transaction on the first statement; nothing to do.
        pass

    def maintain(self, connection: Any) -> None:
        """Nothing to do: the server looks after itself."""

    def lock_migrations(self, connection: Any) -> None:
        """Hold the migration lock until the migrating transaction ends."""
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))

    def notify(self, connection: Any, channel: str, payload: str) -> None:
        # NOTIFY is transactional: listeners hear it at commit, and not at all after a rollback.
        connection.execute("SELECT pg_notify(%s, %s)", (channel, payload))

    def listen(self, channel: str, deliver: Callable[[str], None], stop: threading.Event) -> None:
        """LISTEN on a connection of its own until `stop`; a lost connection is opened again (what
        was said meanwhile is missed, which the nodes' polling makes up for)."""
        import psycopg

        while not stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as connection:
                    connection.execute(f'LISTEN "{channel}"')
                    while not stop.is_set():
                        for note in connection.notifies(timeout=0.5):
                            deliver(note.payload)
            except Exception as exc:  # noqa: BLE001 - the database went away: try again shortly
                log.warning("listening for other nodes failed (%s); polling until it works again", exc)
                stop.wait(2.0)

    def translate(self, sql: str) -> str:
        # Portable queries use `?`; psycopg wants `%s` (and a literal % doubled).
        return _PLACEHOLDER.sub("%s", sql.replace("%", "%%"))

    def migrations(self) -> list[tuple[int, str]]:
        return read_migrations("postgres")
