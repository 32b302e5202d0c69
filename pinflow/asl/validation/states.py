"""Checks of one state: its type, query language, allowed fields, transitions and type-specific rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pinflow.asl.validation import (
    choice,
    fields,
    jsonata_rules,
    map_state,
    payloads,
    resources,
    retry_catch,
    values,
    variables,
)
from pinflow.asl.validation import diagnostics as d
from pinflow.asl.validation.context import Context, Scope

# Walks a sub-workflow (a Parallel branch, a Map's processor):
# (location, value, scope of the enclosing state, fields the sub-workflow accepts, whether it is isolated).
SubWorkflow = Callable[[str, Any, Scope, frozenset[str], bool], None]

_FLOW_TYPES = frozenset({"Task", "Wait", "Pass", "Parallel", "Map"})
# The states whose top-level Output and Assign may read $states.result.
_RESULT_TYPES = frozenset({"Task", "Parallel", "Map"})
_DOWNGRADE = "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine"


def check_query_language(report: d.Report, location: str, value: Any) -> None:
    """A declared QueryLanguage must be one of AWS's two values."""
    if values.expect(report, location, value, values.STRING) and value not in fields.QUERY_LANGUAGES:
        report.schema(location, "Value should be one of the following: [JSONPath, JSONata]")


def language_of(owner: dict[Any, Any], inherited: str) -> str:
    """The effective query language: AWS reads JSONPath only from the exact string, JSONata from any other."""
    if "QueryLanguage" not in owner:
        return inherited
    return fields.JSONPATH if owner["QueryLanguage"] == fields.JSONPATH else fields.JSONATA


def check_state(ctx: Context, scope: Scope, location: str, state: Any, sub_workflow: SubWorkflow) -> None:
    """Check one state definition found at `location` (`/States/<name>` or nested)."""
    if not values.expect(ctx.report, location, state, values.OBJECT):
        return
    if "Type" not in state:
        ctx.report.schema(location, "These fields are required: [Type]")
        return
    kind = state["Type"]
    if kind not in fields.STATE_TYPES:
        ctx.report.schema(
            d.child(location, "Type"),
            f"The field 'Type' should have one of these values: [{', '.join(fields.STATE_TYPES)}]",
        )
        return
    if "QueryLanguage" in state:
        check_query_language(ctx.report, d.child(location, "QueryLanguage"), state["QueryLanguage"])
    language = language_of(state, ctx.machine_language)
    downgraded = ctx.machine_language == fields.JSONATA and state.get("QueryLanguage") == fields.JSONPATH
    if downgraded:
        # AWS gives this one message for the state and does not add the other language's fields on top.
        ctx.report.schema(location, _DOWNGRADE)
    allowed = fields.FIELDS[language][kind]
    other_allowed = fields.FIELDS[fields.other(language)][kind]
    for _name, message in fields.unsupported(tuple(state), allowed, other_allowed, language):
        if not (downgraded and message.startswith("The QueryLanguage")):
            ctx.report.schema(location, message)
    view = {name: value for name, value in state.items() if name in allowed}
    if "Comment" in view:
        values.expect(ctx.report, d.child(location, "Comment"), view["Comment"], values.STRING)
    if kind in _FLOW_TYPES:
        _check_flow(ctx, location, view)
    if language == fields.JSONPATH:
        _check_jsonpath_io(ctx, scope, location, view)
    else:
        _check_jsonata_io(ctx, scope, location, view, kind)
    if "Assign" in view:
        variables.check_assign(
            ctx, scope, d.child(location, "Assign"), view["Assign"], language, result=kind in _RESULT_TYPES
        )
    if "Retry" in view:
        retry_catch.check_retry(ctx, d.child(location, "Retry"), view["Retry"])
    if "Catch" in view:
        retry_catch.check_catch(ctx, scope, d.child(location, "Catch"), view["Catch"], language)
    jsonata = language == fields.JSONATA
    if kind == "Task":
        _check_task(ctx, scope, location, view, jsonata)
    elif kind == "Wait":
        _check_wait(ctx, scope, location, view, jsonata)
    elif kind == "Fail":
        _check_fail(ctx, scope, location, view, jsonata)
    elif kind == "Choice":
        choice.check_choices(ctx, scope, location, view, language)
    elif kind == "Pass" and "Result" in view:
        found = payloads.find_dynamic_key(view["Result"], d.child(location, "Result"))
        if found:
            ctx.report.warning(
                d.PASS_RESULT_IS_STATIC,
                found,
                "The field 'Result' is static: a key ending in '.$' is not evaluated",
            )
    elif kind == "Parallel":
        _check_branches(ctx, scope, location, view, sub_workflow)
    elif kind == "Map":
        map_state.check_map(ctx, scope, location, view, jsonata, sub_workflow)


def _check_flow(ctx: Context, location: str, view: dict[Any, Any]) -> None:
    if "Next" in view:
        values.expect(ctx.report, d.child(location, "Next"), view["Next"], values.STRING)
    if "End" in view:
        values.expect(ctx.report, d.child(location, "End"), view["End"], values.BOOLEAN)
    ends = view.get("End") is True
    if ends and "Next" in view:
        ctx.report.schema(location, "Only one of these fields can be specified: [Next, End]")
    elif not ends and "Next" not in view:
        ctx.report.schema(location, "Exactly one of these fields must be specified: [Next, End]")


def _check_jsonpath_io(ctx: Context, scope: Scope, location: str, view: dict[Any, Any]) -> None:
    for name in ("InputPath", "OutputPath"):
        if name in view:
            payloads.check_path(ctx, scope, d.child(location, name), name, view[name], nullable=True)
    if "ResultPath" in view:
        # ResultPath writes into the state's input: a reference path that names neither a variable nor $$.
        payloads.check_path(
            ctx,
            scope,
            d.child(location, "ResultPath"),
            "ResultPath",
            view["ResultPath"],
            reference=True,
            nullable=True,
            variables=False,
            context_object=False,
        )
    for name in ("Parameters", "ResultSelector"):
        if name in view:
            payloads.check_template(ctx, scope, d.child(location, name), view[name])


