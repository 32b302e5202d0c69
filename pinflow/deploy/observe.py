"""What a server holds, read through its API into the plan's data: functions, roles, machines, executions."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pinflow import arns
from pinflow.deploy import clients, plan, rewrite, roles

NOT_FOUND = ("ResourceNotFoundException", "ResourceNotFound", "NoSuchEntity", "StateMachineDoesNotExist")


def function_state(lam: Any, name: str) -> plan.FunctionOnServer:
    """A function's $LATEST and newest published version (an empty state when it does not exist)."""
    try:
        latest = lam.get_function_configuration(FunctionName=name)
    except Exception as exc:
        if clients.error_code(exc) in NOT_FOUND:
            return plan.FunctionOnServer(name)
        raise
    versions = clients.function_versions(lam, name)
    newest = versions[-1] if versions else None
    tags = lam.list_tags(Resource=latest["FunctionArn"]).get("Tags") or {}
    return plan.FunctionOnServer(name, plan.comparable(latest), int(newest["Version"]) if newest else None,
                                 plan.comparable(newest) if newest else None, dict(tags))


def latest_version(lam: Any, name: str) -> str | None:
    """The newest published version of a function (of any service), None when it has none or is absent."""
    try:
        versions = clients.function_versions(lam, name)
    except Exception as exc:
        if clients.error_code(exc) in NOT_FOUND:
            return None
        raise
    return versions[-1]["Version"] if versions else None


def role_state(iam: Any, name: str) -> tuple[bool, tuple[dict[str, Any], ...]]:
    """(whether the role exists, the statements of its deploy policy)."""
    try:
        iam.get_role(RoleName=name)
    except Exception as exc:
        if clients.error_code(exc) in NOT_FOUND:
            return False, ()
        raise
    try:
        answer = iam.get_role_policy(RoleName=name, PolicyName=roles.POLICY_NAME)
    except Exception as exc:
        if clients.error_code(exc) in NOT_FOUND:
            return True, ()
        raise
    document = answer["PolicyDocument"]
    if isinstance(document, str):  # boto3 decodes it; a raw text is URL-encoded JSON
        from urllib.parse import unquote

        document = json.loads(unquote(document))
    statements = document.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    return True, tuple(statements)


def role_by_arn(iam: Any, role_arn: str) -> dict[str, Any] | None:
    """The role an ARN names (path included), as GetRole answers it; None when there is none."""
    parsed = arns.parse(role_arn)
    if parsed is None or parsed.service != "iam" or not parsed.resource.startswith("role/"):
        return None
    try:
        role = iam.get_role(RoleName=parsed.resource.rsplit("/", 1)[-1])["Role"]
    except Exception as exc:
        if clients.error_code(exc) in NOT_FOUND:
            return None
        raise
    return dict(role) if role.get("Arn") == role_arn else None


def activity_exists(sfn: Any, activity_arn: str) -> bool:
    try:
        sfn.describe_activity(activityArn=activity_arn)
    except Exception as exc:
        if clients.error_code(exc) in ("ActivityDoesNotExist", *NOT_FOUND):
            return False
        raise
    return True


def machine_state(sfn: Any, name: str, alias: str | None) -> plan.MachineOnServer | None:
    """A state machine's current definition, role, versions and alias; None when it does not exist."""
    arn = arns.state_machine(name)
    try:
        described = sfn.describe_state_machine(stateMachineArn=arn)
    except Exception as exc:
        if clients.error_code(exc) in NOT_FOUND:
            return None
        raise
    arn = described["stateMachineArn"]
    versions = tuple(clients.machine_versions(sfn, arn))
    current = version_of_revision(sfn, arn, described.get("revisionId"), versions)
    routes = alias_routes(sfn, arn, alias) if alias is not None else None
    tags = {tag["key"]: tag["value"] for tag in sfn.list_tags_for_resource(resourceArn=arn).get("tags") or []}
    return plan.MachineOnServer(name, arn, described["definition"], described["roleArn"],
                                described.get("revisionId"), versions, current, routes, tags)


def version_of_revision(sfn: Any, machine_arn: str, revision: str | None,
                        versions: Iterable[int] | None = None) -> int | None:
    """The newest version published from a revision (None for the machine's first, unnamed revision
    matches a version of it too, as AWS shows no revisionId for either); None when there is none."""
    numbers = clients.machine_versions(sfn, machine_arn) if versions is None else versions
    for number in numbers:  # newest first
        described = sfn.describe_state_machine(stateMachineArn=f"{machine_arn}:{number}")
        if described.get("revisionId") == revision:
            return number
    return None


