"""Commands that talk to a running pinflow server through boto3: executions, functions, state machines.

The endpoint comes from `--endpoint` or PINFLOW_ENDPOINT (default http://127.0.0.1:8083).
Credentials are the usual AWS ones when configured; a local server accepts any, so placeholders are
used when none are.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from pinflow import arns
from pinflow.cli.output import console, errors, history_table, print_json

DEFAULT_ENDPOINT = "http://127.0.0.1:8083"
F = TypeVar("F", bound=Callable[..., Any])


def endpoint_option(command: F) -> F:
    """The --endpoint option (or PINFLOW_ENDPOINT)."""
    return click.option("--endpoint", envvar="PINFLOW_ENDPOINT", default=DEFAULT_ENDPOINT, show_default=True,
                        help="The pinflow server (or env PINFLOW_ENDPOINT).")(command)


def output_option(command: F) -> F:
    """The --output option: table or json."""
    return click.option("--output", "output", type=click.Choice(["table", "json"]), default="table",
                        show_default=True, help="A readable table, or the API's JSON.")(command)


def client(service: str, endpoint: str) -> Any:
    """A boto3 client for `service` at `endpoint`, with host-prefix injection off (so StartSyncExecution
    and TestState reach the endpoint itself, not `sync-<host>`)."""
    # Without this, a machine with no AWS credentials spends seconds asking the EC2 metadata service.
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    import boto3
    from botocore.config import Config

    from pinflow.deploy import endpoint as endpoints

    try:
        endpoint = endpoints.normalize(endpoint)
    except endpoints.EndpointError as exc:
        errors.print(f"error: {exc}", markup=False, soft_wrap=True)
        sys.exit(1)
    session = boto3.Session()
    options: dict[str, Any] = {}
    if session.get_credentials() is None:
        options.update(aws_access_key_id="pinflow", aws_secret_access_key="pinflow")
    config = Config(inject_host_prefix=False, retries={"max_attempts": 2, "mode": "standard"},
                    read_timeout=70, connect_timeout=5)
    region = session.region_name or arns.DEFAULT_REGION
    made = session.client(service, endpoint_url=endpoint, region_name=region, config=config, **options)
    context = click.get_current_context(silent=True)
    if context is not None:
        context.call_on_close(made.close)  # its connections close with the command
    return made


def plain(value: Any) -> Any:
    """A boto3 answer as JSON data: datetimes as ISO 8601, no ResponseMetadata."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items() if key != "ResponseMetadata"}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def _read_json_arg(value: str | None, hint: str) -> str | None:
    """JSON text from `JSON` or `@file`, checked to be JSON."""
    if value is None:
        return None
    text = Path(value[1:]).read_text(encoding="utf-8") if value.startswith("@") else value
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint=hint) from None
    return text


def _machine_arn(value: str) -> str:
    """A state machine ARN, or a bare name made into one."""
    return value if value.startswith("arn:") else arns.state_machine(value)


def _call(operation: Callable[..., Any], **params: Any) -> Any:
    """Call the API; an AWS error or an unreachable server ends the command with status 1."""
    from botocore.exceptions import BotoCoreError, ClientError

    from pinflow.deploy import endpoint as endpoints

    where = getattr(getattr(operation, "__self__", None), "meta", None)
    shown = str(getattr(where, "endpoint_url", "the endpoint"))
    try:
        return operation(**params)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        errors.print(endpoints.explain(exc, shown) or f"{error.get('Code', 'Error')}: {error.get('Message', '')}",
                     markup=False, soft_wrap=True)
    except BotoCoreError as exc:
        errors.print(endpoints.explain(exc, shown) or str(exc), markup=False, soft_wrap=True)
    sys.exit(1)


def _pages(operation: Any, key: str, **params: Any) -> Iterator[dict[str, Any]]:
    while True:
        page = _call(operation, **params)
        yield from page.get(key, [])
        if not page.get("nextToken"):
            return
        params["nextToken"] = page["nextToken"]


def _stamp(value: Any) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, dt.datetime) else ""


# --- executions --------------------------------------------------------------------------------------


@click.group()
def executions() -> None:
    """Start, inspect, stop and redrive executions on a server."""


@executions.command("start")
@click.argument("state_machine")
@click.option("--name", help="Execution name (default: a UUID).")
@click.option("--input", "input_", metavar="JSON|@FILE", help="Execution input (default {}).")
@endpoint_option
def start(state_machine: str, name: str | None, input_: str | None, endpoint: str) -> None:
    """Start an execution of STATE_MACHINE (an ARN, a version or alias ARN, or a name)."""
    params: dict[str, Any] = {"stateMachineArn": _machine_arn(state_machine)}
    if name:
        params["name"] = name
    text = _read_json_arg(input_, "--input")
    if text is not None:
        params["input"] = text
    print_json(plain(_call(client("stepfunctions", endpoint).start_execution, **params)))


