"""IAM managed policies, attachments, role tags and trust through boto3, and what they do to executions:
attached policies are enforced like inline ones and pinned like them for running executions."""

from __future__ import annotations

import io
import json
import time
import zipfile

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.roles import STATES_TRUST

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:hello"
LAMBDA_ROLE = "arn:aws:iam::aws:policy/service-role/AWSLambdaRole"


def invoke_policy(*resources: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": list(resources)}]})


def error_of(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response = info.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def test_policy_versions_lifecycle(iam):
    created = iam.create_policy(PolicyName="invoke", PolicyDocument=invoke_policy(FUNCTION), Path="/app/",
                                Description="lets a machine call hello", Tags=[{"Key": "team", "Value": "blue"}])
    policy = created["Policy"]
    arn = "arn:aws:iam::123456789012:policy/app/invoke"
    assert (policy["Arn"], policy["DefaultVersionId"], policy["AttachmentCount"]) == (arn, "v1", 0)
    assert policy["PolicyId"].startswith("ANPA") and policy["Tags"] == [{"Key": "team", "Value": "blue"}]
    got = iam.get_policy(PolicyArn=arn)["Policy"]
    assert (got["Description"], got["Path"], got["IsAttachable"]) == ("lets a machine call hello", "/app/", True)
    assert iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]["Document"] == json.loads(
        invoke_policy(FUNCTION))
    for _ in range(4):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=invoke_policy(FUNCTION, f"{FUNCTION}:*"))
    # IAM keeps at most five versions of a managed policy.
    with pytest.raises(ClientError) as info:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=invoke_policy(FUNCTION))
    assert error_of(info) == ("LimitExceeded", 409, "A managed policy can have up to 5 versions. Before you create a "
                              "new version, you must delete an existing version.")
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]] == [
        "v5", "v4", "v3", "v2", "v1"]
    with pytest.raises(ClientError) as info:
        iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    assert error_of(info) == ("DeleteConflict", 409, "Cannot delete the default version of a policy.")
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v3")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    assert iam.create_policy_version(PolicyArn=arn, PolicyDocument=invoke_policy(FUNCTION), SetAsDefault=True)[
        "PolicyVersion"]["VersionId"] == "v6"  # numbers are not handed out twice
    with pytest.raises(ClientError) as info:
        iam.get_policy_version(PolicyArn=arn, VersionId="v1")
    assert error_of(info) == ("NoSuchEntity", 404, f"Policy {arn} version v1 does not exist or is not attachable.")
    with pytest.raises(ClientError) as info:
        iam.delete_policy(PolicyArn=arn)
    assert error_of(info)[:2] == ("DeleteConflict", 409)
    for version in ("v2", "v3", "v4", "v5"):
        iam.delete_policy_version(PolicyArn=arn, VersionId=version)
    iam.delete_policy(PolicyArn=arn)
    with pytest.raises(ClientError) as info:
        iam.get_policy(PolicyArn=arn)
    assert error_of(info) == ("NoSuchEntity", 404, f"Policy {arn} does not exist or is not attachable.")


def test_create_policy_errors(iam):
    iam.create_policy(PolicyName="invoke", PolicyDocument=invoke_policy(FUNCTION))
    with pytest.raises(ClientError) as info:
        iam.create_policy(PolicyName="invoke", PolicyDocument=invoke_policy(FUNCTION), Path="/other/")
    assert error_of(info) == ("EntityAlreadyExists", 409,
                              "A policy called invoke already exists. Duplicate names are not allowed.")
    with pytest.raises(ClientError) as info:
        iam.create_policy(PolicyName="broken", PolicyDocument="{not json")
    assert error_of(info)[:2] == ("MalformedPolicyDocument", 400)


