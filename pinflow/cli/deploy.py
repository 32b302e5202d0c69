"""`pinflow deploy`, `pinflow gc` and `pinflow demo`: project deploys through a server's API."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from pinflow.cli.output import console, errors
from pinflow.deploy.clients import DEFAULT_ENDPOINT


def _endpoint_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--endpoint", envvar="PINFLOW_ENDPOINT", default=DEFAULT_ENDPOINT, show_default=True,
                        help="The pinflow server (or env PINFLOW_ENDPOINT).")(command)


@contextmanager
def _failures(endpoint: str | None = None) -> Iterator[None]:
    """End the command with status 1 and a one-line reason for a project, endpoint or API error."""
    from botocore.exceptions import BotoCoreError, ClientError

    from pinflow.deploy import endpoint as endpoints
    from pinflow.deploy.yamlfile import ProjectError

    shown = endpoint or ""
    try:
        shown = endpoints.normalize(endpoint) if endpoint else shown
        yield
    except (ProjectError, endpoints.EndpointError) as exc:
        errors.print(f"error: {exc}", markup=False, soft_wrap=True)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        line = endpoints.explain(exc, shown) or f"{error.get('Code', 'Error')}: {error.get('Message', '')}"
        errors.print(f"error: {line}", markup=False, soft_wrap=True)
    except BotoCoreError as exc:
        errors.print(f"error: {endpoints.explain(exc, shown) or exc}", markup=False, soft_wrap=True)
    else:
        return
    sys.exit(1)


@click.command()
@_endpoint_option
@click.option("--stage", "-s", help="The stage (default: provider.stage, else dev).")
@click.option("--config", "-c", "config", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The project file (default: pinflow.yml or serverless.yml here).")
@click.option("--plan", "plan_only", is_flag=True, help="Print the plan and change nothing.")
@click.option("--strict", is_flag=True,
              help="Refuse (exit status 3) a deploy that changes code or permissions under a running "
                   "execution.")
@click.option("--yes", "-y", is_flag=True, help="Apply without asking.")
def deploy(endpoint: str, stage: str | None, config: Path | None, plan_only: bool, strict: bool,
           yes: bool) -> None:
    """Deploy the project's functions and state machines, after printing the plan.

    Each function gets a new version only when its code or configuration changed; with
    useExactVersion every reference to a function is pinned to its exact version; each state machine
    gets a version when its definition or role changed. The plan lists every running execution, the
    versions it still calls, and whether this deploy changes code or permissions under it.
    """
    from pinflow.deploy import apply, clients, project

    with _failures(endpoint):
        path = config or project.find(Path.cwd())
        loaded = project.load(path, stage=stage)
        confirm = None if yes else _confirm
        result = apply.deploy(loaded, clients.connect(endpoint, loaded.region), console, plan_only=plan_only,
                              strict=strict, confirm=confirm)
    sys.exit(result.status)


def _confirm() -> bool:
    if not sys.stdin.isatty():
        errors.print("error: not asking on a non-interactive input; give --yes to deploy", markup=False, soft_wrap=True)
        return False
    return click.confirm("Deploy?", default=False)


@click.command()
@_endpoint_option
@click.option("--dry-run", is_flag=True, help="Say what would be deleted, delete nothing.")
def gc(endpoint: str, dry_run: bool) -> None:
    """Delete function and state machine versions that no alias, no current definition and no
    running execution references."""
    from pinflow.deploy import clients
    from pinflow.deploy import gc as collector

    with _failures(endpoint):
        collector.collect(clients.connect(endpoint), console, dry_run=dry_run)


@click.command()
@click.option("--wait-seconds", default=3, show_default=True, type=click.IntRange(1, 60),
              help="How long execution 1 waits for its approver (the examples say 300, and 150).")
@click.option("--example", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="The example folder, with v1/ and v2/ (default: examples/hello-approval, or examples/article "
                   "with --runtime nodejs, here or in the source tree).")
@click.option("--runtime", type=click.Choice(["python", "nodejs"]), default="python", show_default=True,
              help="The language hello is written in: nodejs plays the article's own example (nodejs8.10).")
def demo(wait_seconds: int, example: Path | None, runtime: str) -> None:
    """Play the hello-approval story on an embedded server: a deploy while an execution waits."""
    from pinflow.deploy import demo as story

    with _failures():
        ok = story.play(console, wait_seconds=wait_seconds, example=example, runtime=runtime)
    sys.exit(0 if ok else 1)
