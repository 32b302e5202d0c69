"""`pinflow demo`: the hello-approval story, played through the API of an embedded server.

`--runtime nodejs` plays the article's own example (`examples/article`: `hello` in Node.js, declared
`nodejs8.10`, run by the machine's node) instead of the Python one.

Day 1 (`v1/`): the machine waits for an approver, then calls `hello`, which answers "Approved", and
succeeds only on "Approved". Day 2 (`v2/`): no wait, `hello` answers "ThumbsUp", the check expects
"ThumbsUp". Execution 1 starts on day 1 and is still waiting when day 2 is deployed. Played twice:
with `useExactVersion` (execution 1 keeps calling day 1's hello and succeeds), then without it
(execution 1 wakes up, calls day 2's code and fails: what happens on AWS, and what the plan warns of).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from pinflow.deploy import apply, clients, project
from pinflow.deploy.yamlfile import ProjectError

EXAMPLE = Path("examples") / "hello-approval"
# The example each runtime plays.
EXAMPLES = {"python": EXAMPLE, "nodejs": Path("examples") / "article"}
DONE = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


@dataclass(frozen=True)
class Act:
    """One playing of the story."""

    title: str
    stage: str
    exact: bool
    expected: str  # what the article predicts for execution 1


@dataclass
class Played:
    act: Act
    warnings: list[str]
    first: dict[str, Any]
    second: dict[str, Any]

    @property
    def as_predicted(self) -> bool:
        return self.first["status"] == self.act.expected and self.second["status"] == "SUCCEEDED"


ACTS = (
    Act("with useExactVersion (pinflow's way)", "pinned", True, "SUCCEEDED"),
    Act("without useExactVersion (what happens on AWS)", "unpinned", False, "FAILED"),
)


def find_example(given: Path | None = None, runtime: str = "python") -> Path:
    """The example's folder: `given`, else the runtime's example (`examples/hello-approval`, or
    `examples/article` for nodejs) here or in the source tree.

    Raises:
        ProjectError: not found.
    """
    example = EXAMPLES[runtime]
    source_tree = Path(__file__).resolve().parents[2] / example
    candidates = [given] if given is not None else [Path.cwd() / example, source_tree]
    for candidate in candidates:
        if (candidate / "v1").is_dir() and (candidate / "v2").is_dir():
            return candidate
    raise ProjectError("the hello-approval example (v1/ and v2/) is not here: run from a clone of the "
                       "repository, or give --example")


@contextmanager
def embedded_server(data_dir: Path) -> Iterator[str]:
    """A pinflow server (engine and API) on an ephemeral local port, in a thread; yields its endpoint."""
    import uvicorn

    from pinflow.api.app import create_app
    from pinflow.service import Pinflow

    pf = Pinflow.open(data_dir=data_dir)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(create_app(pf), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, name="pinflow-demo-server", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the embedded server did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        pf.close()


def with_wait(definition: Any, seconds: int) -> Any:
    """A copy of a definition whose Wait states wait `seconds` (the story's five minutes, shortened)."""
    changed = copy.deepcopy(definition)
    for state in (changed.get("States") or {}).values():
        if isinstance(state, dict) and state.get("Type") == "Wait" and "Seconds" in state:
            state["Seconds"] = seconds
    return changed


def load_day(folder: Path, act: Act, wait_seconds: int) -> project.Project:
    """A day's project for an act: its stage, useExactVersion as the act says, Waits shortened."""
    loaded = project.load(folder / "serverless.yml", stage=act.stage)
    machines = {key: dataclasses.replace(machine, use_exact_version=act.exact,
                                         definition=with_wait(machine.definition, wait_seconds))
                for key, machine in loaded.state_machines.items()}
    return loaded.with_machines(**machines)


def _written_wait(folder: Path) -> int | None:
    """The seconds day 1's Wait states say in the example's file (before the demo shortens them)."""
    for machine in project.load(folder / "v1" / "serverless.yml").state_machines.values():
        for state in (machine.definition.get("States") or {}).values():
            if isinstance(state, dict) and state.get("Type") == "Wait" and isinstance(state.get("Seconds"), int):
                return int(state["Seconds"])
    return None


def play(console: Console, *, wait_seconds: int = 3, example: Path | None = None, runtime: str = "python") -> bool:
    """Play both acts and print the summary; True when everything went as the article predicts.

    Args:
        runtime: "python" (examples/hello-approval) or "nodejs" (the article's example, examples/article).
    """
    folder = find_example(example, runtime)
    written = _written_wait(folder)
    language = "Node.js" if runtime == "nodejs" else "Python"
    console.print(Panel(Text.from_markup(
        "[bold]The story.[/bold] Day 1: a workflow waits for an approver, then calls [bold]hello[/bold], "
        "which answers \"Approved\". Day 2 is deployed while a day-1 execution is still waiting: "
        "hello now answers \"ThumbsUp\", and the new workflow checks for that.\n"
        f"hello is written in {language} ({folder}). The {written or '?'}-second wait is shortened to "
        f"{wait_seconds} s. Everything below goes through pinflow's AWS-compatible API, on a server started "
        "for this demo."), title="pinflow demo", title_align="left"))
    played: list[Played] = []
    with tempfile.TemporaryDirectory(prefix="pinflow-demo-") as tmp, \
            embedded_server(Path(tmp) / "data") as endpoint:
        cl = clients.connect(endpoint)
        for number, act in enumerate(ACTS, start=1):
            played.append(_act(console, cl, folder, number, act, wait_seconds))
    _summary(console, played)
    return all(item.as_predicted for item in played)


def _act(console: Console, cl: clients.Clients, folder: Path, number: int, act: Act,
         wait_seconds: int) -> Played:
    console.rule(f"Act {number}: {act.title}")
    day1 = load_day(folder / "v1", act, wait_seconds)
    machine = next(iter(day1.state_machines.values())).name
    console.print(Text.from_markup("[bold]Day 1.[/bold] Deploy v1 (hello answers \"Approved\")."))
    first_deploy = apply.deploy(day1, cl, console, show_plan=False)
    version1 = _version_arn(first_deploy, machine)
    first = cl.sfn.start_execution(stateMachineArn=version1, name="day-1")["executionArn"]
    console.print(f"Execution [bold]day-1[/bold] started on {machine} version {version1.rsplit(':', 1)[1]}; "
                  f"it waits {wait_seconds} s for its approver.")

    console.print(Text.from_markup("\n[bold]Day 2.[/bold] Deploy v2 while day-1 waits. The plan:"))
    day2 = load_day(folder / "v2", act, wait_seconds)
    second_deploy = apply.deploy(day2, cl, console)
    warnings = [w for impact in second_deploy.plan.unsafe for w in impact.warnings]
    version2 = _version_arn(second_deploy, machine)
    second = cl.sfn.start_execution(stateMachineArn=version2, name="day-2")["executionArn"]
    console.print(f"Execution [bold]day-2[/bold] started on {machine} version {version2.rsplit(':', 1)[1]}.")
    with console.status("waiting for both executions to end"):
        results = [_wait(cl, arn, wait_seconds + 30) for arn in (first, second)]
    for result in results:
        style = "green" if result["status"] == "SUCCEEDED" else "red"
        error = f" ({result['error']})" if result.get("error") else ""
        console.print(Text.assemble(f"  {result['name']}: ", (result["status"], style),
                                    f" - hello answered {result['answer']!r}{error}"))
    return Played(act, warnings, results[0], results[1])


def _version_arn(result: apply.Result, machine: str) -> str:
    if result.outcome is None or machine not in result.outcome.machines:
        raise RuntimeError(f"the deploy did not publish {machine}")
    return result.outcome.machines[machine]


def _wait(cl: clients.Clients, arn: str, timeout: float) -> dict[str, Any]:
    """Poll an execution until it ends; its status, error and what hello answered."""
    deadline = time.monotonic() + timeout
    while True:
        described = cl.sfn.describe_execution(executionArn=arn)
        if described["status"] in DONE or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    answer = None
    for event in clients.history(cl.sfn, arn):
        details = event.get("lambdaFunctionSucceededEventDetails") or event.get("taskSucceededEventDetails")
        if details and "output" in details:
            answer = json.loads(details["output"])
    return {"name": described["name"], "status": described["status"], "error": described.get("error"),
            "answer": answer, "version": described.get("stateMachineVersionArn", "").rsplit(":", 1)[-1]}


def _summary(console: Console, played: list[Played]) -> None:
    console.rule("What happened")
    table = Table(header_style="bold")
    columns = ("useExactVersion", "execution", "machine version", "hello answered", "result", "as predicted")
    for column in columns:
        table.add_column(column)
    for item in played:
        for result, expected in ((item.first, item.act.expected), (item.second, "SUCCEEDED")):
            ok = result["status"] == expected
            table.add_row("on" if item.act.exact else "off", Text(result["name"]),
                          Text(result["version"]), Text(repr(result["answer"])),
                          Text(result["status"], style="green" if result["status"] == "SUCCEEDED" else "red"),
                          Text("yes" if ok else f"no (expected {expected})",
                               style="green" if ok else "bold red"))
    console.print(table)
    pinned, live = played[0], played[1]
    console.print(Text.from_markup(
        f"[bold]With useExactVersion[/bold], day 1's definition names hello's exact version (hello:1). Day 2 "
        f"published hello:2 and a new machine version, and changed nothing under day-1: it woke up, called "
        f"hello:1, got {escape(repr(pinned.first['answer']))} and {pinned.first['status']}. The plan listed "
        "it as safe "
        f"({len(pinned.warnings)} warning(s)).\n"
        f"[bold]Without it[/bold], day 1's definition names hello unqualified, which runs whatever code is "
        f"current at each call (as on AWS). The plan said so before deploying:"))
    for warning in live.warnings:
        console.print(Text(f"  ! day-1 {warning}", style="yellow"))
    console.print(Text.from_markup(
        f"Day-1 woke up, called day 2's hello, got {escape(repr(live.first['answer']))} and "
        f"{live.first['status']}{' (' + live.first['error'] + ')' if live.first.get('error') else ''}, "
        "as the article predicts. `pinflow deploy --strict` refuses such a deploy (exit status 3)."))
