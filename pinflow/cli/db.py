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
    """Bring the schema to this pinflow's version and say from which.

    Nodes starting do the same, under the same lock (docs/cluster.md); run this first to upgrade the
    database before any node of the new version starts, or to see that it is up to date."""
    from pinflow.store import open_store
    from pinflow.store.base import SchemaAhead

    if data_dir is not None and url is not None:
        raise click.UsageError("--data-dir and --db are alternatives; give one")
    try:
        store = open_store(url, data_dir=data_dir or ".pinflow")
    except SchemaAhead as exc:
        raise click.ClickException(str(exc)) from None
    try:
        if store.found_version == store.version:
            click.echo(f"schema version {store.version}: up to date")
        else:
            click.echo(f"schema version {store.found_version} -> {store.version}")
    finally:
        store.close()