def test_aws_managed_policies_are_known_by_arn_and_cannot_change(iam):
    policy = iam.get_policy(PolicyArn=LAMBDA_ROLE)["Policy"]
    assert (policy["PolicyName"], policy["Path"], policy["DefaultVersionId"]) == (
        "AWSLambdaRole", "/service-role/", "v1")
    # The document AWS publishes for it (AWS managed policy reference: AWSLambdaRole).
    assert iam.get_policy_version(PolicyArn=LAMBDA_ROLE, VersionId="v1")["PolicyVersion"]["Document"] == {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["lambda:InvokeFunction"],
                                                "Resource": ["*"]}]}
    names = {p["PolicyName"] for p in iam.list_policies(Scope="AWS")["Policies"]}
    assert {"AWSLambdaRole", "AWSLambdaBasicExecutionRole", "AWSStepFunctionsFullAccess"} <= names
    assert iam.list_policies(Scope="Local")["Policies"] == []
    with pytest.raises(ClientError) as info:
        iam.create_policy_version(PolicyArn=LAMBDA_ROLE, PolicyDocument=invoke_policy(FUNCTION))
    assert error_of(info)[:2] == ("AccessDenied", 403)
    with pytest.raises(ClientError) as info:
        iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/NoSuchThing")
    assert error_of(info)[:2] == ("NoSuchEntity", 404)


def test_attach_detach_list_and_delete_conflicts(iam):
    iam.create_role(RoleName="flow", AssumeRolePolicyDocument=STATES_TRUST)
    mine = iam.create_policy(PolicyName="invoke", PolicyDocument=invoke_policy(FUNCTION))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="flow", PolicyArn=mine)
    iam.attach_role_policy(RoleName="flow", PolicyArn=LAMBDA_ROLE)
    assert iam.list_attached_role_policies(RoleName="flow")["AttachedPolicies"] == [
        {"PolicyName": "invoke", "PolicyArn": mine}, {"PolicyName": "AWSLambdaRole", "PolicyArn": LAMBDA_ROLE}]
    assert iam.get_policy(PolicyArn=mine)["Policy"]["AttachmentCount"] == 1
    assert [p["PolicyName"] for p in iam.list_policies(OnlyAttached=True, Scope="Local")["Policies"]] == ["invoke"]
    with pytest.raises(ClientError) as info:
        iam.delete_policy(PolicyArn=mine)
    assert error_of(info) == ("DeleteConflict", 409, "Cannot delete a policy attached to entities.")
    with pytest.raises(ClientError) as info:
        iam.delete_role(RoleName="flow")
    assert error_of(info) == ("DeleteConflict", 409, "Cannot delete entity, must detach all policies first.")
    iam.detach_role_policy(RoleName="flow", PolicyArn=mine)
    with pytest.raises(ClientError) as info:
        iam.detach_role_policy(RoleName="flow", PolicyArn=mine)
    assert error_of(info)[:2] == ("NoSuchEntity", 404)
    with pytest.raises(ClientError) as info:
        iam.attach_role_policy(RoleName="nobody", PolicyArn=mine)
    assert error_of(info) == ("NoSuchEntity", 404, "The role with name nobody cannot be found.")
    for index in range(9):
        arn = iam.create_policy(PolicyName=f"p{index}", PolicyDocument=invoke_policy(FUNCTION))["Policy"]["Arn"]
        iam.attach_role_policy(RoleName="flow", PolicyArn=arn)
    # IAM's default quota: ten managed policies per role.
    with pytest.raises(ClientError) as info:
        iam.attach_role_policy(RoleName="flow", PolicyArn=mine)
    assert error_of(info) == ("LimitExceeded", 409, "Cannot exceed quota for PoliciesPerRole: 10")
    page = iam.list_attached_role_policies(RoleName="flow", MaxItems=4)
    assert (len(page["AttachedPolicies"]), page["IsTruncated"]) == (4, True)
    rest = iam.list_attached_role_policies(RoleName="flow", Marker=page["Marker"])
    assert len(rest["AttachedPolicies"]) == 6 and not rest["IsTruncated"]


