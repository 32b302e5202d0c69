"""Pinning function references to exact versions, in every Task form, and the role generated for them."""

from __future__ import annotations

import copy

from pinflow import arns
from pinflow.deploy import rewrite, roles

HELLO = arns.function("svc-dev-hello")
OTHER = "arn:aws:lambda:eu-west-1:111122223333:function:billing-prod-charge"


def _definition() -> dict:
    return {
        "StartAt": "Direct",
        "States": {
            "Direct": {"Type": "Task", "Resource": HELLO, "Next": "Invoke"},
            "Invoke": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                       "Parameters": {"FunctionName": "svc-dev-hello", "Payload.$": "$"}, "Next": "Token"},
            "Token": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                      "Arguments": {"FunctionName": OTHER, "Payload": "{% $states.input %}"}, "Next": "Fan"},
            "Fan": {"Type": "Parallel", "Next": "Each", "Branches": [{"StartAt": "InBranch", "States": {
                "InBranch": {"Type": "Task", "Resource": HELLO, "End": True}}}]},
            "Each": {"Type": "Map", "Next": "Pinned", "ItemProcessor": {"StartAt": "InMap", "States": {
                "InMap": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                          "Parameters": {"FunctionName": HELLO}, "End": True}}}},
            "Pinned": {"Type": "Task", "Resource": f"{HELLO}:3", "Next": "Aliased"},
            "Aliased": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                        "Parameters": {"FunctionName": HELLO, "Qualifier": "live"}, "Next": "Latest"},
            "Latest": {"Type": "Task", "Resource": f"{HELLO}:$LATEST", "Next": "Dynamic"},
            "Dynamic": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                        "Parameters": {"FunctionName.$": "$.fn"}, "End": True},
        },
    }


def test_every_unqualified_reference_is_pinned_in_both_task_forms_and_nested_blocks() -> None:
    original = _definition()
    pinned, rewrites, missed = rewrite.pin(original, {"svc-dev-hello": "7", "billing-prod-charge": "12"})
    states = pinned["States"]
    assert states["Direct"]["Resource"] == f"{HELLO}:7"
    assert states["Invoke"]["Parameters"]["FunctionName"] == f"{HELLO}:7"  # a bare name becomes an ARN
    assert states["Token"]["Arguments"]["FunctionName"] == f"{OTHER}:12"  # another service, another region
    assert states["Fan"]["Branches"][0]["States"]["InBranch"]["Resource"] == f"{HELLO}:7"
    assert states["Each"]["ItemProcessor"]["States"]["InMap"]["Parameters"]["FunctionName"] == f"{HELLO}:7"
    assert {r.state for r in rewrites} == {"Direct", "Invoke", "Token", "Fan/Branches[0]/InBranch",
                                           "Each/ItemProcessor/InMap"}
    assert missed == []
    assert original == _definition()  # the input is not changed


def test_what_the_author_qualified_is_left_as_written() -> None:
    pinned, _, _ = rewrite.pin(_definition(), {"svc-dev-hello": "7", "billing-prod-charge": "12"})
    states, before = pinned["States"], _definition()["States"]
    for name in ("Pinned", "Aliased", "Latest", "Dynamic"):
        assert states[name] == before[name], name


def test_a_function_with_no_version_is_left_live_and_reported() -> None:
    pinned, rewrites, missed = rewrite.pin(_definition(), {"svc-dev-hello": "7"})
    assert pinned["States"]["Token"]["Arguments"]["FunctionName"] == OTHER
    assert [(slot.state, slot.name) for slot in missed] == [("Token", "billing-prod-charge")]
    assert len(rewrites) == 4


def test_pinning_twice_changes_nothing_more() -> None:
    versions = {"svc-dev-hello": "7", "billing-prod-charge": "12"}
    once, _, _ = rewrite.pin(_definition(), versions)
    twice, rewrites, _ = rewrite.pin(copy.deepcopy(once), versions)
    assert twice == once and rewrites == []


