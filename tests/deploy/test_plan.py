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
    # The number is the server's to give (deleted versions' numbers are never used again).
    assert (change.publishes, change.old_version, change.new_version) == (True, 4, plan.NEXT_VERSION)


def test_a_new_function_publishes_its_next_version() -> None:
    change = plan.function_change("hello", DESIRED, plan.FunctionOnServer("svc-dev-hello"))
    assert (change.exists, change.reasons, change.new_version) == (False, ("new",), plan.NEXT_VERSION)
    assert plan.version_label(change.new_version) == "next version"
    assert plan.version_label(4) == "version 4"


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
    assert (changed.old_version, changed.new_version) == (2, plan.NEXT_VERSION)
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


LIVE_ALIAS = f"{HELLO}:live"


@pytest.mark.parametrize(("seen", "target", "version", "affected", "shown"), [
    ("1", None, "1", False, "svc-dev-hello:live -> version 1 (alias, pinned at start)"),
    # What the history shows it called decides over where the alias points now.
    ("1", "$LATEST", "1", False, "svc-dev-hello:live -> version 1 (alias, pinned at start)"),
    (None, "3", "3", False, "svc-dev-hello:live -> version 3 (alias, pinned at start)"),
    (None, "$LATEST", "$LATEST", True, "svc-dev-hello:live -> $LATEST (alias on $LATEST: live"),
    ("$LATEST", None, "$LATEST", True, "svc-dev-hello:live -> $LATEST (alias on $LATEST: live"),
    (None, None, None, True, "svc-dev-hello:live (alias, target unknown: counted live)"),
])
def test_an_alias_is_pinned_only_when_it_resolved_to_a_number(seen: str | None, target: str | None,
                                                                version: str | None, affected: bool,
                                                                shown: str) -> None:
    execution = _execution(LIVE_ALIAS, alias_versions={LIVE_ALIAS: seen} if seen else {})
    impact = plan.execution_impact(execution, {"svc-dev-hello": NEW_CODE}, {},
                                   {LIVE_ALIAS: target} if target else None)
    (call,) = impact.calls
    assert (call.kind, call.version, call.live, impact.affected) == ("alias", version, affected, affected)
    assert call.describe().startswith(shown)
    if affected:
        assert impact.warnings == ["Hello: calls svc-dev-hello live and this deploy changes its code"]
    # Nothing changes under any alias when the deploy leaves the function as it is.
    unchanged = plan.function_change("hello", DESIRED, _server())
    assert not plan.execution_impact(execution, {"svc-dev-hello": unchanged}, {},
                                     {LIVE_ALIAS: target} if target else None).affected


def test_the_plan_asks_for_the_targets_of_aliases_not_seen_called() -> None:
    seen = _execution(LIVE_ALIAS, alias_versions={LIVE_ALIAS: "1"})
    other = f"{HELLO}:canary"
    waiting = _execution(other, name="day-2")
    pinned = _execution(f"{HELLO}:2", name="day-3")
    assert plan.aliases_to_resolve([seen, waiting, pinned]) == [other]
    found = plan.impacts([seen, waiting], plan.Plan(functions=[NEW_CODE]), {"flow"}, {other: "$LATEST"})
    assert [impact.affected for impact in found] == [False, True]


def test_an_alias_on_latest_keeps_no_start_time_grant() -> None:
    granted = ({"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": [HELLO, f"{HELLO}:*"]},)
    narrowed = plan.RoleChange(roles.RoleSpec(ROLE.name, ROLE.service, ()), True, granted)
    execution = _execution(LIVE_ALIAS)
    live = plan.execution_impact(execution, {}, {ROLE.arn: narrowed}, {LIVE_ALIAS: "$LATEST"})
    assert live.warnings == [f"Hello: the new role no longer allows invoking {LIVE_ALIAS}"]
    pinned = plan.execution_impact(execution, {}, {ROLE.arn: narrowed}, {LIVE_ALIAS: "2"})
    assert not pinned.affected and pinned.calls[0].kept_by_pin


def _computed_execution() -> plan.RunningExecution:
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
            "Parameters": {"FunctionName.$": "$.fn", "Payload": {}}}
    return _execution(HELLO, definition={"StartAt": "Pick", "States": {"Pick": task}})


def test_a_function_computed_at_run_time_is_live_and_any_function_change_reaches_it() -> None:
    execution = _computed_execution()
    other = plan.function_change("other", DESIRED, plan.FunctionOnServer("svc-dev-other", {**DESIRED, "Timeout": 1},
                                                                            4, dict(DESIRED)))
    impact = plan.execution_impact(execution, {"svc-dev-other": other}, {})
    (call,) = impact.calls
    assert (call.kind, call.live, call.describe()) == (
        "computed", True, "Parameters.FunctionName.$ $.fn (computed at run time: live)")
    assert impact.warnings == ["Pick: computes the function it calls at run time, so any function may change "
                               "under it; this deploy changes svc-dev-other's timeout"]
    # A deploy that changes no function's code or configuration changes nothing under it.
    unchanged = plan.function_change("hello", DESIRED, _server())
    assert not plan.execution_impact(execution, {"svc-dev-hello": unchanged}, {}).affected
    the_plan = plan.Plan(functions=[other])
    the_plan.executions = plan.impacts([_computed_execution()], the_plan, set())
    assert len(the_plan.unsafe) == 1


def test_a_machine_lists_its_functions_computed_at_run_time() -> None:
    definition = _computed_execution().definition
    change = plan.machine_change("flow", "flow", definition, ROLE.arn, None)
    assert change.computed == ("Pick: Parameters.FunctionName.$ $.fn",)


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
