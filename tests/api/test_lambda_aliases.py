"""Lambda aliases through boto3: create, get, update, delete, list, weighted routing."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.api.test_lambda_functions import ARN, HELLO, create, error_of, zip_of


@pytest.fixture
def versions(lam):
    """`hello` with versions 1, 2 and 3."""
    create(lam, Publish=True)
    for n in (2, 3):
        lam.update_function_code(FunctionName="hello", ZipFile=zip_of(HELLO + f"# {n}\n"), Publish=True)
    return lam


def test_create_alias_answers_201_with_the_alias(versions):
    lam = versions
    alias = lam.create_alias(FunctionName="hello", Name="live", FunctionVersion="1", Description="prod")
    assert alias["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert alias["AliasArn"] == f"{ARN}:hello:live"
    assert (alias["Name"], alias["FunctionVersion"], alias["Description"]) == ("live", "1", "prod")
    assert alias["RevisionId"]
    assert "RoutingConfig" not in alias


def test_create_alias_twice_is_a_conflict(versions):
    versions.create_alias(FunctionName="hello", Name="live", FunctionVersion="1")
    with pytest.raises(ClientError) as info:
        versions.create_alias(FunctionName="hello", Name="live", FunctionVersion="2")
    assert error_of(info) == ("ResourceConflictException", 409, f"Alias already exists: {ARN}:hello:live")


def test_create_alias_to_a_missing_version_or_function_is_404(versions):
    with pytest.raises(ClientError) as info:
        versions.create_alias(FunctionName="hello", Name="live", FunctionVersion="9")
    assert error_of(info) == ("ResourceNotFoundException", 404, f"Function not found: {ARN}:hello:9")
    with pytest.raises(ClientError) as info:
        versions.create_alias(FunctionName="nope", Name="live", FunctionVersion="1")
    assert error_of(info)[:2] == ("ResourceNotFoundException", 404)


def test_create_alias_with_a_numeric_name_is_refused(versions):
    with pytest.raises(ClientError) as info:
        versions.create_alias(FunctionName="hello", Name="42", FunctionVersion="1")
    code, status, message = error_of(info)
    assert (code, status) == ("ValidationException", 400)
    assert message.startswith("1 validation error detected: Value '42' at 'name' failed to satisfy constraint")


def test_get_alias_and_missing_alias(versions):
    created = versions.create_alias(FunctionName="hello", Name="live", FunctionVersion="2")
    got = versions.get_alias(FunctionName="hello", Name="live")
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert {key: got[key] for key in ("AliasArn", "Name", "FunctionVersion", "RevisionId")} == {
        key: created[key] for key in ("AliasArn", "Name", "FunctionVersion", "RevisionId")}
    with pytest.raises(ClientError) as info:
        versions.get_alias(FunctionName="hello", Name="gone")
    assert error_of(info) == ("ResourceNotFoundException", 404, f"Cannot find alias arn: {ARN}:hello:gone")


def test_alias_operations_take_a_function_arn(versions):
    versions.create_alias(FunctionName=f"{ARN}:hello", Name="live", FunctionVersion="1")
    assert versions.get_alias(FunctionName=f"{ARN}:hello", Name="live")["FunctionVersion"] == "1"


def test_update_alias_moves_it_and_checks_the_revision(versions):
    created = versions.create_alias(FunctionName="hello", Name="live", FunctionVersion="1", Description="d")
    updated = versions.update_alias(FunctionName="hello", Name="live", FunctionVersion="3",
                                    RevisionId=created["RevisionId"])
    assert (updated["FunctionVersion"], updated["Description"]) == ("3", "d")
    assert updated["RevisionId"] != created["RevisionId"]
    with pytest.raises(ClientError) as info:
        versions.update_alias(FunctionName="hello", Name="live", FunctionVersion="2",
                              RevisionId=created["RevisionId"])
    assert error_of(info)[:2] == ("PreconditionFailedException", 412)
    with pytest.raises(ClientError) as info:
        versions.update_alias(FunctionName="hello", Name="gone", FunctionVersion="2")
    assert error_of(info)[:2] == ("ResourceNotFoundException", 404)


def test_routing_config_round_trips_and_clears(versions):
    created = versions.create_alias(FunctionName="hello", Name="canary", FunctionVersion="1",
                                    RoutingConfig={"AdditionalVersionWeights": {"2": 0.25}})
    assert created["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.25}}
    assert versions.get_alias(FunctionName="hello", Name="canary")["RoutingConfig"] == {
        "AdditionalVersionWeights": {"2": 0.25}}
    cleared = versions.update_alias(FunctionName="hello", Name="canary", RoutingConfig={})
    assert "RoutingConfig" not in cleared


def test_routing_config_errors(versions):
    with pytest.raises(ClientError) as info:
        versions.create_alias(FunctionName="hello", Name="canary", FunctionVersion="1",
                              RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}})
    assert error_of(info) == (
        "InvalidParameterValueException", 400,
        "Invalid function version 1. Function version 1 is already included in routing configuration.")
    with pytest.raises(ClientError) as info:
        versions.create_alias(FunctionName="hello", Name="canary", FunctionVersion="1",
                              RoutingConfig={"AdditionalVersionWeights": {"2": 0.5, "3": 0.1}})
    assert error_of(info) == ("InvalidParameterValueException", 400,
                              "Number of items in AdditionalVersionWeights cannot be greater than 1")
    with pytest.raises(ClientError) as info:
        versions.create_alias(FunctionName="hello", Name="canary", FunctionVersion="$LATEST",
                              RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    assert error_of(info) == ("InvalidParameterValueException", 400,
                              "$LATEST is not supported for an alias pointing to more than 1 version")
    with pytest.raises(ClientError) as info:
        versions.create_alias(FunctionName="hello", Name="canary", FunctionVersion="1",
                              RoutingConfig={"AdditionalVersionWeights": {"2": 1.5}})
    assert error_of(info)[:2] == ("ValidationException", 400)


def test_delete_alias_answers_204(versions):
    versions.create_alias(FunctionName="hello", Name="live", FunctionVersion="1")
    deleted = versions.delete_alias(FunctionName="hello", Name="live")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as info:
        versions.get_alias(FunctionName="hello", Name="live")
    assert error_of(info)[:2] == ("ResourceNotFoundException", 404)
    # The version it pointed to stays, and can now be deleted.
    assert versions.delete_function(FunctionName="hello", Qualifier="1")["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_list_aliases_pages_and_filters_by_version(versions):
    for name, version in (("c", "1"), ("a", "2"), ("b", "1")):
        versions.create_alias(FunctionName="hello", Name=name, FunctionVersion=version)
    listed = versions.list_aliases(FunctionName="hello")
    assert [a["Name"] for a in listed["Aliases"]] == ["a", "b", "c"]
    assert "NextMarker" not in listed
    first = versions.list_aliases(FunctionName="hello", MaxItems=2)
    assert [a["Name"] for a in first["Aliases"]] == ["a", "b"]
    rest = versions.list_aliases(FunctionName="hello", MaxItems=2, Marker=first["NextMarker"])
    assert [a["Name"] for a in rest["Aliases"]] == ["c"]
    only_one = versions.list_aliases(FunctionName="hello", FunctionVersion="1")
    assert [a["Name"] for a in only_one["Aliases"]] == ["b", "c"]
    with pytest.raises(ClientError) as info:
        versions.list_aliases(FunctionName="nope")
    assert error_of(info)[:2] == ("ResourceNotFoundException", 404)


def test_get_function_through_an_alias_answers_its_version(versions):
    versions.create_alias(FunctionName="hello", Name="live", FunctionVersion="2")
    configuration = versions.get_function_configuration(FunctionName="hello", Qualifier="live")
    assert configuration["Version"] == "2"
    assert configuration["FunctionArn"] == f"{ARN}:hello:live"
