"""Lambda's resource-based policy, tags, reserved concurrency and account settings through boto3, and
version numbering after a function is deleted and created again."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

ARN = "arn:aws:lambda:us-east-1:123456789012:function:hello"
ROLE = "arn:aws:iam::123456789012:role/lambda-role"


def code(text: str = "def handler(event, context):\n    return 1\n") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", text)
    return buffer.getvalue()


def create(lam, **options) -> dict:
    return lam.create_function(FunctionName="hello", Runtime="python3.11", Handler="app.handler", Role=ROLE,
                               Code={"ZipFile": code()}, **options)


def error_of(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response = info.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def test_add_permission_get_policy_remove_permission(lam):
    create(lam)
    before = lam.get_function(FunctionName="hello")["Configuration"]["RevisionId"]
    answer = lam.add_permission(FunctionName="hello", StatementId="events", Action="lambda:InvokeFunction",
                                Principal="events.amazonaws.com", SourceAccount="123456789012",
                                SourceArn="arn:aws:events:us-east-1:123456789012:rule/r")
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 201
    statement = json.loads(answer["Statement"])
    # The statement as Lambda writes it (and as Terraform's aws_lambda_permission reads it back).
    assert statement == {"Sid": "events", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                         "Action": "lambda:InvokeFunction", "Resource": ARN,
                         "Condition": {"StringEquals": {"AWS:SourceAccount": "123456789012"},
                                       "ArnLike": {"AWS:SourceArn": "arn:aws:events:us-east-1:123456789012:rule/r"}}}
    lam.add_permission(FunctionName="hello", StatementId="account", Action="lambda:InvokeFunction",
                       Principal="111122223333")
    policy = lam.get_policy(FunctionName="hello")
    document = json.loads(policy["Policy"])
    assert (document["Version"], [s["Sid"] for s in document["Statement"]]) == ("2012-10-17", ["events", "account"])
    assert document["Statement"][1]["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    # Each change of the policy is a new revision of the function, as on Lambda.
    assert policy["RevisionId"] == lam.get_function(FunctionName="hello")["Configuration"]["RevisionId"] != before
    lam.remove_permission(FunctionName="hello", StatementId="events")
    lam.remove_permission(FunctionName="hello", StatementId="account")
    with pytest.raises(ClientError) as info:
        lam.get_policy(FunctionName="hello")
    assert error_of(info) == ("ResourceNotFoundException", 404, "The resource you requested does not exist.")


def test_permission_errors(lam):
    with pytest.raises(ClientError) as info:
        lam.add_permission(FunctionName="hello", StatementId="s", Action="lambda:InvokeFunction", Principal="*")
    assert error_of(info) == ("ResourceNotFoundException", 404, f"Function not found: {ARN}")
    create(lam)
    lam.add_permission(FunctionName="hello", StatementId="s", Action="lambda:InvokeFunction", Principal="*")
    with pytest.raises(ClientError) as info:
        lam.add_permission(FunctionName="hello", StatementId="s", Action="lambda:InvokeFunction", Principal="*")
    assert error_of(info)[:2] == ("ResourceConflictException", 409)
    with pytest.raises(ClientError) as info:
        lam.add_permission(FunctionName="hello", StatementId="t", Action="lambda:InvokeFunction", Principal="*",
                           RevisionId="not-the-revision")
    assert error_of(info)[:2] == ("PreconditionFailedException", 412)
    with pytest.raises(ClientError) as info:
        lam.remove_permission(FunctionName="hello", StatementId="nobody")
    assert error_of(info)[:2] == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as info:
        lam.add_permission(FunctionName="hello", StatementId="bad id!", Action="lambda:InvokeFunction", Principal="*")
    assert error_of(info)[:2] == ("ValidationException", 400)
    with pytest.raises(ClientError) as info:
        lam.add_permission(FunctionName="hello", StatementId="x" * 90, Action="lambda:InvokeFunction",
                           Principal="*", SourceArn="arn:aws:s3:::" + "b" * 30_000)
    assert error_of(info)[:2] == ("PolicyLengthExceededException", 400)


def test_a_qualified_policy_belongs_to_its_alias(lam):
    create(lam, Publish=True)
    alias = lam.create_alias(FunctionName="hello", Name="live", FunctionVersion="1")
    lam.add_permission(FunctionName="hello", Qualifier="live", StatementId="s", Action="lambda:InvokeFunction",
                       Principal="sns.amazonaws.com")
    policy = lam.get_policy(FunctionName="hello", Qualifier="live")
    assert json.loads(policy["Policy"])["Statement"][0]["Resource"] == f"{ARN}:live"
    assert policy["RevisionId"] == lam.get_alias(FunctionName="hello", Name="live")["RevisionId"] != alias["RevisionId"]
    with pytest.raises(ClientError):
        lam.get_policy(FunctionName="hello")  # the function itself has none


def test_tags(lam):
    create(lam, Tags={"team": "blue"})
    lam.tag_resource(Resource=ARN, Tags={"env": "dev", "team": "red"})
    assert lam.list_tags(Resource=ARN)["Tags"] == {"team": "red", "env": "dev"}
    lam.untag_resource(Resource=ARN, TagKeys=["team"])
    assert lam.list_tags(Resource=ARN)["Tags"] == {"env": "dev"}
    assert lam.get_function(FunctionName="hello")["Tags"] == {"env": "dev"}
    with pytest.raises(ClientError) as info:
        lam.list_tags(Resource=f"{ARN}:1")
    assert error_of(info)[:2] == ("InvalidParameterValueException", 400)
    with pytest.raises(ClientError) as info:
        lam.list_tags(Resource="arn:aws:lambda:us-east-1:123456789012:function:nobody")
    assert error_of(info)[:2] == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as info:
        lam.tag_resource(Resource=ARN, Tags={f"k{i}": "v" for i in range(50)})
    assert error_of(info)[:2] == ("InvalidParameterValueException", 400)


def test_reserved_concurrency_and_account_settings(lam):
    create(lam, Publish=True)
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName="hello")
    assert "Concurrency" not in lam.get_function(FunctionName="hello")
    assert lam.put_function_concurrency(FunctionName="hello", ReservedConcurrentExecutions=25)[
        "ReservedConcurrentExecutions"] == 25
    assert lam.get_function_concurrency(FunctionName="hello")["ReservedConcurrentExecutions"] == 25
    assert lam.get_function(FunctionName="hello")["Concurrency"] == {"ReservedConcurrentExecutions": 25}
    settings = lam.get_account_settings()
    assert settings["AccountLimit"]["ConcurrentExecutions"] == 1000
    assert settings["AccountLimit"]["UnreservedConcurrentExecutions"] == 975
    assert settings["AccountUsage"]["FunctionCount"] == 1
    assert settings["AccountUsage"]["TotalCodeSize"] == len(code())
    # Lambda keeps at least 100 executions unreserved in the account.
    with pytest.raises(ClientError) as info:
        lam.put_function_concurrency(FunctionName="hello", ReservedConcurrentExecutions=901)
    assert error_of(info)[:2] == ("InvalidParameterValueException", 400)
    lam.delete_function_concurrency(FunctionName="hello")
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName="hello")
    with pytest.raises(ClientError) as info:
        lam.put_function_concurrency(FunctionName="nobody", ReservedConcurrentExecutions=1)
    assert error_of(info)[:2] == ("ResourceNotFoundException", 404)


def test_a_function_created_again_numbers_its_versions_from_one(lam):
    create(lam, Publish=True)
    lam.update_function_code(FunctionName="hello", ZipFile=code("def handler(e, c):\n    return 2\n"), Publish=True)
    lam.add_permission(FunctionName="hello", StatementId="s", Action="lambda:InvokeFunction", Principal="*")
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName="hello")["Versions"]] == [
        "$LATEST", "1", "2"]
    lam.delete_function(FunctionName="hello")
    assert create(lam, Publish=True)["Version"] == "1"
    with pytest.raises(ClientError):
        lam.get_policy(FunctionName="hello")  # the old function's policy went with it


def test_odd_qualifiers_are_refused_or_not_found_never_a_server_error(lam):
    """Lambda checks Qualifier against its model (1-128 characters of `\\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+`,
    NumericLatestPublishedOrAliasQualifier) and answers ValidationException otherwise; a well-formed version
    or alias that does not exist is ResourceNotFoundException, however large its number."""
    create(lam, Publish=True)
    lam.add_permission(FunctionName="hello", StatementId="s", Action="lambda:InvokeFunction",
                       Principal="events.amazonaws.com", Qualifier="1")
    calls = {
        "AddPermission": lambda q: lam.add_permission(FunctionName="hello", StatementId="t", Qualifier=q,
                                                      Principal="s3.amazonaws.com", Action="lambda:InvokeFunction"),
        "GetPolicy": lambda q: lam.get_policy(FunctionName="hello", Qualifier=q),
        "RemovePermission": lambda q: lam.remove_permission(FunctionName="hello", StatementId="s", Qualifier=q),
        "GetFunction": lambda q: lam.get_function(FunctionName="hello", Qualifier=q),
        "GetFunctionConfiguration": lambda q: lam.get_function_configuration(FunctionName="hello", Qualifier=q),
        "Invoke": lambda q: lam.invoke(FunctionName="hello", Qualifier=q),
        "DeleteFunction": lambda q: lam.delete_function(FunctionName="hello", Qualifier=q),
    }
    pattern = r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+"
    for qualifier in ("²", "\u0661", "1 ", "a/b", "é"):
        for operation, call in calls.items():
            with pytest.raises(ClientError) as info:
                call(qualifier)
            assert error_of(info) == ("ValidationException", 400, f"1 validation error detected: Value '{qualifier}' "
                                      f"at 'qualifier' failed to satisfy constraint: Member must satisfy regular "
                                      f"expression pattern: {pattern}"), operation
    with pytest.raises(ClientError) as info:
        calls["GetFunction"]("a" * 129)
    assert error_of(info)[:2] == ("ValidationException", 400)
    for qualifier in ("9" * 30, "9" * 128, "3000000000", "2147483648", "4294967296"):
        for operation, call in calls.items():
            with pytest.raises(ClientError) as info:
                call(qualifier)
            assert error_of(info)[:2] == ("ResourceNotFoundException", 404), (operation, qualifier)
    assert json.loads(lam.get_policy(FunctionName="hello", Qualifier="1")["Policy"])["Statement"][0]["Sid"] == "s"


# Lambda's TagKey and TagValue (its service model): 1-128 and 0-256 characters of AWS's tag alphabet.
TAG_ALPHABET = r"([\p{L}\p{Z}\p{N}_.:/=+\-@]*)"
KEY_CONSTRAINT = ("Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must "
                  f"have length greater than or equal to 1, Member must satisfy regular expression pattern: "
                  f"{TAG_ALPHABET}]")
VALUE_CONSTRAINT = ("Map value must satisfy constraint: [Member must have length less than or equal to 256, Member "
                    f"must have length greater than or equal to 0, Member must satisfy regular expression pattern: "
                    f"{TAG_ALPHABET}]")


def test_tags_are_checked_as_lambda_checks_them(server, lam):
    """Lambda refuses tags off its model (ValidationException), keys starting with `aws:` (which AWS keeps
    for itself, in any case), and more than 50 tags per function; none of it is stored."""
    create(lam, Tags={"team": "blue"})
    loose = server.client("lambda", config=Config(inject_host_prefix=False, retries={"max_attempts": 0},
                                                  region_name="us-east-1", parameter_validation=False))
    try:
        for tags, constraint in (({"a" * 129: "v"}, KEY_CONSTRAINT), ({"k" * 5000: "v"}, KEY_CONSTRAINT),
                                 ({"": "v"}, KEY_CONSTRAINT), ({"a\x00b": "v"}, KEY_CONSTRAINT),
                                 ({"a!": "v"}, KEY_CONSTRAINT), ({"k": "v" * 257}, VALUE_CONSTRAINT),
                                 ({"k": "semi;colon"}, VALUE_CONSTRAINT)):
            for call in (lambda t: loose.tag_resource(Resource=ARN, Tags=t),
                         lambda t: loose.create_function(FunctionName="other", Runtime="python3.11", Role=ROLE,
                                                         Handler="app.handler", Code={"ZipFile": code()}, Tags=t)):
                with pytest.raises(ClientError) as info:
                    call(tags)
                (key, value), = tags.items()
                assert error_of(info) == ("ValidationException", 400, f"1 validation error detected: Value "
                                          f"'{{{key}={value}}}' at 'tags' failed to satisfy constraint: {constraint}")
        for key in ("aws:team", "AWS:team", "Aws:x"):
            with pytest.raises(ClientError) as info:
                lam.tag_resource(Resource=ARN, Tags={key: "v"})
            assert error_of(info)[:2] == ("InvalidParameterValueException", 400)
        # A value that is not a string is not a request Lambda can read.
        with pytest.raises(ClientError) as info:
            loose.tag_resource(Resource=ARN, Tags={"team": {"x": [1]}})
        assert error_of(info)[:2] == ("InvalidRequestContentException", 400)
        with pytest.raises(ClientError) as info:
            lam.create_function(FunctionName="other", Runtime="python3.11", Role=ROLE, Handler="app.handler",
                                Code={"ZipFile": code()}, Tags={f"k{i}": "v" for i in range(51)})
        assert error_of(info)[:2] == ("InvalidParameterValueException", 400)
        # Letters, numbers and spaces of any script, and _.:/=+-@, are all in the alphabet.
        lam.tag_resource(Resource=ARN, Tags={"équipe ½ 東京 _.:/=+-@": "ça va ٣ "})
        assert lam.list_tags(Resource=ARN)["Tags"] == {"team": "blue", "équipe ½ 東京 _.:/=+-@": "ça va ٣ "}
        assert [f["FunctionName"] for f in lam.list_functions()["Functions"]] == ["hello"]
    finally:
        loose.close()


def test_a_function_arn_of_another_region_or_account_is_not_this_servers(lam):
    create(lam, Tags={"team": "blue"})
    for elsewhere in ("arn:aws:lambda:eu-west-1:123456789012:function:hello",
                      "arn:aws:lambda:us-east-1:999999999999:function:hello"):
        for call in (lambda arn: lam.tag_resource(Resource=arn, Tags={"env": "x"}),
                     lambda arn: lam.untag_resource(Resource=arn, TagKeys=["team"]),
                     lambda arn: lam.list_tags(Resource=arn)):
            with pytest.raises(ClientError) as info:
                call(elsewhere)
            assert error_of(info) == ("ResourceNotFoundException", 404, f"Function not found: {elsewhere}")
    assert lam.list_tags(Resource=ARN)["Tags"] == {"team": "blue"}
