"""Commands that work on a definition file alone, with no server: validate and run."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

import click

from pinflow import asl
from pinflow.asl import commands as cmd
from pinflow.asl import events, source
from pinflow.cli.output import console, errors, history_table, print_json
from pinflow.clock import RealClock
from pinflow.engine.integrations import mock


def _read_definition(path: str) -> Any:
    text = Path(path).read_text(encoding="utf-8")
    try:
        return source.load(text)
    except ValueError as exc:
        raise click.ClickException(f"{path}: {exc}") from None


def _parse_input(value: str | None) -> Any:
    if value is None:
        return {}
    text = Path(value[1:]).read_text(encoding="utf-8") if value.startswith("@") else value
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--input") from None


def _load_handler(spec: str) -> tuple[str, Any]:
    resource, sep, target = spec.rpartition("=")
    module_name, colon, function_name = target.partition(":")
    if not sep or not colon:
        raise click.BadParameter(f"expected RESOURCE=module:function, got {spec!r}", param_hint="--task")
    if "" not in sys.path:
        sys.path.insert(0, "")
    try:
        module = importlib.import_module(module_name)
        return resource, getattr(module, function_name)
    except (ImportError, AttributeError) as exc:
        raise click.BadParameter(f"cannot load {target}: {exc}", param_hint="--task") from None


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def validate(file: str) -> None:
    """Check a state machine definition (JSON or YAML) as ValidateStateMachineDefinition does."""
    definition = _read_definition(file)
    diagnostics = asl.validate(definition)
    failing = [d for d in diagnostics if d.severity == "ERROR"]
    for d in diagnostics:
        colour = "red" if d.severity == "ERROR" else "yellow"
        console.print(f"[{colour}]{d.severity}[/] {d.code} at {d.location or '/'}: ", end="")
        console.print(d.message, markup=False)
    if failing:
        errors.print(f"{file}: {len(failing)} error(s)", markup=False)
        sys.exit(1)
    console.print(f"[green]OK[/] {file}")


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--input", "input_", metavar="JSON|@FILE", help="Execution input (default {}).")
@click.option("--task", "tasks", multiple=True, metavar="RESOURCE=module:function",
              help="Run a Task's resource with a Python function (repeatable).")
@click.option("--history", is_flag=True, help="Print the event history as a table.")
@click.option("--mock-config", type=click.Path(exists=True, dir_okay=False), default=None, envvar=mock.ENV,
              help="Step Functions Local's mock configuration file (also SFN_MOCK_CONFIG).")
@click.option("--test-case", metavar="[MACHINE#]CASE", default=None,
              help="The test case whose mocked responses answer its states; MACHINE defaults to the file's name.")
def run(file: str, input_: str | None, tasks: tuple[str, ...], history: bool, mock_config: str | None,
        test_case: str | None) -> None:
    """Run a state machine locally, in memory, in real time."""
    definition = _read_definition(file)
    failing = [d for d in asl.validate(definition) if d.severity == "ERROR"]
    if failing:
        for d in failing:
            errors.print(f"{d.code} at {d.location or '/'}: {d.message}", markup=False)
        sys.exit(1)
    handlers = dict(_load_handler(spec) for spec in tasks)
    answer = _mocked(file, mock_config, test_case)
    result = asl.run(definition, _parse_input(input_), handlers=handlers, clock=RealClock(),
                     name=Path(file).stem, answer=answer)
    if history:
        console.print(history_table(result.history))
    if result.status == "SUCCEEDED":
        print_json(result.output)
        return
    errors.print(f"{result.status}: {result.error}", markup=False)
    if result.cause:
        errors.print(result.cause, markup=False)
    sys.exit(1)


def _mocked(file: str, path: str | None, given: str | None) -> Any:
    """What answers the test case's mocked states (None without a test case), as a server with the same
    mock configuration would (`pinflow.engine.integrations.mock`)."""
    if given is None:
        if path is not None:
            raise click.UsageError("--mock-config needs --test-case to say which test case to run")
        return None
    if path is None:
        raise click.UsageError("--test-case needs --mock-config (or SFN_MOCK_CONFIG)")
    try:
        config = mock.MockConfig.load(path)
    except ValueError as exc:
        raise click.UsageError(f"--mock-config: {exc}") from None
    machine, sep, case = given.rpartition("#")
    if not sep:
        stem = Path(file).name.split(".")[0]
        found = config.machines_with(case)
        machine = stem if stem in found or len(found) != 1 else found[0]
    if config.test_case(machine, case) is None:
        raise click.UsageError(f"--test-case: {path} has no test case '{case}' for the state machine '{machine}'"
                               f" (state machines with it: {', '.join(config.machines_with(case)) or 'none'})")
    pins = {"mock": mock.pinned(machine, case)}

    def answer(command: cmd.InvokeTask, now: float) -> events.Event | None:
        mocked = mock.answer(config, pins, command.state_name, command.invocation)
        return None if mocked is None else mocked.event(command.task_id, now)

    return answer
