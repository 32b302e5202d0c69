"""Step Functions state machines, versions, aliases, activities and tags through boto3, against a real
server: AWS's shapes, error codes, HTTP statuses and pagination."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.roles import execution_role

ROLE = "arn:aws:iam::123456789012:role/sfn-role"
# AWS-recorded cases live beside the repository (../shared/conformance); tests skip without them.
CONFORMANCE = Path(__file__).resolve().parents[2].parent / "shared" / "conformance"
PASS = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": {"Arg1": "argument1"},
                                                    "End": True}}})


@pytest.fixture(autouse=True)
def _execution_role(pinflow_service):
    """CreateStateMachine refuses a role Step Functions cannot assume, as on AWS."""
    execution_role(pinflow_service, ROLE.rsplit("/", 1)[-1])


def error_of(call, **params) -> tuple[str, str, int]:
    """(code, message, HTTP status) of an API call that must fail."""
    with pytest.raises(ClientError) as caught:
        call(**params)
    response = caught.value.response
    status = response["ResponseMetadata"]["HTTPStatusCode"]
    return response["Error"]["Code"], response["Error"]["Message"], status


def conformance_cases(name: str) -> list[dict]:
    path = CONFORMANCE / name
    if not path.exists():
        pytest.skip(f"{path} is not here")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def pass_result(value: str) -> str:
    state = {"Type": "Pass", "Result": {"Arg1": value}, "End": True}
    return json.dumps({"StartAt": "A", "States": {"A": state}})


def test_create_describe_list_delete(sfn):
    created = sfn.create_state_machine(name="machine", definition=PASS, roleArn=ROLE)
    arn = created["stateMachineArn"]
    assert arn == "arn:aws:states:us-east-1:123456789012:stateMachine:machine"
    assert "stateMachineVersionArn" not in created
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert {key: described[key] for key in ("name", "status", "definition", "roleArn", "type")} == {
        "name": "machine", "status": "ACTIVE", "definition": PASS, "roleArn": ROLE, "type": "STANDARD"}
    assert described["loggingConfiguration"] == {"level": "OFF", "includeExecutionData": False}
    assert described["tracingConfiguration"] == {"enabled": False}
    assert "revisionId" not in described  # none until the first update that changes something
    assert described["creationDate"] == created["creationDate"]
    listed = sfn.list_state_machines()["stateMachines"]
    assert [(m["name"], m["type"]) for m in listed] == [("machine", "STANDARD")]
    assert sfn.delete_state_machine(stateMachineArn=arn)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert sfn.list_state_machines()["stateMachines"] == []
    # Deleting what does not exist is not an error.
    sfn.delete_state_machine(stateMachineArn=arn)
    assert error_of(sfn.describe_state_machine, stateMachineArn=arn) == (
        "StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}'", 400)


def test_create_is_idempotent_and_refuses_a_different_definition(sfn):
    first = sfn.create_state_machine(name="same", definition=PASS, roleArn=ROLE)
    again = sfn.create_state_machine(name="same", definition=PASS, roleArn=ROLE)
    assert again["stateMachineArn"] == first["stateMachineArn"]
    assert again["creationDate"] == first["creationDate"]
    code, message, status = error_of(sfn.create_state_machine, name="same", definition=pass_result("other"),
                                     roleArn=ROLE)
    assert (code, status) == ("StateMachineAlreadyExists", 400)
    assert message == f"State Machine Already Exists: '{first['stateMachineArn']}'"


def test_invalid_definition_has_aws_wording(sfn):
    definition = json.dumps({"StartAt": "A"})
    assert error_of(sfn.create_state_machine, name="bad", definition=definition, roleArn=ROLE) == (
        "InvalidDefinition",
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are required: [States] "
        "at /'",
        400)


def test_express_refuses_callbacks_at_creation(sfn):
    definition = json.dumps({"StartAt": "Publish", "States": {"Publish": {
        "Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
        "Parameters": {"TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Message.$": "$$.Task.Token"},
        "End": True}}})
    code, message, _ = error_of(sfn.create_state_machine, name="express", definition=definition, roleArn=ROLE,
                                type="EXPRESS")
    assert code == "InvalidDefinition"
    assert "Express state machine does not support '.waitForTaskToken'" in message
    sfn.create_state_machine(name="standard", definition=definition, roleArn=ROLE)


def test_express_refuses_activities_at_creation(sfn):
    # AWS's answer, recorded in LocalStack's test_sfn_api_express.snapshot.json (test_illegal_activity_task).
    activity = sfn.create_activity(name="reviewers")["activityArn"]
    definition = json.dumps({"StartAt": "ActivityTask", "States": {"ActivityTask": {
        "Type": "Task", "Resource": activity, "End": True}}})
    code, message, status = error_of(sfn.create_state_machine, name="express-activity", definition=definition,
                                     roleArn=ROLE, type="EXPRESS")
    assert (code, status) == ("InvalidDefinition", 400)
    assert message == ("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine does "
                       "not support Activity ARN at /States/ActivityTask/Resource'")
    sfn.create_state_machine(name="standard-activity", definition=definition, roleArn=ROLE)


def test_conformance_creation_failures_have_aws_wording(sfn):
    cases = [case for case in conformance_cases("validation.jsonl")
             if case["expected"]["status"] == "CREATE_FAILED" and "Invalid State Machine Definition: '" in
             case["expected"]["cause"] and not case["expected"]["cause"].startswith("Error=")]
    assert cases
    for index, case in enumerate(cases):
        definition = case["definition"]
        if not isinstance(definition, str):
            definition = json.dumps(definition)
        code, message, status = error_of(sfn.create_state_machine, name=f"case-{index}", roleArn=ROLE,
                                         definition=definition, type=case.get("type", "STANDARD"))
        expected = case["expected"]["cause"].split("operation: ", 1)[-1]
        assert (code, status) == ("InvalidDefinition", 400), case["id"]
        assert message == expected, case["id"]


def test_bad_names_types_and_arns(sfn):
    assert error_of(sfn.create_state_machine, name="has space", definition=PASS, roleArn=ROLE)[:2] == (
        "InvalidName", "Invalid Name: 'has space'")
    assert error_of(sfn.describe_state_machine, stateMachineArn="not-an-arn")[:2] == (
        "InvalidArn", "Invalid Arn: 'Invalid ARN prefix: not-an-arn'")
    code, message, _ = error_of(sfn.create_state_machine, name="x" * 81, definition=PASS, roleArn=ROLE)
    assert code == "ValidationException"
    assert message.endswith("at 'name' failed to satisfy constraint: Member must have length less than or "
                            "equal to 80")


def test_logging_and_tracing_are_kept(sfn):
    logging = {"level": "ALL", "includeExecutionData": True, "destinations": [
        {"cloudWatchLogsLogGroup": {"logGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:g:*"}}]}
    arn = sfn.create_state_machine(name="logged", definition=PASS, roleArn=ROLE, loggingConfiguration=logging,
                                   tracingConfiguration={"enabled": True})["stateMachineArn"]
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert described["loggingConfiguration"] == logging
    assert described["tracingConfiguration"] == {"enabled": True}
    assert error_of(sfn.create_state_machine, name="nolog", definition=PASS, roleArn=ROLE,
                    loggingConfiguration={"level": "ERROR"}) == (
        "InvalidLoggingConfiguration",
        "Invalid Logging Configuration: Must specify exactly one Log Destination.", 400)


def test_update_makes_revisions_and_publishes(sfn):
    arn = sfn.create_state_machine(name="updated", definition=PASS, roleArn=ROLE, publish=True,
                                   versionDescription="first")["stateMachineArn"]
    first = sfn.update_state_machine(stateMachineArn=arn, definition=pass_result("two"), publish=True,
                                     versionDescription="second")
    assert first["stateMachineVersionArn"] == f"{arn}:2"
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert described["revisionId"] == first["revisionId"]
    assert json.loads(described["definition"])["States"]["A"]["Result"] == {"Arg1": "two"}
    version1 = sfn.describe_state_machine(stateMachineArn=f"{arn}:1")
    assert version1["stateMachineArn"] == f"{arn}:1"
    assert version1["definition"] == PASS
    assert version1["description"] == "first"
    assert error_of(sfn.update_state_machine, stateMachineArn=arn) == (
        "MissingRequiredParameter",
        "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be "
        "specified", 400)
    assert error_of(sfn.update_state_machine, stateMachineArn=arn, definition="{}")[0] == "InvalidDefinition"
    assert error_of(sfn.update_state_machine, stateMachineArn=arn + "x", definition=PASS)[0] == (
        "StateMachineDoesNotExist")


def test_versions_publish_list_delete(sfn):
    arn = sfn.create_state_machine(name="versioned", definition=PASS, roleArn=ROLE)["stateMachineArn"]
    v1 = sfn.publish_state_machine_version(stateMachineArn=arn, revisionId="INITIAL", description="v1")
    assert v1["stateMachineVersionArn"] == f"{arn}:1"
    # Publishing an unchanged revision again gives the same version.
    assert sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"] == f"{arn}:1"
    revision = sfn.update_state_machine(stateMachineArn=arn, definition=pass_result("b"))["revisionId"]
    code, message, status = error_of(sfn.publish_state_machine_version, stateMachineArn=arn,
                                     revisionId="INITIAL")
    assert (code, status) == ("ConflictException", 400)
    assert message == (f"Failed to publish the State Machine version for revision INITIAL. "
                       f"The current State Machine revision is {revision}.")
    v2 = sfn.publish_state_machine_version(stateMachineArn=arn, revisionId=revision)
    assert v2["stateMachineVersionArn"] == f"{arn}:2"
    listed = sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]
    assert [item["stateMachineVersionArn"] for item in listed] == [f"{arn}:2", f"{arn}:1"]
    page = sfn.list_state_machine_versions(stateMachineArn=arn, maxResults=1)
    assert [item["stateMachineVersionArn"] for item in page["stateMachineVersions"]] == [f"{arn}:2"]
    rest = sfn.list_state_machine_versions(stateMachineArn=arn, maxResults=1, nextToken=page["nextToken"])
    assert [item["stateMachineVersionArn"] for item in rest["stateMachineVersions"]] == [f"{arn}:1"]
    assert "nextToken" not in rest
    sfn.delete_state_machine_version(stateMachineVersionArn=f"{arn}:2")
    # Numbers are never handed out twice.
    sfn.update_state_machine(stateMachineArn=arn, definition=pass_result("c"), publish=True)
    listed = sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]
    assert [item["stateMachineVersionArn"] for item in listed] == [f"{arn}:3", f"{arn}:1"]


def test_aliases(sfn):
    created = sfn.create_state_machine(name="aliased", definition=PASS, roleArn=ROLE, publish=True)
    arn = created["stateMachineArn"]
    sfn.update_state_machine(stateMachineArn=arn, definition=pass_result("b"), publish=True)
    routing = [{"stateMachineVersionArn": f"{arn}:1", "weight": 90},
               {"stateMachineVersionArn": f"{arn}:2", "weight": 10}]
    created = sfn.create_state_machine_alias(name="live", routingConfiguration=routing, description="prod")
    alias_arn = created["stateMachineAliasArn"]
    assert alias_arn == f"{arn}:live"
    described = sfn.describe_state_machine_alias(stateMachineAliasArn=alias_arn)
    assert described["name"] == "live"
    assert described["description"] == "prod"
    assert described["routingConfiguration"] == routing
    only_two = [{"stateMachineVersionArn": f"{arn}:2", "weight": 100}]
    sfn.update_state_machine_alias(stateMachineAliasArn=alias_arn, routingConfiguration=only_two)
    assert sfn.describe_state_machine_alias(stateMachineAliasArn=alias_arn)["routingConfiguration"] == [
        {"stateMachineVersionArn": f"{arn}:2", "weight": 100}]
    listed = sfn.list_state_machine_aliases(stateMachineArn=arn)["stateMachineAliases"]
    assert [item["stateMachineAliasArn"] for item in listed] == [alias_arn]
    code, message, _ = error_of(sfn.delete_state_machine_version, stateMachineVersionArn=f"{arn}:2")
    assert code == "ConflictException"
    assert message.endswith("Current list of aliases referencing this version: [live]")
    code, message, _ = error_of(sfn.create_state_machine_alias, name="bad", routingConfiguration=[
        {"stateMachineVersionArn": f"{arn}:1", "weight": 50}])
    assert (code, message) == ("ValidationException", "Sum of routing configuration weights must equal 100. "
                                                      "Received: [50]")
    sfn.delete_state_machine_alias(stateMachineAliasArn=alias_arn)
    assert error_of(sfn.describe_state_machine_alias, stateMachineAliasArn=alias_arn) == (
        "ResourceNotFound", "Request references a resource that does not exist.", 400)


def test_version_pages_hold_when_a_version_is_published_between_them(sfn):
    arn = sfn.create_state_machine(name="paged", definition=PASS, roleArn=ROLE, publish=True)["stateMachineArn"]
    for n in range(2, 6):
        sfn.update_state_machine(stateMachineArn=arn, definition=pass_result(str(n)), publish=True)
    first = sfn.list_state_machine_versions(stateMachineArn=arn, maxResults=2)
    assert [v["stateMachineVersionArn"] for v in first["stateMachineVersions"]] == [f"{arn}:5", f"{arn}:4"]
    sfn.update_state_machine(stateMachineArn=arn, definition=pass_result("6"), publish=True)
    second = sfn.list_state_machine_versions(stateMachineArn=arn, maxResults=2, nextToken=first["nextToken"])
    assert [v["stateMachineVersionArn"] for v in second["stateMachineVersions"]] == [f"{arn}:3", f"{arn}:2"]


def test_an_alias_created_again_with_its_routes_reordered_is_the_same_alias(sfn):
    arn = sfn.create_state_machine(name="m", definition=PASS, roleArn=ROLE, publish=True)["stateMachineArn"]
    sfn.update_state_machine(stateMachineArn=arn, definition=pass_result("b"), publish=True)
    routes = [{"stateMachineVersionArn": f"{arn}:1", "weight": 50},
              {"stateMachineVersionArn": f"{arn}:2", "weight": 50}]
    created = sfn.create_state_machine_alias(name="a", routingConfiguration=routes)
    again = sfn.create_state_machine_alias(name="a", routingConfiguration=list(reversed(routes)))
    assert (again["stateMachineAliasArn"], again["creationDate"]) == (
        created["stateMachineAliasArn"], created["creationDate"])


def test_list_state_machines_pages(sfn):
    for index in range(5):
        sfn.create_state_machine(name=f"m{index}", definition=PASS, roleArn=ROLE)
    first = sfn.list_state_machines(maxResults=3)
    assert [m["name"] for m in first["stateMachines"]] == ["m0", "m1", "m2"]
    second = sfn.list_state_machines(maxResults=3, nextToken=first["nextToken"])
    assert [m["name"] for m in second["stateMachines"]] == ["m3", "m4"]
    assert "nextToken" not in second
    pages = sfn.get_paginator("list_state_machines").paginate(PaginationConfig={"PageSize": 2})
    assert [m["name"] for page in pages for m in page["stateMachines"]] == ["m0", "m1", "m2", "m3", "m4"]
    assert error_of(sfn.list_state_machines, maxResults=1001) == (
        "ValidationException", "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy "
                               "constraint: Member must have value less than or equal to 1000", 400)
    assert error_of(sfn.list_state_machines, nextToken="garbage")[0] == "InvalidToken"


def test_activities(sfn):
    created = sfn.create_activity(name="approve")
    arn = created["activityArn"]
    assert arn == "arn:aws:states:us-east-1:123456789012:activity:approve"
    assert sfn.create_activity(name="approve")["activityArn"] == arn
    described = sfn.describe_activity(activityArn=arn)
    assert (described["name"], described["creationDate"]) == ("approve", created["creationDate"])
    sfn.create_activity(name="check")
    listed = sfn.list_activities(maxResults=1)
    assert [a["name"] for a in listed["activities"]] == ["approve"]
    assert [a["name"] for a in sfn.list_activities(nextToken=listed["nextToken"])["activities"]] == ["check"]
    sfn.delete_activity(activityArn=arn)
    sfn.delete_activity(activityArn=arn)
    assert error_of(sfn.describe_activity, activityArn=arn) == (
        "ActivityDoesNotExist", f"Activity Does Not Exist: '{arn}'", 400)
    assert error_of(sfn.create_activity, name="TestActivity InvalidName$")[:2] == (
        "InvalidName", "Invalid Name: 'TestActivity InvalidName$'")


def test_tags(sfn):
    arn = sfn.create_state_machine(name="tagged", definition=PASS, roleArn=ROLE,
                                   tags=[{"key": "team", "value": "a"}])["stateMachineArn"]
    sfn.tag_resource(resourceArn=arn, tags=[{"key": "env", "value": "dev"}, {"key": "team", "value": "b"}])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [
        {"key": "env", "value": "dev"}, {"key": "team", "value": "b"}]
    sfn.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "env", "value": "dev"}]
    activity = sfn.create_activity(name="act", tags=[{"key": "k", "value": "v"}])["activityArn"]
    assert sfn.list_tags_for_resource(resourceArn=activity)["tags"] == [{"key": "k", "value": "v"}]
    missing = arn + "-gone"
    code, message, _ = error_of(sfn.list_tags_for_resource, resourceArn=missing)
    assert (code, message) == ("ResourceNotFound", f"Resource not found: '{missing}'")
    many = [{"key": f"k{i}", "value": ""} for i in range(51)]
    code, _, _ = error_of(sfn.tag_resource, resourceArn=arn, tags=many)
    assert code == "TooManyTags"


def test_unknown_operation_and_bad_body(endpoint):
    import urllib.request

    def post(target: str, body: bytes) -> tuple[int, dict]:
        request = urllib.request.Request(endpoint + "/", data=body, method="POST", headers={
            "X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"})
        try:
            with urllib.request.urlopen(request) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    status, body = post("AWSStepFunctions.NoSuchThing", b"{}")
    assert (status, body["__type"]) == (400, "UnknownOperationException")
    status, body = post("AWSStepFunctions.ListStateMachines", b"[1]")
    assert (status, body["__type"]) == (400, "SerializationException")
    status, body = post("AWSStepFunctions.DescribeStateMachine", b"{}")
    assert (status, body["__type"]) == (400, "ValidationException")
    assert body["message"] == ("1 validation error detected: Value null at 'stateMachineArn' failed to "
                               "satisfy constraint: Member must not be null")
