"""IAM managed policies: customer managed ones with their versions (at most five), AWS managed ones
known by ARN, and their attachments to roles (at most ten per role, IAM's default quota).

A role's permissions are its inline policies and the default version of each attached policy
(`attached_documents`); the engine reads both before every invocation and snapshots both at start.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pinflow import arns, errors
from pinflow.iam import policy as iam_policy
from pinflow.registry import aws_policies, counters
from pinflow.store import Store, Tx
from pinflow.store.repositories import roles as repo

MAX_VERSIONS = 5
# IAM's quota on a managed policy's size (characters, whitespace left out).
POLICY_SIZE = 6144
# IAM's pattern for a policy version id (policyVersionIdType in its service model).
VERSION_ID = re.compile(r"v[1-9][0-9]*(\.[A-Za-z0-9-]*)?")
MAX_ATTACHED_PER_ROLE = 10
_ID_ALPHABET = string.ascii_uppercase + string.digits


def _no_policy(arn: str) -> errors.ServiceError:
    return errors.NoSuchEntity(f"Policy {arn} does not exist or is not attachable.")


def _no_version(arn: str, version_id: str) -> errors.ServiceError:
    return errors.NoSuchEntity(f"Policy {arn} version {version_id} does not exist or is not attachable.")


def check_document(document: str) -> None:
    """Validate a managed policy document as IAM does (`pinflow.iam.policy`), size included.

    Raises:
        MalformedPolicyDocument: with IAM's message.
        LimitExceeded: over IAM's 6,144 characters (whitespace left out), with IAM's message.
    """
    try:
        iam_policy.parse_policy(document)
    except iam_policy.MalformedPolicyDocument as exc:
        raise errors.MalformedPolicyDocument(exc.message) from None
    if iam_policy.size(document) > POLICY_SIZE:
        raise errors.LimitExceeded(f"Cannot exceed quota for PolicySize: {POLICY_SIZE}")


def version_number(version_id: str) -> int | None:
    """`v3` -> 3: the version a VersionId names, None when none can have it.

    IAM writes version ids `v1`, `v2`, ... and refuses any other spelling of a number (botocore's
    model gives the pattern, VERSION_ID); an id the pattern allows but IAM never hands out (`v1.2`,
    a number past the store's integers) names no version.
    """
    if VERSION_ID.fullmatch(version_id) is None or "." in version_id:
        return None
    return counters.number(version_id[1:])


def _default_number(config: Mapping[str, Any]) -> int | None:
    """The number of a policy's default version (a default stored as `v01` by an earlier release too)."""
    return counters.number(str(config["DefaultVersionId"])[1:])


def _counter(arn: str) -> str:
    return f"policy:{arn}"


@dataclass(frozen=True)
class Attached:
    """The default version of a policy attached to a role.

    `key` names that version's content for as long as the store lives: (PolicyId, version number) for a
    customer managed policy (a policy deleted and created again has another PolicyId), the ARN and
    version of an AWS managed one, whose `document` is known here.
    """

    key: tuple[str, str, str]
    arn: str
    version: int | None
    document: Mapping[str, Any] | None = None


def attached(tx: Tx, role: str) -> list[Attached]:
    """The default versions of the policies attached to `role`, in attachment order, in one query."""
    found: list[Attached] = []
    for row in repo.attachments_with_configs(tx, role=role):
        arn = row.policy_arn
        builtin = aws_policies.BY_ARN.get(arn)
        if builtin is not None:
            found.append(Attached(("aws", arn, builtin.version), arn, None, builtin.document))
        elif row.config is not None:
            config = json.loads(row.config)
            number = _default_number(config)
            found.append(Attached(("local", config["PolicyId"], str(number)), arn, number))
    return found


def document(tx: Tx, policy: Attached) -> Mapping[str, Any] | None:
    """The document of an attached policy's default version (None if it went meanwhile)."""
    if policy.document is not None:
        return policy.document
    if policy.version is None:
        return None
    row = repo.policy_version(tx, arn=policy.arn, version=policy.version)
    return None if row is None else json.loads(row.document)


def attached_documents(tx: Tx, role: str) -> list[Mapping[str, Any]]:
    """The default version documents of the policies attached to `role`, in attachment order."""
    return [found for policy in attached(tx, role) if (found := document(tx, policy)) is not None]


class ManagedPolicyRegistry:
    """Managed policies and role attachments in the store."""

    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock

    # --- policies ----------------------------------------------------------------------------------

    def create_policy(self, name: str, document: str, path: str = "/", description: str = "",
                      tags: Mapping[str, str] | None = None) -> dict[str, Any]:
        """CreatePolicy: the policy and its version v1, the default.

        Raises:
            EntityAlreadyExists: a policy of that name exists (whatever its path).
            MalformedPolicyDocument: the document is not a valid identity policy.
        """
        check_document(document)
        arn = f"arn:aws:iam::{arns.DEFAULT_ACCOUNT}:policy{path}{name}"
        now = self._clock()
        config: dict[str, Any] = {
            "PolicyName": name, "PolicyId": "ANPA" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(17)),
            "Arn": arn, "Path": path, "DefaultVersionId": "v1", "CreateDate": now, "UpdateDate": now,
        }
        if description:
            config["Description"] = description
        if tags:
            config["Tags"] = [{"Key": key, "Value": value} for key, value in tags.items()]
        with self._store.transaction() as tx:
            if repo.managed_policy_arn(tx, name=name) is not None:
                raise errors.EntityAlreadyExists(f"A policy called {name} already exists. Duplicate names are not "
                                                 "allowed.")
            counters.forget(tx, _counter(arn))
            repo.insert_managed_policy(tx, arn=arn, name=name, config=json.dumps(config), created_at=now)
            number = counters.next_number(tx, _counter(arn))
            repo.insert_policy_version(tx, arn=arn, version=number, document=document, created_at=now)
            return self._shaped(tx, config)

    def get_policy(self, arn: str) -> dict[str, Any]:
        """GetPolicy, of a customer managed policy or a known AWS managed one.

        Raises:
            NoSuchEntity: no such policy.
        """
        with self._store.transaction(write=False) as tx:
            return self._shaped(tx, self._config(tx, arn))

    def list_policies(self, scope: str = "All", only_attached: bool = False,
                      path_prefix: str = "/") -> list[dict[str, Any]]:
        """ListPolicies (every match, by name; the API layer pages them)."""
        with self._store.transaction(write=False) as tx:
            attached = repo.attached_policy_arns(tx)
            found: list[dict[str, Any]] = []
            if scope in ("All", "AWS"):
                found.extend(self._shaped(tx, _builtin_config(policy)) for policy in aws_policies.POLICIES)
            if scope in ("All", "Local"):
                found.extend(self._shaped(tx, json.loads(row.config)) for row in repo.managed_policies(tx))
        return sorted((policy for policy in found if policy["Path"].startswith(path_prefix)
                       and (not only_attached or policy["Arn"] in attached)),
                      key=lambda policy: (policy["PolicyName"], policy["Arn"]))

    def delete_policy(self, arn: str) -> None:
        """DeletePolicy.

        Raises:
            NoSuchEntity: no such policy.
            DeleteConflict: it is attached to a role, or has versions besides its default.
        """
        with self._store.transaction() as tx:
            self._local(tx, arn, "iam:DeletePolicy")
            if repo.attachment_count(tx, policy_arn=arn):
                raise errors.DeleteConflict("Cannot delete a policy attached to entities.")
            if len(repo.policy_versions(tx, arn=arn)) > 1:
                raise errors.DeleteConflict("This policy has more than one version. Before you delete a policy, "
                                            "you must delete the policy's versions. The default version is "
                                            "deleted with the policy.")
            repo.delete_managed_policy(tx, arn=arn)

    # --- versions ----------------------------------------------------------------------------------

    def create_policy_version(self, arn: str, document: str, set_as_default: bool = False) -> dict[str, Any]:
        """CreatePolicyVersion.

        Raises:
            NoSuchEntity: no such policy.
            LimitExceeded: the policy has five versions already.
            MalformedPolicyDocument: the document is not a valid identity policy.
        """
        check_document(document)
        now = self._clock()
        with self._store.transaction() as tx:
            config = self._local(tx, arn, "iam:CreatePolicyVersion")
            if len(repo.policy_versions(tx, arn=arn)) >= MAX_VERSIONS:
                raise errors.LimitExceeded(
                    f"A managed policy can have up to {MAX_VERSIONS} versions. Before you create a new version, "
                    "you must delete an existing version.")
            number = counters.next_number(tx, _counter(arn))
            repo.insert_policy_version(tx, arn=arn, version=number, document=document, created_at=now)
            if set_as_default:
                config.update(DefaultVersionId=f"v{number}", UpdateDate=now)
                repo.set_managed_policy_config(tx, arn=arn, config=json.dumps(config))
        return {"Document": document, "VersionId": f"v{number}", "IsDefaultVersion": set_as_default,
                "CreateDate": now}

    def get_policy_version(self, arn: str, version_id: str) -> dict[str, Any]:
        """GetPolicyVersion: {"Document", "VersionId", "IsDefaultVersion", "CreateDate"}.

        Raises:
            NoSuchEntity: no such policy or version.
        """
        builtin = aws_policies.BY_ARN.get(arn)
        if builtin is not None:
            if version_id != builtin.version:
                raise _no_version(arn, version_id)
            return {"Document": json.dumps(builtin.document), "VersionId": builtin.version,
                    "IsDefaultVersion": True, "CreateDate": builtin.created}
        number = version_number(version_id)
        with self._store.transaction(write=False) as tx:
            config = self._config(tx, arn)
            row = repo.policy_version(tx, arn=arn, version=number) if number is not None else None
        if row is None:
            raise _no_version(arn, version_id)
        return {"Document": row.document, "VersionId": f"v{number}",
                "IsDefaultVersion": _default_number(config) == number,
                "CreateDate": row.created_at}

    def list_policy_versions(self, arn: str) -> list[dict[str, Any]]:
        """ListPolicyVersions, newest first (without documents, as IAM lists them)."""
        builtin = aws_policies.BY_ARN.get(arn)
        if builtin is not None:
            return [{"VersionId": builtin.version, "IsDefaultVersion": True, "CreateDate": builtin.created}]
        with self._store.transaction(write=False) as tx:
            config = self._config(tx, arn)
            rows = repo.policy_versions(tx, arn=arn)
        default = _default_number(config)
        return [{"VersionId": f"v{row.version}", "IsDefaultVersion": row.version == default,
                 "CreateDate": row.created_at} for row in reversed(rows)]

    def set_default_policy_version(self, arn: str, version_id: str) -> None:
        """SetDefaultPolicyVersion: roles with the policy attached get that version's permissions at once.

        Raises:
            NoSuchEntity: no such policy or version.
        """
        number = version_number(version_id)
        with self._store.transaction() as tx:
            config = self._local(tx, arn, "iam:SetDefaultPolicyVersion")
            if number is None or repo.policy_version(tx, arn=arn, version=number) is None:
                raise _no_version(arn, version_id)
            config.update(DefaultVersionId=f"v{number}", UpdateDate=self._clock())
            repo.set_managed_policy_config(tx, arn=arn, config=json.dumps(config))

    def delete_policy_version(self, arn: str, version_id: str) -> None:
        """DeletePolicyVersion.

        Raises:
            NoSuchEntity: no such policy or version.
            DeleteConflict: it is the default version.
        """
        number = version_number(version_id)
        with self._store.transaction() as tx:
            config = self._local(tx, arn, "iam:DeletePolicyVersion")
            if number is None or repo.policy_version(tx, arn=arn, version=number) is None:
                raise _no_version(arn, version_id)
            if _default_number(config) == number:
                raise errors.DeleteConflict("Cannot delete the default version of a policy.")
            repo.delete_policy_version(tx, arn=arn, version=number)

    # --- attachments -------------------------------------------------------------------------------

    def attach_role_policy(self, role: str, arn: str) -> None:
        """AttachRolePolicy (attaching an attached policy again changes nothing).

        Raises:
            NoSuchEntity: no such role or policy.
            LimitExceeded: the role has ten policies attached already.
        """
        with self._store.transaction() as tx:
            _role_exists(tx, role)
            self._config(tx, arn)
            attached = [row.policy_arn for row in repo.attachments(tx, role=role)]
            if arn not in attached and len(attached) >= MAX_ATTACHED_PER_ROLE:
                raise errors.LimitExceeded(f"Cannot exceed quota for PoliciesPerRole: {MAX_ATTACHED_PER_ROLE}")
            repo.attach(tx, role=role, policy_arn=arn, attached_at=self._clock())

    def detach_role_policy(self, role: str, arn: str) -> None:
        """DetachRolePolicy.

        Raises:
            NoSuchEntity: no such role, or the policy is not attached to it.
        """
        with self._store.transaction() as tx:
            _role_exists(tx, role)
            if repo.detach(tx, role=role, policy_arn=arn) == 0:
                raise errors.NoSuchEntity(f"Policy {arn} was not found.")

    def list_attached_role_policies(self, role: str, path_prefix: str = "/") -> list[dict[str, str]]:
        """ListAttachedRolePolicies: [{"PolicyName", "PolicyArn"}] in attachment order.

        Raises:
            NoSuchEntity: no such role.
        """
        with self._store.transaction(write=False) as tx:
            _role_exists(tx, role)
            found = []
            for row in repo.attachments(tx, role=role):
                config = self._config(tx, row.policy_arn)
                if config["Path"].startswith(path_prefix):
                    found.append({"PolicyName": config["PolicyName"], "PolicyArn": row.policy_arn})
        return found

    # --- inside a transaction ----------------------------------------------------------------------

    def _config(self, tx: Tx, arn: str) -> dict[str, Any]:
        builtin = aws_policies.BY_ARN.get(arn)
        if builtin is not None:
            return _builtin_config(builtin)
        row = repo.managed_policy(tx, arn=arn)
        if row is None:
            raise _no_policy(arn)
        return dict(json.loads(row.config))

    def _local(self, tx: Tx, arn: str, action: str) -> dict[str, Any]:
        """A customer managed policy's config, for a change; AWS managed policies cannot be changed."""
        if aws_policies.is_aws_managed(arn):
            if arn not in aws_policies.BY_ARN:
                raise _no_policy(arn)
            raise errors.AccessDenied(f"User is not authorized to perform: {action} on resource: policy {arn}")
        return self._config(tx, arn)

    @staticmethod
    def _shaped(tx: Tx, config: Mapping[str, Any]) -> dict[str, Any]:
        """The `Policy` shape with its live AttachmentCount (dates as epoch seconds)."""
        shaped = dict(config)
        shaped["DefaultVersionId"] = f"v{_default_number(config)}"
        shaped["AttachmentCount"] = repo.attachment_count(tx, policy_arn=config["Arn"])
        shaped["PermissionsBoundaryUsageCount"] = 0
        shaped["IsAttachable"] = True
        return shaped


def _builtin_config(policy: aws_policies.AwsPolicy) -> dict[str, Any]:
    return {"PolicyName": policy.name, "PolicyId": "ANPA" + policy.name.upper()[:17].ljust(17, "A"),
            "Arn": policy.arn, "Path": policy.path, "DefaultVersionId": policy.version,
            "Description": policy.description, "CreateDate": policy.created, "UpdateDate": policy.created}


def _role_exists(tx: Tx, role: str) -> None:
    if repo.role(tx, name=role) is None:
        raise errors.NoSuchEntity(f"The role with name {role} cannot be found.")
