"""Step Functions operations on state machines, versions, aliases, activities and tags.

Each handler takes the `Pinflow` facade and the request's `Params`, checks what the model
constrains, calls one registry method and returns the output members. Definitions are validated
here with the machine's type, so that an Express machine is refused what Express cannot run.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from pinflow import arns, asl, errors
from pinflow.api.shapes import Params
from pinflow.registry import sfn_shapes

log = logging.getLogger(__name__)

DEFINITION_LIMIT = 1_048_576
MACHINE_TYPES = ("STANDARD", "EXPRESS")
LOG_LEVELS = ("ALL", "ERROR", "FATAL", "OFF")


class InvalidLoggingConfiguration(errors.ServiceError):
    code = "InvalidLoggingConfiguration"
    status = 400


class InvalidEncryptionConfiguration(errors.ServiceError):
    code = "InvalidEncryptionConfiguration"
    status = 400


def check_definition(definition: str, machine_type: str) -> None:
    """Refuse a definition AWS would refuse, with AWS's wording for its first error.

    Raises:
        InvalidDefinition: "Invalid State Machine Definition: '<CODE>: <message> at <location>'".
    """
    for diagnostic in asl.validate(definition, type=machine_type):
        if diagnostic.severity == "ERROR":
            # Text that is not JSON carries its location in the parser's message already.
            location = diagnostic.location
            where = f" at {location}" if location and location not in diagnostic.message else ""
            raise errors.InvalidDefinition(
                f"Invalid State Machine Definition: '{diagnostic.code}: {diagnostic.message}{where}'")


def _logging(p: Params) -> dict[str, Any] | None:
    """loggingConfiguration, checked as Step Functions checks it (one destination unless OFF)."""
    config = p.struct("loggingConfiguration")
    if config is None:
        return None
    level = config.get("level", "OFF")
    if level not in LOG_LEVELS:
        raise errors.validation("loggingConfiguration.level", level,
                      f"Member must satisfy enum value set: [{', '.join(LOG_LEVELS)}]")
    destinations = config.get("destinations")
    count = len(destinations) if isinstance(destinations, list) else 0
    if count > 1 or (level != "OFF" and count != 1):
        raise InvalidLoggingConfiguration(
            "Invalid Logging Configuration: Must specify exactly one Log Destination.")
    return dict(config)


def _encryption(p: Params) -> dict[str, Any] | None:
    config = p.struct("encryptionConfiguration")
    if config is None:
        return None
    kind = config.get("type")
    if kind not in ("AWS_OWNED_KEY", "CUSTOMER_MANAGED_KMS_KEY"):
        raise errors.validation("encryptionConfiguration.type", kind,
                      "Member must satisfy enum value set: [AWS_OWNED_KEY, CUSTOMER_MANAGED_KMS_KEY]")
    if kind == "CUSTOMER_MANAGED_KMS_KEY" and not config.get("kmsKeyId"):
        raise InvalidEncryptionConfiguration(
            "Invalid Encryption Configuration: kmsKeyId is required for CUSTOMER_MANAGED_KMS_KEY")
    return dict(config)


def _tags(p: Params) -> list[dict[str, Any]] | None:
    tags = p.items("tags")
    for tag in tags or ():
        if not isinstance(tag, dict) or not isinstance(tag.get("key"), str):
            raise errors.validation("tags.member.key", None, "Member must not be null")
        if not 1 <= len(tag["key"]) <= 128:
            raise errors.validation("tags.member.key", tag["key"], "Member must have length less than or equal to 128")
        if len(str(tag.get("value", ""))) > 256:
            raise errors.validation("tags.member.value", tag.get("value"),
                          "Member must have length less than or equal to 256")
    return tags


# --- state machines --------------------------------------------------------------------------------


def create_state_machine(pf: Any, p: Params) -> dict[str, Any]:
    """CreateStateMachine: validated with its type; the same request again returns the same machine."""
    name = p.required("name", high=80)
    definition = p.required("definition", high=DEFINITION_LIMIT, sensitive=True)
    role_arn = p.required("roleArn", high=256)
    machine_type = p.enum("type", MACHINE_TYPES, "STANDARD") or "STANDARD"
    sfn_shapes.check_name(name)
    check_definition(definition, machine_type)
    created = pf.machines.create(
        name, definition, role_arn, type=machine_type, logging=_logging(p),
        tracing=p.struct("tracingConfiguration"), publish=p.boolean("publish"),
        version_description=p.string("versionDescription", high=256, sensitive=True), tags=_tags(p),
        encryption=_encryption(p))
    warn_unreachable(pf, name, definition)
    return created


def update_state_machine(pf: Any, p: Params) -> dict[str, Any]:
    """UpdateStateMachine: a new revision when something changed; running executions keep theirs."""
    arn = p.required("stateMachineArn", high=256)
    definition = p.string("definition", low=1, high=DEFINITION_LIMIT, sensitive=True)
    if definition is not None:
        machine_type = pf.machines.describe(_unqualified(arn))["type"]
        check_definition(definition, machine_type)
    updated = pf.machines.update(
        arn, definition=definition, role_arn=p.string("roleArn", low=1, high=256), logging=_logging(p),
        tracing=p.struct("tracingConfiguration"), publish=p.boolean("publish"),
        version_description=p.string("versionDescription", high=256, sensitive=True),
        encryption=_encryption(p))
    if definition is not None:
        warn_unreachable(pf, sfn_shapes.split(arn).name, definition)
    return updated


def warn_unreachable(pf: Any, name: str, definition: str) -> None:
    """Log each Task that calls an AWS service this server cannot reach. CreateStateMachine's answer has
    no member for warnings (an added one would surprise SDKs), so the server's log says it, and deploy
    plans show it through ValidateStateMachineDefinition's WARNING diagnostics (`integrations.reach`)."""
    from pinflow.engine.integrations import reach

    try:
        parsed = json.loads(definition)
    except ValueError:
        return  # YAML or worse: validation accepted it, and the engine will say at run time
    for found in reach.unreachable(pf.engine.aws, parsed) if isinstance(parsed, dict) else ():
        log.warning("state machine %s: %s", name, found.message)


