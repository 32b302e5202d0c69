"""The integrations table: every integration serves what validation accepts for it and nothing more, one
resource has one integration, and the rules each one states on its own (hosts HTTP Tasks may reach,
URL-encoded forms) hold."""

from __future__ import annotations

import uuid

import pytest

from pinflow import asl
from pinflow.asl.validation import resources
from pinflow.engine.integrations import base, hosts, http_task, table

SERVED = {  # the resources of each optimized integration the table carries out, without pattern suffixes
    "lambda": ["arn:aws:states:::lambda:invoke"],
    "states": ["arn:aws:states:::states:startExecution"],
    "http": ["arn:aws:states:::http:invoke"],
    "dynamodb": [f"arn:aws:states:::dynamodb:{a}" for a in ("getItem", "putItem", "updateItem", "deleteItem")],
    "sns": ["arn:aws:states:::sns:publish"],
    "sqs": ["arn:aws:states:::sqs:sendMessage"],
    "events": ["arn:aws:states:::events:putEvents"],
    "s3": [f"arn:aws:states:::s3:{a}" for a in ("getObject", "putObject", "listObjectsV2")],
    "glue": ["arn:aws:states:::glue:startJobRun"],
    "athena": [f"arn:aws:states:::athena:{a}" for a in ("startQueryExecution", "stopQueryExecution",
                                                        "getQueryExecution", "getQueryResults")],
    "batch": ["arn:aws:states:::batch:submitJob"],
    "ecs": ["arn:aws:states:::ecs:runTask"],
    "bedrock": ["arn:aws:states:::bedrock:invokeModel"],
    "apigateway": ["arn:aws:states:::apigateway:invoke"],
}


@pytest.mark.parametrize("name", sorted(SERVED))
def test_an_integration_serves_exactly_the_patterns_validation_accepts(name: str) -> None:
    integration = table.by_name(name)
    assert integration is not None
    union = set()
    for served in SERVED[name]:
        service, action = served.rsplit(":", 2)[-2:]
        for suffix, pattern in base.SUFFIXES.items():
            resource = served + suffix
            machine = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, "End": True}}}
            accepted = not [d for d in asl.validate(machine) if d.code == "SCHEMA_VALIDATION_FAILED"
                            and "is not recognized" in d.message]
            assert accepted == (suffix in resources.patterns(service, action)), resource
            if accepted:
                union.add(pattern)
                assert table.for_resource(resource) is integration
    assert union == set(integration.patterns)


def test_one_resource_one_integration() -> None:
    resources_seen = ["arn:aws:lambda:us-east-1:123456789012:function:f", "arn:aws:states:::lambda:invoke",
                      "arn:aws:states:us-east-1:123456789012:activity:a", "arn:aws:states:::states:startExecution.sync",
                      "arn:aws:states:::http:invoke", "arn:aws:states:::sns:publish",
                      "arn:aws:states:::aws-sdk:sns:publish", "arn:aws:states:::aws-sdk:s3:getObject",
                      "arn:aws:states:::s3:getObject", "arn:aws:states:::dynamodb:putItem"]
    for resource in resources_seen:
        serving = [i.name for i in table.INTEGRATIONS if i.serves(resource)]
        assert len(serving) == 1, (resource, serving)
    # A service pinflow has no integration for, named as an optimized one, passes validation (as on AWS)
    # and is served by none: its Task fails at run time.
    assert table.for_resource("arn:aws:states:::sagemaker:createTrainingJob.sync") is None


def test_the_default_host_policy_allows_public_addresses_only() -> None:
    policy = hosts.HostPolicy()
    policy.check("93.184.215.14", 443)
    for host in ("127.0.0.1", "10.1.2.3", "169.254.169.254", "192.168.0.1", "::1", "localhost"):
        with pytest.raises(hosts.Refused):
            policy.check(host, 80)


def test_host_patterns_names_networks_and_ports() -> None:
    policy = hosts.HostPolicy.from_text("*.example.com,10.0.0.0/8,127.0.0.1:8080")
    policy.check("api.example.com", 443)
    policy.check("10.9.9.9", 1)
    policy.check("127.0.0.1", 8080)
    with pytest.raises(hosts.Refused):
        policy.check("127.0.0.1", 8081)
    with pytest.raises(hosts.Refused):
        policy.check("93.184.215.14", 443)  # `public` is not in this list
    hosts.HostPolicy.from_text("*").check("127.0.0.1", 1)
    with pytest.raises(ValueError):
        hosts.HostPolicy.from_text("127.0.0.1:notaport")


def test_url_encoded_nested_objects_use_brackets() -> None:
    assert http_task.form_pairs({"a": {"b": 1, "c": [True, "x"]}}, "INDICES") == [
        ("a[b]", "1"), ("a[c][0]", "true"), ("a[c][1]", "x")]


@pytest.mark.parametrize(("execution_arn", "task_id"), [
    ("arn:aws:states:us-east-1:123456789012:execution:chain:run-1", "10"),
    ("arn:aws:states:eu-west-1:123456789012:execution:m:é-ü", "3.Map.0.1"),
    ("", ""),
])
def test_a_call_s_request_id_is_the_name_based_uuid_of_its_execution_and_task(execution_arn: str,
                                                                              task_id: str) -> None:
    made = base.request_id(execution_arn, task_id)
    assert made == str(uuid.uuid5(uuid.NAMESPACE_URL, f"{execution_arn}#{task_id}"))
    assert uuid.UUID(made).version == 5
    assert base.request_id(execution_arn, task_id) == made  # redeliveries carry the same id