@executions.command("describe")
@click.argument("execution_arn")
@endpoint_option
def describe(execution_arn: str, endpoint: str) -> None:
    """Show an execution (DescribeExecution)."""
    print_json(plain(_call(client("stepfunctions", endpoint).describe_execution, executionArn=execution_arn)))


@executions.command("list")
@click.argument("state_machine")
@click.option("--status", type=click.Choice(["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED",
                                             "PENDING_REDRIVE"]), help="Only executions in this status.")
@endpoint_option
@output_option
def list_(state_machine: str, status: str | None, endpoint: str, output: str) -> None:
    """List the executions of STATE_MACHINE, newest first."""
    sfn = client("stepfunctions", endpoint)
    params: dict[str, Any] = {"stateMachineArn": _machine_arn(state_machine)}
    if status:
        params["statusFilter"] = status
    found = list(_pages(sfn.list_executions, "executions", **params))
    if output == "json":
        print_json(plain(found))
        return
    from rich.table import Table

    table = Table(header_style="bold")
    for column in ("name", "status", "started", "stopped", "version/alias"):
        table.add_column(column, overflow="fold")
    for item in found:
        pinned = item.get("stateMachineAliasArn") or item.get("stateMachineVersionArn") or ""
        table.add_row(item["name"], item["status"], _stamp(item.get("startDate")),
                      _stamp(item.get("stopDate")), pinned.rsplit(":", 1)[-1] if pinned else "")
    console.print(table)


@executions.command("history")
@click.argument("execution_arn")
@endpoint_option
@output_option
def history(execution_arn: str, endpoint: str, output: str) -> None:
    """Show an execution's event history."""
    events = list(_pages(client("stepfunctions", endpoint).get_execution_history, "events",
                         executionArn=execution_arn, maxResults=1000))
    if output == "json":
        print_json(plain(events))
        return
    readable = [{**event, "timestamp": event["timestamp"].timestamp()} for event in events]
    console.print(history_table(readable))


@executions.command("stop")
@click.argument("execution_arn")
@click.option("--error", help="Error name recorded with the abort.")
@click.option("--cause", help="Cause recorded with the abort.")
@endpoint_option
def stop(execution_arn: str, error: str | None, cause: str | None, endpoint: str) -> None:
    """Stop a running execution (it ends ABORTED)."""
    params: dict[str, Any] = {"executionArn": execution_arn}
    if error:
        params["error"] = error
    if cause:
        params["cause"] = cause
    print_json(plain(_call(client("stepfunctions", endpoint).stop_execution, **params)))


@executions.command("redrive")
@click.argument("execution_arn")
@endpoint_option
def redrive(execution_arn: str, endpoint: str) -> None:
    """Redrive a failed, timed-out or aborted execution from where it stopped."""
    print_json(plain(_call(client("stepfunctions", endpoint).redrive_execution, executionArn=execution_arn)))


# --- functions ---------------------------------------------------------------------------------------


@click.group()
def functions() -> None:
    """Call functions on a server."""


@functions.command("invoke")
@click.argument("name")
@click.option("--payload", metavar="JSON|@FILE", help="The event (default {}).")
@click.option("--qualifier", help="A version number or alias.")
@endpoint_option
def invoke(name: str, payload: str | None, qualifier: str | None, endpoint: str) -> None:
    """Invoke function NAME and print what it returned (exit status 1 on a function error)."""
    params: dict[str, Any] = {"FunctionName": name, "Payload": (_read_json_arg(payload, "--payload") or "{}")}
    if qualifier:
        params["Qualifier"] = qualifier
    answer = _call(client("lambda", endpoint).invoke, **params)
    body = answer["Payload"].read().decode("utf-8")
    try:
        value = json.loads(body) if body else None
    except json.JSONDecodeError:
        value = body
    if answer.get("FunctionError"):
        version = answer.get("ExecutedVersion", "?")
        errors.print(f"{answer['FunctionError']} error (version {version})", markup=False, soft_wrap=True)
        errors.print(json.dumps(value, indent=2, ensure_ascii=False), markup=False, soft_wrap=True)
        sys.exit(1)
    print_json(value)


# --- state machines ----------------------------------------------------------------------------------


@click.group("state-machines")
def state_machines() -> None:
    """State machines on a server."""


@state_machines.command("list")
@endpoint_option
@output_option
def list_state_machines(endpoint: str, output: str) -> None:
    """List the state machines."""
    found = list(_pages(client("stepfunctions", endpoint).list_state_machines, "stateMachines"))
    if output == "json":
        print_json(plain(found))
        return
    from rich.table import Table

    table = Table(header_style="bold")
    for column in ("name", "type", "created", "arn"):
        table.add_column(column, overflow="fold")
    for item in found:
        table.add_row(item["name"], item["type"], _stamp(item.get("creationDate")), item["stateMachineArn"])
    console.print(table)
