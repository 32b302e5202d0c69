"""Helpers the browser tests share: the console's URLs, and the hello-approval story deployed through the
API as `pinflow demo` deploys it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rich.console import Console

from pinflow.deploy import apply, clients, demo, project

# The story's five-minute wait, shortened: long enough to look at the waiting execution and deploy day 2.
WAIT_SECONDS = 8


def execution_url(endpoint: str, arn: str, query: str = "") -> str:
    return f"{endpoint}/console/executions/{quote(arn, safe='')}{query}"


def quiet() -> Console:
    return Console(file=io.StringIO(), width=200)


def day(folder: str, wait_seconds: int = WAIT_SECONDS) -> project.Project:
    """A day of the story with useExactVersion on (the act pinflow recommends)."""
    return demo.load_day(demo.find_example() / folder, demo.ACTS[0], wait_seconds)


def deploy(cl: clients.Clients, loaded: project.Project) -> tuple[str, str]:
    """Deploy a day; (machine name, the machine version ARN it published)."""
    result = apply.deploy(loaded, cl, quiet(), show_plan=False)
    machine = next(iter(loaded.state_machines.values())).name
    assert result.outcome is not None, "the deploy applied nothing"
    return machine, result.outcome.machines[machine]


def shot(page: Any, folder: Path, name: str, *, full_page: bool = True) -> None:
    """A screenshot `name`.png, of the whole page or of what the window shows."""
    page.screenshot(path=str(folder / f"{name}.png"), full_page=full_page)
