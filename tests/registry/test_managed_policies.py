"""Managed policies, attachments, trust and Lambda resource policies on both stores (the 0002 migration's
tables on SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest

from pinflow import arns, errors
from pinflow.registry import roles as roles_module
from pinflow.registry.function_policy import FunctionPolicies
from pinflow.registry.functions import FunctionRegistry
from pinflow.registry.managed_policies import ManagedPolicyRegistry
from pinflow.registry.roles import RoleRegistry
from pinflow.store.repositories import roles as roles_repo
from tests.registry.conftest import code
from tests.roles import STATES_TRUST

ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
DENY_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]})


def test_policies_for_holds_inline_then_attached_default_versions(store, clock) -> None:
    roles = RoleRegistry(store, clock)
    policies = ManagedPolicyRegistry(store, clock)
    roles.create_role("flow", STATES_TRUST)
    roles.put_role_policy("flow", "inline", DENY_ALL)
    arn = policies.create_policy("mine", ALLOW_ALL)["Arn"]
    policies.attach_role_policy("flow", arn)
    policies.attach_role_policy("flow", "arn:aws:iam::aws:policy/service-role/AWSLambdaRole")
    documents = roles.policies_for(arns.role("flow"))
    assert documents == [json.loads(DENY_ALL), json.loads(ALLOW_ALL), {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["lambda:InvokeFunction"],
                                                "Resource": ["*"]}]}]
    policies.create_policy_version(arn, DENY_ALL, set_as_default=True)
    assert roles.policies_for(arns.role("flow"))[1] == json.loads(DENY_ALL)
    policies.detach_role_policy("flow", arn)
    assert len(roles.policies_for(arns.role("flow")) or []) == 2
    assert roles.policies_for(arns.role("nobody")) is None


def test_a_policy_created_again_numbers_its_versions_from_one(store, clock) -> None:
    policies = ManagedPolicyRegistry(store, clock)
    arn = policies.create_policy("p", ALLOW_ALL)["Arn"]
    assert policies.create_policy_version(arn, DENY_ALL)["VersionId"] == "v2"
    policies.delete_policy_version(arn, "v2")
    policies.delete_policy(arn)
    policies.create_policy("p", ALLOW_ALL)
    assert policies.create_policy_version(arn, DENY_ALL)["VersionId"] == "v2"


def test_the_execution_role_check(store, clock) -> None:
    roles = RoleRegistry(store, clock)
    with pytest.raises(errors.AccessDeniedException, match="authorized to assume the provided role"):
        roles.check_execution_role(arns.role("missing"))
    RoleRegistry(store, clock, permissive=True).check_execution_role(arns.role("missing"))
    roles.create_role("lambda-only", json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    with pytest.raises(errors.AccessDeniedException):
        roles.check_execution_role(arns.role("lambda-only"))
    roles.create_role("flow", STATES_TRUST)
    roles.check_execution_role(arns.role("flow"))


@pytest.mark.parametrize(("document", "trusted"), [
    ({"Statement": {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:*"}}, True),
    ({"Statement": [{"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com", "states.eu-west-1."
                                                                  "amazonaws.com"]}, "Action": ["sts:AssumeRole"]}]},
     True),
    ({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}]}, True),
    ({"Statement": [{"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"},
                     "Action": "sts:AssumeRole"},
                    {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole"}]}, False),
    ({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                     "Action": "sts:AssumeRole"}]}, False),
    ({"Statement": [{"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"},
                     "Action": "sts:TagSession"}]}, False),
])
def test_trust_policies(document, trusted) -> None:
    assert roles_module.trusts(json.dumps(document), "states.amazonaws.com") is trusted


def test_function_permissions_go_with_the_function(store, clock) -> None:
    functions = FunctionRegistry(store, clock)
    permissions = FunctionPolicies(store, clock)
    functions.create_function("hello", code("def handler(e, c):\n    return 1\n"), "app.handler", publish=True)
    permissions.add_permission("hello", None, "a", "lambda:InvokeFunction", "s3.amazonaws.com")
    permissions.add_permission("hello", "1", "b", "lambda:InvokeFunction", "*")
    assert json.loads(permissions.get_policy("hello")["Policy"])["Statement"][0]["Sid"] == "a"
    assert json.loads(permissions.get_policy("hello", "1")["Policy"])["Statement"][0]["Resource"] == arns.function(
        "hello", "1")
    assert permissions.put_concurrency("hello", 5) == 5
    assert functions.get_function("hello")["Concurrency"] == {"ReservedConcurrentExecutions": 5}
    functions.delete_function("hello")
    functions.create_function("hello", code("def handler(e, c):\n    return 1\n"), "app.handler", publish=True)
    assert permissions.get_concurrency("hello") is None
    with pytest.raises(errors.ResourceNotFoundException):
        permissions.get_policy("hello")
    with pytest.raises(errors.ResourceNotFoundException):
        permissions.get_policy("hello", "1")


# Numbers a caller can write that no store integer holds: past PostgreSQL's INTEGER (2**31 - 1), past
# SQLite's (2**63 - 1), thousands of digits (which int() refuses), and digits that are not ASCII.
UNSTORABLE = ("2147483648", "3000000000", "9" * 30, "9" * 5000, "²", "\u0661")


def test_versions_no_store_can_hold_are_not_found(store, clock) -> None:
    functions = FunctionRegistry(store, clock)
    permissions = FunctionPolicies(store, clock)
    policies = ManagedPolicyRegistry(store, clock)
    functions.create_function("hello", code("def handler(e, c):\n    return 1\n"), "app.handler", publish=True)
    arn = policies.create_policy("p", ALLOW_ALL)["Arn"]
    for number in UNSTORABLE:
        with pytest.raises(errors.ResourceNotFoundException):
            permissions.add_permission("hello", number, "s", "lambda:InvokeFunction", "*")
        with pytest.raises(errors.ResourceNotFoundException):
            permissions.get_policy("hello", number)
        with pytest.raises(errors.ResourceNotFoundException):
            functions.get_function("hello", number)
        # Deleting by anything but a number is deleting an alias, which DeleteFunction refuses.
        with pytest.raises(errors.ResourceNotFoundException if number.isascii() else
                           errors.InvalidParameterValueException):
            functions.delete_function("hello", number)
    for number in (*UNSTORABLE, "0" * 5000 + "1"):
        for operation in (policies.get_policy_version, policies.set_default_policy_version,
                          policies.delete_policy_version):
            with pytest.raises(errors.NoSuchEntity):
                operation(arn, "v" + number)
    # Lambda reads `01` as version 1 (one spelling per version, so holds and grants match), at any length.
    assert functions.get_function("hello", "0" * 5000 + "1")["Configuration"]["Version"] == "1"


def test_a_default_version_is_one_number_whatever_its_spelling(store, clock) -> None:
    """Only `v1` names version 1 (IAM's pattern has no leading zeros); a default stored by an earlier release
    as `v01` still counts as version 1, and is answered as `v1`."""
    policies = ManagedPolicyRegistry(store, clock)
    arn = policies.create_policy("p", ALLOW_ALL)["Arn"]
    policies.create_policy_version(arn, DENY_ALL)
    for spelling in ("v01", "v001"):
        with pytest.raises(errors.NoSuchEntity):
            policies.delete_policy_version(arn, spelling)
    with store.transaction() as tx:
        stored = roles_repo.managed_policy(tx, arn=arn)
        assert stored is not None
        config = json.loads(stored.config)
        roles_repo.set_managed_policy_config(tx, arn=arn, config=json.dumps({**config, "DefaultVersionId": "v01"}))
    assert policies.get_policy(arn)["DefaultVersionId"] == "v1"
    assert policies.get_policy_version(arn, "v1")["IsDefaultVersion"] is True
    assert [v["IsDefaultVersion"] for v in policies.list_policy_versions(arn)] == [False, True]
    with pytest.raises(errors.DeleteConflict):
        policies.delete_policy_version(arn, "v1")
