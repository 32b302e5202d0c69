"""Lambda functions: $LATEST, published versions, aliases, resolution and deletion rules."""

from __future__ import annotations

import base64
import hashlib
import random
from collections import Counter

import pytest

from pinflow import arns, errors
from pinflow.clock import FakeClock
from pinflow.registry.functions import FunctionRegistry
from pinflow.store import Store
from tests.registry.conftest import code, exactly, hold, release

V1 = code("def handler(event, context):\n    return 'one'\n")
V2 = code("def handler(event, context):\n    return 'two'\n")
V3 = code("def handler(event, context):\n    return 'three'\n")
HELLO = arns.function("hello")


@pytest.fixture
def functions(store: Store, clock: FakeClock) -> FunctionRegistry:
    return FunctionRegistry(store, clock)


def b64sha(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_create_answers_lambdas_function_configuration(functions: FunctionRegistry) -> None:
    config = functions.create_function("hello", V1, "app.handler", environment={"GREETING": "hi"},
                                       description="says hello", role="arn:aws:iam::123456789012:role/r")
    assert config["FunctionName"] == "hello"
    assert config["FunctionArn"] == HELLO
    assert config["Version"] == "$LATEST"
    assert config["CodeSha256"] == b64sha(V1)
    assert config["CodeSize"] == len(V1)
    assert config["Runtime"] == "python3.11"
    assert config["Handler"] == "app.handler"
    assert (config["Timeout"], config["MemorySize"]) == (3, 128)
    assert config["Environment"] == {"Variables": {"GREETING": "hi"}}
    assert config["LastModified"] == "2024-01-31T12:00:00.000+0000"
    assert (config["State"], config["PackageType"]) == ("Active", "Zip")
    assert config["Role"] == "arn:aws:iam::123456789012:role/r"
    assert config["Description"] == "says hello"
    assert config["RevisionId"]

    got = functions.get_function("hello")
    assert got["Configuration"] == config
    assert got["Code"] == {"RepositoryType": "S3", "Location": ""}


def test_create_twice_conflicts_with_lambdas_wording(functions: FunctionRegistry) -> None:
    functions.create_function("hello", V1, "app.handler")
    with pytest.raises(errors.ResourceConflictException, match=exactly("Function already exist: hello")):
        functions.create_function("hello", V2, "app.handler")


def test_missing_function_names_the_arn_asked_for(functions: FunctionRegistry) -> None:
    with pytest.raises(errors.ResourceNotFoundException, match=exactly(f"Function not found: {HELLO}")):
        functions.get_function("hello")
    functions.create_function("hello", V1, "app.handler")
    with pytest.raises(errors.ResourceNotFoundException, match=exactly(f"Function not found: {HELLO}:7")):
        functions.get_configuration("hello", "7")
    with pytest.raises(errors.ResourceNotFoundException, match=exactly(f"Function not found: {HELLO}:7")):
        functions.resolve(f"{HELLO}:7", rng=random.Random(1))


def test_publish_returns_the_existing_version_when_nothing_changed(functions: FunctionRegistry) -> None:
    functions.create_function("hello", V1, "app.handler")
    first = functions.publish_version("hello")
    assert first["Version"] == "1"
    assert first["FunctionArn"] == f"{HELLO}:1"
    again = functions.publish_version("hello", description="a new description alone is no change")
    assert again["Version"] == "1"
    assert again["RevisionId"] == first["RevisionId"]

    functions.update_function_configuration("hello", timeout=10)
    assert functions.publish_version("hello")["Version"] == "2"
    functions.update_function_code("hello", V1)  # the same bytes: nothing changed since version 2
    assert functions.publish_version("hello")["Version"] == "2"
    functions.update_function_code("hello", V2)
    third = functions.publish_version("hello", description="v3")
    assert (third["Version"], third["Description"], third["CodeSha256"]) == ("3", "v3", b64sha(V2))


def test_publish_with_create_and_update_code(functions: FunctionRegistry) -> None:
    created = functions.create_function("hello", V1, "app.handler", publish=True)
    assert (created["Version"], created["FunctionArn"]) == ("1", f"{HELLO}:1")
    updated = functions.update_function_code("hello", V2, publish=True)
    assert (updated["Version"], updated["CodeSha256"]) == ("2", b64sha(V2))
    assert functions.get_configuration("hello", "1")["CodeSha256"] == b64sha(V1)
    assert functions.get_configuration("hello")["CodeSha256"] == b64sha(V2)


def test_version_numbers_are_not_reused_while_the_function_lives(functions: FunctionRegistry) -> None:
    functions.create_function("hello", V1, "app.handler", publish=True)
    functions.update_function_code("hello", V2, publish=True)
    functions.delete_function("hello", "2")
    # Version 2 is gone, so publishing the same code again makes a new version: 3, not 2.
    assert functions.publish_version("hello")["Version"] == "3"

    # A function deleted and created again is a new function: Lambda numbers its versions from 1.
    functions.delete_function("hello")
    functions.create_function("hello", V1, "app.handler", publish=True)
    versions, _ = functions.list_versions_by_function("hello")
    assert [v["Version"] for v in versions] == ["$LATEST", "1"]


def test_publish_guards(functions: FunctionRegistry) -> None:
    latest = functions.create_function("hello", V1, "app.handler")
    with pytest.raises(errors.InvalidParameterValueException) as bad_sha:
        functions.publish_version("hello", code_sha256=b64sha(V2))
    assert bad_sha.value.message == (
        f"CodeSHA256 ({b64sha(V2)}) is different from current CodeSHA256 in $LATEST ({b64sha(V1)}). "
        "Please try again with the CodeSHA256 in $LATEST.")
    with pytest.raises(errors.PreconditionFailedException, match="does not match the latest Revision Id"):
        functions.publish_version("hello", revision_id="not-the-revision")
    published = functions.publish_version("hello", code_sha256=b64sha(V1), revision_id=latest["RevisionId"])
    assert published["Version"] == "1"
    # Publishing moves $LATEST's RevisionId on, as on Lambda.
    assert functions.get_configuration("hello")["RevisionId"] != latest["RevisionId"]


def test_update_code_checks_the_revision_id(functions: FunctionRegistry) -> None:
    latest = functions.create_function("hello", V1, "app.handler")
    with pytest.raises(errors.PreconditionFailedException):
        functions.update_function_code("hello", V2, revision_id="stale")
    updated = functions.update_function_code("hello", V2, revision_id=latest["RevisionId"])
    assert updated["RevisionId"] != latest["RevisionId"]


def test_versions_keep_their_code_and_configuration(functions: FunctionRegistry) -> None:
    functions.create_function("hello", V1, "app.handler", environment={"MODE": "one"}, publish=True)
    functions.update_function_code("hello", V2)
    functions.update_function_configuration("hello", environment={"MODE": "two"}, timeout=30)
    one = functions.get_configuration("hello", "1")
    assert (one["CodeSha256"], one["Environment"], one["Timeout"]) == (b64sha(V1), {"Variables": {"MODE": "one"}}, 3)
    assert functions.load_code(hashlib.sha256(V1).hexdigest()) == V1
    assert functions.load_code(b64sha(V2)) == V2
    with pytest.raises(KeyError):
        functions.load_code(hashlib.sha256(b"never stored").hexdigest())


def test_list_versions_latest_first_then_ascending_with_markers(functions: FunctionRegistry) -> None:
    functions.create_function("hello", V1, "app.handler", publish=True)
    functions.update_function_code("hello", V2, publish=True)
    functions.update_function_code("hello", V3, publish=True)
    everything, marker = functions.list_versions_by_function("hello")
    assert [v["Version"] for v in everything] == ["$LATEST", "1", "2", "3"]
    assert everything[0]["FunctionArn"] == f"{HELLO}:$LATEST"
    assert marker is None
    page, marker = functions.list_versions_by_function("hello", max_items=3)
    assert [v["Version"] for v in page] == ["$LATEST", "1", "2"]
    rest, marker = functions.list_versions_by_function("hello", marker=marker, max_items=3)
    assert ([v["Version"] for v in rest], marker) == (["3"], None)


def test_version_and_alias_pages_hold_when_items_come_and_go_between_them(functions: FunctionRegistry) -> None:
    functions.create_function("hello", V1, "app.handler", publish=True)
    functions.update_function_code("hello", V2, publish=True)
    page, marker = functions.list_versions_by_function("hello", max_items=2)
    assert [v["Version"] for v in page] == ["$LATEST", "1"]
    functions.delete_function("hello", "1")  # an offset would now skip version 2
    functions.update_function_code("hello", V3, publish=True)
    rest, marker = functions.list_versions_by_function("hello", marker=marker, max_items=2)
    assert ([v["Version"] for v in rest], marker) == (["2", "3"], None)

    for alias in ("beta", "delta"):
        functions.create_alias("hello", alias, "2")
    aliases, marker = functions.list_aliases("hello", max_items=1)
    assert [a["Name"] for a in aliases] == ["beta"]
    functions.create_alias("hello", "alpha", "3")  # before the marker: an offset would repeat "beta"
    rest, marker = functions.list_aliases("hello", marker=marker, max_items=5)
    assert ([a["Name"] for a in rest], marker) == (["delta"], None)
    with pytest.raises(errors.InvalidParameterValueException):
        functions.list_aliases("hello", marker="not-a-marker")


def test_list_functions_pages_by_name(functions: FunctionRegistry) -> None:
    for name in ("charlie", "alpha", "bravo"):
        functions.create_function(name, V1, "app.handler")
    page, marker = functions.list_functions(max_items=2)
    assert [f["FunctionName"] for f in page] == ["alpha", "bravo"]
    assert page[0]["FunctionArn"] == arns.function("alpha")
    rest, marker = functions.list_functions(marker=marker, max_items=2)
    assert ([f["FunctionName"] for f in rest], marker) == (["charlie"], None)


# --- resolution ------------------------------------------------------------------------------------


def test_resolve_unqualified_and_latest_follow_latest(functions: FunctionRegistry) -> None:
    functions.create_function("hello", V1, "app.handler", timeout=7, environment={"AA": "1"}, publish=True)
    functions.update_function_code("hello", V2)
    for named in ("hello", HELLO, f"{HELLO}:$LATEST"):
        resolved = functions.resolve(named, rng=random.Random(0))
        assert resolved.executed_version == "$LATEST"
        assert resolved.spec.version == "$LATEST"
        assert resolved.spec.code_sha256 == hashlib.sha256(V2).hexdigest()
        assert (resolved.spec.timeout, dict(resolved.spec.environment)) == (7.0, {"AA": "1"})
        assert resolved.alias is None
    assert functions.resolve("hello", rng=random.Random(0)).requested_arn == HELLO
    assert functions.resolve("hello", "$LATEST", rng=random.Random(0)).requested_arn == f"{HELLO}:$LATEST"


def test_resolve_a_version_runs_that_version(functions: FunctionRegistry) -> None:
    functions.create_function("hello", V1, "app.handler", publish=True)
    functions.update_function_code("hello", V2, publish=True)
    resolved = functions.resolve("hello", "1", rng=random.Random(0))
    assert (resolved.executed_version, resolved.spec.version) == ("1", "1")
    assert resolved.spec.code_sha256 == hashlib.sha256(V1).hexdigest()
    assert resolved.requested_arn == f"{HELLO}:1"
    assert resolved.spec.arn == f"{HELLO}:1"
    # A partial ARN and another region's ARN are named back exactly as given.
    other = "arn:aws:lambda:eu-west-1:123456789012:function:hello:2"
    assert functions.resolve(other, rng=random.Random(0)).requested_arn == other
    assert functions.resolve("123456789012:function:hello:2", rng=random.Random(0)).executed_version == "2"


def test_resolve_an_alias_draws_both_versions_by_weight(functions: FunctionRegistry) -> None:
    functions.create_function("hello", V1, "app.handler", publish=True)
    functions.update_function_code("hello", V2, publish=True)
    functions.create_alias("hello", "live", "1", routing_config={"AdditionalVersionWeights": {"2": 0.25}})
    rng = random.Random(42)
    drawn = Counter(functions.resolve(f"{HELLO}:live", rng=rng).executed_version for _ in range(2000))
    assert set(drawn) == {"1", "2"}
    assert 0.20 < drawn["2"] / 2000 < 0.30
    resolved = functions.resolve("hello", "live", rng=random.Random(1))
    assert resolved.alias == "live"
    assert resolved.requested_arn == f"{HELLO}:live"


def test_resolve_missing_alias(functions: FunctionRegistry) -> None:
    functions.create_function("hello", V1, "app.handler")
    with pytest.raises(errors.ResourceNotFoundException, match=exactly(f"Function not found: {HELLO}:live")):
        functions.resolve(f"{HELLO}:live", rng=random.Random(0))


def test_a_qualifier_that_contradicts_the_name_is_refused(functions: FunctionRegistry) -> None:
    functions.create_function("hello", V1, "app.handler", publish=True)
    with pytest.raises(errors.InvalidParameterValueException, match="derived qualifier"):
        functions.get_configuration(f"{HELLO}:1", "2")
    with pytest.raises(errors.ValidationException):
        functions.get_configuration("not a name!")


# --- aliases -----------------------------------------------------------------------------------------


def test_alias_lifecycle(functions: FunctionRegistry) -> None:
    functions.create_function("hello", V1, "app.handler", publish=True)
    functions.update_function_code("hello", V2, publish=True)
    alias = functions.create_alias("hello", "live", "1", description="prod")
    assert alias["AliasArn"] == f"{HELLO}:live"
    assert (alias["Name"], alias["FunctionVersion"], alias["Description"]) == ("live", "1", "prod")
    assert "RoutingConfig" not in alias
    assert functions.get_alias("hello", "live") == alias
    # A configuration read through the alias names the alias in its ARN and the version it runs.
    through = functions.get_configuration("hello", "live")
    assert (through["FunctionArn"], through["Version"]) == (f"{HELLO}:live", "1")

    with pytest.raises(errors.PreconditionFailedException):
        functions.update_alias("hello", "live", function_version="2", revision_id="stale")
    moved = functions.update_alias("hello", "live", function_version="2", revision_id=alias["RevisionId"],
                                   routing_config={"AdditionalVersionWeights": {"1": 0.1}})
    assert moved["FunctionVersion"] == "2"
    assert moved["RoutingConfig"] == {"AdditionalVersionWeights": {"1": 0.1}}
    assert moved["Description"] == "prod"
    cleared = functions.update_alias("hello", "live", routing_config={})
    assert "RoutingConfig" not in cleared

    functions.create_alias("hello", "beta", "$LATEST")
    listed, marker = functions.list_aliases("hello")
    assert ([a["Name"] for a in listed], marker) == (["beta", "live"], None)
    assert [a["Name"] for a in functions.list_aliases("hello", function_version="2")[0]] == ["live"]
    functions.delete_alias("hello", "beta")
    with pytest.raises(errors.ResourceNotFoundException, match=exactly(f"Cannot find alias arn: {HELLO}:beta")):
        functions.get_alias("hello", "beta")


def test_alias_rules(functions: FunctionRegistry) -> None:
    functions.create_function("hello", V1, "app.handler", publish=True)
    functions.update_function_code("hello", V2, publish=True)
    functions.update_function_code("hello", V3, publish=True)
    functions.create_alias("hello", "live", "1")
    with pytest.raises(errors.ResourceConflictException, match=exactly(f"Alias already exists: {HELLO}:live")):
        functions.create_alias("hello", "live", "2")
    with pytest.raises(errors.ResourceNotFoundException, match=exactly(f"Function not found: {HELLO}:9")):
        functions.create_alias("hello", "nine", "9")
    with pytest.raises(errors.ResourceNotFoundException, match=exactly(f"Function not found: {HELLO}:9")):
        functions.create_alias("hello", "canary", "1", routing_config={"AdditionalVersionWeights": {"9": 0.5}})
    with pytest.raises(errors.InvalidParameterValueException, match="cannot be greater than 1"):
        functions.create_alias("hello", "canary", "1",
                               routing_config={"AdditionalVersionWeights": {"2": 0.1, "3": 0.1}})
    with pytest.raises(errors.ValidationException, match=r"less than or equal to 1\.0"):
        functions.create_alias("hello", "canary", "1", routing_config={"AdditionalVersionWeights": {"2": 1.5}})
    with pytest.raises(errors.InvalidParameterValueException, match="already included in routing"):
        functions.create_alias("hello", "canary", "1", routing_config={"AdditionalVersionWeights": {"1": 0.5}})
    with pytest.raises(errors.InvalidParameterValueException, match=r"^\$LATEST is not supported"):
        functions.create_alias("hello", "canary", "$LATEST",
                               routing_config={"AdditionalVersionWeights": {"2": 0.5}})
    with pytest.raises(errors.ValidationException, match="Map keys must satisfy"):
        functions.create_alias("hello", "canary", "1",
                               routing_config={"AdditionalVersionWeights": {"$LATEST": 0.5}})
    with pytest.raises(errors.ValidationException, match="at 'name'"):
        functions.create_alias("hello", "123", "1")
    with pytest.raises(errors.ValidationException, match="at 'functionVersion'"):
        functions.create_alias("hello", "odd", "latest")
    with pytest.raises(errors.ResourceNotFoundException, match=r"^Cannot find alias arn: "):
        functions.update_alias("hello", "missing", function_version="2")


# --- deletion --------------------------------------------------------------------------------------


def test_deleting_a_version_an_alias_routes_to_is_refused(functions: FunctionRegistry) -> None:
    functions.create_function("hello", V1, "app.handler", publish=True)
    functions.update_function_code("hello", V2, publish=True)
    functions.create_alias("hello", "live", "1", routing_config={"AdditionalVersionWeights": {"2": 0.5}})
    for version in ("1", "2"):
        with pytest.raises(errors.ResourceConflictException) as refused:
            functions.delete_function("hello", version)
        assert refused.value.message == "Unable to delete version because the following aliases reference it: [live]"
    functions.delete_alias("hello", "live")
    functions.delete_function("hello", "2")
    with pytest.raises(errors.ResourceNotFoundException, match=exactly(f"Function not found: {HELLO}:2")):
        functions.get_configuration("hello", "2")


def test_deleting_a_version_a_running_execution_holds_is_refused(functions: FunctionRegistry,
                                                                 store: Store) -> None:
    functions.create_function("hello", V1, "app.handler", publish=True)
    functions.update_function_code("hello", V2, publish=True)
    running = [arns.execution("story", "day-1"), arns.execution("story", "day-2")]
    for execution in running:
        hold(store, execution, f"{HELLO}:1")
    # Another region's ARN of the same name and version is a different resource, and holds nothing here.
    hold(store, arns.execution("story", "elsewhere"), "arn:aws:lambda:eu-west-1:123456789012:function:hello_x:1")
    with pytest.raises(errors.ResourceConflictException) as refused:
        functions.delete_function("hello", "1")
    assert f"[{running[0]}, {running[1]}]" in refused.value.message
    with pytest.raises(errors.ResourceConflictException, match="running executions hold its versions"):
        functions.delete_function("hello")
    functions.delete_function("hello", "2")  # nobody holds version 2

    for execution in running:
        release(store, execution)
    functions.delete_function("hello", "1")
    functions.delete_function("hello")
    with pytest.raises(errors.ResourceNotFoundException):
        functions.get_function("hello")


def test_deletion_argument_rules(functions: FunctionRegistry) -> None:
    functions.create_function("hello", V1, "app.handler", publish=True)
    functions.create_alias("hello", "live", "1")
    with pytest.raises(errors.InvalidParameterValueException, match=r"^\$LATEST version cannot be deleted"):
        functions.delete_function("hello", "$LATEST")
    with pytest.raises(errors.InvalidParameterValueException):
        functions.delete_function("hello", "live")
    with pytest.raises(errors.ResourceNotFoundException, match=exactly(f"Function not found: {HELLO}:5")):
        functions.delete_function(f"{HELLO}:5")
    with pytest.raises(errors.ResourceNotFoundException, match=exactly(f"Function not found: {arns.function('nope')}")):
        functions.delete_function("nope")
    functions.delete_function("hello")  # aliases and versions go with the function
    functions.create_function("hello", V1, "app.handler")
    assert functions.list_aliases("hello") == ([], None)


def test_tags(functions: FunctionRegistry) -> None:
    functions.create_function("hello", V1, "app.handler", tags={"team": "a"})
    assert functions.get_function("hello")["Tags"] == {"team": "a"}
    functions.tag_resource(HELLO, {"env": "prod"})
    functions.untag_resource(HELLO, ["team"])
    assert functions.list_tags(HELLO) == {"env": "prod"}


def test_an_invocation_runs_what_another_node_changed_the_moment_before(store: Store, clock: FakeClock) -> None:
    """Two nodes on one database: what one resolves follows the other's changes to $LATEST and to an
    alias at once."""
    node_a, node_b = FunctionRegistry(store, clock), FunctionRegistry(store, clock)
    node_b.create_function("hello", code("def handler(e, c):\n    return 1\n"), "app.handler",
                           environment={"STAGE": "one"}, publish=True)
    node_b.create_alias("hello", "live", "1")
    assert node_a.resolve("hello", rng=random.Random(0)).spec.environment == {"STAGE": "one"}
    assert node_a.resolve(f"{HELLO}:live", rng=random.Random(0)).executed_version == "1"
    node_b.update_function_configuration("hello", environment={"STAGE": "two"}, timeout=9)
    latest = node_a.resolve("hello", rng=random.Random(0)).spec
    assert (latest.environment, latest.timeout) == ({"STAGE": "two"}, 9.0)
    node_b.publish_version("hello")
    node_b.update_alias("hello", "live", function_version="2")
    moved = node_a.resolve(f"{HELLO}:live", rng=random.Random(0))
    assert (moved.executed_version, moved.spec.environment) == ("2", {"STAGE": "two"})
    assert node_a.resolve(f"{HELLO}:1", rng=random.Random(0)).spec.environment == {"STAGE": "one"}
