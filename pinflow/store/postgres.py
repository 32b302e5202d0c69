"""PostgreSQL through psycopg 3: for several engine processes or hosts sharing one database."""

from __future__ import annotations

import re
from typing import Any

from pinflow.store.base import read_migrations

_PLACEHOLDER = re.compile(r"\?")


class PostgresDialect:
    name = "postgres"

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

    def translate(self, sql: str) -> str:
        # Portable queries use `?`; psycopg wants `%s` (and a literal % doubled).
        return _PLACEHOLDER.sub("%s", sql.replace("%", "%%"))

    def migrations(self) -> list[tuple[int, str]]:
        return read_migrations("postgres")
