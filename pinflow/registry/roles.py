"""IAM roles, their inline policies, tags and trust: what an execution role may do, read before every
invocation, and whether Step Functions may use it at all."""

from __future__ import annotations

import functools
import json
import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pinflow import arns, errors
from pinflow.engine import lru
from pinflow.iam import policy as iam_policy
from pinflow.iam import wildcard
from pinflow.registry import managed_policies, tags
from pinflow.store import Store, Tx
from pinflow.store.kept import Kept
from pinflow.store.repositories import roles as repo

# IAM role IDs: "AROA" and 17 characters from upper-case letters and digits.
_ID_ALPHABET = string.ascii_uppercase + string.digits
# IAM's quotas: a role's inline policies together, and its trust policy (characters, whitespace left out).
INLINE_SIZE = 10240
TRUST_SIZE = 2048
STATES_PRINCIPAL = "states.amazonaws.com"
# What Step Functions answers CreateStateMachine/UpdateStateMachine when it cannot assume the role
# (the role does not exist, or its trust policy does not name Step Functions).
CANNOT_ASSUME = ("Neither the global service principal states.amazonaws.com, nor the regional one is authorized "
                 "to assume the provided role.")


def _role_missing(name: str) -> errors.ServiceError:
    return errors.NoSuchEntity(f"The role with name {name} cannot be found.")


@dataclass(frozen=True)
class Grants:
    """A role's policies now: its inline documents (as stored text), the default versions of the
    policies attached to it (each keyed by what never changes, `managed_policies.Attached`), and whether
    Step Functions may still assume it (its trust policy names `states.amazonaws.com`)."""

    assumable: bool
    inline: tuple[str, ...]
    attached: tuple[managed_policies.Attached, ...]


@dataclass(frozen=True)
class Snapshot:
    """A role's grants with the parsed documents of its policies (inline ones by name, then the default
    version of each attached policy), read at one moment. The documents are shared: never change them."""

    grants: Grants
    documents: tuple[Mapping[str, Any], ...]


