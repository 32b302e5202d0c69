"""EventBridge connections through boto3's `events` client on pinflow's server: CreateConnection,
DescribeConnection, UpdateConnection, DeleteConnection and ListConnections as EventBridge's API reference
describes them (docs.aws.amazon.com/eventbridge/latest/APIReference/API_CreateConnection.html and its
siblings): the ARN `arn:aws:events:<region>:<account>:connection/<name>/<uuid>`, secrets (a password, an
API key's value, a client secret, parameters marked IsValueSecret) never shown again, and AWS's errors
(ResourceAlreadyExistsException, ResourceNotFoundException, ValidationException)."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def events(server):
    client = server.client("events")
    yield client
    client.close()


BASIC = {"BasicAuthParameters": {"Username": "ada", "Password": "s3cret-pass"}}


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_create_describe_list_update_delete(events) -> None:
    made = events.create_connection(Name="orders-api", Description="orders", AuthorizationType="BASIC",
                                    AuthParameters=BASIC)
    assert re.fullmatch(r"arn:aws:events:us-east-1:123456789012:connection/orders-api/[-0-9a-f]{36}",
                        made["ConnectionArn"])
    assert made["ConnectionState"] == "AUTHORIZED"
    described = events.describe_connection(Name="orders-api")
    assert described["ConnectionArn"] == made["ConnectionArn"]
    assert (described["Name"], described["Description"], described["AuthorizationType"]) == (
        "orders-api", "orders", "BASIC")
    assert described["AuthParameters"]["BasicAuthParameters"] == {"Username": "ada"}  # no password, ever
    secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:events!connection/orders-api/"
    assert described["SecretArn"].startswith(secret_arn)
    listed = events.list_connections()["Connections"]
    assert [(c["Name"], c["AuthorizationType"], c["ConnectionState"]) for c in listed] == [
        ("orders-api", "BASIC", "AUTHORIZED")]
    updated = events.update_connection(Name="orders-api", AuthorizationType="API_KEY", AuthParameters={
        "ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "key-value"}})
    assert updated["ConnectionArn"] == made["ConnectionArn"]
    described = events.describe_connection(Name="orders-api")
    assert described["AuthorizationType"] == "API_KEY"
    assert described["AuthParameters"]["ApiKeyAuthParameters"] == {"ApiKeyName": "x-api-key"}
    assert events.delete_connection(Name="orders-api")["ConnectionState"] == "DELETING"
    with pytest.raises(ClientError) as missing:
        events.describe_connection(Name="orders-api")
    assert _code(missing) == "ResourceNotFoundException"
    assert "Connection 'orders-api' does not exist." in str(missing.value)


def test_an_update_without_a_secret_keeps_the_secret(events, server) -> None:
    made = events.create_connection(Name="keep", AuthorizationType="BASIC", AuthParameters=BASIC)
    events.update_connection(Name="keep", AuthParameters={"BasicAuthParameters": {"Username": "grace"}})
    credentials = server.pf.connections.credentials(made["ConnectionArn"])
    assert credentials["AuthParameters"]["BasicAuthParameters"] == {"Username": "grace", "Password": "s3cret-pass"}


def test_secret_http_parameters_are_not_shown(events) -> None:
    events.create_connection(Name="params", AuthorizationType="API_KEY", AuthParameters={
        "ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "key-value"},
        "InvocationHttpParameters": {"HeaderParameters": [
            {"Key": "x-public", "Value": "shown", "IsValueSecret": False},
            {"Key": "x-private", "Value": "hidden-value", "IsValueSecret": True}]}})
    parameters = events.describe_connection(Name="params")["AuthParameters"]["InvocationHttpParameters"]
    headers = parameters["HeaderParameters"]
    assert headers == [{"Key": "x-public", "Value": "shown", "IsValueSecret": False},
                       {"Key": "x-private", "IsValueSecret": True}]


def test_errors_as_eventbridge_answers_them(events) -> None:
    events.create_connection(Name="twice", AuthorizationType="BASIC", AuthParameters=BASIC)
    with pytest.raises(ClientError) as again:
        events.create_connection(Name="twice", AuthorizationType="BASIC", AuthParameters=BASIC)
    assert _code(again) == "ResourceAlreadyExistsException"
    assert "Connection twice already exists." in str(again.value)
    with pytest.raises(ClientError) as bad_name:
        events.create_connection(Name="not a name", AuthorizationType="BASIC", AuthParameters=BASIC)
    assert _code(bad_name) == "ValidationException"
    with pytest.raises(ClientError) as wrong_member:
        events.create_connection(Name="wrong", AuthorizationType="API_KEY", AuthParameters=BASIC)
    assert _code(wrong_member) == "ValidationException"
    with pytest.raises(ClientError) as no_such:
        events.delete_connection(Name="never-made")
    assert _code(no_such) == "ResourceNotFoundException"


def test_list_filters_by_prefix_and_pages(events) -> None:
    for name in ("a-1", "a-2", "a-3", "b-1"):
        events.create_connection(Name=name, AuthorizationType="BASIC", AuthParameters=BASIC)
    first = events.list_connections(NamePrefix="a-", Limit=2)
    assert [c["Name"] for c in first["Connections"]] == ["a-1", "a-2"]
    rest = events.list_connections(NamePrefix="a-", Limit=2, NextToken=first["NextToken"])
    assert [c["Name"] for c in rest["Connections"]] == ["a-3"] and "NextToken" not in rest


@pytest.mark.parametrize(("kind", "parameter"), [
    ("HeaderParameters", {"Key": "X-Trace", "Value": "abc\r\nX-Injected: 1"}),
    ("HeaderParameters", {"Key": "X-Trace", "Value": "line\n"}),
    ("HeaderParameters", {"Key": "X-Trace", "Value": "tab\x00nul"}),
    ("HeaderParameters", {"Key": "Bad Key", "Value": "v"}),
    ("HeaderParameters", {"Key": "X-Long", "Value": "v" * 513}),
    ("QueryStringParameters", {"Key": "q", "Value": "a\x1fb"}),
    ("QueryStringParameters", {"Key": "q\n", "Value": "v"}),
])
def test_http_parameters_with_control_characters_are_refused(events, kind, parameter) -> None:
    """EventBridge's model constrains header keys and values and query string members (no control
    characters, at most 512 characters): such a connection is refused when it is created, and when it
    is updated, never stored to fail at call time."""
    auth = {**BASIC, "InvocationHttpParameters": {kind: [parameter]}}
    with pytest.raises(ClientError) as caught:
        events.create_connection(Name="ctl", AuthorizationType="BASIC", AuthParameters=auth)
    assert _code(caught) == "ValidationException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert not [c for c in events.list_connections()["Connections"] if c["Name"] == "ctl"]
    events.create_connection(Name="ctl", AuthorizationType="BASIC", AuthParameters=BASIC)
    with pytest.raises(ClientError) as updated:
        events.update_connection(Name="ctl", AuthParameters={"InvocationHttpParameters": {kind: [parameter]}})
    assert _code(updated) == "ValidationException"


def test_a_secret_header_value_is_not_echoed_in_the_refusal(events) -> None:
    auth = {**BASIC, "InvocationHttpParameters": {"HeaderParameters": [
        {"Key": "X-Token", "Value": "hunter2\n", "IsValueSecret": True}]}}
    with pytest.raises(ClientError) as caught:
        events.create_connection(Name="secret-ctl", AuthorizationType="BASIC", AuthParameters=auth)
    assert _code(caught) == "ValidationException"
    assert "hunter2" not in str(caught.value)
