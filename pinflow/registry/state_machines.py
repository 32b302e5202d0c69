"""State machines as Step Functions keeps them: revisions, numbered versions, weighted aliases.

Every change made by UpdateStateMachine is a new immutable revision (an update that changes nothing
makes none, as on AWS); a version is a numbered pointer to a revision, an alias routes to one or two
versions. Executions keep the revision they started with, so nothing here rewrites a revision.
Version numbers come from `counters` and are never handed out twice.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pinflow import arns, errors
from pinflow.engine import lru
from pinflow.registry import counters, machine_aliases, paging, refs
from pinflow.registry import sfn_shapes as shapes
from pinflow.registry import tags as tagging
from pinflow.store import Store, Tx
from pinflow.store.repositories import executions as exec_repo
from pinflow.store.repositories import state_machines as repo

DELETING = machine_aliases.DELETING
ACTIVE = "ACTIVE"
# PublishStateMachineVersion's revisionId for a machine that was never updated.
INITIAL = "INITIAL"
# The longest definition whose revision starts keep in memory (256 of them at most: 16 MiB).
_KEPT_DEFINITION = 64 * 1024


@dataclass(frozen=True)
class StartTarget:
    """What StartExecution runs: the machine (`name`, `arn`, `type`, `status`), the revision and its
    definition and role, and the version and alias the execution is associated with (AWS associates
    none for an unqualified ARN, even when a version shares the revision)."""

    machine: dict[str, Any]
    revision_id: str
    definition: str
    role_arn: str
    version_arn: str | None
    alias_arn: str | None


# The registry has a `list` method; this keeps the builtin usable in annotations inside the class.
_Tags = list[dict[str, str]]


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _counter_key(name: str) -> str:
    return f"state-machine:{name}"


class StateMachineRegistry(machine_aliases.MachineAliases):
    """State machines, revisions, versions and aliases in the store."""

    def __init__(self, store: Store, clock: Callable[[], float],
                 validate: Callable[[str], list[str]] | None = None,
                 role_check: Callable[[str], None] | None = None) -> None:
        """A registry over `store`.

        Args:
            store: the database.
            clock: epoch seconds now.
            validate: AWS-worded problems of a definition text (none when it is valid); the first
                becomes InvalidDefinition's "Invalid State Machine Definition: '<problem>'".
            role_check: raises (AccessDeniedException, as Step Functions does) for a role ARN the
                machine could not run with; called by CreateStateMachine and UpdateStateMachine.
        """
        self._store = store
        self._clock = clock
        self._validate = validate
        self._role_check = role_check
        # Revisions by id, for starts: a revision is never changed nor deleted, and its id (a UUID) is
        # never given to another. Definitions over `_KEPT_DEFINITION` characters are read each time.
        self._revisions = lru.Lru(256)

    # --- machines ----------------------------------------------------------------------------------

    def create(self, name: str, definition: str, role_arn: str, type: str = "STANDARD",
               logging: Mapping[str, Any] | None = None, tracing: Mapping[str, Any] | None = None,
               publish: bool = False, version_description: str | None = None,
               tags: Sequence[Mapping[str, Any]] | Mapping[str, str] | None = None,
               encryption: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """CreateStateMachine. Idempotent as on AWS: the same name with the same definition, type,
        logging, tracing, encryption, publish and versionDescription returns the existing machine (a
        different roleArn or tags are ignored).

        Returns:
            {"stateMachineArn", "creationDate", "stateMachineVersionArn"?}.

        Raises:
            InvalidName, InvalidArn, ValidationException, InvalidDefinition: bad arguments.
            AccessDeniedException: the role cannot be assumed by Step Functions (`role_check`).
            StateMachineAlreadyExists: the name is taken by a different machine.
            StateMachineDeleting: the name's machine is being deleted.
        """
        shapes.check_name(name)
        shapes.check_type(type)
        if version_description is not None and not publish:
            raise errors.ValidationException("Version description can only be set when publish is true")
        shapes.check_role(role_arn)
        self._check_definition(definition)
        if self._role_check is not None:
            self._role_check(role_arn)
        wanted = _revision_config(logging, tracing, encryption)
        created = {"publish": bool(publish), "versionDescription": version_description}
        tag_map = tagging.from_list(tags)
        arn = _arn(name)
        tagging.check_count(tag_map, arn)
        now = self._clock()
        with self._store.transaction() as tx:
            row = repo.machine(tx, name=name)
            if row is not None:
                return self._recreate(tx, row, definition, type, wanted, created)
            revision_id = str(uuid.uuid4())
            repo.insert_revision(tx, revision_id=revision_id, machine=name, definition=definition,
                                 role_arn=role_arn, config=_dumps({**wanted, "initial": True}), created_at=now)
            repo.insert_machine(tx, name=name, arn=arn, type=type, status=ACTIVE, revision_id=revision_id,
                                created_at=now, config=_dumps({"create": created}), tags=_dumps(tag_map))
            answer: dict[str, Any] = {"stateMachineArn": arn, "creationDate": now}
            if publish:
                version = self._publish(tx, name, arn, revision_id, version_description)
                answer["stateMachineVersionArn"] = version["stateMachineVersionArn"]
            return answer

    def update(self, arn: str, definition: str | None = None, role_arn: str | None = None,
               logging: Mapping[str, Any] | None = None, tracing: Mapping[str, Any] | None = None,
               publish: bool = False, version_description: str | None = None,
               encryption: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """UpdateStateMachine: a new revision when something changed; running executions keep theirs.

        Returns:
            {"updateDate", "revisionId"? (absent while the machine has its initial revision),
            "stateMachineVersionArn"? (with `publish`)}.

        Raises:
            InvalidArn, MissingRequiredParameter, ValidationException, InvalidDefinition: bad arguments.
            StateMachineDoesNotExist: no such machine (a version or alias ARN names none either).
            StateMachineDeleting: the machine is being deleted.
        """
        ref = shapes.split(arn)
        if ref.version is not None or ref.alias is not None:
            raise shapes.does_not_exist(arn)
        if all(value is None for value in (definition, role_arn, logging, tracing, encryption)):
            raise errors.MissingRequiredParameter(
                "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration "
                "must be specified")
        if version_description is not None and not publish:
            raise errors.ValidationException("Version description can only be set when publish is true")
        if role_arn is not None:
            shapes.check_role(role_arn)
        if definition is not None:
            self._check_definition(definition)
        if role_arn is not None and self._role_check is not None:
            self._role_check(role_arn)
        now = self._clock()
        with self._store.transaction() as tx:
            row = self._lock(tx, ref.name, arn)
            current = self._revision_row(tx, row.revision_id)
            config = json.loads(current.config)
            wanted = {
                "loggingConfiguration": shapes.logging(logging) if logging is not None
                else config["loggingConfiguration"],
                "tracingConfiguration": shapes.tracing(tracing) if tracing is not None
                else config["tracingConfiguration"],
                "encryptionConfiguration": dict(encryption) if encryption is not None
                else config.get("encryptionConfiguration"),
            }
            new_definition = current.definition if definition is None else definition
            new_role = current.role_arn if role_arn is None else role_arn
            revision_id, initial = current.revision_id, bool(config.get("initial"))
            if (new_definition, new_role) != (current.definition, current.role_arn) or any(
                    wanted[key] != config.get(key) for key in wanted):
                revision_id, initial = str(uuid.uuid4()), False
                repo.insert_revision(tx, revision_id=revision_id, machine=ref.name, definition=new_definition,
                                     role_arn=new_role, config=_dumps({**wanted, "initial": False}), created_at=now)
                repo.set_revision(tx, name=ref.name, revision_id=revision_id)
            answer: dict[str, Any] = {"updateDate": now}
            if not initial:
                answer["revisionId"] = revision_id
            if publish:
                version = self._publish(tx, ref.name, row.arn, revision_id, version_description)
                answer["stateMachineVersionArn"] = version["stateMachineVersionArn"]
            return answer

    def delete(self, arn: str) -> None:
        """DeleteStateMachine: its versions and aliases go at once; the machine stays DELETING while
        executions run (the engine stops them and then calls `forget_if_deleting`). A missing machine
        is not an error.

        Raises:
            InvalidArn: not a state machine ARN.
            ValidationException: a version or alias ARN.
        """
        ref = shapes.split(arn)
        if ref.version is not None or ref.alias is not None:
            raise errors.ValidationException(
                f"Invalid Arn: '{arn}': DeleteStateMachine takes an unqualified state machine ARN; "
                "use DeleteStateMachineVersion or DeleteStateMachineAlias")
        with self._store.transaction() as tx:
            if not repo.lock_machine(tx, name=ref.name):
                return
            repo.delete_aliases(tx, machine=ref.name)
            repo.delete_versions(tx, machine=ref.name)
            if exec_repo.running_count(tx, state_machine=ref.name):
                repo.set_status(tx, name=ref.name, status=DELETING)
            else:
                repo.delete_machine(tx, name=ref.name)

    def forget_if_deleting(self, name_or_arn: str) -> bool:
        """Remove a DELETING machine once none of its executions runs; True when it was removed."""
        name = shapes.split(name_or_arn).name if name_or_arn.startswith("arn:") else name_or_arn
        with self._store.transaction() as tx:
            row = repo.machine(tx, name=name)
            if row is None or row.status != DELETING:
                return False
            if exec_repo.running_count(tx, state_machine=name):
                return False
            repo.delete_machine(tx, name=name)
            return True

    def describe(self, arn: str) -> dict[str, Any]:
        """DescribeStateMachine. A version ARN describes that version (its revision and description);
        an alias ARN describes the machine itself.

        Raises:
            InvalidArn: not a state machine ARN.
            StateMachineDoesNotExist: no such machine, version or alias.
        """
        ref = shapes.split(arn)
        with self._store.transaction(write=False) as tx:
            row = repo.machine(tx, name=ref.name)
            if row is None:
                raise shapes.does_not_exist(arn)
            if ref.version is not None:
                version = repo.version(tx, machine=ref.name, version=ref.version)
                if version is None:
                    raise shapes.does_not_exist(arn)
                revision = self._revision_row(tx, version.revision_id)
                return shapes.describe(row, revision, json.loads(revision.config),
                                       arn=f"{row.arn}:{ref.version}", created=version.created_at,
                                       description=version.description)
            if ref.alias is not None and repo.alias(tx, machine=ref.name, alias=ref.alias) is None:
                raise shapes.does_not_exist(arn)
            revision = self._revision_row(tx, row.revision_id)
            return shapes.describe(row, revision, json.loads(revision.config), arn=row.arn,
                                   created=row.created_at)

    def list(self, next_token: str | None = None, max_results: int | None = None) -> dict[str, Any]:
        """ListStateMachines, by name: {"stateMachines": [...], "nextToken"?}."""
        size = paging.page_size(max_results)
        with self._store.transaction(write=False) as tx:
            rows = repo.machines(tx)
        page, token = paging.keyset_page(rows, lambda row: (row.name,), next_token, size)
        answer: dict[str, Any] = {"stateMachines": [
            {"stateMachineArn": row.arn, "name": row.name, "type": row.type,
             "creationDate": row.created_at} for row in page]}
        if token is not None:
            answer["nextToken"] = token
        return answer

    def revision(self, revision_id: str) -> dict[str, Any]:
        """A revision as DescribeStateMachineForExecution shows it: stateMachineArn, name, definition,
        roleArn, updateDate, loggingConfiguration, tracingConfiguration, revisionId (not for the
        initial revision), encryptionConfiguration?.

        Raises:
            StateMachineDoesNotExist: no such revision.
        """
        with self._store.transaction(write=False) as tx:
            revision = self._revision_row(tx, revision_id)
        config = json.loads(revision.config)
        shaped: dict[str, Any] = {
            "stateMachineArn": _arn(revision.machine),
            "name": revision.machine,
            "definition": revision.definition,
            "roleArn": revision.role_arn,
            "updateDate": revision.created_at,
            "loggingConfiguration": config["loggingConfiguration"],
            "tracingConfiguration": config["tracingConfiguration"],
        }
        if not config.get("initial"):
            shaped["revisionId"] = revision.revision_id
        if config.get("encryptionConfiguration"):
            shaped["encryptionConfiguration"] = config["encryptionConfiguration"]
        return shaped

    # --- versions ----------------------------------------------------------------------------------

    def publish_version(self, arn: str, revision_id: str | None = None,
                        description: str | None = None) -> dict[str, Any]:
        """PublishStateMachineVersion of the current revision; idempotent per revision.

        Args:
            revision_id: if given, must be the current revision ("INITIAL" for a never-updated machine).

        Returns:
            {"stateMachineVersionArn", "creationDate"} (of the existing version when there is one).

        Raises:
            ConflictException: `revision_id` is not the current revision.
            StateMachineDoesNotExist / StateMachineDeleting: no usable machine.
        """
        ref = shapes.split(arn)
        if ref.version is not None or ref.alias is not None:
            raise shapes.does_not_exist(arn)
        with self._store.transaction() as tx:
            row = self._lock(tx, ref.name, arn)
            current = self._revision_row(tx, row.revision_id)
            initial = bool(json.loads(current.config).get("initial"))
            if revision_id is not None and revision_id != current.revision_id and not (
                    revision_id == INITIAL and initial):
                shown = INITIAL if initial else current.revision_id
                raise errors.ConflictException(
                    f"Failed to publish the State Machine version for revision {revision_id}. "
                    f"The current State Machine revision is {shown}.")
            return self._publish(tx, ref.name, row.arn, current.revision_id, description)

    def list_versions(self, arn: str, next_token: str | None = None,
                      max_results: int | None = None) -> dict[str, Any]:
        """ListStateMachineVersions, newest first: {"stateMachineVersions": [...], "nextToken"?}."""
        ref = shapes.split(arn)
        if ref.version is not None or ref.alias is not None:
            raise shapes.invalid_arn(arn)
        size = paging.page_size(max_results)
        with self._store.transaction(write=False) as tx:
            row = repo.machine(tx, name=ref.name)
            if row is None:
                return {"stateMachineVersions": []}  # AWS answers an empty list, not an error
            rows = repo.versions(tx, machine=ref.name)
        # Newest first: the key negates the number.
        page, token = paging.keyset_page(rows, lambda version: (-int(version.version),), next_token, size)
        answer: dict[str, Any] = {"stateMachineVersions": [
            {"stateMachineVersionArn": f"{row.arn}:{version.version}",
             "creationDate": version.created_at} for version in page]}
        if token is not None:
            answer["nextToken"] = token
        return answer

    def version_summary(self) -> dict[str, tuple[int, int]]:
        """Every machine's number of versions and newest version, in one read: name -> (count, newest)."""
        with self._store.transaction(write=False) as tx:
            return {row.machine: (int(row.versions), int(row.latest)) for row in repo.version_tallies(tx)}

    def versions_of(self, name: str) -> Sequence[dict[str, Any]]:
        """A machine's versions, newest first, in one read: version, ARN, creationDate, description and
        revisionId as DescribeStateMachine shows them for each version ARN."""
        arn = _arn(name)
        with self._store.transaction(write=False) as tx:
            rows = repo.versions_with_revision(tx, machine=name)
        found = []
        for row in rows:
            shaped: dict[str, Any] = {"version": int(row.version), "arn": f"{arn}:{row.version}",
                                      "creationDate": row.created_at, "description": row.description or ""}
            # As DescribeStateMachine: no revisionId for a machine's first revision.
            shaped["revisionId"] = None if json.loads(row.config).get("initial") else row.revision_id
            found.append(shaped)
        return found

    def delete_version(self, version_arn: str) -> None:
        """DeleteStateMachineVersion; deleting a missing version is not an error.

        Raises:
            ConflictException: an alias routes to the version, or (stricter than AWS, which lets
                them run on) a running execution holds it; the message names them.
        """
        ref = shapes.split(version_arn)
        if ref.version is None:
            raise shapes.invalid_arn(version_arn)
        with self._store.transaction() as tx:
            if not repo.lock_machine(tx, name=ref.name):
                return
            row = repo.machine(tx, name=ref.name)
            if row is None or repo.version(tx, machine=ref.name, version=ref.version) is None:
                return
            using = [alias for alias, config in self._aliases(tx, ref.name)
                     if any(route["version"] == ref.version for route in machine_aliases.routes_of(config))]
            if using:
                raise errors.ConflictException(
                    "Version to be deleted must not be referenced by an alias. Current list of aliases "
                    f"referencing this version: [{', '.join(using)}]")
            canonical = f"{row.arn}:{ref.version}"
            held = sorted(set(refs.holders(tx, canonical)) | set(refs.holders(tx, version_arn)))
            if held:
                raise errors.ConflictException(
                    "Version to be deleted must not be referenced by a running execution (or by a failed one "
                    "that can still be redriven). Current list of executions referencing this version: "
                    f"{refs.describe(held)}")
            repo.delete_version(tx, machine=ref.name, version=ref.version)

    # --- starting executions -----------------------------------------------------------------------

    def resolve_start(self, arn: str, *, rng: random.Random) -> StartTarget:
        """What StartExecution on `arn` runs: the current revision (unqualified), a version's, or for
        an alias the version drawn by weight with `rng`.

        Raises:
            InvalidArn: not a state machine ARN.
            StateMachineDoesNotExist: no such machine, version or alias.
            StateMachineDeleting: the machine is being deleted.
        """
        ref = shapes.split(arn)
        with self._store.transaction(write=False) as tx:
            row = repo.machine_head(tx, name=ref.name)
            if row is None:
                raise shapes.does_not_exist(arn)
            if row.status == DELETING:
                raise shapes.deleting(arn)
            revision_id, version_arn, alias_arn = row.revision_id, None, None
            number = ref.version
            if ref.alias is not None:
                found = repo.alias(tx, machine=ref.name, alias=ref.alias)
                if found is None:
                    raise shapes.does_not_exist(arn)
                number = machine_aliases.draw(machine_aliases.routes_of(json.loads(found.config)), rng)
                alias_arn = f"{row.arn}:{ref.alias}"
            if number is not None:
                version = repo.version(tx, machine=ref.name, version=number)
                if version is None:
                    raise shapes.does_not_exist(arn)
                revision_id, version_arn = version.revision_id, f"{row.arn}:{number}"
            revision = self._revisions.get(revision_id)
            if revision is None:
                revision = self._revision_row(tx, revision_id)
                if len(revision.definition) <= _KEPT_DEFINITION:
                    self._revisions.get_or(revision_id, lambda: revision)
        machine = {"name": row.name, "arn": row.arn, "type": row.type, "status": row.status}
        return StartTarget(machine=machine, revision_id=revision_id, definition=revision.definition,
                           role_arn=revision.role_arn, version_arn=version_arn, alias_arn=alias_arn)

    # --- tags --------------------------------------------------------------------------------------

    def list_tags(self, arn: str) -> _Tags:
        """ListTagsForResource of a machine: [{"key", "value"}]."""
        ref = shapes.split(arn)
        with self._store.transaction(write=False) as tx:
            row = repo.machine(tx, name=ref.name)
        if row is None:
            raise errors.ResourceNotFound(f"Resource not found: '{arn}'", resourceName=arn)
        return tagging.to_list(tagging.load(row.tags))

    def tag_resource(self, arn: str, tag_list: Sequence[Mapping[str, Any]] | Mapping[str, str]) -> None:
        ref = shapes.split(arn)
        with self._store.transaction() as tx:
            row = self._tagged(tx, ref.name, arn)
            merged = tagging.merged(tagging.load(row.tags), tagging.from_list(tag_list), arn)
            repo.set_tags(tx, name=ref.name, tags=_dumps(merged))

    def untag_resource(self, arn: str, keys: Iterable[str]) -> None:
        ref = shapes.split(arn)
        with self._store.transaction() as tx:
            row = self._tagged(tx, ref.name, arn)
            kept = tagging.without(tagging.load(row.tags), keys)
            repo.set_tags(tx, name=ref.name, tags=_dumps(kept))

    # --- inside a transaction ----------------------------------------------------------------------

    def _check_definition(self, definition: str) -> None:
        if not isinstance(definition, str):
            raise errors.InvalidDefinition(
                "Invalid State Machine Definition: 'the definition must be a string'")
        problems = self._validate(definition) if self._validate is not None else []
        if problems:
            raise errors.InvalidDefinition(f"Invalid State Machine Definition: '{problems[0]}'")

    def _lock(self, tx: Tx, name: str, arn: str) -> repo.Machine:
        """The machine's row, locked, for a change: it must exist and not be DELETING."""
        repo.lock_machine(tx, name=name)
        row = repo.machine(tx, name=name)
        if row is None:
            raise shapes.does_not_exist(arn)
        if row.status == DELETING:
            raise shapes.deleting(arn)
        return row

    def _tagged(self, tx: Tx, name: str, arn: str) -> repo.Machine:
        repo.lock_machine(tx, name=name)
        row = repo.machine(tx, name=name)
        if row is None:
            raise errors.ResourceNotFound(f"Resource not found: '{arn}'", resourceName=arn)
        return row

    def _revision_row(self, tx: Tx, revision_id: str) -> repo.Revision:
        row = repo.revision(tx, revision_id=revision_id)
        if row is None:
            raise errors.StateMachineDoesNotExist(f"Revision does not exist: {revision_id}")
        return row

    def _recreate(self, tx: Tx, row: repo.Machine, definition: str, kind: str, wanted: dict[str, Any],
                  created: dict[str, Any]) -> dict[str, Any]:
        """CreateStateMachine for a name in use: the existing machine if nothing differs."""
        if row.status == DELETING:
            raise shapes.deleting(row.arn)
        current = self._revision_row(tx, row.revision_id)
        config = json.loads(current.config)
        same = (current.definition == definition and row.type == kind
                and all(config.get(key) == value for key, value in wanted.items())
                and json.loads(row.config).get("create") == created)
        if not same:
            raise errors.StateMachineAlreadyExists(f"State Machine Already Exists: '{row.arn}'")
        answer: dict[str, Any] = {"stateMachineArn": row.arn, "creationDate": row.created_at}
        if created["publish"]:
            versions = repo.versions_of_revision(tx, machine=row.name, revision_id=row.revision_id)
            if versions:
                answer["stateMachineVersionArn"] = f"{row.arn}:{versions[0].version}"
        return answer

    def _publish(self, tx: Tx, name: str, machine_arn: str, revision_id: str,
                 description: str | None) -> dict[str, Any]:
        """The version of `revision_id`: an existing one, else the next number."""
        existing = repo.versions_of_revision(tx, machine=name, revision_id=revision_id)
        if existing:
            return {"stateMachineVersionArn": f"{machine_arn}:{existing[0].version}",
                    "creationDate": existing[0].created_at}
        number = counters.next_number(tx, _counter_key(name))
        now = self._clock()
        repo.insert_version(tx, machine=name, version=number, revision_id=revision_id, description=description,
                            created_at=now)
        return {"stateMachineVersionArn": f"{machine_arn}:{number}", "creationDate": now}



def _arn(name: str) -> str:
    return arns.state_machine(name)


def _revision_config(logging: Mapping[str, Any] | None, tracing: Mapping[str, Any] | None,
                     encryption: Mapping[str, Any] | None) -> dict[str, Any]:
    return {"loggingConfiguration": shapes.logging(logging), "tracingConfiguration": shapes.tracing(tracing),
            "encryptionConfiguration": dict(encryption) if encryption is not None else None}
