"""The deploy plan from given data: publish-if-changed, definition diffs, aliases, and running executions."""

from __future__ import annotations

import json

import pytest

from pinflow import arns
from pinflow.deploy import plan, roles

HELLO = arns.function("svc-dev-hello")
ROLE = roles.RoleSpec("flow-role", "states.amazonaws.com", ())
DESIRED = {"CodeSha256": "abc=", "Handler": "handler.hello", "Runtime": "python3.11", "Timeout": 6,
           "MemorySize": 1024, "Environment": {"A": "1"}, "Role": "arn:aws:iam::123456789012:role/fn"}


def _server(**newest_changes: object) -> plan.FunctionOnServer:
    newest = {**DESIRED, **newest_changes}
    return plan.FunctionOnServer("svc-dev-hello", dict(newest), 4, newest)


def test_an_unchanged_function_publishes_nothing() -> None:
    change = plan.function_change("hello", DESIRED, _server())
    assert (change.publishes, change.updates_latest) == (False, False)
    assert (change.old_version, change.new_version) == (4, 4)


@pytest.mark.parametrize(("field", "value", "word"), [
    ("CodeSha256", "other=", "code"),
    ("Handler", "handler.other", "handler"),
    ("Runtime", "python3.12", "runtime"),
    ("Timeout", 30, "timeout"),
    ("MemorySize", 128, "memory"),
    ("Environment", {"A": "2"}, "environment"),
    ("Environment", {}, "environment"),
])
def test_code_or_configuration_changes_publish_a_new_version(field: str, value: object, word: str) -> None:
    change = plan.function_change("hello", DESIRED, _server(**{field: value}))
    assert change.reasons == change.latest_reasons == (word,)
    assert (change.publishes, change.old_version, change.new_version) == (True, 4, 5)


def test_a_new_function_gets_version_one() -> None:
    change = plan.function_change("hello", DESIRED, plan.FunctionOnServer("svc-dev-hello"))
    assert (change.exists, change.reasons, change.new_version) == (False, ("new",), 1)


def test_latest_drift_is_reset_without_publishing() -> None:
    # Someone changed $LATEST by hand; the newest version already is what the project says.
    server = plan.FunctionOnServer("svc-dev-hello", {**DESIRED, "Timeout": 99}, 4, dict(DESIRED))
    change = plan.function_change("hello", DESIRED, server)
    assert (change.publishes, change.latest_reasons, change.new_version) == (False, ("timeout",), 4)


def _machine(definition: dict, role: str = ROLE.arn, current: int | None = 2,
             routes: tuple[tuple[int, int], ...] | None = None) -> plan.MachineOnServer:
    return plan.MachineOnServer("flow", arns.state_machine("flow"), json.dumps(definition), role, "rev",
                                (2, 1), current, routes)


DEFINITION = {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": f"{HELLO}:1", "End": True}}}


def test_an_unchanged_machine_publishes_nothing_and_a_changed_one_shows_a_diff() -> None:
    same = plan.machine_change("flow", "flow", DEFINITION, ROLE.arn, _machine(DEFINITION))
    assert (same.updates, same.publishes, same.new_version, same.diff) == (False, False, 2, "")
    changed_definition = json.loads(json.dumps(DEFINITION).replace("hello:1", "hello:2"))
    changed = plan.machine_change("flow", "flow", changed_definition, ROLE.arn, _machine(DEFINITION))
    assert (changed.updates, changed.publishes) == (True, True)
    assert (changed.old_version, changed.new_version) == (2, 3)
    assert f'-      "Resource": "{HELLO}:1"' in changed.diff
    assert f'+      "Resource": "{HELLO}:2"' in changed.diff
    other_role = "arn:aws:iam::123456789012:role/x"
    new_role = plan.machine_change("flow", "flow", DEFINITION, other_role, _machine(DEFINITION))
    assert (new_role.role_changed, new_role.publishes, new_role.diff) == (True, True, "")


def test_aliases_move_with_weights() -> None:
    assert plan.alias_routes(3, None, 10) == ((3, 100),)
    assert plan.alias_routes(3, ((2, 100),), 100) == ((3, 100),)
    assert plan.alias_routes(3, ((2, 100),), 10) == ((3, 10), (2, 90))
    # The next canary keeps the version that had most of the traffic; a redeploy changes nothing.
    assert plan.alias_routes(4, ((3, 10), (2, 90)), 10) == ((4, 10), (2, 90))
    assert plan.alias_routes(3, ((3, 10), (2, 90)), 10) == ((3, 10), (2, 90))


def _execution(resource: str, **changes: object) -> plan.RunningExecution:
    task = {"Type": "Task", "Resource": resource, "End": True}
    definition = {"StartAt": "Hello", "States": {"Hello": task}}
    base: dict = {"arn": arns.execution("flow", "day-1"), "name": "day-1", "machine": "flow",
                  "definition": definition, "role_arn": ROLE.arn,
                  "version_arn": f"{arns.state_machine('flow')}:1"}
    return plan.RunningExecution(**{**base, **changes})


NEW_CODE = plan.function_change("hello", DESIRED, _server(CodeSha256="old="))


@pytest.mark.parametrize(("resource", "kind", "affected"), [
    (f"{HELLO}:1", "version", False),
    (f"{HELLO}:live", "alias", False),
    (HELLO, "latest", True),
    (f"{HELLO}:$LATEST", "latest", True),
])
def test_a_running_execution_is_affected_only_through_live_references(resource: str, kind: str,
                                                                       affected: bool) -> None:
    impact = plan.execution_impact(_execution(resource, alias_versions={f"{HELLO}:live": "1"}),
                                   {"svc-dev-hello": NEW_CODE}, {})
    (call,) = impact.calls
    assert (call.kind, impact.affected) == (kind, affected)
    if kind == "alias":
        assert call.version == "1" and "pinned at start" in call.describe()
    if affected:
        assert impact.warnings == ["Hello: calls svc-dev-hello live and this deploy changes its code"]


def test_a_removed_statement_matters_only_to_live_references() -> None:
    granted = ({"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": [HELLO, f"{HELLO}:*"]},)
    narrowed = plan.RoleChange(roles.RoleSpec(ROLE.name, ROLE.service, ()), True, granted)
    by_role = {ROLE.arn: narrowed}
    live = plan.execution_impact(_execution(HELLO), {}, by_role)
    assert live.warnings == [f"Hello: the new role no longer allows invoking {HELLO}"]
    pinned = plan.execution_impact(_execution(f"{HELLO}:1"), {}, by_role)
    assert not pinned.affected and pinned.calls[0].kept_by_pin
    unchanged = plan.RoleChange(roles.RoleSpec(ROLE.name, ROLE.service, granted), True, granted)
    assert not plan.execution_impact(_execution(HELLO), {}, {ROLE.arn: unchanged}).affected


def test_the_plan_lists_project_executions_and_any_other_it_touches() -> None:
    the_plan = plan.Plan(functions=[NEW_CODE])
    mine = _execution(f"{HELLO}:1")
    other_safe = _execution(f"{HELLO}:1", machine="other", name="x")
    other_hit = _execution(HELLO, machine="other", name="y")
    found = plan.impacts([mine, other_safe, other_hit], the_plan, {"flow"})
    assert [impact.execution.name for impact in found] == ["day-1", "y"]
    the_plan.executions = found
    assert [impact.execution.name for impact in the_plan.unsafe] == ["y"]
    assert the_plan.has_changes