def _check_jsonata_io(ctx: Context, scope: Scope, location: str, view: dict[Any, Any], kind: str) -> None:
    if "Output" in view:
        jsonata_rules.check_expressions(
            ctx, scope, d.child(location, "Output"), view["Output"], result=kind in _RESULT_TYPES
        )
    if "Arguments" in view:
        jsonata_rules.check_expressions(ctx, scope, d.child(location, "Arguments"), view["Arguments"])


def _seconds(
    ctx: Context, scope: Scope, location: str, view: dict[Any, Any], name: str, jsonata: bool
) -> int | None:
    """Check `<name>` and `<name>Path` of a Task; return the literal number of seconds if there is one."""
    values.exclusive(ctx.report, location, view, (name, name + "Path"))
    if name + "Path" in view:
        payloads.check_path(
            ctx, scope, d.child(location, name + "Path"), name + "Path", view[name + "Path"], reference=True
        )
    if name not in view:
        return None
    value = view[name]
    if jsonata and values.is_expression(value):
        jsonata_rules.check_expression(ctx, scope, d.child(location, name), value)
        return None
    ok = values.expect_int(ctx.report, d.child(location, name), name, value, 1, values.MAX_SECONDS)
    return value if ok else None


def _check_task(ctx: Context, scope: Scope, location: str, view: dict[Any, Any], jsonata: bool) -> None:
    if "Resource" not in view:
        ctx.report.schema(location, "These fields are required: [Resource]")
    elif values.expect(ctx.report, d.child(location, "Resource"), view["Resource"], values.STRING):
        message = resources.problem(view["Resource"], express=ctx.express)
        if message:
            ctx.report.schema(d.child(location, "Resource"), message)
    timeout = _seconds(ctx, scope, location, view, "TimeoutSeconds", jsonata)
    heartbeat = _seconds(ctx, scope, location, view, "HeartbeatSeconds", jsonata)
    if timeout is not None and heartbeat is not None and heartbeat >= timeout:
        ctx.report.schema(
            d.child(location, "HeartbeatSeconds"),
            "The field 'HeartbeatSeconds' must be smaller than the field 'TimeoutSeconds'",
        )
    if "Credentials" in view:
        credentials_location = d.child(location, "Credentials")
        credentials = view["Credentials"]
        if values.expect(ctx.report, credentials_location, credentials, values.OBJECT):
            if "RoleArn" not in credentials and (jsonata or "RoleArn.$" not in credentials):
                ctx.report.schema(credentials_location, "The field 'RoleArn' is required but was missing")
            if not jsonata:
                payloads.check_template(ctx, scope, credentials_location, credentials)


def _check_wait(ctx: Context, scope: Scope, location: str, view: dict[Any, Any], jsonata: bool) -> None:
    names = ("Seconds", "Timestamp") if jsonata else ("Seconds", "SecondsPath", "Timestamp", "TimestampPath")
    if sum(name in view for name in names) != 1:
        ctx.report.schema(location, f"Exactly one of these fields must be specified: [{', '.join(names)}]")
    if "Seconds" in view:
        seconds_location = d.child(location, "Seconds")
        if jsonata and values.is_expression(view["Seconds"]):
            jsonata_rules.check_expression(ctx, scope, seconds_location, view["Seconds"])
        else:
            values.expect_int(ctx.report, seconds_location, "Seconds", view["Seconds"], 0, values.MAX_SECONDS)
    if "Timestamp" in view:
        timestamp_location = d.child(location, "Timestamp")
        timestamp = view["Timestamp"]
        if jsonata and values.is_expression(timestamp):
            jsonata_rules.check_expression(ctx, scope, timestamp_location, timestamp)
        elif values.expect(
            ctx.report, timestamp_location, timestamp, values.STRING
        ) and not values.is_timestamp(timestamp):
            ctx.report.schema(timestamp_location, "String does not match RFC3339 timestamp")
    for name in ("SecondsPath", "TimestampPath"):
        if name in view:
            payloads.check_path(ctx, scope, d.child(location, name), name, view[name], reference=True)


def _check_fail(ctx: Context, scope: Scope, location: str, view: dict[Any, Any], jsonata: bool) -> None:
    for name in ("Error", "Cause"):
        values.exclusive(ctx.report, location, view, (name, name + "Path"))
        if name in view:
            if jsonata and values.is_expression(view[name]):
                jsonata_rules.check_expression(ctx, scope, d.child(location, name), view[name])
            else:
                values.expect(ctx.report, d.child(location, name), view[name], values.STRING)
        if name + "Path" in view:
            payloads.check_path(
                ctx,
                scope,
                d.child(location, name + "Path"),
                name + "Path",
                view[name + "Path"],
                reference=True,
                intrinsic=True,
            )


def _check_branches(
    ctx: Context, scope: Scope, location: str, view: dict[Any, Any], sub_workflow: SubWorkflow
) -> None:
    if "Branches" not in view:
        ctx.report.schema(location, "These fields are required: [Branches]")
        return
    branches_location = d.child(location, "Branches")
    branches = view["Branches"]
    if not values.expect(ctx.report, branches_location, branches, values.ARRAY):
        return
    if not branches:
        ctx.report.schema(branches_location, "The field 'Branches' must contain at least one branch")
    for i, branch in enumerate(branches):
        sub_workflow(d.item(branches_location, i), branch, scope, fields.SUB_WORKFLOW, False)
