"""`pinflow db`: the store's schema, for an upgrade run as its own step."""

from __future__ import annotations

import click


@click.group()
def db() -> None:
    """The store's schema."""


@db.command()
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="The embedded SQLite database's folder (default .pinflow).")
@click.option("--db", "url", metavar="URL", default=None, help="A PostgreSQL URL (postgresql://...) instead.")
def migrate(data_dir: str | None, url: str | None) -> None:
    """Bring an existing store's schema to this pinflow's version and say from which.

    Nodes starting do the same, under the same lock (docs/cluster.md); run this first to upgrade the
    database before any node of the new version starts, or to see that it is up to date."""
    from pinflow.store import open_store
    from pinflow.store.base import SchemaAhead, sqlite_path

    if data_dir is not None and url is not None:
        raise click.UsageError("--data-dir and --db are alternatives; give one")
    path = sqlite_path(url, data_dir=data_dir or ".pinflow")
    if path is not None and not path.is_file():
        # A server creates its store; a forgotten --db must not look like a migration done.
        raise click.ClickException(f"no pinflow database at {path}: give --data-dir DIR or --db URL")
    # What is said in one line: a newer pinflow's schema, a file or server that cannot be reached or
    # refuses us, another node's migration holding the lock too long.
    failures: tuple[type[BaseException], ...] = (SchemaAhead, OSError, TimeoutError)
    if path is None:
        try:
            import psycopg
        except ImportError:
            raise click.ClickException("a PostgreSQL store needs psycopg: pip install 'pinflow[postgres]'") from None
        failures += (psycopg.Error,)
    where = str(path) if path is not None else _postgres_name(str(url))
    try:
        store = open_store(url, data_dir=data_dir or ".pinflow")
    except failures as exc:
        raise click.ClickException(f"{where}: {exc}") from None
    try:
        if not store.applied:
            click.echo(f"{where}: schema version {store.version}, up to date")
        else:
            count = len(store.applied)
            click.echo(f"{where}: schema version {store.found_version} -> {store.version} "
                       f"({count} migration{'s' if count != 1 else ''} applied)")
    finally:
        store.close()


def _postgres_name(url: str) -> str:
    """The database a URL names, without its password: `user@host:port/dbname`."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(url)
    except Exception:  # noqa: BLE001 - a URL psycopg cannot read: say nothing of it
        return "the database"
    user = f"{parts['user']}@" if parts.get("user") else ""
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"{user}{parts.get('host') or 'localhost'}{port}/{parts.get('dbname') or ''}"
