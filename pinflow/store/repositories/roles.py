"""Roles repository: IAM roles and their inline policies, customer managed policies with their versions,
and the policies attached to roles; the only module that runs their queries (`queries/roles.sql`).

A role's and a policy's `config` is JSON text (the shape IAM answers); documents are the policy text as
written.
"""

from __future__ import annotations

from dataclasses import dataclass

from pinflow.store.base import Tx

# --- rows: each class's fields are the columns its queries select ---------------------------------


@dataclass(frozen=True, slots=True)
class Role:
    """A role (`config`: Arn, RoleId, Path, AssumeRolePolicyDocument, Tags, ... as JSON)."""

    name: str
    config: str
    created_at: float


@dataclass(frozen=True, slots=True)
class RolePolicy:
    """An inline policy of a role."""

    name: str
    document: str


@dataclass(frozen=True, slots=True)
class ManagedPolicy:
    """A customer managed policy (`config`: PolicyName, PolicyId, Path, DefaultVersionId, ... as JSON)."""

    arn: str
    name: str
    config: str
    created_at: float


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    """A version of a customer managed policy (`version`: the N of `vN`)."""

    version: int
    document: str
    created_at: float


@dataclass(frozen=True, slots=True)
class Attachment:
    """A policy (customer or AWS managed, by ARN) attached to a role."""

    policy_arn: str
    attached_at: float


@dataclass(frozen=True, slots=True)
class PolicyArn:
    """A policy attached to some role."""

    policy_arn: str


@dataclass(frozen=True, slots=True)
class AttachedConfig:
    """A policy attached to a role with its config: None for an AWS managed policy (none is stored)."""

    policy_arn: str
    config: str | None


# --- roles ------------------------------------------------------------------------------------------


def role(tx: Tx, *, name: str) -> Role | None:
    """The role `name`, or None."""
    return tx.row("role_get", Role, name=name)


def insert_role(tx: Tx, *, name: str, config: str, created_at: float) -> None:
    tx.run("role_insert", name=name, config=config, created_at=created_at)


def set_role_config(tx: Tx, *, name: str, config: str) -> None:
    tx.run("role_set_config", name=name, config=config)


def delete_role(tx: Tx, *, name: str) -> None:
    tx.run("role_delete", name=name)


def roles_after(tx: Tx, *, after: str, size: int) -> list[Role]:
    """At most `size` roles named after `after`, by name."""
    return tx.rows("role_page", Role, after=after, size=size)


# --- inline policies --------------------------------------------------------------------------------


def role_policy(tx: Tx, *, role: str, name: str) -> RolePolicy | None:
    return tx.row("role_policy_get", RolePolicy, role=role, name=name)


def role_policies(tx: Tx, *, role: str) -> list[RolePolicy]:
    """The inline policies of `role`, by name."""
    return tx.rows("role_policies", RolePolicy, role=role)


def put_role_policy(tx: Tx, *, role: str, name: str, document: str) -> None:
    """Add the inline policy, or replace its document."""
    tx.run("role_policy_put", role=role, name=name, document=document)


def delete_role_policy(tx: Tx, *, role: str, name: str) -> int:
    """Remove an inline policy; the number removed (0 or 1)."""
    return tx.run("role_policy_delete", role=role, name=name)


# --- managed policies and their versions ------------------------------------------------------------


def managed_policy(tx: Tx, *, arn: str) -> ManagedPolicy | None:
    """The customer managed policy `arn`, or None."""
    return tx.row("managed_policy_get", ManagedPolicy, arn=arn)


def managed_policy_arn(tx: Tx, *, name: str) -> str | None:
    """The ARN of the customer managed policy named `name` (whatever its path), or None."""
    arn = tx.value("managed_policy_arn_by_name", name=name)
    return None if arn is None else str(arn)


def managed_policies(tx: Tx) -> list[ManagedPolicy]:
    """Every customer managed policy, by name."""
    return tx.rows("managed_policies", ManagedPolicy)


def insert_managed_policy(tx: Tx, *, arn: str, name: str, config: str, created_at: float) -> None:
    tx.run("managed_policy_insert", arn=arn, name=name, config=config, created_at=created_at)


def set_managed_policy_config(tx: Tx, *, arn: str, config: str) -> None:
    tx.run("managed_policy_set_config", arn=arn, config=config)


def delete_managed_policy(tx: Tx, *, arn: str) -> None:
    """The policy with every version it has."""
    tx.run("policy_versions_delete", arn=arn)
    tx.run("managed_policy_delete", arn=arn)


def policy_version(tx: Tx, *, arn: str, version: int) -> PolicyVersion | None:
    return tx.row("policy_version_get", PolicyVersion, arn=arn, version=version)


def policy_versions(tx: Tx, *, arn: str) -> list[PolicyVersion]:
    """The versions of policy `arn`, oldest first."""
    return tx.rows("policy_versions", PolicyVersion, arn=arn)


def insert_policy_version(tx: Tx, *, arn: str, version: int, document: str, created_at: float) -> None:
    tx.run("policy_version_insert", arn=arn, version=version, document=document, created_at=created_at)


def delete_policy_version(tx: Tx, *, arn: str, version: int) -> None:
    tx.run("policy_version_delete", arn=arn, version=version)


# --- attachments ------------------------------------------------------------------------------------


def attach(tx: Tx, *, role: str, policy_arn: str, attached_at: float) -> None:
    """Attach a policy to a role (a policy attached already stays as it was)."""
    tx.run("attachment_insert", role=role, policy_arn=policy_arn, attached_at=attached_at)


def detach(tx: Tx, *, role: str, policy_arn: str) -> int:
    """Detach a policy from a role; the number detached (0 or 1)."""
    return tx.run("attachment_delete", role=role, policy_arn=policy_arn)


def attachments(tx: Tx, *, role: str) -> list[Attachment]:
    """The policies attached to `role`, in attachment order."""
    return tx.rows("attachments_of_role", Attachment, role=role)


def attachments_with_configs(tx: Tx, *, role: str) -> list[AttachedConfig]:
    """The policies attached to `role` with their configs, in attachment order, in one query."""
    return tx.rows("attachments_with_configs", AttachedConfig, role=role)


def attachment_count(tx: Tx, *, policy_arn: str) -> int:
    """How many roles have policy `policy_arn` attached."""
    return int(tx.value("attachment_count", policy_arn=policy_arn) or 0)


def attached_policy_arns(tx: Tx) -> set[str]:
    """The ARNs of the policies attached to any role."""
    return {row.policy_arn for row in tx.rows("attached_policy_arns", PolicyArn)}
