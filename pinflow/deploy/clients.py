"""boto3 clients for a pinflow server (Step Functions, Lambda, IAM) and the listings deploy and gc read."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pinflow import arns
from pinflow.deploy import endpoint as endpoints

DEFAULT_ENDPOINT = "http://127.0.0.1:8083"


@dataclass(frozen=True)
class Clients:
    """One client per API, all pointed at the same server."""

    sfn: Any
    lam: Any
    iam: Any
    endpoint: str


def connect(endpoint: str, region: str = arns.DEFAULT_REGION) -> Clients:
    """Clients for the server at `endpoint` (`host:port` means http). Host-prefix injection is off
    (StartSyncExecution and TestState would otherwise go to `sync-<host>`); a local server accepts
    any credentials, so placeholders are used when none are configured.

    Raises:
        EndpointError: the endpoint is malformed (see `endpoint.normalize`).
    """
    endpoint = endpoints.normalize(endpoint)
    # Without this, a machine with no AWS credentials spends seconds asking the EC2 metadata service.
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    import boto3
    from botocore.config import Config

    session = boto3.Session()
    options: dict[str, Any] = {}
    if session.get_credentials() is None:
        options.update(aws_access_key_id="pinflow", aws_secret_access_key="pinflow")
    config = Config(inject_host_prefix=False, retries={"max_attempts": 2, "mode": "standard"},
                    read_timeout=70, connect_timeout=5)

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=endpoint, region_name=region, config=config, **options)

    return Clients(client("stepfunctions"), client("lambda"), client("iam"), endpoint)


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError, None for anything else."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code is not None else None
    return None


def error_message(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        return f"{error.get('Code', 'Error')}: {error.get('Message', '')}"
    return str(exc)


def function_versions(lam: Any, name: str) -> list[dict[str, Any]]:
    """Every published version of a function (not $LATEST), oldest first."""
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"FunctionName": name}
    while True:
        page = lam.list_versions_by_function(**params)
        found.extend(item for item in page.get("Versions", []) if item.get("Version") != "$LATEST")
        if not page.get("NextMarker"):
            break
        params["Marker"] = page["NextMarker"]
    return sorted(found, key=lambda item: int(item["Version"]))


def function_aliases(lam: Any, name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"FunctionName": name}
    while True:
        page = lam.list_aliases(**params)
        found.extend(page.get("Aliases", []))
        if not page.get("NextMarker"):
            return found
        params["Marker"] = page["NextMarker"]


def functions(lam: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {}
    while True:
        page = lam.list_functions(**params)
        found.extend(page.get("Functions", []))
        if not page.get("NextMarker"):
            return found
        params["Marker"] = page["NextMarker"]


def _token_pages(operation: Any, key: str, **params: Any) -> Iterator[dict[str, Any]]:
    while True:
        page = operation(**params)
        yield from page.get(key, [])
        if not page.get("nextToken"):
            return
        params["nextToken"] = page["nextToken"]


def state_machines(sfn: Any) -> list[dict[str, Any]]:
    return list(_token_pages(sfn.list_state_machines, "stateMachines"))


def machine_versions(sfn: Any, arn: str) -> list[int]:
    """The version numbers of a state machine, newest first."""
    items = _token_pages(sfn.list_state_machine_versions, "stateMachineVersions", stateMachineArn=arn)
    return sorted((int(item["stateMachineVersionArn"].rsplit(":", 1)[1]) for item in items), reverse=True)


def machine_aliases(sfn: Any, arn: str) -> list[dict[str, Any]]:
    """Each alias of a state machine, described (with its routingConfiguration)."""
    items = _token_pages(sfn.list_state_machine_aliases, "stateMachineAliases", stateMachineArn=arn)
    return [sfn.describe_state_machine_alias(stateMachineAliasArn=item["stateMachineAliasArn"])
            for item in items]


def running_executions(sfn: Any, machine_arn: str) -> list[dict[str, Any]]:
    return list(_token_pages(sfn.list_executions, "executions", stateMachineArn=machine_arn,
                             statusFilter="RUNNING"))


def history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    return list(_token_pages(sfn.get_execution_history, "events", executionArn=execution_arn,
                             maxResults=1000))
