"""State machines: idempotent create, revisions, versions, aliases, StartExecution targets, deletion."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from pinflow import arns, errors
from pinflow.clock import FakeClock
from pinflow.registry.state_machines import StateMachineRegistry
from pinflow.store import Store
from tests.registry.conftest import exactly, hold, release

ROLE = arns.role("sfn-role")
OTHER_ROLE = arns.role("other-role")
SM = arns.state_machine("orders")


def definition(comment: str = "v1") -> str:
    return json.dumps({"Comment": comment, "StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})


def refuse_empty_comments(text: str) -> list[str]:
    """A stand-in validator: AWS-worded problems of a definition."""
    if json.loads(text).get("Comment") == "":
        return ["SCHEMA_VALIDATION_FAILED: Comment must not be empty at /Comment", "SECOND: not shown"]
    return []


@pytest.fixture
def machines(store: Store, clock: FakeClock) -> StateMachineRegistry:
    return StateMachineRegistry(store, clock, validate=refuse_empty_comments)


def start_running(store: Store, machine: str, execution: str) -> None:
    """A RUNNING execution row, as the engine writes it."""
    with store.transaction() as tx:
        tx.execute(
            "INSERT INTO executions (arn, seq, machine, name, type, status, revision_id, role_arn, input, "
            "started_at, state, pins) VALUES (?, 1, ?, ?, 'STANDARD', 'RUNNING', 'r', ?, '{}', 0, '{}', '{}')",
            (execution, machine, execution.rsplit(":", 1)[1], ROLE))


def finish(store: Store, execution: str) -> None:
    with store.transaction() as tx:
        tx.execute("UPDATE executions SET status = 'SUCCEEDED' WHERE arn = ?", (execution,))


# --- create and describe -----------------------------------------------------------------------------


def test_create_and_describe(machines: StateMachineRegistry, clock: FakeClock) -> None:
    created = machines.create("orders", definition(), ROLE)
    assert created == {"stateMachineArn": SM, "creationDate": clock.now}
    described = machines.describe(SM)
    assert described == {
        "stateMachineArn": SM, "name": "orders", "status": "ACTIVE", "definition": definition(),
        "roleArn": ROLE, "type": "STANDARD", "creationDate": clock.now,
        "loggingConfiguration": {"level": "OFF", "includeExecutionData": False},
        "tracingConfiguration": {"enabled": False},
    }  # no revisionId until an update changes something, as on AWS


def test_create_is_idempotent_as_on_aws(machines: StateMachineRegistry, clock: FakeClock) -> None:
    first = machines.create("orders", definition(), ROLE, publish=True, version_description="first")
    clock.advance(60)
    # A different role or tags are ignored: the same machine comes back.
    again = machines.create("orders", definition(), OTHER_ROLE, publish=True, version_description="first",
                            tags=[{"key": "k", "value": "v"}])
    assert again == first
    assert first["stateMachineVersionArn"] == f"{SM}:1"
    assert machines.describe(SM)["roleArn"] == ROLE

    message = exactly(f"State Machine Already Exists: '{SM}'")
    with pytest.raises(errors.StateMachineAlreadyExists, match=message):
        machines.create("orders", definition("v2"), ROLE, publish=True, version_description="first")
    # The same definition written differently is a different definition.
    spaced = json.dumps(json.loads(definition()), indent=2)
    with pytest.raises(errors.StateMachineAlreadyExists, match=message):
        machines.create("orders", spaced, ROLE, publish=True, version_description="first")
    with pytest.raises(errors.StateMachineAlreadyExists, match=message):
        machines.create("orders", definition(), ROLE, type="EXPRESS", publish=True, version_description="first")
    with pytest.raises(errors.StateMachineAlreadyExists, match=message):
        machines.create("orders", definition(), ROLE)  # publish differs
    with pytest.raises(errors.StateMachineAlreadyExists, match=message):
        machines.create("orders", definition(), ROLE, publish=True, version_description="first",
                        tracing={"enabled": True})


def test_create_argument_rules(machines: StateMachineRegistry) -> None:
    only_with_publish = exactly("Version description can only be set when publish is true")
    with pytest.raises(errors.ValidationException, match=only_with_publish):
        machines.create("orders", definition(), ROLE, version_description="no")
    with pytest.raises(errors.InvalidName, match=exactly("Invalid Name: 'bad name'")):
        machines.create("bad name", definition(), ROLE)
    with pytest.raises(errors.ValidationException, match="enum value set"):
        machines.create("orders", definition(), ROLE, type="FAST")
    with pytest.raises(errors.InvalidDefinition) as invalid:
        machines.create("orders", definition(""), ROLE)
    assert invalid.value.message == (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Comment must not be empty at /Comment'")
    with pytest.raises(errors.StateMachineDoesNotExist, match=exactly(f"State Machine Does Not Exist: '{SM}'")):
        machines.describe(SM)
    with pytest.raises(errors.InvalidArn, match=exactly("Invalid Arn: 'Invalid ARN prefix: orders'")):
        machines.describe("orders")


def test_list_state_machines_by_name_with_tokens(machines: StateMachineRegistry) -> None:
    for name in ("c", "a", "b"):
        machines.create(name, definition(), ROLE)
    page = machines.list(max_results=2)
    assert [m["name"] for m in page["stateMachines"]] == ["a", "b"]
    assert set(page["stateMachines"][0]) == {"stateMachineArn", "name", "type", "creationDate"}
    rest = machines.list(next_token=page["nextToken"], max_results=2)
    assert [m["name"] for m in rest["stateMachines"]] == ["c"]
    assert "nextToken" not in rest
    assert len(machines.list(max_results=0)["stateMachines"]) == 3  # 0 means the default page
    with pytest.raises(errors.ValidationException, match="less than or equal to 1000"):
        machines.list(max_results=1001)
    with pytest.raises(errors.InvalidToken):
        machines.list(next_token="not-a-token")


def test_pages_neither_repeat_nor_skip_when_items_come_and_go_between_them(machines: StateMachineRegistry,
                                                                           clock: FakeClock) -> None:
    for name in ("b", "d", "f"):
        machines.create(name, definition(), ROLE)
    page = machines.list(max_results=2)
    assert [m["name"] for m in page["stateMachines"]] == ["b", "d"]
    machines.create("a", definition(), ROLE)  # before the token: an offset would repeat "d"
    assert [m["name"] for m in machines.list(next_token=page["nextToken"])["stateMachines"]] == ["f"]

    machines.update(arns.state_machine("b"), definition=definition("x"), publish=True)
    for n in range(2, 6):
        machines.update(arns.state_machine("b"), definition=definition(f"v{n}"), publish=True)
    versions = machines.list_versions(arns.state_machine("b"), max_results=2)
    assert [v["stateMachineVersionArn"][-1] for v in versions["stateMachineVersions"]] == ["5", "4"]
    machines.update(arns.state_machine("b"), definition=definition("v6"), publish=True)  # version 6, newest
    rest = machines.list_versions(arns.state_machine("b"), next_token=versions["nextToken"], max_results=2)
    assert [v["stateMachineVersionArn"][-1] for v in rest["stateMachineVersions"]] == ["3", "2"]

    b = arns.state_machine("b")
    for name in ("one", "two", "three"):
        clock.advance(1)
        machines.create_alias(name, [{"stateMachineVersionArn": f"{b}:1", "weight": 100}])
    aliases = machines.list_aliases(b, max_results=2)
    assert [a["stateMachineAliasArn"].rsplit(":", 1)[1] for a in aliases["stateMachineAliases"]] == ["one", "two"]
    machines.delete_alias(f"{b}:one")  # an offset would now skip "three"
    rest = machines.list_aliases(b, next_token=aliases["nextToken"], max_results=2)
    assert [a["stateMachineAliasArn"].rsplit(":", 1)[1] for a in rest["stateMachineAliases"]] == ["three"]
    with pytest.raises(errors.InvalidToken):
        machines.list_versions(b, next_token=page["nextToken"])  # a token of another list


# --- revisions -------------------------------------------------------------------------------------


def test_updates_make_revisions_and_unchanged_updates_do_not(machines: StateMachineRegistry,
                                                             clock: FakeClock) -> None:
    machines.create("orders", definition(), ROLE)
    clock.advance(10)
    unchanged = machines.update(SM, definition=definition())
    assert unchanged == {"updateDate": clock.now}  # still the initial revision, as AWS answers

    first = machines.update(SM, definition=definition("v2"))
    assert first["revisionId"]
    assert machines.describe(SM)["revisionId"] == first["revisionId"]
    assert machines.update(SM, definition=definition("v2"), role_arn=ROLE)["revisionId"] == first["revisionId"]
    second = machines.update(SM, role_arn=OTHER_ROLE)
    assert second["revisionId"] != first["revisionId"]
    third = machines.update(SM, logging={"level": "ALL", "includeExecutionData": True,
                                         "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": "arn:x"}}]})
    assert third["revisionId"] != second["revisionId"]

    # Revisions are immutable: the first one still holds what it held.
    old = machines.revision(first["revisionId"])
    assert (old["definition"], old["roleArn"], old["revisionId"]) == (definition("v2"), ROLE, first["revisionId"])
    current = machines.describe(SM)
    assert (current["roleArn"], current["loggingConfiguration"]["level"]) == (OTHER_ROLE, "ALL")


def test_update_argument_rules(machines: StateMachineRegistry) -> None:
    machines.create("orders", definition(), ROLE, publish=True)
    with pytest.raises(errors.MissingRequiredParameter, match=r"^Either the definition, the role ARN"):
        machines.update(SM)
    with pytest.raises(errors.ValidationException, match="publish is true"):
        machines.update(SM, definition=definition("v2"), version_description="no")
    with pytest.raises(errors.StateMachineDoesNotExist, match=exactly(f"State Machine Does Not Exist: '{SM}:1'")):
        machines.update(f"{SM}:1", definition=definition("v2"))
    with pytest.raises(errors.InvalidDefinition):
        machines.update(SM, definition=definition(""))
    with pytest.raises(errors.StateMachineDoesNotExist):
        machines.update(arns.state_machine("missing"), definition=definition())


# --- versions --------------------------------------------------------------------------------------


def test_publish_is_idempotent_per_revision_and_numbers_are_never_reused(machines: StateMachineRegistry,
                                                                          clock: FakeClock) -> None:
    machines.create("orders", definition(), ROLE)
    v1 = machines.publish_version(SM)
    assert v1 == {"stateMachineVersionArn": f"{SM}:1", "creationDate": clock.now}
    clock.advance(5)
    assert machines.publish_version(SM) == v1
    assert machines.publish_version(SM, revision_id="INITIAL") == v1

    revision = machines.update(SM, definition=definition("v2"), publish=True, version_description="two")
    assert revision["stateMachineVersionArn"] == f"{SM}:2"
    machines.delete_version(f"{SM}:2")
    # The revision's version is gone: publishing it again makes version 3, never 2 again.
    assert machines.publish_version(SM, revision_id=revision["revisionId"])["stateMachineVersionArn"] == f"{SM}:3"

    listed = machines.list_versions(SM)
    assert [v["stateMachineVersionArn"] for v in listed["stateMachineVersions"]] == [f"{SM}:3", f"{SM}:1"]
    page = machines.list_versions(SM, max_results=1)
    assert [v["stateMachineVersionArn"] for v in page["stateMachineVersions"]] == [f"{SM}:3"]
    rest = machines.list_versions(SM, next_token=page["nextToken"], max_results=1)
    assert [v["stateMachineVersionArn"] for v in rest["stateMachineVersions"]] == [f"{SM}:1"]
    assert machines.list_versions(arns.state_machine("missing")) == {"stateMachineVersions": []}


def test_publish_checks_the_revision_id(machines: StateMachineRegistry) -> None:
    machines.create("orders", definition(), ROLE)
    second = machines.update(SM, definition=definition("v2"))["revisionId"]
    third = machines.update(SM, definition=definition("v3"))["revisionId"]
    with pytest.raises(errors.ConflictException) as conflict:
        machines.publish_version(SM, revision_id=second)
    assert conflict.value.message == (
        f"Failed to publish the State Machine version for revision {second}. "
        f"The current State Machine revision is {third}.")
    with pytest.raises(errors.ConflictException, match=exactly(
            f"Failed to publish the State Machine version for revision INITIAL. "
            f"The current State Machine revision is {third}.")):
        machines.publish_version(SM, revision_id="INITIAL")
    assert machines.publish_version(SM, revision_id=third)["stateMachineVersionArn"] == f"{SM}:1"


def test_describe_a_version_shows_its_own_revision(machines: StateMachineRegistry, clock: FakeClock) -> None:
    machines.create("orders", definition(), ROLE, publish=True, version_description="launch")
    clock.advance(30)
    second = machines.update(SM, definition=definition("v2"), role_arn=OTHER_ROLE, publish=True)
    one = machines.describe(f"{SM}:1")
    assert (one["stateMachineArn"], one["definition"], one["roleArn"]) == (f"{SM}:1", definition(), ROLE)
    assert one["description"] == "launch"
    assert "revisionId" not in one
    two = machines.describe(f"{SM}:2")
    assert (two["definition"], two["revisionId"], two["creationDate"]) == (
        definition("v2"), second["revisionId"], clock.now)
    assert "description" not in two
    with pytest.raises(errors.StateMachineDoesNotExist, match=f"'{SM}:7'"):
        machines.describe(f"{SM}:7")


def test_deleting_versions(machines: StateMachineRegistry, store: Store) -> None:
    machines.create("orders", definition(), ROLE, publish=True)
    machines.update(SM, definition=definition("v2"), publish=True)
    machines.create_alias("live", [{"stateMachineVersionArn": f"{SM}:1", "weight": 100}])
    with pytest.raises(errors.ConflictException) as aliased:
        machines.delete_version(f"{SM}:1")
    assert aliased.value.message == (
        "Version to be deleted must not be referenced by an alias. "
        "Current list of aliases referencing this version: [live]")

    running = arns.execution("orders", "nightly")
    hold(store, running, f"{SM}:2")
    with pytest.raises(errors.ConflictException, match=f"executions referencing this version: \\[{running}\\]"):
        machines.delete_version(f"{SM}:2")
    release(store, running)
    machines.delete_version(f"{SM}:2")
    machines.delete_version(f"{SM}:2")  # a missing version: nothing to do
    machines.delete_version(arns.state_machine("missing", "1"))
    with pytest.raises(errors.InvalidArn):
        machines.delete_version(SM)


# --- aliases -----------------------------------------------------------------------------------------


def test_alias_lifecycle(machines: StateMachineRegistry, clock: FakeClock) -> None:
    machines.create("orders", definition(), ROLE, publish=True)
    machines.update(SM, definition=definition("v2"), publish=True)
    routing = [{"stateMachineVersionArn": f"{SM}:1", "weight": 100}]
    created = machines.create_alias("live", routing, description="prod")
    assert created == {"stateMachineAliasArn": f"{SM}:live", "creationDate": clock.now}
    clock.advance(1)
    assert machines.create_alias("live", routing, description="prod") == created  # idempotent
    conflict = exactly("Failed to create alias because an alias with the same name and a different routing "
                       "configuration already exists.")
    with pytest.raises(errors.ConflictException, match=conflict):
        machines.create_alias("live", [{"stateMachineVersionArn": f"{SM}:2", "weight": 100}], description="prod")
    with pytest.raises(errors.ConflictException, match=conflict):
        machines.create_alias("live", routing, description="other")
    both = [{"stateMachineVersionArn": f"{SM}:1", "weight": 40}, {"stateMachineVersionArn": f"{SM}:2", "weight": 60}]
    assert machines.create_alias("both", both)["stateMachineAliasArn"] == f"{SM}:both"
    # The same routes in another order are the same routing: idempotent, not a conflict.
    assert machines.create_alias("both", list(reversed(both)))["stateMachineAliasArn"] == f"{SM}:both"
    with pytest.raises(errors.ConflictException, match=conflict):
        machines.create_alias("both", [{**both[0], "weight": 60}, {**both[1], "weight": 40}])
    machines.delete_alias(f"{SM}:both")

    clock.advance(1)
    split = [{"stateMachineVersionArn": f"{SM}:1", "weight": 50}, {"stateMachineVersionArn": f"{SM}:2", "weight": 50}]
    assert machines.update_alias(f"{SM}:live", routing=split) == {"updateDate": clock.now}
    described = machines.describe_alias(f"{SM}:live")
    assert described == {"stateMachineAliasArn": f"{SM}:live", "name": "live", "description": "prod",
                         "routingConfiguration": split, "creationDate": created["creationDate"],
                         "updateDate": clock.now}
    # DescribeStateMachine through an alias describes the machine.
    assert machines.describe(f"{SM}:live")["stateMachineArn"] == SM

    clock.advance(1)
    machines.create_alias("beta", [{"stateMachineVersionArn": f"{SM}:2", "weight": 100}])
    listed = machines.list_aliases(SM)
    assert [a["stateMachineAliasArn"] for a in listed["stateMachineAliases"]] == [f"{SM}:live", f"{SM}:beta"]
    machines.delete_alias(f"{SM}:beta")
    machines.delete_alias(f"{SM}:beta")  # a missing alias: nothing to do
    with pytest.raises(errors.ResourceNotFound, match=exactly("Request references a resource that does not exist.")):
        machines.describe_alias(f"{SM}:beta")
    with pytest.raises(errors.ResourceNotFound):
        machines.update_alias(f"{SM}:beta", description="x")
    with pytest.raises(errors.StateMachineDoesNotExist):
        machines.list_aliases(arns.state_machine("missing"))


@pytest.mark.parametrize(("routing", "message"), [
    ([], "Member must have length greater than or equal to 1"),
    ([{"stateMachineVersionArn": f"{SM}:{n}", "weight": w} for n, w in ((1, 50), (2, 30), (3, 20))],
     "Member must have length less than or equal to 2"),
    ([{"stateMachineVersionArn": f"{SM}:1", "weight": 101}],
     "1 validation error detected: Value '101' at 'routingConfiguration.1.member.weight' failed to satisfy "
     "constraint: Member must have value less than or equal to 100"),
    ([{"stateMachineVersionArn": SM, "weight": 100}],
     f"Routing configuration must contain state machine version ARNs. Received: [{SM}]"),
    ([{"stateMachineVersionArn": f"{SM}:1", "weight": 50}, {"stateMachineVersionArn": f"{SM}:1", "weight": 50}],
     f"Routing configuration must contain distinct state machine version ARNs. Received: [{SM}:1, {SM}:1]"),
    ([{"stateMachineVersionArn": f"{SM}:1", "weight": 70}, {"stateMachineVersionArn": f"{SM}:2", "weight": 29}],
     "Sum of routing configuration weights must equal 100. Received: [70, 29]"),
    ([{"stateMachineVersionArn": f"{SM}:1", "weight": 50},
      {"stateMachineVersionArn": arns.state_machine("other", "1"), "weight": 50}],
     "of the same state machine"),
    ([{"stateMachineVersionArn": f"{SM}:live", "weight": 100}],
     "Routing configuration must contain state machine version ARNs."),
])
def test_alias_routing_rules(machines: StateMachineRegistry, routing: list, message: str) -> None:
    machines.create("orders", definition(), ROLE, publish=True)
    machines.update(SM, definition=definition("v2"), publish=True)
    with pytest.raises(errors.ValidationException) as refused:
        machines.create_alias("canary", routing)
    assert message in refused.value.message


def test_alias_names_and_missing_versions(machines: StateMachineRegistry) -> None:
    machines.create("orders", definition(), ROLE, publish=True)
    routing = [{"stateMachineVersionArn": f"{SM}:1", "weight": 100}]
    with pytest.raises(errors.ValidationException) as digits:
        machines.create_alias("123", routing)
    assert digits.value.message == (
        "1 validation error detected: Value '123' at 'name' failed to satisfy constraint: Member must satisfy "
        r"regular expression pattern: ^(?=.*[a-zA-Z_\-\.])[a-zA-Z0-9_\-\.]+$")
    with pytest.raises(errors.ValidationException, match="less than or equal to 80"):
        machines.create_alias("A" * 81, routing)
    with pytest.raises(errors.ResourceNotFound):
        machines.create_alias("live", [{"stateMachineVersionArn": f"{SM}:9", "weight": 100}])


# --- StartExecution targets ------------------------------------------------------------------------


def test_resolve_start_unqualified_version_and_alias(machines: StateMachineRegistry) -> None:
    machines.create("orders", definition(), ROLE, publish=True)
    second = machines.update(SM, definition=definition("v2"), role_arn=OTHER_ROLE, publish=True)
    machines.update(SM, definition=definition("v3"))  # the current revision has no version

    unqualified = machines.resolve_start(SM, rng=random.Random(0))
    assert unqualified.machine == {"name": "orders", "arn": SM, "type": "STANDARD", "status": "ACTIVE"}
    assert (unqualified.definition, unqualified.version_arn, unqualified.alias_arn) == (definition("v3"), None, None)

    pinned = machines.resolve_start(f"{SM}:2", rng=random.Random(0))
    assert (pinned.revision_id, pinned.definition, pinned.role_arn) == (second["revisionId"], definition("v2"),
                                                                        OTHER_ROLE)
    assert (pinned.version_arn, pinned.alias_arn) == (f"{SM}:2", None)

    machines.create_alias("live", [{"stateMachineVersionArn": f"{SM}:1", "weight": 80},
                                   {"stateMachineVersionArn": f"{SM}:2", "weight": 20}])
    rng = random.Random(7)
    targets = [machines.resolve_start(f"{SM}:live", rng=rng) for _ in range(1000)]
    drawn = Counter(target.version_arn for target in targets)
    assert set(drawn) == {f"{SM}:1", f"{SM}:2"}
    assert 0.15 < drawn[f"{SM}:2"] / 1000 < 0.25
    assert {target.alias_arn for target in targets} == {f"{SM}:live"}
    assert {t.definition for t in targets if t.version_arn == f"{SM}:1"} == {definition()}

    for missing in (f"{SM}:9", f"{SM}:nope", arns.state_machine("missing")):
        with pytest.raises(errors.StateMachineDoesNotExist, match=f"'{missing}'"):
            machines.resolve_start(missing, rng=random.Random(0))


def test_resolve_start_follows_changes_made_through_another_node(store: Store, clock: FakeClock) -> None:
    """Two nodes on one database: a start on one runs what the other changed the moment before (a new
    revision, a version deleted, an alias rerouted, the machine deleted and created again)."""
    node_a, node_b = StateMachineRegistry(store, clock), StateMachineRegistry(store, clock)
    node_b.create("orders", definition(), ROLE, publish=True)
    assert node_a.resolve_start(SM, rng=random.Random(0)).definition == definition()
    node_b.update(SM, definition=definition("v2"), role_arn=OTHER_ROLE, publish=True)
    started = node_a.resolve_start(SM, rng=random.Random(0))
    assert (started.definition, started.role_arn) == (definition("v2"), OTHER_ROLE)
    node_b.create_alias("live", [{"stateMachineVersionArn": f"{SM}:1", "weight": 100}])
    assert node_a.resolve_start(f"{SM}:live", rng=random.Random(0)).definition == definition()
    node_b.update_alias(f"{SM}:live", routing=[{"stateMachineVersionArn": f"{SM}:2", "weight": 100}])
    assert node_a.resolve_start(f"{SM}:live", rng=random.Random(0)).definition == definition("v2")
    node_b.delete_version(f"{SM}:1")
    with pytest.raises(errors.StateMachineDoesNotExist):
        node_a.resolve_start(f"{SM}:1", rng=random.Random(0))
    node_b.delete(SM)
    with pytest.raises((errors.StateMachineDoesNotExist, errors.StateMachineDeleting)):
        node_a.resolve_start(SM, rng=random.Random(0))
    node_b.create("orders", definition("again"), ROLE)
    assert node_a.resolve_start(SM, rng=random.Random(0)).definition == definition("again")


# --- deleting machines -----------------------------------------------------------------------------


def test_delete_removes_versions_and_aliases_and_waits_for_running_executions(
        machines: StateMachineRegistry, store: Store) -> None:
    machines.create("orders", definition(), ROLE, publish=True)
    machines.create_alias("live", [{"stateMachineVersionArn": f"{SM}:1", "weight": 100}])
    running = arns.execution("orders", "long")
    start_running(store, "orders", running)

    machines.delete(SM)
    assert machines.describe(SM)["status"] == "DELETING"
    assert machines.list_versions(SM) == {"stateMachineVersions": []}
    with pytest.raises(errors.StateMachineDeleting, match=exactly(f"State Machine is being deleted: '{SM}'")):
        machines.resolve_start(SM, rng=random.Random(0))
    with pytest.raises(errors.StateMachineDeleting):
        machines.create("orders", definition(), ROLE)
    with pytest.raises(errors.StateMachineDeleting):
        machines.update(SM, definition=definition("v2"))

    assert machines.forget_if_deleting(SM) is False  # still running
    finish(store, running)
    assert machines.forget_if_deleting("orders") is True
    with pytest.raises(errors.StateMachineDoesNotExist):
        machines.describe(SM)
    machines.delete(SM)  # deleting a missing machine is not an error

    # A machine made again under the name starts afresh, but version numbers are never handed out twice.
    assert machines.create("orders", definition(), ROLE, publish=True)["stateMachineVersionArn"] == f"{SM}:2"


def test_delete_without_running_executions_removes_the_machine(machines: StateMachineRegistry) -> None:
    machines.create("orders", definition(), ROLE)
    machines.delete(SM)
    with pytest.raises(errors.StateMachineDoesNotExist):
        machines.describe(SM)


def test_tags(machines: StateMachineRegistry) -> None:
    machines.create("orders", definition(), ROLE, tags=[{"key": "team", "value": "a"}])
    machines.tag_resource(SM, [{"key": "env", "value": "prod"}])
    machines.untag_resource(SM, ["team"])
    assert machines.list_tags(SM) == [{"key": "env", "value": "prod"}]
    with pytest.raises(errors.TooManyTags):
        machines.tag_resource(SM, [{"key": f"k{i}", "value": "v"} for i in range(50)])
    with pytest.raises(errors.ResourceNotFound):
        machines.list_tags(arns.state_machine("missing"))