class RoleRegistry:
    """Roles, inline role policies and tags in the store.

    `permissive` (`pinflow server --permissive-iam`) accepts role ARNs that name no role here for state
    machines, and their executions run unchecked; roles that exist are enforced either way.
    """

    def __init__(self, store: Store, clock: Callable[[], float], *, permissive: bool = False) -> None:
        self._store = store
        self._clock = clock
        self.permissive = permissive
        # Parsed documents of customer managed policy versions by `Attached.key`: a version never changes.
        self._versions = lru.Lru(1_000)
        # Each role's grants as last read, while the registry is unchanged (`pinflow.store.kept`).
        self._grants_kept: Kept[Grants | None] = Kept(store)

    def create_role(self, name: str, assume_role_policy_document: str, path: str = "/", description: str = "",
                    tags: Mapping[str, str] | None = None) -> dict[str, Any]:
        """CreateRole.

        Returns:
            The `Role` shape (CreateDate as epoch seconds; the API layer renders it).

        Raises:
            EntityAlreadyExists: a role of that name exists.
            MalformedPolicyDocument: the trust policy is not one IAM takes (see `_check_trust`).
            LimitExceeded: the trust policy is over IAM's 2,048 characters.
        """
        _check_trust(assume_role_policy_document)
        if not path.startswith("/") or not path.endswith("/"):
            raise errors.validation("path", path, r"Member must satisfy regular expression pattern: "
                                    r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)")
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
            if repo.role(tx, name=name) is not None:
                raise errors.EntityAlreadyExists(f"Role with name {name} already exists.")
            repo.insert_role(tx, name=name, config=json.dumps(role), created_at=now)
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
            rows = repo.roles_after(tx, after=marker or "", size=size + 1)
        answer: dict[str, Any] = {"Roles": [json.loads(row.config) for row in rows[:size]],
                                  "IsTruncated": len(rows) > size}
        if len(rows) > size:
            answer["Marker"] = rows[size - 1].name
        return answer

    def delete_role(self, name: str) -> None:
        """DeleteRole.

        Raises:
            NoSuchEntity: no such role.
            DeleteConflict: the role still has inline or attached policies.
        """
        with self._store.transaction() as tx:
            self._role(tx, name)
            if repo.role_policies(tx, role=name):
                raise errors.DeleteConflict("Cannot delete entity, must delete policies first.")
            if repo.attachments(tx, role=name):
                raise errors.DeleteConflict("Cannot delete entity, must detach all policies first.")
            repo.delete_role(tx, name=name)

    def update_assume_role_policy(self, name: str, document: str) -> None:
        """UpdateAssumeRolePolicy: a new trust policy.

        Raises:
            NoSuchEntity: no such role.
            MalformedPolicyDocument: the trust policy is not one IAM takes (see `_check_trust`).
            LimitExceeded: the trust policy is over IAM's 2,048 characters.
        """
        _check_trust(document)
        with self._store.transaction() as tx:
            role = self._role(tx, name)
            role["AssumeRolePolicyDocument"] = document
            repo.set_role_config(tx, name=name, config=json.dumps(role))

    def tag_role(self, name: str, added: Mapping[str, str]) -> None:
        """TagRole: add or overwrite tags. A role's tag keys are case insensitive, as IAM's are (IAM user
        guide, "Rules for tagging"): `department` replaces `Department`, taking its place.

        Raises:
            NoSuchEntity: no such role.
            LimitExceeded: the role would have more than 50 tags.
        """
        with self._store.transaction() as tx:
            role = self._role(tx, name)
            merged = {tag["Key"].lower(): (tag["Key"], tag["Value"]) for tag in role.get("Tags") or ()}
            for key, value in added.items():
                merged[key.lower()] = (key, value)
            if len(merged) > tags.MAX_TAGS:
                raise errors.LimitExceeded(f"Cannot exceed quota for TagsPerRole: {tags.MAX_TAGS}")
            role["Tags"] = [{"Key": key, "Value": value} for key, value in merged.values()]
            repo.set_role_config(tx, name=name, config=json.dumps(role))

    def untag_role(self, name: str, keys: list[str]) -> None:
        """UntagRole; keys the role does not have are ignored.

        Raises:
            NoSuchEntity: no such role.
        """
        removed = {key.lower() for key in keys}  # case insensitive, as TagRole's keys
        with self._store.transaction() as tx:
            role = self._role(tx, name)
            kept = [tag for tag in role.get("Tags") or () if tag["Key"].lower() not in removed]
            if kept:
                role["Tags"] = kept
            else:
                role.pop("Tags", None)
            repo.set_role_config(tx, name=name, config=json.dumps(role))

    def list_role_tags(self, name: str) -> list[dict[str, str]]:
        """ListRoleTags, in the order they were added.

        Raises:
            NoSuchEntity: no such role.
        """
        return list(self.get_role(name).get("Tags") or [])

    def put_role_policy(self, role: str, name: str, document: str) -> None:
        """PutRolePolicy: add or replace an inline policy, validated as IAM does.

        Raises:
            NoSuchEntity: no such role.
            MalformedPolicyDocument: with IAM's message.
            LimitExceeded: the role's inline policies together would pass IAM's 10,240 characters
                (whitespace left out), with IAM's message.
        """
        _check_policy(document, name)
        with self._store.transaction() as tx:
            self._role(tx, role)
            others = sum(iam_policy.size(row.document) for row in repo.role_policies(tx, role=role)
                         if row.name != name)
            if others + iam_policy.size(document) > INLINE_SIZE:
                raise errors.LimitExceeded(f"Maximum policy size of {INLINE_SIZE} bytes exceeded for role {role}")
            repo.put_role_policy(tx, role=role, name=name, document=document)

    def get_role_policy(self, role: str, name: str) -> dict[str, Any]:
        """GetRolePolicy: {"RoleName", "PolicyName", "PolicyDocument"}.

        Raises:
            NoSuchEntity: no such role or policy.
        """
        with self._store.transaction(write=False) as tx:
            self._role(tx, role)
            row = repo.role_policy(tx, role=role, name=name)
        if row is None:
            raise errors.NoSuchEntity(f"The role policy with name {name} cannot be found.")
        return {"RoleName": role, "PolicyName": name, "PolicyDocument": row.document}

    def delete_role_policy(self, role: str, name: str) -> None:
        """DeleteRolePolicy.

        Raises:
            NoSuchEntity: no such role or policy.
        """
        with self._store.transaction() as tx:
            self._role(tx, role)
            if repo.delete_role_policy(tx, role=role, name=name) == 0:
                raise errors.NoSuchEntity(f"The role policy with name {name} cannot be found.")

    def list_role_policies(self, role: str, marker: str | None = None, max_items: int = 100) -> dict[str, Any]:
        """ListRolePolicies: {"PolicyNames", "IsTruncated", "Marker"?}, by name.

        Raises:
            NoSuchEntity: no such role.
        """
        size = max(1, int(max_items))
        with self._store.transaction(write=False) as tx:
            self._role(tx, role)
            names = [row.name for row in repo.role_policies(tx, role=role)]
        if marker:
            names = [name for name in names if name > marker]
        answer: dict[str, Any] = {"PolicyNames": names[:size], "IsTruncated": len(names) > size}
        if len(names) > size:
            answer["Marker"] = names[size - 1]
        return answer

    def policies_for(self, role_arn: str) -> list[dict[str, Any]] | None:
        """The parsed documents of a role's policies: its inline policies by name, then the default
        version of each attached managed policy; None when pinflow does not know the role (the caller
        then has no policy that allows anything). The documents are shared: read them, never change them."""
        found = self.snapshot(role_arn)
        return None if found is None else [dict(document) for document in found.documents]

    def grants(self, role_arn: str) -> Grants | None:
        """A role's policies as the IAM check before every call reads them (one query, whatever the
        number of policies); None when pinflow does not know the role. Kept between calls while the
        registry is unchanged, so a role changed (or deleted) applies to the next call at once."""

        def read() -> Grants | None:
            with self._store.transaction(write=False) as tx:
                return self._grants(repo.role_grants(tx, name=_role_name(role_arn)), role_arn)

        return self._grants_kept.get_or(role_arn, read)

    def snapshot(self, role_arn: str) -> Snapshot | None:
        """A role's grants and the parsed documents of its policies, read together (what an execution
        pins at its start): one query, and one more for each attached customer managed policy version
        not read before (a version never changes, so its document is kept). None when pinflow does not
        know the role."""
        with self._store.transaction(write=False) as tx:
            grants = self._grants(repo.role_grants(tx, name=_role_name(role_arn)), role_arn)
            if grants is None:
                return None
            documents: list[Mapping[str, Any]] = [_parsed(text) for text in grants.inline]
            for policy in grants.attached:
                # A version missing once (deleted since) never comes back: its key names no other content.
                document = policy.document if policy.document is not None else self._versions.get_or(
                    policy.key, functools.partial(managed_policies.document, tx, policy))
                if document is not None:
                    documents.append(document)
        return Snapshot(grants, tuple(documents))

    def attached_document(self, policy: managed_policies.Attached) -> Mapping[str, Any] | None:
        """The document of one attached policy version (None if it went meanwhile)."""
        with self._store.transaction(write=False) as tx:
            return managed_policies.document(tx, policy)

    @staticmethod
    def _grants(rows: list[repo.GrantPart], role_arn: str) -> Grants | None:
        """The grants `role_grants` read, None when they are not those of the role `role_arn` names (no
        such role, or one of that name at another path or in another account)."""
        if not rows or rows[0].part != 0 or rows[0].text is None:
            return None
        arn, assumable = _role_facts(rows[0].text)
        if arn != str(role_arn):
            return None
        inline = tuple(row.text for row in rows if row.part == 1 and row.text is not None)
        attached = tuple(found for row in rows if row.part == 2
                         and (found := managed_policies.attached_one(row.name, row.text)) is not None)
        return Grants(assumable, inline, attached)

    def check_execution_role(self, role_arn: str) -> None:
        """Refuse a state machine role Step Functions could not assume, as CreateStateMachine and
        UpdateStateMachine do: a role that does not exist, or whose trust policy does not let
        `states.amazonaws.com` (or a regional `states.<region>.amazonaws.com`) call sts:AssumeRole.
        With `permissive`, a role that does not exist here is accepted.

        Raises:
            AccessDeniedException: with Step Functions' wording.
        """
        with self._store.transaction(write=False) as tx:
            role = self._by_arn(tx, role_arn)
        if role is None:
            if self.permissive:
                return
            raise errors.AccessDeniedException(CANNOT_ASSUME)
        if not trusts(role["AssumeRolePolicyDocument"], STATES_PRINCIPAL):
            raise errors.AccessDeniedException(CANNOT_ASSUME)

    def _by_arn(self, tx: Tx, role_arn: str) -> dict[str, Any] | None:
        """The role an ARN names (path and account included), None when there is none."""
        arn = arns.parse(role_arn) if isinstance(role_arn, str) else None
        if arn is None or arn.service != "iam" or not arn.resource.startswith("role/"):
            return None
        row = repo.role(tx, name=arn.resource.rsplit("/", 1)[-1])
        if row is None:
            return None
        role = dict(json.loads(row.config))
        return role if role["Arn"] == str(role_arn) else None

    def _role(self, tx: Tx, name: str) -> dict[str, Any]:
        row = repo.role(tx, name=name)
        if row is None:
            raise _role_missing(name)
        return dict(json.loads(row.config))


