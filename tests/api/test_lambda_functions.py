"""Lambda's function and version operations through boto3 against a real server: shapes, statuses, errors."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import zipfile

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/lambda-role"
ARN = "arn:aws:lambda:us-east-1:123456789012:function"
HELLO = 'def handler(event, context):\n    return {"hello": event.get("name", "world")}\n'


def zip_of(source: str) -> bytes:
    """A deployment package holding `app.py`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def create(lam, name: str = "hello", source: str = HELLO, **extra):
    options = {"Runtime": "python3.11", "Handler": "app.handler", "Role": ROLE, **extra}
    return lam.create_function(FunctionName=name, Code={"ZipFile": zip_of(source)}, **options)


def error_of(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    """(code, HTTP status, message) of a ClientError, checking the x-amzn-ErrorType header agrees."""
    response = info.value.response
    code = response["Error"]["Code"]
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == code
    return code, response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def test_create_function_answers_201_with_the_configuration(lam):
    package = zip_of(HELLO)
    created = lam.create_function(
        FunctionName="hello", Runtime="python3.11", Handler="app.handler", Role=ROLE,
        Code={"ZipFile": package}, Timeout=30, MemorySize=256, Description="says hello",
        Environment={"Variables": {"GREETING": "hi"}})
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["FunctionName"] == "hello"
    assert created["FunctionArn"] == f"{ARN}:hello"
    assert created["Version"] == "$LATEST"
    assert created["Runtime"] == "python3.11"
    assert created["Handler"] == "app.handler"
    assert created["Role"] == ROLE
    assert created["Timeout"] == 30
    assert created["MemorySize"] == 256
    assert created["Description"] == "says hello"
    assert created["Environment"] == {"Variables": {"GREETING": "hi"}}
    assert created["CodeSize"] == len(package)
    assert created["CodeSha256"] == base64.b64encode(hashlib.sha256(package).digest()).decode()
    assert created["State"] == "Active"
    assert created["PackageType"] == "Zip"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", created["LastModified"])
    assert created["RevisionId"]


def test_create_function_defaults_timeout_and_memory(lam):
    created = create(lam)
    assert (created["Timeout"], created["MemorySize"], created["Description"]) == (3, 128, "")
    assert "Environment" not in created


def test_create_function_with_publish_answers_version_1(lam):
    created = create(lam, Publish=True)
    assert created["Version"] == "1"
    assert created["FunctionArn"] == f"{ARN}:hello:1"


def test_create_function_twice_is_a_conflict(lam):
    create(lam)
    with pytest.raises(ClientError) as info:
        create(lam)
    assert error_of(info) == ("ResourceConflictException", 409, "Function already exist: hello")
    assert info.value.response["Type"] == "User"


def test_create_function_refuses_a_package_that_is_not_a_zip(lam):
    with pytest.raises(ClientError) as info:
        lam.create_function(FunctionName="hello", Runtime="python3.11", Handler="app.handler", Role=ROLE,
                            Code={"ZipFile": b"not a zip"})
    assert error_of(info) == ("InvalidParameterValueException", 400,
                              "Could not unzip uploaded file. Please check your file, then try to upload again.")


def _zip_with_modes(entries: list[tuple[str, str, int]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = mode << 16
            archive.writestr(info, data)
    return buffer.getvalue()


UNUNZIPPABLE = {
    "dot-dot": [("app.py", HELLO, 0o100644), ("../../escaped.txt", "x", 0o100644)],
    "absolute": [("app.py", HELLO, 0o100644), ("/tmp/escaped.txt", "x", 0o100644)],
    "link-then-file-in-it": [("link", "/etc", 0o120777), ("app.py", HELLO, 0o100644), ("link/x", "y", 0o100644)],
}


@pytest.mark.parametrize("case", sorted(UNUNZIPPABLE))
def test_a_zip_that_could_not_be_unpacked_is_refused_at_upload(lam, case):
    package = _zip_with_modes(UNUNZIPPABLE[case])
    with pytest.raises(ClientError) as info:
        lam.create_function(FunctionName="hello", Runtime="python3.11", Handler="app.handler", Role=ROLE,
                            Code={"ZipFile": package})
    assert error_of(info) == ("InvalidParameterValueException", 400,
                              "Could not unzip uploaded file. Please check your file, then try to upload again.")
    create(lam)
    with pytest.raises(ClientError) as info:
        lam.update_function_code(FunctionName="hello", ZipFile=package)
    assert error_of(info)[:2] == ("InvalidParameterValueException", 400)
    assert lam.invoke(FunctionName="hello")["Payload"].read() == b'{"hello": "world"}'


def test_update_function_code_dry_run_changes_nothing(lam):
    created = create(lam)
    package = zip_of(HELLO + "# next\n")
    checked = lam.update_function_code(FunctionName="hello", ZipFile=package, DryRun=True)
    assert checked["CodeSha256"] == base64.b64encode(hashlib.sha256(package).digest()).decode()
    assert lam.get_function_configuration(FunctionName="hello")["CodeSha256"] == created["CodeSha256"]


def test_create_function_needs_runtime_and_handler_for_a_zip(lam):
    with pytest.raises(ClientError) as info:
        lam.create_function(FunctionName="hello", Role=ROLE, Code={"ZipFile": zip_of(HELLO)})
    assert error_of(info) == (
        "InvalidParameterValueException", 400,
        "Runtime and Handler are mandatory parameters for functions created with deployment packages.")


def test_create_function_checks_the_role_arn(lam):
    with pytest.raises(ClientError) as info:
        create(lam, Role="not-a-role")
    code, status, message = error_of(info)
    assert (code, status) == ("ValidationException", 400)
    assert message.startswith("1 validation error detected: Value 'not-a-role' at 'role' failed to satisfy")


def test_create_function_checks_limits(lam):
    with pytest.raises(ClientError) as info:
        create(lam, Timeout=901)
    assert error_of(info) == (
        "ValidationException", 400,
        "1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: Member must have "
        "value less than or equal to 900")


def test_get_function_by_name_partial_arn_and_full_arn(lam):
    create(lam, Tags={"team": "blue"})
    for name in ("hello", "123456789012:function:hello", f"{ARN}:hello"):
        got = lam.get_function(FunctionName=name)
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert got["Configuration"]["FunctionName"] == "hello"
        assert got["Configuration"]["FunctionArn"] == f"{ARN}:hello"
        assert got["Code"]["RepositoryType"] == "S3"
        assert got["Tags"] == {"team": "blue"}


def test_get_function_qualified_answers_the_version(lam):
    create(lam, Publish=True)
    lam.update_function_code(FunctionName="hello", ZipFile=zip_of(HELLO + "# v2\n"))
    for kwargs in ({"FunctionName": "hello", "Qualifier": "1"}, {"FunctionName": "hello:1"},
                   {"FunctionName": f"{ARN}:hello:1"}):
        configuration = lam.get_function(**kwargs)["Configuration"]
        assert configuration["Version"] == "1"
        assert configuration["FunctionArn"] == f"{ARN}:hello:1"
    latest = lam.get_function(FunctionName="hello", Qualifier="$LATEST")["Configuration"]
    assert latest["Version"] == "$LATEST"
    assert latest["CodeSha256"] != lam.get_function(FunctionName="hello:1")["Configuration"]["CodeSha256"]


def test_get_function_of_a_missing_function_is_404(lam):
    with pytest.raises(ClientError) as info:
        lam.get_function(FunctionName="nope")
    assert error_of(info) == ("ResourceNotFoundException", 404, f"Function not found: {ARN}:nope")
    # The modeled member of this error is spelled "Message".
    assert info.value.response["Message"] == f"Function not found: {ARN}:nope"


def test_get_function_of_a_missing_version_is_404(lam):
    create(lam)
    with pytest.raises(ClientError) as info:
        lam.get_function(FunctionName="hello", Qualifier="7")
    assert error_of(info) == ("ResourceNotFoundException", 404, f"Function not found: {ARN}:hello:7")


def test_qualifier_in_the_name_and_a_different_qualifier_parameter_are_refused(lam):
    create(lam, Publish=True)
    with pytest.raises(ClientError) as info:
        lam.get_function(FunctionName="hello:1", Qualifier="2")
    assert error_of(info) == (
        "InvalidParameterValueException", 400,
        "The derived qualifier from the function name does not match the specified qualifier.")


def test_get_function_configuration(lam):
    create(lam, Publish=True)
    configuration = lam.get_function_configuration(FunctionName="hello")
    assert configuration["Version"] == "$LATEST"
    assert configuration["FunctionArn"] == f"{ARN}:hello"
    qualified = lam.get_function_configuration(FunctionName="hello", Qualifier="1")
    assert (qualified["Version"], qualified["FunctionArn"]) == ("1", f"{ARN}:hello:1")
    with pytest.raises(ClientError) as info:
        lam.get_function_configuration(FunctionName="missing")
    assert error_of(info)[:2] == ("ResourceNotFoundException", 404)


def test_update_function_code_changes_latest_and_can_publish(lam):
    created = create(lam)
    new_package = zip_of(HELLO + "# changed\n")
    updated = lam.update_function_code(FunctionName="hello", ZipFile=new_package)
    assert updated["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert updated["Version"] == "$LATEST"
    assert updated["CodeSha256"] == base64.b64encode(hashlib.sha256(new_package).digest()).decode()
    assert updated["CodeSha256"] != created["CodeSha256"]
    assert updated["RevisionId"] != created["RevisionId"]
    published = lam.update_function_code(FunctionName="hello", ZipFile=zip_of(HELLO + "# v3\n"), Publish=True)
    assert (published["Version"], published["FunctionArn"]) == ("1", f"{ARN}:hello:1")


def test_update_function_code_with_a_stale_revision_is_412(lam):
    create(lam)
    with pytest.raises(ClientError) as info:
        lam.update_function_code(FunctionName="hello", ZipFile=zip_of(HELLO), RevisionId="stale")
    code, status, message = error_of(info)
    assert (code, status) == ("PreconditionFailedException", 412)
    assert message.startswith("The Revision Id provided does not match the latest Revision Id.")


def test_update_function_code_of_a_missing_function_is_404(lam):
    with pytest.raises(ClientError) as info:
        lam.update_function_code(FunctionName="nope", ZipFile=zip_of(HELLO))
    assert error_of(info) == ("ResourceNotFoundException", 404, f"Function not found: {ARN}:nope")


def test_update_function_configuration_keeps_what_it_is_not_given(lam):
    create(lam, Description="first", Environment={"Variables": {"AA": "1"}})
    updated = lam.update_function_configuration(FunctionName="hello", Timeout=60,
                                                Environment={"Variables": {"BB": "2"}})
    assert updated["Timeout"] == 60
    assert updated["Environment"] == {"Variables": {"BB": "2"}}
    assert updated["Description"] == "first"
    got = lam.get_function_configuration(FunctionName="hello")
    assert (got["Timeout"], got["MemorySize"], got["Handler"]) == (60, 128, "app.handler")
    assert got["RevisionId"] == updated["RevisionId"]


def test_update_function_configuration_checks_the_revision(lam):
    created = create(lam)
    updated = lam.update_function_configuration(FunctionName="hello", MemorySize=512,
                                                RevisionId=created["RevisionId"])
    assert updated["MemorySize"] == 512
    with pytest.raises(ClientError) as info:
        lam.update_function_configuration(FunctionName="hello", MemorySize=256, RevisionId=created["RevisionId"])
    assert error_of(info)[:2] == ("PreconditionFailedException", 412)


def test_list_functions_pages_with_marker_and_max_items(lam):
    for name in ("c-fn", "a-fn", "b-fn"):
        create(lam, name)
    first = lam.list_functions(MaxItems=2)
    assert [f["FunctionName"] for f in first["Functions"]] == ["a-fn", "b-fn"]
    assert first["Functions"][0]["Version"] == "$LATEST"
    assert first["NextMarker"]
    second = lam.list_functions(MaxItems=2, Marker=first["NextMarker"])
    assert [f["FunctionName"] for f in second["Functions"]] == ["c-fn"]
    assert "NextMarker" not in second
    everything = [f["FunctionName"] for page in lam.get_paginator("list_functions").paginate(
        PaginationConfig={"PageSize": 1}) for f in page["Functions"]]
    assert everything == ["a-fn", "b-fn", "c-fn"]


def test_list_functions_with_function_version_all_lists_versions(lam):
    create(lam, "one", Publish=True)
    create(lam, "two")
    listed = lam.list_functions(FunctionVersion="ALL")["Functions"]
    assert [(f["FunctionName"], f["Version"]) for f in listed] == [("one", "$LATEST"), ("one", "1"),
                                                                   ("two", "$LATEST")]
    paged = [(f["FunctionName"], f["Version"]) for page in lam.get_paginator("list_functions").paginate(
        FunctionVersion="ALL", PaginationConfig={"PageSize": 2}) for f in page["Functions"]]
    assert paged == [("one", "$LATEST"), ("one", "1"), ("two", "$LATEST")]
    first = lam.list_functions(FunctionVersion="ALL", MaxItems=2)
    create(lam, "a-new-one")  # listed before the marker: an offset would repeat ("one", "1")
    rest = lam.list_functions(FunctionVersion="ALL", MaxItems=2, Marker=first["NextMarker"])
    assert [(f["FunctionName"], f["Version"]) for f in rest["Functions"]] == [("two", "$LATEST")]


def test_list_functions_with_a_bad_marker_is_refused(lam):
    with pytest.raises(ClientError) as info:
        lam.list_functions(Marker="garbage")
    assert error_of(info)[:2] == ("InvalidParameterValueException", 400)


def test_delete_function_answers_204_and_the_function_is_gone(lam):
    create(lam, Publish=True)
    deleted = lam.delete_function(FunctionName="hello")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as info:
        lam.get_function(FunctionName="hello")
    assert error_of(info)[:2] == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as info:
        lam.delete_function(FunctionName="hello")
    assert error_of(info) == ("ResourceNotFoundException", 404, f"Function not found: {ARN}:hello")


def test_delete_function_with_a_qualifier_deletes_one_version(lam):
    create(lam, Publish=True)
    lam.update_function_code(FunctionName="hello", ZipFile=zip_of(HELLO + "# 2\n"), Publish=True)
    assert lam.delete_function(FunctionName="hello", Qualifier="1")["ResponseMetadata"]["HTTPStatusCode"] == 204
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName="hello")["Versions"]]
    assert versions == ["$LATEST", "2"]
    with pytest.raises(ClientError) as info:
        lam.delete_function(FunctionName="hello", Qualifier="$LATEST")
    assert error_of(info) == ("InvalidParameterValueException", 400,
                              "$LATEST version cannot be deleted without deleting the function.")


def test_delete_function_refuses_a_version_an_alias_points_to(lam):
    create(lam, Publish=True)
    lam.create_alias(FunctionName="hello", Name="live", FunctionVersion="1")
    with pytest.raises(ClientError) as info:
        lam.delete_function(FunctionName="hello", Qualifier="1")
    assert error_of(info) == ("ResourceConflictException", 409,
                              "Unable to delete version because the following aliases reference it: [live]")


def test_publish_version_answers_201_and_reuses_an_unchanged_version(lam):
    create(lam, Description="function description")
    published = lam.publish_version(FunctionName="hello", Description="first release")
    assert published["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert (published["Version"], published["FunctionArn"]) == ("1", f"{ARN}:hello:1")
    assert published["Description"] == "first release"
    again = lam.publish_version(FunctionName="hello")
    assert again["Version"] == "1"
    lam.update_function_configuration(FunctionName="hello", Timeout=10)
    assert lam.publish_version(FunctionName="hello")["Version"] == "2"


def test_publish_version_checks_code_sha256_and_revision(lam):
    created = create(lam)
    with pytest.raises(ClientError) as info:
        lam.publish_version(FunctionName="hello", CodeSha256="AAAA")
    code, status, message = error_of(info)
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message.startswith("CodeSHA256 (AAAA) is different from current CodeSHA256 in $LATEST")
    with pytest.raises(ClientError) as info:
        lam.publish_version(FunctionName="hello", RevisionId="stale")
    assert error_of(info)[:2] == ("PreconditionFailedException", 412)
    published = lam.publish_version(FunctionName="hello", CodeSha256=created["CodeSha256"],
                                    RevisionId=lam.get_function(FunctionName="hello")["Configuration"]["RevisionId"])
    assert published["Version"] == "1"


def test_publish_version_of_a_missing_function_is_404(lam):
    with pytest.raises(ClientError) as info:
        lam.publish_version(FunctionName="nope")
    assert error_of(info)[:2] == ("ResourceNotFoundException", 404)


def test_list_versions_by_function_pages(lam):
    create(lam, Publish=True)
    for n in (2, 3):
        lam.update_function_code(FunctionName="hello", ZipFile=zip_of(HELLO + f"# {n}\n"), Publish=True)
    listed = lam.list_versions_by_function(FunctionName="hello")
    assert [v["Version"] for v in listed["Versions"]] == ["$LATEST", "1", "2", "3"]
    assert listed["Versions"][0]["FunctionArn"] == f"{ARN}:hello:$LATEST"
    assert listed["Versions"][2]["FunctionArn"] == f"{ARN}:hello:2"
    first = lam.list_versions_by_function(FunctionName="hello", MaxItems=3)
    assert [v["Version"] for v in first["Versions"]] == ["$LATEST", "1", "2"]
    rest = lam.list_versions_by_function(FunctionName="hello", MaxItems=3, Marker=first["NextMarker"])
    assert [v["Version"] for v in rest["Versions"]] == ["3"]
    assert "NextMarker" not in rest
    with pytest.raises(ClientError) as info:
        lam.list_versions_by_function(FunctionName="nope")
    assert error_of(info)[:2] == ("ResourceNotFoundException", 404)
