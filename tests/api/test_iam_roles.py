"""IAM roles and inline policies through boto3 (Query protocol, XML answers): round trips and errors."""

from __future__ import annotations

import json
import re
from datetime import datetime
from urllib.parse import unquote

import pytest
from botocore.exceptions import ClientError

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Invoke", "Effect": "Allow", "Action": ["lambda:InvokeFunction"],
     "Resource": ["arn:aws:lambda:us-east-1:123456789012:function:hello",
                  "arn:aws:lambda:us-east-1:123456789012:function:hello:*"]},
    {"Effect": "Deny", "Action": "lambda:*", "Resource": "*",
     "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}}]}


def error_of(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str, str]:
    """(code, HTTP status, message, type) of an IAM error."""
    response = info.value.response
    error = response["Error"]
    return error["Code"], response["ResponseMetadata"]["HTTPStatusCode"], error["Message"], error["Type"]


def test_create_role_answers_the_role(iam):
    created = iam.create_role(RoleName="sfn-role", AssumeRolePolicyDocument=TRUST,
                              Description="for <steps> & tasks")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert created["ResponseMetadata"]["RequestId"]
    role = created["Role"]
    assert role["RoleName"] == "sfn-role"
    assert role["Path"] == "/"
    assert role["Arn"] == "arn:aws:iam::123456789012:role/sfn-role"
    assert re.fullmatch(r"AROA[A-Z0-9]{17}", role["RoleId"])
    assert isinstance(role["CreateDate"], datetime)
    assert role["Description"] == "for <steps> & tasks"
    # botocore URL-decodes and parses the policy document IAM sends.
    assert role["AssumeRolePolicyDocument"] == json.loads(TRUST)


def test_create_role_with_a_path_and_tags(iam):
    role = iam.create_role(RoleName="tagged", AssumeRolePolicyDocument=TRUST, Path="/service/",
                           Tags=[{"Key": "team", "Value": "blue"}, {"Key": "env", "Value": "dev"}])["Role"]
    assert role["Arn"] == "arn:aws:iam::123456789012:role/service/tagged"
    assert role["Path"] == "/service/"
    assert role["Tags"] == [{"Key": "team", "Value": "blue"}, {"Key": "env", "Value": "dev"}]
    assert iam.get_role(RoleName="tagged")["Role"]["Tags"] == role["Tags"]


def test_get_role_round_trips(iam):
    created = iam.create_role(RoleName="sfn-role", AssumeRolePolicyDocument=TRUST)["Role"]
    got = iam.get_role(RoleName="sfn-role")["Role"]
    for key in ("RoleName", "RoleId", "Arn", "Path", "CreateDate", "AssumeRolePolicyDocument"):
        assert got[key] == created[key]
    assert got["MaxSessionDuration"] == 3600
    assert got["RoleLastUsed"] == {}


def test_create_role_twice_is_entity_already_exists(iam):
    iam.create_role(RoleName="sfn-role", AssumeRolePolicyDocument=TRUST)
    with pytest.raises(ClientError) as info:
        iam.create_role(RoleName="sfn-role", AssumeRolePolicyDocument=TRUST)
    assert error_of(info) == ("EntityAlreadyExists", 409, "Role with name sfn-role already exists.", "Sender")


def test_create_role_with_a_trust_policy_that_is_not_json(iam):
    with pytest.raises(ClientError) as info:
        iam.create_role(RoleName="sfn-role", AssumeRolePolicyDocument="{not json")
    assert error_of(info) == ("MalformedPolicyDocument", 400, "This policy contains invalid Json", "Sender")


def test_create_role_with_a_bad_name_is_a_validation_error(iam):
    with pytest.raises(ClientError) as info:
        iam.create_role(RoleName="no spaces", AssumeRolePolicyDocument=TRUST)
    code, status, message, kind = error_of(info)
    assert (code, status, kind) == ("ValidationError", 400, "Sender")
    assert message == ("1 validation error detected: Value 'no spaces' at 'roleName' failed to satisfy "
                       r"constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+")


def test_get_role_of_a_missing_role_is_404(iam):
    with pytest.raises(ClientError) as info:
        iam.get_role(RoleName="nope")
    assert error_of(info) == ("NoSuchEntity", 404, "The role with name nope cannot be found.", "Sender")


def test_a_policy_document_survives_put_and_get(iam):
    iam.create_role(RoleName="sfn-role", AssumeRolePolicyDocument=TRUST)
    put = iam.put_role_policy(RoleName="sfn-role", PolicyName="invoke", PolicyDocument=json.dumps(POLICY))
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 200
    got = iam.get_role_policy(RoleName="sfn-role", PolicyName="invoke")
    assert (got["RoleName"], got["PolicyName"]) == ("sfn-role", "invoke")
    assert got["PolicyDocument"] == POLICY


def test_get_role_policy_sends_the_document_url_encoded(iam):
    iam.create_role(RoleName="sfn-role", AssumeRolePolicyDocument=TRUST)
    text = json.dumps(POLICY, indent=2)
    iam.put_role_policy(RoleName="sfn-role", PolicyName="invoke", PolicyDocument=text)
    raw: list[bytes] = []
    iam.meta.events.register("after-call.iam.GetRolePolicy",
                             lambda http_response, **_: raw.append(http_response.content))
    iam.get_role_policy(RoleName="sfn-role", PolicyName="invoke")
    found = re.search(rb"<PolicyDocument>([^<]*)</PolicyDocument>", raw[0])
    assert found is not None
    encoded = found.group(1).decode()
    assert "{" not in encoded and "%7B" in encoded
    assert unquote(encoded) == text
    assert raw[0].startswith(b'<GetRolePolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">')


def test_put_role_policy_replaces_an_existing_policy(iam):
    iam.create_role(RoleName="sfn-role", AssumeRolePolicyDocument=TRUST)
    iam.put_role_policy(RoleName="sfn-role", PolicyName="invoke", PolicyDocument=json.dumps(POLICY))
    narrower = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "lambda:InvokeFunction",
         "Resource": "arn:aws:lambda:us-east-1:123456789012:function:hello:2"}]}
    iam.put_role_policy(RoleName="sfn-role", PolicyName="invoke", PolicyDocument=json.dumps(narrower))
    assert iam.get_role_policy(RoleName="sfn-role", PolicyName="invoke")["PolicyDocument"] == narrower
    assert iam.list_role_policies(RoleName="sfn-role")["PolicyNames"] == ["invoke"]


