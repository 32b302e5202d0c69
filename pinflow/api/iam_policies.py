"""IAM managed policies over the Query protocol: policies and their versions, AWS managed policies known
by ARN, and attachments to roles. Each operation checks IAM's parameters and calls one registry method."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pinflow import errors
from pinflow.api import iam_query
from pinflow.api.iam_query import Params
from pinflow.registry import managed_policies

SCOPES = ("All", "AWS", "Local")
# IAM's limits for policy ARNs and documents.
_ARN_LIMIT = 2048
_DOCUMENT_LIMIT = 131072


def _arn(params: Params) -> str:
    value = iam_query.required(params, "PolicyArn", "policyArn", _ARN_LIMIT)
    if len(value) < 20:
        raise errors.validation("policyArn", value, "Member must have length greater than or equal to 20")
    return value


def _version_id(params: Params) -> str:
    value = iam_query.required(params, "VersionId", "versionId")
    if managed_policies.VERSION_ID.fullmatch(value) is None:
        raise errors.validation("versionId", value, "Member must satisfy regular expression pattern: "
                                   + managed_policies.VERSION_ID.pattern)
    return value


def _policy(policy: Mapping[str, Any]) -> dict[str, Any]:
    """The `Policy` shape, in the order IAM writes its members."""
    shaped: dict[str, Any] = {key: policy[key] for key in ("PolicyName", "PolicyId", "Arn", "Path",
                                                            "DefaultVersionId", "AttachmentCount",
                                                            "PermissionsBoundaryUsageCount", "IsAttachable")}
    if policy.get("Description"):
        shaped["Description"] = policy["Description"]
    shaped["CreateDate"] = iam_query.iso_time(policy["CreateDate"])
    shaped["UpdateDate"] = iam_query.iso_time(policy["UpdateDate"])
    if policy.get("Tags"):
        shaped["Tags"] = list(policy["Tags"])
    return shaped


def _version(version: Mapping[str, Any]) -> dict[str, Any]:
    shaped: dict[str, Any] = {}
    if "Document" in version:
        shaped["Document"] = iam_query.encode_policy(version["Document"])
    shaped.update(VersionId=version["VersionId"], IsDefaultVersion=version["IsDefaultVersion"],
                  CreateDate=iam_query.iso_time(version["CreateDate"]))
    return shaped


def create_policy(pf: Any, params: Params) -> dict[str, Any]:
    """CreatePolicy: the policy with its version v1 as the default."""
    name = iam_query.entity_name(params, "PolicyName", "policyName", 128)
    document = iam_query.required(params, "PolicyDocument", "policyDocument", _DOCUMENT_LIMIT)
    description = iam_query.text(params, "Description", "description", required=False, limit=1000, default="")
    created = pf.policies.create_policy(name, document, path=iam_query.path(params), description=description or "",
                                        tags=iam_query.tags(params) or None)
    return {"Policy": _policy(created)}


def get_policy(pf: Any, params: Params) -> dict[str, Any]:
    """GetPolicy."""
    return {"Policy": _policy(pf.policies.get_policy(_arn(params)))}


def delete_policy(pf: Any, params: Params) -> None:
    """DeletePolicy (refused while attached, or while it has other versions than the default)."""
    pf.policies.delete_policy(_arn(params))


def list_policies(pf: Any, params: Params) -> dict[str, Any]:
    """ListPolicies by name, with Scope, OnlyAttached and PathPrefix."""
    scope = params.get("Scope", "All")
    if scope not in SCOPES:
        raise errors.validation("scope", scope, f"Member must satisfy enum value set: [{', '.join(SCOPES)}]")
    found = pf.policies.list_policies(scope, iam_query.boolean(params, "OnlyAttached"),
                                      iam_query.path(params, "PathPrefix", "pathPrefix"))
    answer = iam_query.page(found, "Policies", params, lambda policy: policy["Arn"])
    answer["Policies"] = [_policy(policy) for policy in answer["Policies"]]
    return answer


def create_policy_version(pf: Any, params: Params) -> dict[str, Any]:
    """CreatePolicyVersion (at most five versions)."""
    version = pf.policies.create_policy_version(
        _arn(params), iam_query.required(params, "PolicyDocument", "policyDocument", _DOCUMENT_LIMIT),
        iam_query.boolean(params, "SetAsDefault"))
    return {"PolicyVersion": _version(version)}


def get_policy_version(pf: Any, params: Params) -> dict[str, Any]:
    """GetPolicyVersion: the document comes back URL-encoded, as IAM sends it."""
    return {"PolicyVersion": _version(pf.policies.get_policy_version(_arn(params), _version_id(params)))}


def list_policy_versions(pf: Any, params: Params) -> dict[str, Any]:
    """ListPolicyVersions, newest first."""
    versions = pf.policies.list_policy_versions(_arn(params))
    answer = iam_query.page(versions, "Versions", params, lambda version: version["VersionId"])
    answer["Versions"] = [_version(version) for version in answer["Versions"]]
    return answer


def set_default_policy_version(pf: Any, params: Params) -> None:
    """SetDefaultPolicyVersion."""
    pf.policies.set_default_policy_version(_arn(params), _version_id(params))


def delete_policy_version(pf: Any, params: Params) -> None:
    """DeletePolicyVersion (never the default one)."""
    pf.policies.delete_policy_version(_arn(params), _version_id(params))


def attach_role_policy(pf: Any, params: Params) -> None:
    """AttachRolePolicy: the policy's default version joins the role's permissions at once."""
    pf.policies.attach_role_policy(iam_query.entity_name(params, "RoleName", "roleName", 64), _arn(params))


def detach_role_policy(pf: Any, params: Params) -> None:
    """DetachRolePolicy."""
    pf.policies.detach_role_policy(iam_query.entity_name(params, "RoleName", "roleName", 64), _arn(params))


def list_attached_role_policies(pf: Any, params: Params) -> dict[str, Any]:
    """ListAttachedRolePolicies."""
    found = pf.policies.list_attached_role_policies(
        iam_query.entity_name(params, "RoleName", "roleName", 64), iam_query.path(params, "PathPrefix", "pathPrefix"))
    return iam_query.page(found, "AttachedPolicies", params, lambda item: item["PolicyArn"])


OPERATIONS: dict[str, Callable[[Any, Params], dict[str, Any] | None]] = {
    "CreatePolicy": create_policy,
    "GetPolicy": get_policy,
    "DeletePolicy": delete_policy,
    "ListPolicies": list_policies,
    "CreatePolicyVersion": create_policy_version,
    "GetPolicyVersion": get_policy_version,
    "ListPolicyVersions": list_policy_versions,
    "SetDefaultPolicyVersion": set_default_policy_version,
    "DeletePolicyVersion": delete_policy_version,
    "AttachRolePolicy": attach_role_policy,
    "DetachRolePolicy": detach_role_policy,
    "ListAttachedRolePolicies": list_attached_role_policies,
}
