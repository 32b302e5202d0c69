"""IAM roles and their inline policies: what an execution role may do, read before every invocation."""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Callable, Mapping
from typing import Any

from pinflow import arns, errors, jsontext
from pinflow.iam import policy as iam_policy
from pinflow.store import Store, Tx

# IAM role IDs: "AROA" and 17 characters from upper-case letters and digits.
_ID_ALPHABET = string.ascii_uppercase + string.digits


def _role_missing(name: str) -> errors.ServiceError:
    return errors.NoSuchEntity(f"The role with name {name} cannot be found.")


class RoleRegistry:
    """Roles and inline role policies in the store."""

    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock

    def create_role(self, name: str, assume_role_policy_document: str, path: str = "/", description: str = "",
                    tags: Mapping[str, str] | None = None) -> dict[str, Any]:
        """CreateRole.

        Returns:
            The `Role` shape (CreateDate as epoch seconds; the API layer renders it).

        Raises:
            EntityAlreadyExists: a role of that name exists.
            MalformedPolicyDocument: the trust policy is not JSON.
        """
        try:
            jsontext.parse(assume_role_policy_document)
        except (TypeError, ValueError):  # not JSON, nested too deeply, or a lone surrogate
            raise errors.MalformedPolicyDocument("This policy contains invalid Json") from None
        if not path.startswith("/") or not path.endswith("/"):
            raise errors.ValidationException(
                f"1 validation error detected: Value '{path}' at 'path' failed to satisfy constraint: Member must "
                r"satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)")
        now = self._clock()
        role = {
            "Path": path,
            "RoleName": name,
            "RoleId": "AROA" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(17)),
            "Arn": arns.role(name, path=path),
            "CreateDate": now,
            "AssumeRolePolicyDocument": assume_role_policy_document,
            "MaxSessionDuration": 3600,
        }
        if description:
            role["Description"] = description
        if tags:
            role["Tags"] = [{"Key": key, "Value": value} for key, value in tags.items()]
        with self._store.transaction() as tx:
            if tx.one("reg_role_get", (name,)) is not None:
                raise errors.EntityAlreadyExists(f"Role with name {name} already exists.")
            tx.execute("reg_role_insert", (name, json.dumps(role), now))
        return role

    def get_role(self, name: str) -> dict[str, Any]:
        """GetRole.

        Raises:
            NoSuchEntity: no such role.
        """
        with self._store.transaction(write=False) as tx:
            return self._role(tx, name)

    def list_roles(self, marker: str | None = None, max_items: int = 100) -> dict[str, Any]:
        """ListRoles, by name: {"Roles", "IsTruncated", "Marker"?}."""
        size = max(1, int(max_items))
        with self._store.transaction(write=False) as tx:
            rows = tx.all("reg_role_page", (marker or "", size + 1))
        answer: dict[str, Any] = {"Roles": [json.loads(row["config"]) for row in rows[:size]],
                                  "IsTruncated": len(rows) > size}
        if len(rows) > size:
            answer["Marker"] = rows[size - 1]["name"]
        return answer

    def delete_role(self, name: str) -> None:
        """DeleteRole.

        Raises:
            NoSuchEntity: no such role.
            DeleteConflict: the role still has inline policies.
        """
        with self._store.transaction() as tx:
            self._role(tx, name)
            if tx.all("reg_rp_all", (name,)):
                raise errors.DeleteConflict("Cannot delete entity, must delete policies first.")
            tx.execute("reg_role_delete", (name,))

    def put_role_policy(self, role: str, name: str, document: str) -> None:
        """PutRolePolicy: add or replace an inline policy, validated as IAM does.

        Raises:
            NoSuchEntity: no such role.
            MalformedPolicyDocument: with IAM's message.
        """
        _check_policy(document, name)
        with self._store.transaction() as tx:
            self._role(tx, role)
            tx.execute("reg_rp_put", (role, name, document))

    def get_role_policy(self, role: str, name: str) -> dict[str, Any]:
        """GetRolePolicy: {"RoleName", "PolicyName", "PolicyDocument"}.

        Raises:
            NoSuchEntity: no such role or policy.
        """
        with self._store.transaction(write=False) as tx:
            self._role(tx, role)
            row = tx.one("reg_rp_get", (role, name))
        if row is None:
            raise errors.NoSuchEntity(f"The role policy with name {name} cannot be found.")
        return {"RoleName": role, "PolicyName": name, "PolicyDocument": row["document"]}

    def delete_role_policy(self, role: str, name: str) -> None:
        """DeleteRolePolicy.

        Raises:
            NoSuchEntity: no such role or policy.
        """
        with self._store.transaction() as tx:
            self._role(tx, role)
            if tx.execute("reg_rp_delete", (role, name)) == 0:
                raise errors.NoSuchEntity(f"The role policy with name {name} cannot be found.")

    def list_role_policies(self, role: str, marker: str | None = None, max_items: int = 100) -> dict[str, Any]:
        """ListRolePolicies: {"PolicyNames", "IsTruncated", "Marker"?}, by name.

        Raises:
            NoSuchEntity: no such role.
        """
        size = max(1, int(max_items))
        with self._store.transaction(write=False) as tx:
            self._role(tx, role)
            names = [row["name"] for row in tx.all("reg_rp_all", (role,))]
        if marker:
            names = [name for name in names if name > marker]
        answer: dict[str, Any] = {"PolicyNames": names[:size], "IsTruncated": len(names) > size}
        if len(names) > size:
            answer["Marker"] = names[size - 1]
        return answer

    def policies_for(self, role_arn: str) -> list[dict[str, Any]] | None:
        """The parsed documents of a role's inline policies, by policy name; None when pinflow does not
        know the role (so the caller has no policy to enforce)."""
        arn = arns.parse(role_arn) if isinstance(role_arn, str) else None
        if arn is None or arn.service != "iam" or not arn.resource.startswith("role/"):
            return None
        name = arn.resource.rsplit("/", 1)[-1]
        with self._store.transaction(write=False) as tx:
            row = tx.one("reg_role_get", (name,))
            if row is None or json.loads(row["config"])["Arn"].split(":", 4)[4] != role_arn.split(":", 4)[4]:
                return None
            return [json.loads(policy["document"]) for policy in tx.all("reg_rp_all", (name,))]

    def _role(self, tx: Tx, name: str) -> dict[str, Any]:
        row = tx.one("reg_role_get", (name,))
        if row is None:
            raise _role_missing(name)
        return dict(json.loads(row["config"]))


def _check_policy(document: str, name: str) -> None:
    """Validate an inline policy as IAM does (`pinflow.iam.policy`)."""
    try:
        iam_policy.parse_policy(document, name=name)
    except iam_policy.MalformedPolicyDocument as exc:
        raise errors.MalformedPolicyDocument(exc.message) from None