def test_put_role_policy_errors(iam):
    with pytest.raises(ClientError) as info:
        iam.put_role_policy(RoleName="nope", PolicyName="p", PolicyDocument=json.dumps(POLICY))
    assert error_of(info)[:2] == ("NoSuchEntity", 404)
    iam.create_role(RoleName="sfn-role", AssumeRolePolicyDocument=TRUST)
    with pytest.raises(ClientError) as info:
        iam.put_role_policy(RoleName="sfn-role", PolicyName="p", PolicyDocument="{not json")
    assert error_of(info)[:2] == ("MalformedPolicyDocument", 400)
    with pytest.raises(ClientError) as info:
        iam.put_role_policy(RoleName="sfn-role", PolicyName="p", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]}))
    assert error_of(info)[:2] == ("MalformedPolicyDocument", 400)


def test_get_role_policy_of_a_missing_policy_is_404(iam):
    iam.create_role(RoleName="sfn-role", AssumeRolePolicyDocument=TRUST)
    with pytest.raises(ClientError) as info:
        iam.get_role_policy(RoleName="sfn-role", PolicyName="absent")
    assert error_of(info) == ("NoSuchEntity", 404, "The role policy with name absent cannot be found.", "Sender")


def test_delete_role_policy(iam):
    iam.create_role(RoleName="sfn-role", AssumeRolePolicyDocument=TRUST)
    iam.put_role_policy(RoleName="sfn-role", PolicyName="invoke", PolicyDocument=json.dumps(POLICY))
    deleted = iam.delete_role_policy(RoleName="sfn-role", PolicyName="invoke")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert iam.list_role_policies(RoleName="sfn-role")["PolicyNames"] == []
    with pytest.raises(ClientError) as info:
        iam.delete_role_policy(RoleName="sfn-role", PolicyName="invoke")
    assert error_of(info)[:2] == ("NoSuchEntity", 404)