def _role_name(role_arn: str) -> str:
    """The role name an ARN ends with ("" for what names no role: no role has that name)."""
    arn = arns.parse(role_arn) if isinstance(role_arn, str) else None
    if arn is None or arn.service != "iam" or not arn.resource.startswith("role/"):
        return ""
    return arn.resource.rsplit("/", 1)[-1]


@functools.lru_cache(maxsize=1024)
def _role_facts(config: str) -> tuple[str, bool]:
    """A role's ARN and whether Step Functions may assume it, from its config's text (kept by that
    text: a role changed anywhere is read afresh)."""
    role = json.loads(config)
    return str(role["Arn"]), trusts(role["AssumeRolePolicyDocument"], STATES_PRINCIPAL)


@functools.lru_cache(maxsize=1024)
def _parsed(document: str) -> Mapping[str, Any]:
    """An inline policy document parsed, kept by its text (shared: never change it)."""
    parsed: Mapping[str, Any] = json.loads(document)
    return parsed


def _check_trust(document: str) -> None:
    """A trust policy as IAM takes it: the policy grammar, a Principal in each statement, no Resource,
    at most 2,048 characters (whitespace left out)."""
    try:
        iam_policy.check_trust_policy(document)
    except iam_policy.MalformedPolicyDocument as exc:
        raise errors.MalformedPolicyDocument(exc.message) from None
    if iam_policy.size(document) > TRUST_SIZE:
        raise errors.LimitExceeded(f"Cannot exceed quota for ACLSizePerRole: {TRUST_SIZE}")