def test_role_tags_and_trust_policy(iam, sfn):
    iam.create_role(RoleName="flow", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
        Tags=[{"Key": "a", "Value": "1"}])
    iam.tag_role(RoleName="flow", Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "3"}])
    iam.untag_role(RoleName="flow", TagKeys=["b", "missing"])
    assert iam.list_role_tags(RoleName="flow")["Tags"] == [{"Key": "a", "Value": "3"}]
    with pytest.raises(ClientError) as info:
        iam.tag_role(RoleName="flow", Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert error_of(info) == ("LimitExceeded", 409, "Cannot exceed quota for TagsPerRole: 50")
    definition = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
    role_arn = "arn:aws:iam::123456789012:role/flow"
    # A role whose trust policy does not name Step Functions cannot run a state machine.
    with pytest.raises(ClientError) as info:
        sfn.create_state_machine(name="m", definition=definition, roleArn=role_arn)
    assert error_of(info)[:2] == ("AccessDeniedException", 400)
    iam.update_assume_role_policy(RoleName="flow", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": ["states.us-east-1.amazonaws.com"]}}]}))
    assert sfn.create_state_machine(name="m", definition=definition, roleArn=role_arn)["stateMachineArn"]
    with pytest.raises(ClientError) as info:
        iam.update_assume_role_policy(RoleName="flow", PolicyDocument="{nope")
    assert error_of(info)[:2] == ("MalformedPolicyDocument", 400)


# --- enforcement ---------------------------------------------------------------------------------------


def _function(server) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 'hi'\n")
    server.pf.functions.create_function("hello", buffer.getvalue(), handler="app.handler", publish=True)


def _wait(sfn, arn: str) -> dict:
    deadline = time.monotonic() + 20
    while True:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described
        time.sleep(0.05)


def test_an_attached_policy_is_enforced_like_an_inline_one(server, iam, sfn):
    _function(server)
    iam.create_role(RoleName="flow", AssumeRolePolicyDocument=STATES_TRUST)
    machine = sfn.create_state_machine(name="m", roleArn="arn:aws:iam::123456789012:role/flow", definition=json.dumps(
        {"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": FUNCTION, "End": True}}}))
    arn = machine["stateMachineArn"]
    denied = _wait(sfn, sfn.start_execution(stateMachineArn=arn)["executionArn"])
    assert (denied["status"], denied["error"]) == ("FAILED", "Lambda.AWSLambdaException")
    assert "because no identity-based policy allows the lambda:InvokeFunction action" in denied["cause"]
    policy = iam.create_policy(PolicyName="invoke", PolicyDocument=invoke_policy(FUNCTION))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="flow", PolicyArn=policy)
    assert _wait(sfn, sfn.start_execution(stateMachineArn=arn)["executionArn"])["status"] == "SUCCEEDED"
    # A new default version that denies takes effect for new executions at once.
    iam.create_policy_version(PolicyArn=policy, SetAsDefault=True, PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "lambda:*", "Resource": "*"}]}))
    again = _wait(sfn, sfn.start_execution(stateMachineArn=arn)["executionArn"])
    assert "with an explicit deny in an identity-based policy" in again["cause"]
    iam.set_default_policy_version(PolicyArn=policy, VersionId="v1")
    iam.detach_role_policy(RoleName="flow", PolicyArn=policy)
    iam.attach_role_policy(RoleName="flow", PolicyArn=LAMBDA_ROLE)  # an AWS managed policy, by ARN
    assert _wait(sfn, sfn.start_execution(stateMachineArn=arn)["executionArn"])["status"] == "SUCCEEDED"


def test_an_attached_policy_is_pinned_for_a_running_execution(server, iam, sfn):
    _function(server)
    iam.create_role(RoleName="flow", AssumeRolePolicyDocument=STATES_TRUST)
    policy = iam.create_policy(PolicyName="invoke", PolicyDocument=invoke_policy(f"{FUNCTION}:*"))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="flow", PolicyArn=policy)
    machine = sfn.create_state_machine(name="m", roleArn="arn:aws:iam::123456789012:role/flow", definition=json.dumps(
        {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "SecondsPath": "$.wait", "Next": "Call"},
                                       "Call": {"Type": "Task", "Resource": f"{FUNCTION}:1", "End": True}}}))
    waiting = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], input='{"wait": 1}')["executionArn"]
    # The deploy narrows the role while the execution waits: it keeps its start-time grant to hello:1.
    iam.detach_role_policy(RoleName="flow", PolicyArn=policy)
    assert _wait(sfn, waiting)["status"] == "SUCCEEDED"
    fresh = _wait(sfn, sfn.start_execution(stateMachineArn=machine["stateMachineArn"], input='{"wait": 0}')[
        "executionArn"])
    assert (fresh["status"], fresh["error"]) == ("FAILED", "Lambda.AWSLambdaException")