def alias_routes(sfn: Any, machine_arn: str, alias: str) -> tuple[tuple[int, int], ...] | None:
    """An alias's routing as (version, weight) pairs; None when the alias does not exist."""
    try:
        answer = sfn.describe_state_machine_alias(stateMachineAliasArn=f"{machine_arn}:{alias}")
    except Exception as exc:
        if clients.error_code(exc) in NOT_FOUND:
            return None
        raise
    return tuple((int(route["stateMachineVersionArn"].rsplit(":", 1)[1]), int(route["weight"]))
                 for route in answer.get("routingConfiguration", []))


def running_executions(sfn: Any, machines: Iterable[dict[str, Any]] | None = None
                       ) -> list[plan.RunningExecution]:
    """Every RUNNING Standard execution of `machines` (default: every machine on the server), each with
    the definition and role it is pinned to, and the versions its aliases were seen to call."""
    listed = clients.state_machines(sfn) if machines is None else list(machines)
    found: list[plan.RunningExecution] = []
    revisions: dict[tuple[str, str | None], int | None] = {}
    for machine in listed:
        if machine.get("type", "STANDARD") != "STANDARD":
            continue  # Express executions are not listed (as on AWS)
        try:
            items = clients.running_executions(sfn, machine["stateMachineArn"])
        except Exception as exc:
            if clients.error_code(exc) in NOT_FOUND:
                continue
            raise
        for item in items:
            try:
                pinned = sfn.describe_state_machine_for_execution(executionArn=item["executionArn"])
            except Exception as exc:
                if clients.error_code(exc) in ("ExecutionDoesNotExist", *NOT_FOUND):
                    continue
                raise
            definition = json.loads(pinned["definition"])
            aliases = [slot.arn for slot in rewrite.slots(definition) if _is_alias(slot.qualifier)]
            seen = alias_versions(sfn, item["executionArn"], set(aliases)) if aliases else {}
            revision = pinned.get("revisionId")
            holder = None
            if not item.get("stateMachineVersionArn"):
                key = (machine["stateMachineArn"], revision)
                if key not in revisions:
                    revisions[key] = version_of_revision(sfn, machine["stateMachineArn"], revision)
                holder = revisions[key]
            found.append(plan.RunningExecution(
                arn=item["executionArn"], name=item["name"], machine=machine["name"], definition=definition,
                role_arn=pinned["roleArn"], version_arn=item.get("stateMachineVersionArn"),
                alias_arn=item.get("stateMachineAliasArn"), revision_id=revision, alias_versions=seen,
                revision_version=holder))
    return found


def alias_targets(lam: Any, alias_arns: Iterable[str]) -> dict[str, str]:
    """Alias ARN -> the version it routes to now (GetAlias), for aliases that exist."""
    targets: dict[str, str] = {}
    for arn in alias_arns:
        ref = arns.split_function(arn)
        if ref is None or ref.qualifier is None:
            continue
        try:
            targets[arn] = lam.get_alias(FunctionName=ref.name, Name=ref.qualifier)["FunctionVersion"]
        except lam.exceptions.ResourceNotFoundException:
            continue  # a missing alias fails the call that names it; nothing to pin
    return targets


def _is_alias(qualifier: str | None) -> bool:
    return qualifier is not None and not qualifier.isdigit() and qualifier != "$LATEST"


def alias_versions(sfn: Any, execution_arn: str, wanted: set[str]) -> dict[str, str]:
    """The version each function alias in `wanted` ran, as the execution's history shows it
    (`ExecutedVersion` of a `lambda:invoke` Task that succeeded); aliases not called yet are absent."""
    events = clients.history(sfn, execution_arn)
    by_id = {event["id"]: event for event in events}
    seen: dict[str, str] = {}
    for event in events:
        if event["type"] != "TaskSucceeded":
            continue
        scheduled = _scheduled(by_id, event)
        if scheduled is None:
            continue
        try:
            parameters = json.loads(scheduled["taskScheduledEventDetails"].get("parameters") or "{}")
            output = json.loads(event["taskSucceededEventDetails"].get("output") or "null")
        except ValueError:
            continue
        name = parameters.get("FunctionName") if isinstance(parameters, dict) else None
        version = output.get("ExecutedVersion") if isinstance(output, dict) else None
        if not isinstance(name, str) or not isinstance(version, str):
            continue
        ref = arns.split_function(name, parameters.get("Qualifier"))
        if ref is not None and ref.arn in wanted:
            seen[ref.arn] = version
    return seen


def _scheduled(by_id: dict[int, dict[str, Any]], event: dict[str, Any]) -> dict[str, Any] | None:
    """The TaskScheduled event a Task event answers, following previousEventId a few steps back."""
    current = event
    for _ in range(4):
        previous = by_id.get(current.get("previousEventId", 0))
        if previous is None:
            return None
        if previous["type"] == "TaskScheduled":
            return previous
        current = previous
    return None
