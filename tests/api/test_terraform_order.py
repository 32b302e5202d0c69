"""The Lambda, IAM and Step Functions calls Terraform's AWS provider makes, in its order, through boto3.

The configuration replayed: a role for a state machine with a customer managed policy attached
(aws_iam_role, aws_iam_policy, aws_iam_role_policy_attachment), a function with tags and a
permission (aws_lambda_function with its own role and an AWS managed policy, aws_lambda_permission),
and a state machine using them (aws_sfn_state_machine). Each resource's calls are those of its
Create and then its Read, as the provider's source (hashicorp/terraform-provider-aws) makes them:

- aws_iam_role, internal/service/iam/role.go: resourceRoleCreate calls CreateRole with the tags, then
  resourceRoleRead calls GetRole, ListRolePolicies (readRoleInlinePolicies) and
  ListAttachedRolePolicies (readRolePolicyAttachments).
- aws_iam_policy, internal/service/iam/policy.go: CreatePolicy with the tags, then resourcePolicyRead
  calls GetPolicy (findPolicyByARN) and GetPolicyVersion of the DefaultVersionId (findPolicyVersion).
- aws_iam_role_policy_attachment, internal/service/iam/role_policy_attachment.go: AttachRolePolicy,
  then ListAttachedRolePolicies (RoleHasPolicyARNAttachment) until the policy is listed.
- aws_lambda_function, internal/service/lambda/function.go: CreateFunction with the tags, GetFunction
  (findFunctionByName, retried until found), GetFunction again (waitFunctionCreated, until
  Configuration.State is Active), then resourceFunctionRead: GetFunction, ListVersionsByFunction
  (findLatestFunctionVersionByName) and GetFunctionCodeSigningConfig (commercial partition, zip).
- aws_lambda_permission, internal/service/lambda/permission.go: AddPermission, then GetPolicy
  (findPolicyStatementByTwoPartKey) to find the statement by its Sid.
- aws_sfn_state_machine, internal/service/sfn/state_machine.go: CreateStateMachine with the tags
  (retried on AccessDeniedException while IAM propagates), then resourceStateMachineRead:
  DescribeStateMachine and ListStateMachineVersions; the resource's tags (@Tags) are read with
  ListTagsForResource, since its Read does not set them.
"""

from __future__ import annotations

import io
import json
import time
import zipfile

STATES_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
LAMBDA_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:tf-hello"


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return {'hello': event.get('name')}\n")
    return buffer.getvalue()


def _role(iam, name: str, trust: dict, tags: list[dict]) -> str:
    created = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), Path="/",
                              Description="", MaxSessionDuration=3600, Tags=tags)["Role"]
    read = iam.get_role(RoleName=name)["Role"]
    assert (read["Arn"], read["Tags"], read["AssumeRolePolicyDocument"]) == (created["Arn"], tags, trust)
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == []
    assert iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"] == []
    return str(created["Arn"])


def _attachment(iam, role: str, policy_arn: str) -> None:
    iam.attach_role_policy(RoleName=role, PolicyArn=policy_arn)
    listed = [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]]
    assert policy_arn in listed


def test_terraform_creates_role_policy_attachment_function_permission_and_state_machine(iam, lam, sfn):
    # aws_iam_role "sfn" (+ one for the function)
    sfn_role = _role(iam, "tf-sfn", STATES_TRUST, [{"Key": "stack", "Value": "tf"}])
    lambda_role = _role(iam, "tf-lambda", LAMBDA_TRUST, [{"Key": "stack", "Value": "tf"}])

    # aws_iam_policy "invoke"
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["lambda:InvokeFunction"],
                                                        "Resource": [FUNCTION, f"{FUNCTION}:*"]}]}
    policy = iam.create_policy(PolicyName="tf-invoke", Path="/", Description="", PolicyDocument=json.dumps(document),
                               Tags=[{"Key": "stack", "Value": "tf"}])["Policy"]
    read_policy = iam.get_policy(PolicyArn=policy["Arn"])["Policy"]
    assert (read_policy["Tags"], read_policy["AttachmentCount"]) == ([{"Key": "stack", "Value": "tf"}], 0)
    version = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=read_policy["DefaultVersionId"])
    assert version["PolicyVersion"]["Document"] == document

    # aws_iam_role_policy_attachment "sfn_invoke" and "lambda_logs" (an AWS managed policy, by ARN)
    _attachment(iam, "tf-sfn", policy["Arn"])
    _attachment(iam, "tf-lambda", "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")

    # aws_lambda_function "hello", with tags; reserved_concurrent_executions left at -1 (no call)
    lam.create_function(FunctionName="tf-hello", Role=lambda_role, Runtime="python3.11", Handler="index.handler",
                        Code={"ZipFile": _zip()}, Description="", MemorySize=128, Timeout=3, Publish=True,
                        PackageType="Zip", Tags={"stack": "tf"})
    assert lam.get_function(FunctionName="tf-hello")["Configuration"]["FunctionArn"] == FUNCTION
    assert lam.get_function(FunctionName="tf-hello")["Configuration"]["State"] == "Active"
    read_function = lam.get_function(FunctionName="tf-hello")
    assert read_function["Tags"] == {"stack": "tf"} and "Concurrency" not in read_function
    versions = lam.list_versions_by_function(FunctionName="tf-hello", MaxItems=10000)["Versions"]
    assert versions[-1]["Version"] == "1"
    assert lam.get_function_code_signing_config(FunctionName="tf-hello")["CodeSigningConfigArn"] == ""

    # aws_lambda_permission "events"
    lam.add_permission(FunctionName="tf-hello", StatementId="AllowEvents", Action="lambda:InvokeFunction",
                       Principal="events.amazonaws.com", SourceArn="arn:aws:events:us-east-1:123456789012:rule/tf")
    statements = json.loads(lam.get_policy(FunctionName="tf-hello")["Policy"])["Statement"]
    found = next(s for s in statements if s["Sid"] == "AllowEvents")
    assert (found["Principal"], found["Condition"]["ArnLike"]) == (
        {"Service": "events.amazonaws.com"}, {"AWS:SourceArn": "arn:aws:events:us-east-1:123456789012:rule/tf"})

    # aws_sfn_state_machine "flow", with tags
    definition = {"StartAt": "Hello", "States": {"Hello": {"Type": "Task", "Resource": f"{FUNCTION}:1", "End": True}}}
    created = sfn.create_state_machine(name="tf-flow", definition=json.dumps(definition), roleArn=sfn_role,
                                       type="STANDARD", publish=False, tags=[{"key": "stack", "value": "tf"}])
    arn = created["stateMachineArn"]
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert (described["roleArn"], json.loads(described["definition"])) == (sfn_role, definition)
    assert sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"] == []
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "stack", "value": "tf"}]

    # What was built works: the attached managed policy lets the machine's role call the function.
    execution = sfn.start_execution(stateMachineArn=arn, input='{"name": "tf"}')["executionArn"]
    deadline = time.monotonic() + 20
    while (status := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert (status["status"], json.loads(status["output"])) == ("SUCCEEDED", {"hello": "tf"})