def test_version_ids_are_checked_as_iam_checks_them_and_the_default_stays(server, iam, sfn):
    """IAM's VersionId is `v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?` (policyVersionIdType in IAM's API reference and
    service model): another spelling of a number, such as `v01`, is a ValidationError, not version 1; an id of
    that form that was never handed out is NoSuchEntity. The default version can never be deleted."""
    _function(server)
    iam.create_role(RoleName="flow", AssumeRolePolicyDocument=STATES_TRUST)
    policy = iam.create_policy(PolicyName="invoke", PolicyDocument=invoke_policy(FUNCTION))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="flow", PolicyArn=policy)
    iam.create_policy_version(PolicyArn=policy, PolicyDocument=invoke_policy(f"{FUNCTION}:*"))
    machine = sfn.create_state_machine(name="m", roleArn="arn:aws:iam::123456789012:role/flow", definition=json.dumps(
        {"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": FUNCTION, "End": True}}}))
    arn = machine["stateMachineArn"]
    assert _wait(sfn, sfn.start_execution(stateMachineArn=arn)["executionArn"])["status"] == "SUCCEEDED"
    pattern = r"Member must satisfy regular expression pattern: v[1-9][0-9]*(\.[A-Za-z0-9-]*)?"
    operations = (iam.get_policy_version, iam.set_default_policy_version, iam.delete_policy_version)
    for version in ("v01", "v0", "v001", "v²", "v\u0661", "V1", "v1 ", "v-1", "v+1", "x1", "v"):
        for operation in operations:
            with pytest.raises(ClientError) as info:
                operation(PolicyArn=policy, VersionId=version)
            assert error_of(info) == ("ValidationError", 400, f"1 validation error detected: Value '{version}' at "
                                      f"'versionId' failed to satisfy constraint: {pattern}")
    for version in ("v" + "9" * 30, "v3000000000", "v2147483648", "v1.x", "v1.", "v7"):
        for operation in operations:
            with pytest.raises(ClientError) as info:
                operation(PolicyArn=policy, VersionId=version)
            assert error_of(info) == ("NoSuchEntity", 404,
                                      f"Policy {policy} version {version} does not exist or is not attachable.")
    with pytest.raises(ClientError) as info:
        iam.delete_policy_version(PolicyArn=policy, VersionId="v1")
    assert error_of(info) == ("DeleteConflict", 409, "Cannot delete the default version of a policy.")
    assert iam.get_policy(PolicyArn=policy)["Policy"]["DefaultVersionId"] == "v1"
    assert [(v["VersionId"], v["IsDefaultVersion"]) for v in iam.list_policy_versions(PolicyArn=policy)["Versions"]] \
        == [("v2", False), ("v1", True)]
    assert iam.get_policy_version(PolicyArn=policy, VersionId="v1")["PolicyVersion"]["IsDefaultVersion"] is True
    assert _wait(sfn, sfn.start_execution(stateMachineArn=arn)["executionArn"])["status"] == "SUCCEEDED"


def test_role_tags_are_checked_as_iam_checks_them(server, iam):
    """tagKeyType and tagValueType in IAM's model (1-128 and 0-256 characters of AWS's tag alphabet), and
    IAM's case insensitive keys (IAM user guide, "Rules for tagging"): two keys that differ only in case in
    one request are InvalidInput; in two requests the second replaces the first."""
    iam.create_role(RoleName="flow", AssumeRolePolicyDocument=STATES_TRUST)
    loose = server.client("iam", config=Config(retries={"max_attempts": 0}, region_name="us-east-1",
                                               parameter_validation=False))
    pattern = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]"
    for tags, field, constraint in (
            ([{"Key": "", "Value": "v"}], "key", "Member must have length greater than or equal to 1"),
            ([{"Key": "k" * 129, "Value": "v"}], "key", "Member must have length less than or equal to 128"),
            ([{"Key": "a!", "Value": "v"}], "key", f"Member must satisfy regular expression pattern: {pattern}+"),
            ([{"Key": "k", "Value": "v" * 257}], "value", "Member must have length less than or equal to 256"),
            ([{"Key": "k", "Value": "a;b"}], "value", f"Member must satisfy regular expression pattern: {pattern}*")):
        for call in (lambda t: loose.tag_role(RoleName="flow", Tags=t),
                     lambda t: loose.create_role(RoleName="other", AssumeRolePolicyDocument=STATES_TRUST, Tags=t)):
            with pytest.raises(ClientError) as info:
                call(tags)
            shown = tags[0]["Key"] if field == "key" else tags[0]["Value"]
            assert error_of(info) == ("ValidationError", 400, f"1 validation error detected: Value '{shown}' at "
                                      f"'tags.1.member.{field}' failed to satisfy constraint: {constraint}")
    with pytest.raises(ClientError) as info:
        iam.tag_role(RoleName="flow", Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}])
    assert error_of(info) == ("InvalidInput", 400, "Duplicate tag keys found. Please note that Tag keys are case "
                              "insensitive.")
    iam.tag_role(RoleName="flow", Tags=[{"Key": "Test", "Value": "1"}])
    iam.tag_role(RoleName="flow", Tags=[{"Key": "test", "Value": "2"}])
    assert iam.list_role_tags(RoleName="flow")["Tags"] == [{"Key": "test", "Value": "2"}]
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["flow"]
    loose.close()


