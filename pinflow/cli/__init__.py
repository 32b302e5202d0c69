"""The `pinflow` command line."""

from __future__ import annotations

import click

from pinflow.cli import local


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pinflow")
def main() -> None:
    """pinflow: Amazon States Language workflows, each execution pinned to what it started with."""


main.add_command(local.validate)
main.add_command(local.run)

__all__ = ["main"]
