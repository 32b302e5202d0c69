"""The states that finish within their frame: Pass, Succeed, Fail, Choice and Wait.

Each handler takes the machine, the frame and the state's definition; it ends by leaving the state
(`m.exit`), failing the frame (`m.fail_frame`), or, for a Wait in the future, starting a timer.
An AslError raised here becomes the state's error (see `_Machine.execute`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pinflow.asl import conditions, errors, templates, timestamps
from pinflow.asl.definition import JSONATA
from pinflow.asl.errors import AslError
from pinflow.asl.scope import Scope, compact

if TYPE_CHECKING:
    from pinflow.asl.interpreter import _Machine


def pass_state(m: _Machine, frame: dict[str, Any], state: dict[str, Any]) -> None:
    m.locate(frame)
    if m.d.language(state) == JSONATA:
        bindings = m.bindings(m.scope(frame, frame["input"]))
        output = m.jsonata_field(state, "Output", bindings, default=frame["input"])
        assigned = m.jsonata_assign(state, bindings)
    else:
        scope = m.jsonpath_scope(frame, state)
        inspecting = m.outcome is not None  # TestState: keep the stages of the data flow
        if inspecting:
            m.inspect("input", frame["input"])
        if "Result" in state:
            result = state["Result"]
            if inspecting:
                m.inspect("result", result)
        else:
            result = m.input_path(state, frame["input"], scope)
            if inspecting:
                m.inspect("afterInputPath", result)
            if "Parameters" in state:
                result = m.template(state["Parameters"]).evaluate(scope.with_input(result))
            if inspecting:
                m.inspect("afterParameters", result)
        if inspecting:
            m.inspect("afterResultSelector", result)
        assigned = m.jsonpath_assign(state, scope.with_input(result)) if "Assign" in state else None
        merged = m.apply_result_path(state, frame["input"], result)
        if inspecting:
            m.inspect("afterResultPath", merged)
        output = m.output_path(state, merged, scope)
    m.assign(frame, assigned)
    m.exit(frame, output, state.get("Next"), assigned)


def succeed(m: _Machine, frame: dict[str, Any], state: dict[str, Any]) -> None:
    m.locate(frame)
    scope = m.scope(frame, frame["input"])
    m.inspect("input", frame["input"])
    if m.d.language(state) == JSONATA:
        output = m.jsonata_field(state, "Output", m.bindings(scope), default=frame["input"])
    else:
        effective = m.input_path(state, frame["input"], scope)
        m.inspect("afterInputPath", effective)
        output = m.output_path(state, effective, scope)
    m.exit(frame, output, None)


def fail(m: _Machine, frame: dict[str, Any], state: dict[str, Any]) -> None:
    m.locate(frame)
    scope = m.scope(frame, frame["input"])
    if m.d.language(state) == JSONATA:
        bindings = m.bindings(scope)
        error = m.jsonata_field(state, "Error", bindings, default=None)
        cause = m.jsonata_field(state, "Cause", bindings, default=None)
        for key, value in (("Error", error), ("Cause", cause)):
            if value is not None and not isinstance(value, str):
                raise m.type_error(state[key], key, "string", value)
    else:
        error = _fail_field(m, frame, state, "Error", scope)
        cause = _fail_field(m, frame, state, "Cause", scope)
    m.fail_frame(frame, error, cause)


def _fail_field(m: _Machine, frame: dict[str, Any], state: dict[str, Any], key: str, scope: Scope) -> Any:
    if f"{key}Path" not in state:
        return state.get(key)
    text = state[f"{key}Path"]
    if isinstance(text, str) and text.startswith("$"):
        try:
            value = scope.resolve_text(text, f"{key}Path")
        except AslError as exc:
            raise AslError(exc.error, m.located(exc.cause, None), exc.location) from None
    else:
        value = templates.evaluate_dynamic(text, scope, f"{key}Path")
    return value if isinstance(value, str) else compact(value)


def choice(m: _Machine, frame: dict[str, Any], state: dict[str, Any]) -> None:
    m.locate(frame)
    scope = m.scope(frame, frame["input"])
    if m.d.language(state) == JSONATA:
        bindings = m.bindings(scope)
        for rule in state.get("Choices") or ():
            condition = m.jsonata_value(rule.get("Condition"), bindings, "Condition")
            if not isinstance(condition, bool):
                raise m.type_error(rule.get("Condition"), "Condition", "boolean", condition)
            if condition:
                output = m.jsonata_field(rule if "Output" in rule else state, "Output", bindings,
                                         default=frame["input"])
                assigned = m.jsonata_assign(rule if "Assign" in rule else state, bindings)
                m.assign(frame, assigned)
                m.exit(frame, output, rule["Next"], assigned)
                return
        next_name = state.get("Default")
        output = m.jsonata_field(state, "Output", bindings, default=frame["input"])
        assigned = m.jsonata_assign(state, bindings)
    else:
        effective = m.input_path(state, frame["input"], scope)
        inner = scope.with_input(effective)
        next_name = None
        for rule in state.get("Choices") or ():
            try:
                hit = conditions.matches(rule, inner)
            except AslError as exc:
                raise AslError(exc.error, m.located(exc.cause, None), exc.location) from None
            if hit:
                next_name = rule["Next"]
                break
        else:
            next_name = state.get("Default")
        assigned = m.jsonpath_assign(state, inner)
        output = m.output_path(state, effective, scope)
    if next_name is None:
        raise AslError(errors.NO_CHOICE_MATCHED, m.located("No Matches!", None))
    m.assign(frame, assigned)
    m.exit(frame, output, next_name, assigned)


def wait(m: _Machine, frame: dict[str, Any], state: dict[str, Any]) -> None:
    m.locate(frame)
    scope = m.scope(frame, frame["input"])
    due: float
    if m.d.language(state) == JSONATA:
        bindings = m.bindings(scope)
        if "Seconds" in state:
            seconds = m.jsonata_value(state["Seconds"], bindings, "Seconds")
            if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0 or (
                    isinstance(seconds, float) and not seconds.is_integer()):
                raise m.type_error(state["Seconds"], "Seconds", "integer", seconds)
            due = m.at + seconds
        else:
            stamp = m.jsonata_value(state.get("Timestamp"), bindings, "Timestamp")
            parsed = _within_bound(m, timestamps.parse(stamp))
            if parsed is None:
                raise AslError(errors.QUERY_EVALUATION_ERROR, m.located(
                    "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format "
                    f"string: {stamp}", None), "Timestamp")
            due = parsed
        output = m.jsonata_field(state, "Output", bindings, default=frame["input"])
        assigned = m.jsonata_assign(state, bindings)
    else:
        effective = m.input_path(state, frame["input"], scope)
        inner = scope.with_input(effective)
        if "Seconds" in state:
            due = m.at + state["Seconds"]
        elif "SecondsPath" in state:
            text = state["SecondsPath"]
            try:
                value = inner.resolve_text(text)
            except AslError:
                raise AslError(errors.RUNTIME, m.located(
                    f"The SecondsPath parameter does not reference an input value: {text}", None)) from None
            if not isinstance(value, int | float) or isinstance(value, bool) or (
                    isinstance(value, float) and not value.is_integer()):
                raise AslError(errors.RUNTIME, m.located(
                    f"The SecondsPath parameter cannot be parsed as a long value: {text} == {compact(value)}",
                    None))
            if value < 0:
                raise AslError(errors.RUNTIME, m.located(
                    f"The SecondsPath parameter references a negative value: {text} == {compact(value)}", None))
            due = m.at + value
        elif "Timestamp" in state:
            parsed_literal = _within_bound(m, timestamps.parse(state["Timestamp"]))
            if parsed_literal is None:
                raise AslError(errors.RUNTIME, m.located(
                    "The Timestamp parameter does not reference a valid ISO-8601 extended offset date-time "
                    f"format string: {state['Timestamp']}", None))
            due = parsed_literal
        else:
            text = state.get("TimestampPath", "$")
            value = _located_resolve(m, inner, text)
            parsed = _within_bound(m, timestamps.parse(value))
            if parsed is None:
                shown = value if isinstance(value, str) else compact(value)
                raise AslError(errors.RUNTIME, m.located(
                    "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time "
                    f"format string: {text} == {shown}", None))
            due = parsed
        assigned = m.jsonpath_assign(state, inner)
        output = m.output_path(state, effective, scope)
    m.assign(frame, assigned)
    if due <= m.at:
        m.exit(frame, output, state.get("Next"), assigned)
        return
    timer_id = m.new_id("w")
    frame["wait"] = {"kind": "timer", "timer": timer_id}
    frame["pending_output"] = output
    frame["pending_next"] = state.get("Next")
    m.start_timer(frame, timer_id, due, "wait")


# AWS holds a Wait's time as a signed 32-bit count of seconds from now: a timestamp 24,855 days ahead
# waits, one 24,856 days ahead fails (measured against AWS; LocalStack's tests/aws/services/stepfunctions/
# v2/base/test_wait.py::test_timestamp_too_far_in_future_boundary).
MAX_WAIT_SECONDS = 2**31 - 1


def _within_bound(m: _Machine, due: float | None) -> float | None:
    """`due`, or None (an invalid timestamp) when it lies further ahead than AWS can wait."""
    return None if due is None or due - m.at > MAX_WAIT_SECONDS else due


def _located_resolve(m: _Machine, scope: Scope, text: str) -> Any:
    try:
        return scope.resolve_text(text)
    except AslError as exc:
        raise AslError(exc.error, m.located(exc.cause, None), exc.location) from None
