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