def test_delete_role_is_refused_while_it_has_policies(iam):
    iam.create_role(RoleName="sfn-role", AssumeRolePolicyDocument=TRUST)
    iam.put_role_policy(RoleName="sfn-role", PolicyName="invoke", PolicyDocument=json.dumps(POLICY))
    with pytest.raises(ClientError) as info:
        iam.delete_role(RoleName="sfn-role")
    assert error_of(info) == ("DeleteConflict", 409, "Cannot delete entity, must delete policies first.", "Sender")
    iam.delete_role_policy(RoleName="sfn-role", PolicyName="invoke")
    assert iam.delete_role(RoleName="sfn-role")["ResponseMetadata"]["HTTPStatusCode"] == 200
    with pytest.raises(ClientError) as info:
        iam.get_role(RoleName="sfn-role")
    assert error_of(info)[:2] == ("NoSuchEntity", 404)
    with pytest.raises(ClientError) as info:
        iam.delete_role(RoleName="sfn-role")
    assert error_of(info)[:2] == ("NoSuchEntity", 404)


def test_list_role_policies_pages(iam):
    iam.create_role(RoleName="sfn-role", AssumeRolePolicyDocument=TRUST)
    for name in ("c", "a", "b"):
        iam.put_role_policy(RoleName="sfn-role", PolicyName=name, PolicyDocument=json.dumps(POLICY))
    listed = iam.list_role_policies(RoleName="sfn-role")
    assert (listed["PolicyNames"], listed["IsTruncated"]) == (["a", "b", "c"], False)
    assert "Marker" not in listed
    first = iam.list_role_policies(RoleName="sfn-role", MaxItems=2)
    assert (first["PolicyNames"], first["IsTruncated"]) == (["a", "b"], True)
    rest = iam.list_role_policies(RoleName="sfn-role", MaxItems=2, Marker=first["Marker"])
    assert (rest["PolicyNames"], rest["IsTruncated"]) == (["c"], False)
    paged = [name for page in iam.get_paginator("list_role_policies").paginate(
        RoleName="sfn-role", PaginationConfig={"PageSize": 1}) for name in page["PolicyNames"]]
    assert paged == ["a", "b", "c"]
    with pytest.raises(ClientError) as info:
        iam.list_role_policies(RoleName="nope")
    assert error_of(info)[:2] == ("NoSuchEntity", 404)


def test_list_roles_pages_and_filters_by_path(iam):
    for name, path in (("b-role", "/"), ("a-role", "/service/"), ("c-role", "/service/")):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST, Path=path)
    listed = iam.list_roles()
    assert [r["RoleName"] for r in listed["Roles"]] == ["a-role", "b-role", "c-role"]
    assert listed["IsTruncated"] is False
    first = iam.list_roles(MaxItems=2)
    assert ([r["RoleName"] for r in first["Roles"]], first["IsTruncated"]) == (["a-role", "b-role"], True)
    rest = iam.list_roles(MaxItems=2, Marker=first["Marker"])
    assert [r["RoleName"] for r in rest["Roles"]] == ["c-role"]
    under = iam.list_roles(PathPrefix="/service/")
    assert [r["RoleName"] for r in under["Roles"]] == ["a-role", "c-role"]


def test_a_role_created_through_iam_governs_invocations(server, iam):
    """The API writes the same registry the engine reads before each invoke."""
    iam.create_role(RoleName="sfn-role", AssumeRolePolicyDocument=TRUST)
    iam.put_role_policy(RoleName="sfn-role", PolicyName="invoke", PolicyDocument=json.dumps(POLICY))
    documents = server.pf.roles.policies_for("arn:aws:iam::123456789012:role/sfn-role")
    assert documents == [POLICY]