def test_the_generated_role_grants_every_version_of_every_function_named() -> None:
    pinned, _, _ = rewrite.pin(_definition(), {"svc-dev-hello": "7", "billing-prod-charge": "12"})
    spec = roles.machine_role("flow", pinned, [{"Effect": "Allow", "Action": "sqs:SendMessage",
                                                "Resource": "*"}], "123456789012")
    invoke, dynamic, extra = spec.statements
    assert invoke["Action"] == ["lambda:InvokeFunction"]
    # `Dynamic` names its function at run time with no AllowedFunctions: the plugin grants `*`.
    assert (dynamic["Action"], dynamic["Resource"]) == (["lambda:InvokeFunction"], "*")
    # The unqualified ARN and `:*` for each: never only the version just published.
    assert invoke["Resource"] == sorted([HELLO, f"{HELLO}:*", OTHER, f"{OTHER}:*"])
    assert extra["Action"] == "sqs:SendMessage"
    assert (spec.name, spec.arn) == ("flow-role", "arn:aws:iam::123456789012:role/flow-role")


def test_role_names_stay_within_iam_limits() -> None:
    name = roles.role_name("m" * 80, "-role")
    assert len(name) == 64 and name.endswith("-role")
    assert roles.role_name("m" * 80, "-role") == name != roles.role_name("n" + "m" * 79, "-role")


def test_a_bare_name_is_pinned_in_the_project_region_and_account() -> None:
    pinned, _, _ = rewrite.pin(_definition(), {"svc-dev-hello": "7"}, region="eu-west-1",
                               account="111122223333")
    states = pinned["States"]
    expected = "arn:aws:lambda:eu-west-1:111122223333:function:svc-dev-hello:7"
    assert states["Invoke"]["Parameters"]["FunctionName"] == expected
    assert states["Direct"]["Resource"] == f"{HELLO}:7"  # an ARN keeps its own region and account


def test_functions_computed_at_run_time_are_found_in_every_form_and_block() -> None:
    invoke = "arn:aws:states:::lambda:invoke"
    definition = {"StartAt": "Path", "States": {
        "Path": {"Type": "Task", "Resource": invoke, "Next": "Intrinsic",
                 "Parameters": {"FunctionName.$": "$.fn", "Payload": {}}},
        "Intrinsic": {"Type": "Task", "Resource": f"{invoke}.waitForTaskToken", "Next": "Each",
                      "Parameters": {"FunctionName.$": "States.Format('svc-dev-{}', $.which)"}},
        "Each": {"Type": "Map", "Next": "Static", "ItemProcessor": {"StartAt": "Jsonata", "States": {
            "Jsonata": {"Type": "Task", "Resource": invoke, "QueryLanguage": "JSONata", "End": True,
                        "Arguments": {"FunctionName": "{% $states.input.fn %}"}}}}},
        "Static": {"Type": "Task", "Resource": invoke, "Next": "Whole",
                   "Parameters": {"FunctionName": HELLO}},
        "Whole": {"Type": "Task", "Resource": invoke, "QueryLanguage": "JSONata", "End": True,
                  "Arguments": "{% {'FunctionName': $states.input.fn} %}"},
    }}
    assert [(c.state, c.field, c.text) for c in rewrite.computed(definition)] == [
        ("Path", "Parameters.FunctionName.$", "$.fn"),
        ("Intrinsic", "Parameters.FunctionName.$", "States.Format('svc-dev-{}', $.which)"),
        ("Each/ItemProcessor/Jsonata", "Arguments.FunctionName", "{% $states.input.fn %}"),
        ("Whole", "Arguments", "{% {'FunctionName': $states.input.fn} %}"),
    ]
    # Nothing computed is among the static references, and pinning leaves it as written.
    assert [slot.state for slot in rewrite.slots(definition)] == ["Static"]
    pinned, _, _ = rewrite.pin(definition, {"svc-dev-hello": "4"})
    assert pinned["States"]["Path"] == definition["States"]["Path"]
