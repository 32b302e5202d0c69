"""State machines repository: state machines, their revisions, versions and aliases; activities; EventBridge
connections. The only module that runs their queries (`queries/state_machines.sql`).

Rows are typed as the database gives them back; JSON columns (`config`, `tags`, `secrets`) stay text, which
the registry parses.
"""

from __future__ import annotations

from dataclasses import dataclass

from pinflow.store.base import Tx

# --- rows ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Machine:
    """A state machine; `config` is JSON (what CreateStateMachine was asked), `tags` a JSON object."""

    name: str
    arn: str
    type: str
    status: str
    revision_id: str  # the current revision
    created_at: float
    config: str
    tags: str


@dataclass(frozen=True, slots=True)
class MachineHead:
    """What starting an execution reads of a machine."""

    name: str
    arn: str
    type: str
    status: str
    revision_id: str  # the current revision


@dataclass(frozen=True, slots=True)
class MachineListing:
    """A state machine as ListStateMachines shows it."""

    name: str
    arn: str
    type: str
    created_at: float


@dataclass(frozen=True, slots=True)
class Revision:
    """An immutable revision of a machine; `config` is JSON (logging, tracing, encryption, initial)."""

    revision_id: str
    machine: str
    definition: str
    role_arn: str
    config: str
    created_at: float


@dataclass(frozen=True, slots=True)
class Version:
    """A numbered version: a pointer to a revision."""

    version: int
    revision_id: str
    description: str | None
    created_at: float


@dataclass(frozen=True, slots=True)
class VersionListing:
    """A version as ListStateMachineVersions shows it."""

    version: int
    created_at: float


@dataclass(frozen=True, slots=True)
class VersionTally:
    """A machine's number of versions and its newest version number."""

    machine: str
    versions: int
    latest: int


@dataclass(frozen=True, slots=True)
class VersionWithRevision:
    """A version with its revision's `config` (JSON)."""

    version: int
    description: str | None
    created_at: float
    revision_id: str
    config: str


@dataclass(frozen=True, slots=True)
class Alias:
    """A machine's alias; `config` is JSON (routingConfiguration, description, creationDate, updateDate)."""

    machine: str
    alias: str
    config: str


@dataclass(frozen=True, slots=True)
class Activity:
    """An activity; `tags` is a JSON object."""

    arn: str
    name: str
    created_at: float
    tags: str


@dataclass(frozen=True, slots=True)
class ActivityListing:
    """An activity as ListActivities shows it."""

    arn: str
    name: str
    created_at: float


@dataclass(frozen=True, slots=True)
class Connection:
    """An EventBridge connection: `config` as DescribeConnection shows it, `secrets` what it never shows
    (both JSON)."""

    name: str
    arn: str
    config: str
    secrets: str
    created_at: float


@dataclass(frozen=True, slots=True)
class ConnectionListing:
    """A connection without its secrets."""

    name: str
    arn: str
    config: str
    created_at: float


# --- state machines --------------------------------------------------------------------------------


def machine(tx: Tx, *, name: str) -> Machine | None:
    """The machine `name`, or None."""
    return tx.row("state_machine_get", Machine, name=name)


def machine_head(tx: Tx, *, name: str) -> MachineHead | None:
    """The machine `name` as starting an execution reads it, or None."""
    return tx.row("state_machine_head", MachineHead, name=name)


def lock_machine(tx: Tx, *, name: str) -> bool:
    """Take the machine's row lock (PostgreSQL) for a change; False when there is no such machine."""
    return tx.run("state_machine_lock", name=name) > 0


def insert_machine(tx: Tx, *, name: str, arn: str, type: str, status: str, revision_id: str,
                   created_at: float, config: str, tags: str) -> None:
    """A new machine (its first revision is inserted apart)."""
    tx.run("state_machine_insert", name=name, arn=arn, type=type, status=status, revision_id=revision_id,
           created_at=created_at, config=config, tags=tags)


def set_revision(tx: Tx, *, name: str, revision_id: str) -> None:
    """Make `revision_id` the machine's current revision."""
    tx.run("state_machine_set_revision", name=name, revision_id=revision_id)


def set_status(tx: Tx, *, name: str, status: str) -> None:
    tx.run("state_machine_set_status", name=name, status=status)


def set_tags(tx: Tx, *, name: str, tags: str) -> None:
    """Replace the machine's tags (a JSON object)."""
    tx.run("state_machine_set_tags", name=name, tags=tags)


def delete_machine(tx: Tx, *, name: str) -> None:
    """Remove the machine's row (its revisions stay: executions keep theirs)."""
    tx.run("state_machine_delete", name=name)


def machines(tx: Tx) -> list[MachineListing]:
    """Every machine, by name."""
    return tx.rows("state_machines_all", MachineListing)


# --- revisions -------------------------------------------------------------------------------------


def revision(tx: Tx, *, revision_id: str) -> Revision | None:
    """The revision `revision_id`, or None."""
    return tx.row("machine_revision_get", Revision, revision_id=revision_id)


def insert_revision(tx: Tx, *, revision_id: str, machine: str, definition: str, role_arn: str, config: str,
                    created_at: float) -> None:
    tx.run("machine_revision_insert", revision_id=revision_id, machine=machine, definition=definition,
           role_arn=role_arn, config=config, created_at=created_at)


# --- versions --------------------------------------------------------------------------------------


def version(tx: Tx, *, machine: str, version: int) -> Version | None:
    """Version `version` of the machine, or None."""
    return tx.row("machine_version_get", Version, machine=machine, version=version)


