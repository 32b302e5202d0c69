"""Lambda layers through boto3: the six layer operations, `Layers` on a function (pinned with each version,
unpacked where Lambda puts them), and Node.js functions on a server (the runtime that runs them, their
errors matched by a state machine's Catch)."""

from __future__ import annotations

import io
import json
import shutil
import zipfile

import pytest
from botocore.exceptions import ClientError

from tests.api.test_lambda_functions import ROLE, error_of
from tests.api.test_sfn_story import finished
from tests.roles import execution_role

LAYER_ARN = "arn:aws:lambda:us-east-1:123456789012:layer"
USES_GREETER = "import greeter\n\ndef handler(event, context):\n    return greeter.greet(event['name'])\n"

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")


def zip_files(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def greeter(word: str) -> bytes:
    """A Python layer: `python/greeter.py`, on the path of Python functions as in Lambda's /opt/python."""
    return zip_files({"python/greeter.py": f"def greet(name):\n    return '{word} ' + name\n"})


def publish(lam, name: str = "greeter", word: str = "hello", **extra) -> dict:
    return lam.publish_layer_version(LayerName=name, Content={"ZipFile": greeter(word)}, **extra)


def test_layer_versions_are_published_listed_and_deleted_as_lambda_does(lam):
    first = publish(lam, Description="first", CompatibleRuntimes=["python3.11"], LicenseInfo="MIT")
    assert first["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert first["LayerArn"] == f"{LAYER_ARN}:greeter"
    assert first["LayerVersionArn"] == f"{LAYER_ARN}:greeter:1"
    assert first["Version"] == 1
    assert first["Content"]["CodeSize"] == len(greeter("hello"))
    assert (first["Description"], first["CompatibleRuntimes"], first["LicenseInfo"]) == ("first", ["python3.11"], "MIT")
    second = publish(lam, word="hi", CompatibleRuntimes=["nodejs20.x"])
    assert second["Version"] == 2
    got = lam.get_layer_version(LayerName="greeter", VersionNumber=1)
    assert got["LayerVersionArn"] == first["LayerVersionArn"]
    assert got["Content"]["CodeSha256"] == first["Content"]["CodeSha256"]
    assert lam.get_layer_version_by_arn(Arn=f"{LAYER_ARN}:greeter:2")["Version"] == 2
    assert lam.get_layer_version(LayerName=f"{LAYER_ARN}:greeter", VersionNumber=2)["Version"] == 2
    listed = lam.list_layer_versions(LayerName="greeter")["LayerVersions"]
    assert [item["Version"] for item in listed] == [2, 1]  # newest first
    assert [item["Version"] for item in lam.list_layer_versions(
        LayerName="greeter", CompatibleRuntime="python3.11")["LayerVersions"]] == [1]
    publish(lam, name="other")
    layers = lam.list_layers()["Layers"]
    assert [(item["LayerName"], item["LatestMatchingVersion"]["Version"]) for item in layers] == [
        ("greeter", 2), ("other", 1)]
    matching = lam.list_layers(CompatibleRuntime="python3.11")["Layers"]
    assert [(item["LayerName"], item["LatestMatchingVersion"]["Version"]) for item in matching] == [("greeter", 1)]

    assert lam.delete_layer_version(LayerName="greeter", VersionNumber=2)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as info:
        lam.get_layer_version(LayerName="greeter", VersionNumber=2)
    assert error_of(info)[:2] == ("ResourceNotFoundException", 404)
    lam.delete_layer_version(LayerName="greeter", VersionNumber=2)  # again: nothing to do, no error
    lam.delete_layer_version(LayerName="greeter", VersionNumber=1)
    assert [item["LayerName"] for item in lam.list_layers()["Layers"]] == ["other"]
    # Version numbers are never handed out again, even once every version is deleted.
    assert publish(lam)["Version"] == 3


def test_a_functions_layers_are_pinned_with_each_version(lam):
    v1 = publish(lam, word="hello")["LayerVersionArn"]
    created = lam.create_function(FunctionName="hello", Runtime="python3.11", Handler="app.handler", Role=ROLE,
                                  Code={"ZipFile": zip_files({"app.py": USES_GREETER})}, Layers=[v1], Publish=True)
    assert created["Layers"] == [{"Arn": v1, "CodeSize": len(greeter("hello"))}]
    v2 = publish(lam, word="howdy")["LayerVersionArn"]
    lam.update_function_configuration(FunctionName="hello", Layers=[v2])
    assert lam.publish_version(FunctionName="hello")["Version"] == "2"  # a new layer is a new version

    def call(qualifier: str) -> str:
        response = lam.invoke(FunctionName="hello", Qualifier=qualifier, Payload=json.dumps({"name": "ann"}))
        return json.loads(response["Payload"].read())

    assert call("1") == "hello ann"
    assert call("2") == "howdy ann"
    # A deleted layer version stays with the function versions that use it, as on Lambda.
    lam.delete_layer_version(LayerName="greeter", VersionNumber=1)
    assert call("1") == "hello ann"
    assert lam.get_function(FunctionName="hello", Qualifier="1")["Configuration"]["Layers"][0]["Arn"] == v1
    with pytest.raises(ClientError) as info:
        lam.update_function_configuration(FunctionName="hello", Layers=[v1])
    assert error_of(info) == ("InvalidParameterValueException", 400, f"Layer version {v1} does not exist.")
    # Taking the layers off is a change too.
    lam.update_function_configuration(FunctionName="hello", Layers=[])
    assert "Layers" not in lam.get_function_configuration(FunctionName="hello")


def test_layers_are_checked_as_lambda_checks_them(lam):
    arns = [publish(lam, name=f"layer{i}")["LayerVersionArn"] for i in range(6)]
    second = publish(lam, name="layer0")["LayerVersionArn"]
    cases = [
        (arns, ("InvalidParameterValueException", 400, "Cannot reference more than 5 layers.")),
        # "Layer version <arn> does not exist." is Lambda's answer as users quote it (CreateFunction, 400).
        ([f"{LAYER_ARN}:missing:1"], ("InvalidParameterValueException", 400,
                                      f"Layer version {LAYER_ARN}:missing:1 does not exist.")),
    ]
    for layers, expected in cases:
        with pytest.raises(ClientError) as info:
            lam.create_function(FunctionName="f", Runtime="python3.11", Handler="app.handler", Role=ROLE,
                                Code={"ZipFile": zip_files({"app.py": USES_GREETER})}, Layers=layers)
        assert error_of(info) == expected
    # Two versions of one layer are refused (Lambda's code and status; its exact wording is not on record).
    with pytest.raises(ClientError) as info:
        lam.create_function(FunctionName="f", Runtime="python3.11", Handler="app.handler", Role=ROLE,
                            Code={"ZipFile": zip_files({"app.py": USES_GREETER})}, Layers=[arns[0], second])
    code, status, message = error_of(info)
    assert (code, status) == ("InvalidParameterValueException", 400) and arns[0] in message and second in message
    with pytest.raises(ClientError) as info:
        lam.create_function(FunctionName="f", Runtime="python3.11", Handler="app.handler", Role=ROLE,
                            Code={"ZipFile": zip_files({"app.py": USES_GREETER})}, Layers=["not-an-arn"])
    # As Lambda words it (a user's report of UpdateFunctionConfiguration, 2024), with the pattern of botocore's
    # current model of the API.
    from pinflow.registry import layers

    assert error_of(info) == ("ValidationException", 400, (
        "1 validation error detected: Value '[not-an-arn]' at 'layers' failed to satisfy constraint: Member must "
        "satisfy constraint: [Member must have length less than or equal to 2048, Member must have length greater "
        f"than or equal to 1, Member must satisfy regular expression pattern: {layers.pattern('LayerVersionArn')}, "
        "Member must not be null]"))


@needs_node
def test_a_nodejs_function_says_which_node_runs_it(lam):
    from pinflow.functions.runtimes import node

    created = lam.create_function(
        FunctionName="old", Runtime="nodejs8.10", Handler="handler.hello", Role=ROLE,
        Code={"ZipFile": zip_files({"handler.js": "module.exports.hello = async () => { return 'Approved'; };"})})
    assert created["Runtime"] == "nodejs8.10"
    runtime_arn = created["RuntimeVersionConfig"]["RuntimeVersionArn"]
    assert runtime_arn == f"arn:aws:lambda:us-east-1::runtime:nodejs-{node.version()}"
    assert lam.get_function(FunctionName="old")["Configuration"]["RuntimeVersionConfig"]["RuntimeVersionArn"] == (
        runtime_arn)
    assert json.loads(lam.invoke(FunctionName="old")["Payload"].read()) == "Approved"


@needs_node
def test_a_node_error_is_caught_by_its_name(lam, sfn, pinflow_service):
    source = """
class MyError extends Error { constructor(message) { super(message); this.name = 'MyError'; } }
exports.handler = async (event) => { throw new MyError('declined: ' + event.who); };
"""
    function_arn = lam.create_function(
        FunctionName="judge", Runtime="nodejs20.x", Handler="app.handler", Role=ROLE,
        Code={"ZipFile": zip_files({"app.js": source})}, Publish=True)["FunctionArn"]
    definition = {"StartAt": "Judge", "States": {
        "Judge": {"Type": "Task", "Resource": function_arn, "End": True,
                  "Catch": [{"ErrorEquals": ["MyError"], "ResultPath": "$.error", "Next": "Caught"}]},
        "Caught": {"Type": "Pass", "End": True}}}
    machine = sfn.create_state_machine(name="judging", definition=json.dumps(definition),
                                       roleArn=execution_role(pinflow_service, "judging-role"))["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"who": "bo"}))["executionArn"]
    done = finished(sfn, execution)
    assert done["status"] == "SUCCEEDED"
    error = json.loads(done["output"])["error"]
    assert error["Error"] == "MyError"
    cause = json.loads(error["Cause"])
    assert (cause["errorType"], cause["errorMessage"]) == ("MyError", "declined: bo")
    assert cause["trace"][0] == "MyError: declined: bo"
