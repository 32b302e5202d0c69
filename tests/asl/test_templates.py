"""Payload templates compiled once per definition: the same values and errors, in the same order, as
evaluating each field when it is reached; the input-only scope; sizes measured once."""

from __future__ import annotations

from typing import Any

import pytest

from pinflow import asl
from pinflow.asl import errors, events, interpreter, templates
from pinflow.asl.scope import Scope

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:echo"


def pass_machine(**fields: Any) -> dict[str, Any]:
    return {"StartAt": "S", "States": {"S": {"Type": "Pass", **fields, "End": True}}}


def test_one_compiled_template_serves_every_execution_of_a_definition() -> None:
    parsed = asl.parse(pass_machine(Parameters={"v.$": "$.v", "fixed": {"list": [1, {"x.$": "$.v"}]}}))
    first = asl.run(parsed, {"v": 1})
    second = asl.run(parsed, {"v": "two"})
    assert first.output == {"v": 1, "fixed": {"list": [1, {"x": 1}]}}
    assert second.output == {"v": "two", "fixed": {"list": [1, {"x": "two"}]}}
    # Literal objects and arrays are copied for each evaluation, never shared between outputs.
    assert first.output["fixed"] is not second.output["fixed"]


@pytest.mark.parametrize("later", [
    "States.NoSuchFunction($.a)",  # an intrinsic that does not parse
    "$..[",  # a path that does not parse
    "not a path",
])
def test_a_field_that_cannot_be_evaluated_fails_only_when_it_is_reached(later: str) -> None:
    # The first field's error wins, as when each field was parsed as it was reached.
    result = asl.run(pass_machine(Parameters={"first.$": "$.missing", "later.$": later}), {"a": 1})
    assert result.status == "FAILED"
    assert result.error == errors.RUNTIME
    assert "The JSONPath '$.missing' specified for the field 'first.$' could not be found" in (result.cause or "")


def test_a_key_that_is_not_text_fails_when_it_is_reached() -> None:
    definition = pass_machine(Parameters={"a.$": "$.missing", 5: "x"})
    assert "could not be found" in (asl.run(definition, {}).cause or "")
    assert "AttributeError" in (asl.run(definition, {"missing": 1}).cause or "")


def test_input_only_templates_are_told_apart() -> None:
    assert templates.compile({"a.$": "$.a", "b": [1, {"c.$": "$"}], "d": "$$.x"}).input_only
    for reads_more in ({"a.$": "$$.State.Name"}, {"a.$": "$var"}, {"a.$": "States.UUID()"},
                       {"nested": {"a.$": "$$.Execution.Id"}}, {"a.$": "not a path"}):
        assert not templates.compile(reads_more).input_only, reads_more


def test_a_scope_of_the_input_alone_has_no_context_object() -> None:
    scope = Scope.of_input({"a": 1})
    assert scope.resolve_text("$.a") == 1
    with pytest.raises(RuntimeError):
        _ = scope.context


def test_a_pass_state_reading_the_context_or_variables_gets_the_whole_scope() -> None:
    definition = {"StartAt": "Set", "States": {
        "Set": {"Type": "Pass", "Assign": {"x": 7}, "Next": "S"},
        "S": {"Type": "Pass", "InputPath": "$.in", "OutputPath": "$",
              "Parameters": {"name.$": "$$.State.Name", "x.$": "$x", "in.$": "$"}, "End": True},
    }}
    assert asl.run(definition, {"in": {"k": 1}}).output == {"name": "S", "x": 7, "in": {"k": 1}}


def test_a_task_payload_that_is_the_last_output_is_measured_once(monkeypatch: pytest.MonkeyPatch) -> None:
    definition = {"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Parameters": {"v.$": "$"}, "Next": "T"},
        "T": {"Type": "Task", "Resource": FUNCTION, "End": True},
    }}
    measured: list[Any] = []
    size = interpreter.dataflow.size

    def counting(value: Any) -> int:
        measured.append(value)
        return size(value)

    monkeypatch.setattr(interpreter.dataflow, "size", counting)
    first = interpreter.step(asl.parse(definition), None, events.Start(input={"a": 1}, at=0.0))
    assert measured == [{"v": {"a": 1}}]  # Pass's output; the Task's payload is that same value
    task = first.commands[-1]
    assert isinstance(task, asl.commands.InvokeTask)
    measured.clear()
    interpreter.step(asl.parse(definition), first.state, events.TaskSucceeded(task.task_id, {"r": 2}, 1.0))
    assert measured == [{"r": 2}]  # the result, which is also the state's output