def versions_of_revision(tx: Tx, *, machine: str, revision_id: str) -> list[Version]:
    """The machine's versions of `revision_id`, newest first."""
    return tx.rows("machine_versions_of_revision", Version, machine=machine, revision_id=revision_id)


def versions(tx: Tx, *, machine: str) -> list[VersionListing]:
    """Every version of the machine, newest first."""
    return tx.rows("machine_versions_all", VersionListing, machine=machine)


def version_tallies(tx: Tx) -> list[VersionTally]:
    """Each machine that has versions: how many, and the newest number."""
    return tx.rows("machine_version_tallies", VersionTally)


def versions_with_revision(tx: Tx, *, machine: str) -> list[VersionWithRevision]:
    """Every version of the machine with its revision's config, newest first."""
    return tx.rows("machine_versions_with_revision", VersionWithRevision, machine=machine)


def insert_version(tx: Tx, *, machine: str, version: int, revision_id: str, description: str | None,
                   created_at: float) -> None:
    tx.run("machine_version_insert", machine=machine, version=version, revision_id=revision_id,
           description=description, created_at=created_at)


def delete_version(tx: Tx, *, machine: str, version: int) -> None:
    tx.run("machine_version_delete", machine=machine, version=version)


def delete_versions(tx: Tx, *, machine: str) -> None:
    """Remove every version of the machine."""
    tx.run("machine_versions_delete", machine=machine)


# --- aliases ---------------------------------------------------------------------------------------


def alias(tx: Tx, *, machine: str, alias: str) -> Alias | None:
    """The machine's alias `alias`, or None."""
    return tx.row("machine_alias_get", Alias, machine=machine, alias=alias)


def aliases(tx: Tx, *, machine: str) -> list[Alias]:
    """The machine's aliases, by name."""
    return tx.rows("machine_aliases_of", Alias, machine=machine)


def every_alias(tx: Tx) -> list[Alias]:
    """Every alias of every machine, by machine and name."""
    return tx.rows("machine_aliases_all", Alias)


def insert_alias(tx: Tx, *, machine: str, alias: str, config: str) -> None:
    tx.run("machine_alias_insert", machine=machine, alias=alias, config=config)


def update_alias(tx: Tx, *, machine: str, alias: str, config: str) -> None:
    tx.run("machine_alias_update", machine=machine, alias=alias, config=config)


def delete_alias(tx: Tx, *, machine: str, alias: str) -> None:
    tx.run("machine_alias_delete", machine=machine, alias=alias)


def delete_aliases(tx: Tx, *, machine: str) -> None:
    """Remove every alias of the machine."""
    tx.run("machine_aliases_delete", machine=machine)


# --- activities ------------------------------------------------------------------------------------


def activity(tx: Tx, *, arn: str) -> Activity | None:
    """The activity `arn`, or None."""
    return tx.row("activity_get", Activity, arn=arn)


def activity_named(tx: Tx, *, name: str) -> Activity | None:
    """The activity called `name`, or None."""
    return tx.row("activity_by_name", Activity, name=name)


def insert_activity(tx: Tx, *, arn: str, name: str, created_at: float, tags: str) -> None:
    tx.run("activity_insert", arn=arn, name=name, created_at=created_at, tags=tags)


def set_activity_tags(tx: Tx, *, arn: str, tags: str) -> None:
    """Replace the activity's tags (a JSON object)."""
    tx.run("activity_set_tags", arn=arn, tags=tags)


def delete_activity(tx: Tx, *, arn: str) -> None:
    tx.run("activity_delete", arn=arn)


def activities(tx: Tx, *, limit: int, offset: int) -> list[ActivityListing]:
    """At most `limit` activities by name, after the first `offset`."""
    return tx.rows("activities_page", ActivityListing, limit=limit, offset=offset)


# --- connections -----------------------------------------------------------------------------------


def connection(tx: Tx, *, name: str) -> Connection | None:
    """The connection `name` with its secrets, or None."""
    return tx.row("connection_get", Connection, name=name)


def connection_by_arn(tx: Tx, *, arn: str) -> Connection | None:
    """The connection whose ARN is `arn`, with its secrets, or None."""
    return tx.row("connection_by_arn", Connection, arn=arn)


def insert_connection(tx: Tx, *, name: str, arn: str, config: str, secrets: str, created_at: float) -> None:
    tx.run("connection_insert", name=name, arn=arn, config=config, secrets=secrets, created_at=created_at)


def update_connection(tx: Tx, *, name: str, config: str, secrets: str) -> None:
    """Replace the connection's config and secrets."""
    tx.run("connection_update", name=name, config=config, secrets=secrets)


def delete_connection(tx: Tx, *, name: str) -> None:
    tx.run("connection_delete", name=name)


def connections(tx: Tx) -> list[ConnectionListing]:
    """Every connection (without secrets), by name."""
    return tx.rows("connections_all", ConnectionListing)


# --- what the engine asks of machines -------------------------------------------------------------------


def status(tx: Tx, *, name: str) -> str | None:
    """The status of machine `name` (ACTIVE or DELETING), or None when there is no such machine."""
    found = tx.value("state_machine_status", name=name)
    return None if found is None else str(found)


def version_exists(tx: Tx, *, machine: str, version: int) -> bool:
    """Whether version `version` of `machine` exists."""
    return tx.value("machine_version_exists", machine=machine, version=version) is not None