def trusts(document: str | Mapping[str, Any], service: str) -> bool:
    """Whether a trust policy lets the AWS service `service` (e.g. `states.amazonaws.com`, or its
    regional form `states.<region>.amazonaws.com`) assume the role: an Allow of sts:AssumeRole to that
    service principal (or to `*`) that no Deny takes back. Conditions are not evaluated."""
    try:
        parsed = json.loads(document) if isinstance(document, str) else document
    except ValueError:
        return False
    statements = parsed.get("Statement") if isinstance(parsed, Mapping) else None
    if isinstance(statements, Mapping):
        statements = [statements]
    allowed = False
    for statement in statements if isinstance(statements, list) else ():
        if not isinstance(statement, Mapping) or not _assumes(statement) or not _names(statement, service):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def _assumes(statement: Mapping[str, Any]) -> bool:
    listed = statement.get("Action", statement.get("NotAction"))
    actions = [listed] if isinstance(listed, str) else listed if isinstance(listed, list) else []
    hit = any(isinstance(action, str) and wildcard.matches_action(action, "sts:AssumeRole") for action in actions)
    return hit if "Action" in statement else not hit


def _names(statement: Mapping[str, Any], service: str) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    if principal.get("AWS") == "*":
        return True
    listed = principal.get("Service")
    services = [listed] if isinstance(listed, str) else listed if isinstance(listed, list) else []
    prefix = service.split(".", 1)[0]
    return any(name == service or (isinstance(name, str) and name.startswith(prefix + ".")
                                   and name.endswith(".amazonaws.com") and name.count(".") == 3)
               for name in services)


def _check_policy(document: str, name: str) -> None:
    """Validate an inline policy as IAM does (`pinflow.iam.policy`)."""
    try:
        iam_policy.parse_policy(document, name=name)
    except iam_policy.MalformedPolicyDocument as exc:
        raise errors.MalformedPolicyDocument(exc.message) from None