def _unqualified(arn: str) -> str:
    """The machine's own ARN for a (possibly qualified) state machine ARN."""
    ref = sfn_shapes.split(arn)
    if ref.version is not None or ref.alias is not None:
        raise sfn_shapes.does_not_exist(arn)
    return arn


def delete_state_machine(pf: Any, p: Params) -> None:
    """DeleteStateMachine: versions and aliases go at once; running executions are stopped."""
    arn = p.required("stateMachineArn", high=256)
    pf.machines.delete(arn)
    name = sfn_shapes.split(arn).name
    running = pf.engine.running_executions(name)
    if running:
        # AWS answers at once with the machine DELETING and stops its executions afterwards.
        threading.Thread(target=_finish_delete, args=(pf, arn, running), name="pinflow-delete",
                         daemon=True).start()
    return None


def _finish_delete(pf: Any, arn: str, running: list[str]) -> None:
    for execution_arn in running:
        try:
            pf.engine.stop_execution(execution_arn, "States.Runtime", "The state machine was deleted.")
        except Exception:  # one execution that cannot be stopped must not keep the rest
            log.exception("could not stop %s while deleting %s", execution_arn, arn)
    pf.machines.forget_if_deleting(arn)


def describe_state_machine(pf: Any, p: Params) -> dict[str, Any]:
    """DescribeStateMachine of a machine, a version or an alias ARN."""
    p.enum("includedData", ("ALL_DATA", "METADATA_ONLY"))
    return pf.machines.describe(p.required("stateMachineArn", high=256))


def list_state_machines(pf: Any, p: Params) -> dict[str, Any]:
    """ListStateMachines, by name, in pages."""
    return pf.machines.list(p.token(), p.integer("maxResults", low=0, high=1000))


# --- versions --------------------------------------------------------------------------------------


def publish_state_machine_version(pf: Any, p: Params) -> dict[str, Any]:
    """PublishStateMachineVersion of the current revision (checked against `revisionId`)."""
    return pf.machines.publish_version(p.required("stateMachineArn", high=256), p.string("revisionId"),
                                       p.string("description", high=256, sensitive=True))


def list_state_machine_versions(pf: Any, p: Params) -> dict[str, Any]:
    """ListStateMachineVersions, newest first."""
    return pf.machines.list_versions(p.required("stateMachineArn", high=256), p.token(),
                                     p.integer("maxResults", low=0, high=1000))