def test_managed_policies_are_held_to_iams_size_quota(iam):
    """IAM's quota for a managed policy: 6,144 characters, whitespace not counted ("IAM and AWS STS quotas")."""
    statements = [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": f"{FUNCTION}{i:04d}"}
                  for i in range(60)]
    big = json.dumps({"Version": "2012-10-17", "Statement": statements}, separators=(",", ":"))
    assert len(big) > 6144
    with pytest.raises(ClientError) as info:
        iam.create_policy(PolicyName="big", PolicyDocument=big)
    assert error_of(info) == ("LimitExceeded", 409, "Cannot exceed quota for PolicySize: 6144")
    arn = iam.create_policy(PolicyName="small", PolicyDocument=invoke_policy(FUNCTION))["Policy"]["Arn"]
    with pytest.raises(ClientError) as info:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=big)
    assert error_of(info) == ("LimitExceeded", 409, "Cannot exceed quota for PolicySize: 6144")
    assert [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]] == ["small"]


def test_a_role_that_no_longer_trusts_step_functions_runs_nothing_new(server, iam, sfn):
    """AWS checks a machine's role at CreateStateMachine and UpdateStateMachine; StartExecution has no error
    for it (its modeled errors), so an execution starts, and each call it makes through a role Step Functions
    can no longer assume is denied. An execution started while the role trusted Step Functions keeps what it
    is pinned to, as it keeps its role's grants (docs/pinning.md)."""
    _function(server)
    iam.create_role(RoleName="flow", AssumeRolePolicyDocument=STATES_TRUST)
    iam.attach_role_policy(RoleName="flow", PolicyArn=LAMBDA_ROLE)
    machine = sfn.create_state_machine(name="m", roleArn="arn:aws:iam::123456789012:role/flow", definition=json.dumps(
        {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "SecondsPath": "$.wait", "Next": "Call"},
                                       "Call": {"Type": "Task", "Resource": f"{FUNCTION}:1", "End": True}}}))
    arn = machine["stateMachineArn"]
    waiting = sfn.start_execution(stateMachineArn=arn, input='{"wait": 1}')["executionArn"]
    for malformed, message in (("[]", "Syntax errors in policy."),
                               (json.dumps({"Version": "2012-10-17", "Statement": [
                                   {"Effect": "Allow", "Action": "sts:AssumeRole"}]}),
                                "Missing required field Principal")):
        with pytest.raises(ClientError) as info:
            iam.update_assume_role_policy(RoleName="flow", PolicyDocument=malformed)
        assert error_of(info) == ("MalformedPolicyDocument", 400, message)
    iam.update_assume_role_policy(RoleName="flow", PolicyDocument=STATES_TRUST.replace("states.", "lambda."))
    started = sfn.start_execution(stateMachineArn=arn, input='{"wait": 0}')["executionArn"]
    fresh = _wait(sfn, started)
    assert (fresh["status"], fresh["error"]) == ("FAILED", "Lambda.AWSLambdaException")
    assert "Neither the global service principal states.amazonaws.com, nor the regional one is authorized to " \
           "assume the provided role." in fresh["cause"]
    assert _wait(sfn, waiting)["status"] == "SUCCEEDED"
    iam.update_assume_role_policy(RoleName="flow", PolicyDocument=STATES_TRUST)
    assert _wait(sfn, sfn.start_execution(stateMachineArn=arn, input='{"wait": 0}')["executionArn"])[
        "status"] == "SUCCEEDED"
