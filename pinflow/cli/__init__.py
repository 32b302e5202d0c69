"""The `pinflow` command line."""

from __future__ import annotations

import click

from pinflow.cli import db as db_commands
from pinflow.cli import deploy as deploy_commands
from pinflow.cli import local, remote, server


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pinflow")
def main() -> None:
    """pinflow: Amazon States Language workflows, each execution pinned to what it started with."""


main.add_command(local.validate)
main.add_command(local.run)
main.add_command(server.server)
main.add_command(remote.executions)
main.add_command(remote.functions)
main.add_command(remote.state_machines)
main.add_command(deploy_commands.deploy)
main.add_command(deploy_commands.gc)
main.add_command(deploy_commands.demo)
main.add_command(db_commands.db)

__all__ = ["main"]