def delete_state_machine_version(pf: Any, p: Params) -> None:
    """DeleteStateMachineVersion (refused while an alias routes to it)."""
    pf.machines.delete_version(p.required("stateMachineVersionArn", high=256))


# --- aliases ---------------------------------------------------------------------------------------


def create_state_machine_alias(pf: Any, p: Params) -> dict[str, Any]:
    """CreateStateMachineAlias on the machine whose versions the routing names."""
    routing = p.items("routingConfiguration", required=True)
    return pf.machines.create_alias(p.required("name", high=80), routing or [],
                                    p.string("description", high=256, sensitive=True))


def describe_state_machine_alias(pf: Any, p: Params) -> dict[str, Any]:
    """DescribeStateMachineAlias."""
    return pf.machines.describe_alias(p.required("stateMachineAliasArn", high=256))


def update_state_machine_alias(pf: Any, p: Params) -> dict[str, Any]:
    """UpdateStateMachineAlias: a new description and/or routing."""
    arn = p.required("stateMachineAliasArn", high=256)
    description = p.string("description", high=256, sensitive=True)
    routing = p.items("routingConfiguration")
    if description is None and routing is None:
        raise errors.ValidationException(
            "Either the description or the RoutingConfiguration must be specified")
    return pf.machines.update_alias(arn, description=description, routing=routing)


def delete_state_machine_alias(pf: Any, p: Params) -> None:
    """DeleteStateMachineAlias; its versions stay."""
    pf.machines.delete_alias(p.required("stateMachineAliasArn", high=256))


def list_state_machine_aliases(pf: Any, p: Params) -> dict[str, Any]:
    """ListStateMachineAliases, oldest first."""
    return pf.machines.list_aliases(p.required("stateMachineArn", high=256), p.token(),
                                    p.integer("maxResults", low=0, high=1000))


# --- activities ------------------------------------------------------------------------------------


def create_activity(pf: Any, p: Params) -> dict[str, Any]:
    """CreateActivity; idempotent by name."""
    name = p.required("name", high=80)
    _encryption(p)
    return pf.activities.create(name, tags=_tags(p), encryption=p.struct("encryptionConfiguration"))


def describe_activity(pf: Any, p: Params) -> dict[str, Any]:
    """DescribeActivity."""
    return pf.activities.describe(p.required("activityArn", high=256))


def list_activities(pf: Any, p: Params) -> dict[str, Any]:
    """ListActivities, by name, in pages."""
    return pf.activities.list(p.token(), p.integer("maxResults", low=0, high=1000))


def delete_activity(pf: Any, p: Params) -> None:
    """DeleteActivity; a missing activity is not an error."""
    pf.activities.delete(p.required("activityArn", high=256))


# --- tags ------------------------------------------------------------------------------------------


def _tagged_registry(pf: Any, arn: str) -> Any:
    """The registry that keeps the tags of `arn` (a state machine or an activity)."""
    parsed = arns.parse(arn)
    if parsed is None:
        raise errors.InvalidArn(f"Invalid Arn: 'Invalid ARN prefix: {arn}'")
    kind = parsed.parts[0] if parsed.service == "states" else None
    if kind == "stateMachine" and len(parsed.parts) == 2:
        return pf.machines
    if kind == "activity" and len(parsed.parts) == 2:
        return pf.activities
    raise errors.InvalidArn(f"Invalid Arn: 'Resource type not valid in this context: {arn}'")


def list_tags_for_resource(pf: Any, p: Params) -> dict[str, Any]:
    """ListTagsForResource of a state machine or an activity."""
    arn = p.required("resourceArn", high=256)
    return {"tags": _tagged_registry(pf, arn).list_tags(arn)}


def tag_resource(pf: Any, p: Params) -> None:
    """TagResource: add or overwrite tags (at most 50 per resource)."""
    arn = p.required("resourceArn", high=256)
    tags = _tags(p)
    if tags is None:
        raise errors.validation("tags", None, "Member must not be null")
    _tagged_registry(pf, arn).tag_resource(arn, tags)


def untag_resource(pf: Any, p: Params) -> None:
    """UntagResource."""
    arn = p.required("resourceArn", high=256)
    keys = p.items("tagKeys", required=True) or []
    _tagged_registry(pf, arn).untag_resource(arn, [str(key) for key in keys])
