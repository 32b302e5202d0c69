"""EventBridge connections on both stores (the 0004 migration's `connections` table): what DescribeConnection
shows never holds a secret, the engine gets the secrets back, updates merge as UpdateConnection does."""

from __future__ import annotations

import pytest

from pinflow import errors
from pinflow.registry.connections import ConnectionRegistry

OAUTH = {"OAuthParameters": {
    "ClientParameters": {"ClientID": "client", "ClientSecret": "client-secret"},
    "AuthorizationEndpoint": "https://auth.example.com/token", "HttpMethod": "POST",
    "OAuthHttpParameters": {"BodyParameters": [{"Key": "grant_type", "Value": "client_credentials"},
                                               {"Key": "audience", "Value": "hidden", "IsValueSecret": True}]}},
    "InvocationHttpParameters": {"QueryStringParameters": [{"Key": "key", "Value": "q-secret", "IsValueSecret": True}]}}


def test_secrets_are_kept_apart_and_given_back_to_the_engine_only(store, clock) -> None:
    connections = ConnectionRegistry(store, clock)
    made = connections.create("oauth", "OAUTH_CLIENT_CREDENTIALS", OAUTH)
    shown = str(connections.describe("oauth")) + str(connections.list())
    for secret in ("client-secret", "hidden", "q-secret"):
        assert secret not in shown
    credentials = connections.credentials(made["ConnectionArn"])
    assert credentials is not None
    oauth = credentials["AuthParameters"]["OAuthParameters"]
    assert oauth["ClientParameters"] == {"ClientID": "client", "ClientSecret": "client-secret"}
    assert oauth["OAuthHttpParameters"]["BodyParameters"][1]["Value"] == "hidden"
    query = credentials["AuthParameters"]["InvocationHttpParameters"]["QueryStringParameters"]
    assert query == [{"Key": "key", "Value": "q-secret", "IsValueSecret": True}]
    assert connections.describe("oauth")["ConnectionState"] == "AUTHORIZING"
    connections.set_state(made["ConnectionArn"], "AUTHORIZED")
    assert connections.describe("oauth")["ConnectionState"] == "AUTHORIZED"


def test_update_merges_and_delete_forgets(store, clock) -> None:
    connections = ConnectionRegistry(store, clock)
    made = connections.create("basic", "BASIC", {"BasicAuthParameters": {"Username": "a", "Password": "p"}})
    clock.advance(5)
    updated = connections.update("basic", authorization_type=None, description="new",
                                 auth={"BasicAuthParameters": {"Username": "b"}})
    assert updated["LastModifiedTime"] == made["CreationTime"] + 5
    credentials = connections.credentials(made["ConnectionArn"])
    assert credentials is not None
    assert credentials["AuthParameters"]["BasicAuthParameters"] == {"Username": "b", "Password": "p"}
    connections.delete("basic")
    assert connections.credentials(made["ConnectionArn"]) is None
    with pytest.raises(errors.ResourceNotFoundException):
        connections.describe("basic")
    with pytest.raises(errors.ResourceAlreadyExistsException):
        connections.create("dup", "BASIC", {"BasicAuthParameters": {"Username": "a", "Password": "p"}})
        connections.create("dup", "BASIC", {"BasicAuthParameters": {"Username": "a", "Password": "p"}})
