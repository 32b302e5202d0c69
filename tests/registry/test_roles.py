"""IAM roles and inline policies: IAM's shapes and errors, and the policies an execution role has."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pinflow import arns, errors
from pinflow.clock import FakeClock
from pinflow.registry.roles import RoleRegistry
from pinflow.store import Store
from tests.registry.conftest import exactly

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
INVOKE_STATEMENT: dict[str, Any] = {"Effect": "Allow", "Action": "lambda:InvokeFunction",
                                    "Resource": [arns.function("hello"), arns.function("hello") + ":*"]}
INVOKE = {"Version": "2012-10-17", "Statement": [INVOKE_STATEMENT]}


@pytest.fixture
def roles(store: Store, clock: FakeClock) -> RoleRegistry:
    return RoleRegistry(store, clock)


def test_create_and_get_role(roles: RoleRegistry, clock: FakeClock) -> None:
    role = roles.create_role("sfn", TRUST, description="runs orders", tags={"team": "a"})
    assert role["RoleName"] == "sfn"
    assert role["Arn"] == arns.role("sfn")
    assert role["Path"] == "/"
    assert role["RoleId"].startswith("AROA") and len(role["RoleId"]) == 21
    assert role["CreateDate"] == clock.now
    assert role["AssumeRolePolicyDocument"] == TRUST
    assert role["Description"] == "runs orders"
    assert role["Tags"] == [{"Key": "team", "Value": "a"}]
    assert roles.get_role("sfn") == role
    assert roles.create_role("deep", TRUST, path="/service/")["Arn"] == arns.role("deep", path="/service/")
    assert [r["RoleName"] for r in roles.list_roles()["Roles"]] == ["deep", "sfn"]


def test_role_errors_use_iams_wording(roles: RoleRegistry) -> None:
    with pytest.raises(errors.NoSuchEntity, match=exactly("The role with name sfn cannot be found.")):
        roles.get_role("sfn")
    roles.create_role("sfn", TRUST)
    with pytest.raises(errors.EntityAlreadyExists, match=exactly("Role with name sfn already exists.")):
        roles.create_role("sfn", TRUST)
    with pytest.raises(errors.MalformedPolicyDocument, match=exactly("This policy contains invalid Json")):
        roles.create_role("broken", "{not json")


def test_inline_policies(roles: RoleRegistry) -> None:
    roles.create_role("sfn", TRUST)
    roles.put_role_policy("sfn", "invoke", json.dumps(INVOKE))
    assert roles.get_role_policy("sfn", "invoke") == {
        "RoleName": "sfn", "PolicyName": "invoke", "PolicyDocument": json.dumps(INVOKE)}
    narrowed = {**INVOKE, "Statement": [{**INVOKE_STATEMENT, "Resource": arns.function("hello") + ":2"}]}
    roles.put_role_policy("sfn", "invoke", json.dumps(narrowed))  # replaces
    roles.put_role_policy("sfn", "a-first", json.dumps(INVOKE))
    assert roles.list_role_policies("sfn") == {"PolicyNames": ["a-first", "invoke"], "IsTruncated": False}
    page = roles.list_role_policies("sfn", max_items=1)
    assert page == {"PolicyNames": ["a-first"], "IsTruncated": True, "Marker": "a-first"}
    assert roles.list_role_policies("sfn", marker=page["Marker"])["PolicyNames"] == ["invoke"]
    assert roles.policies_for(arns.role("sfn")) == [INVOKE, narrowed]

    roles.delete_role_policy("sfn", "a-first")
    with pytest.raises(errors.NoSuchEntity, match=exactly("The role policy with name a-first cannot be found.")):
        roles.get_role_policy("sfn", "a-first")
    with pytest.raises(errors.NoSuchEntity):
        roles.delete_role_policy("sfn", "a-first")
    with pytest.raises(errors.NoSuchEntity):
        roles.put_role_policy("nobody", "invoke", json.dumps(INVOKE))


@pytest.mark.parametrize(("document", "message"), [
    ("{nope", "This policy contains invalid Json"),
    (json.dumps({"Version": "2012-10-17"}), "Syntax errors in policy."),
    (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]}),
     "Policy statement must contain actions."),
])
def test_malformed_policies_are_refused(roles: RoleRegistry, document: str, message: str) -> None:
    roles.create_role("sfn", TRUST)
    with pytest.raises(errors.MalformedPolicyDocument) as refused:
        roles.put_role_policy("sfn", "bad", document)
    assert refused.value.message == message
    assert roles.list_role_policies("sfn")["PolicyNames"] == []


def test_delete_role_refused_while_it_has_policies(roles: RoleRegistry) -> None:
    roles.create_role("sfn", TRUST)
    roles.put_role_policy("sfn", "invoke", json.dumps(INVOKE))
    with pytest.raises(errors.DeleteConflict, match=exactly("Cannot delete entity, must delete policies first.")):
        roles.delete_role("sfn")
    roles.delete_role_policy("sfn", "invoke")
    roles.delete_role("sfn")
    with pytest.raises(errors.NoSuchEntity):
        roles.delete_role("sfn")


def test_policies_for_unknown_roles_is_none(roles: RoleRegistry) -> None:
    roles.create_role("sfn", TRUST)
    assert roles.policies_for(arns.role("sfn")) == []
    assert roles.policies_for(arns.role("unknown")) is None
    assert roles.policies_for(arns.role("sfn", path="/other/")) is None
    assert roles.policies_for("arn:aws:iam::999999999999:role/sfn") is None
    assert roles.policies_for("not an arn") is None
