"""Step Functions' shapes and checks for the state machine registry: names, ARNs, configurations, routing."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pinflow import arns, errors
from pinflow.registry import counters
from pinflow.store.repositories import state_machines as repo

TYPES = ("STANDARD", "EXPRESS")
# What AWS answers for a machine created without these configurations.
DEFAULT_LOGGING: dict[str, Any] = {"level": "OFF", "includeExecutionData": False}
DEFAULT_TRACING: dict[str, Any] = {"enabled": False}

_ALIAS_PATTERN = r"^(?=.*[a-zA-Z_\-\.])[a-zA-Z0-9_\-\.]+$"
_ALIAS_NAME = re.compile(_ALIAS_PATTERN)
NO_SUCH_RESOURCE = "Request references a resource that does not exist."


def invalid_arn(text: str) -> errors.ServiceError:
    """InvalidArn with AWS's wording for a string that is not a state machine ARN."""
    if not isinstance(text, str) or not text.startswith("arn:"):
        return errors.InvalidArn(f"Invalid Arn: 'Invalid ARN prefix: {text}'")
    return errors.InvalidArn(f"Invalid Arn: 'Resource type not valid in this context: {text}'")


def split(text: str) -> arns.StateMachineRef:
    """A state machine ARN (unqualified, version or alias) split.

    Raises:
        InvalidArn: not a state machine ARN.
        StateMachineDoesNotExist: a version number larger than any version can be.
    """
    ref = arns.split_state_machine(text) if isinstance(text, str) else None
    if ref is None:
        raise invalid_arn(text)
    if ref.version is not None and not counters.storable(ref.version):
        raise does_not_exist(text)  # larger than any version number handed out
    return ref


def does_not_exist(arn: str) -> errors.ServiceError:
    return errors.StateMachineDoesNotExist(f"State Machine Does Not Exist: '{arn}'")


def deleting(arn: str) -> errors.ServiceError:
    return errors.StateMachineDeleting(f"State Machine is being deleted: '{arn}'")


def check_name(name: object) -> None:
    if not arns.valid_name(name):
        raise errors.InvalidName(f"Invalid Name: '{name}'")


def check_type(kind: object) -> None:
    if kind not in TYPES:
        raise errors.validation("type", kind, f"Member must satisfy enum value set: [{', '.join(TYPES)}]")


def check_role(role_arn: object) -> None:
    if not isinstance(role_arn, str) or arns.parse(role_arn) is None:
        raise errors.InvalidArn(f"Invalid Arn: 'Invalid ARN prefix: {role_arn}'")


def logging(configuration: Mapping[str, Any] | None) -> dict[str, Any]:
    """A loggingConfiguration with AWS's defaults filled in."""
    shaped = dict(DEFAULT_LOGGING)
    for key, value in (configuration or {}).items():
        shaped[key] = value
    return shaped


def tracing(configuration: Mapping[str, Any] | None) -> dict[str, Any]:
    """A tracingConfiguration with AWS's defaults filled in."""
    return {**DEFAULT_TRACING, **(configuration or {})}


def check_alias_name(name: object) -> None:
    """An alias name: 1-80 characters, letters, digits, `_-.`, and not all digits."""
    if not isinstance(name, str) or not name:
        raise errors.validation("name", name, "Member must have length greater than or equal to 1")
    if len(name) > 80:
        raise errors.validation("name", name, "Member must have length less than or equal to 80")
    if not _ALIAS_NAME.match(name):
        raise errors.validation("name", name, f"Member must satisfy regular expression pattern: {_ALIAS_PATTERN}")


@dataclass(frozen=True)
class Route:
    """One routing entry of an alias: a version of `machine`, and its share (0-100)."""

    machine: str
    version: int
    weight: int


def routes(routing: Sequence[Mapping[str, Any]] | None) -> list[Route]:
    """An alias's routingConfiguration, checked as Step Functions does.

    1 or 2 entries, each a version ARN of the same machine, distinct, weights 0-100 summing to 100.

    Raises:
        ValidationException: with AWS's wording.
    """
    items = list(routing or [])
    for index, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            # The JSON is well formed, but not of the list's item shape.
            raise errors.validation(f"routingConfiguration.{index}.member", item,
                                    "Member must be a RoutingConfigurationListItem structure")
    if not items:
        raise errors.validation("routingConfiguration", "[]", "Member must have length greater than or equal to 1")
    if len(items) > 2:
        shown = ", ".join("RoutingConfigurationListItem(stateMachineVersionArn="
                          f"{item.get('stateMachineVersionArn')}, weight={item.get('weight')})" for item in items)
        raise errors.validation("routingConfiguration", f"[{shown}]", "Member must have length less than or equal to 2")
    for index, item in enumerate(items, start=1):
        weight = item.get("weight")
        field = f"routingConfiguration.{index}.member.weight"
        problem = None
        if isinstance(weight, bool) or not isinstance(weight, int):
            problem = "Member must not be null"
        elif weight > 100:
            problem = "Member must have value less than or equal to 100"
        elif weight < 0:
            problem = "Member must have value greater than or equal to 0"
        if problem is not None:
            raise errors.validation(field, weight, problem)
    given = [str(item.get("stateMachineVersionArn")) for item in items]
    received = "[" + ", ".join(given) + "]"
    refs = [arns.split_state_machine(arn) for arn in given]
    if any(ref is None or ref.version is None for ref in refs):
        raise errors.ValidationException(
            f"Routing configuration must contain state machine version ARNs. Received: {received}")
    if len(set(given)) != len(given):
        raise errors.ValidationException(
            f"Routing configuration must contain distinct state machine version ARNs. Received: {received}")
    parsed = [Route(ref.name, ref.version, int(item["weight"]))
              for ref, item in zip(refs, items, strict=True) if ref is not None and ref.version is not None]
    if len({route.machine for route in parsed}) != 1:
        raise errors.ValidationException(
            f"Routing configuration must contain state machine version ARNs of the same state machine. "
            f"Received: {received}")
    if sum(route.weight for route in parsed) != 100:
        raise errors.ValidationException(
            "Sum of routing configuration weights must equal 100. "
            f"Received: [{', '.join(str(route.weight) for route in parsed)}]")
    return parsed


def describe(machine: repo.Machine, revision: repo.Revision, revision_config: Mapping[str, Any], *,
             arn: str, created: float, description: str | None = None) -> dict[str, Any]:
    """A DescribeStateMachine answer for a machine's revision (the current one, or a version's)."""
    shaped: dict[str, Any] = {
        "stateMachineArn": arn,
        "name": machine.name,
        "status": machine.status,
        "definition": revision.definition,
        "roleArn": revision.role_arn,
        "type": machine.type,
        "creationDate": created,
        "loggingConfiguration": revision_config["loggingConfiguration"],
        "tracingConfiguration": revision_config["tracingConfiguration"],
    }
    # AWS shows no revisionId until the first update that changed something.
    if not revision_config.get("initial"):
        shaped["revisionId"] = revision.revision_id
    if description:
        shaped["description"] = description
    if revision_config.get("encryptionConfiguration"):
        shaped["encryptionConfiguration"] = revision_config["encryptionConfiguration"]
    return shaped
