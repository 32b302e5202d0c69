"""Properties of the interpreter over generated inputs: any JSON through payload templates, paths,
intrinsic and JSONata strings ends in a result or an ASL error, never a Python exception nor the
internal error the interpreter reports for one; and an execution replays to the same history from
the same definition, input and seed."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pinflow import asl
from pinflow.asl import commands, events
from pinflow.asl.intrinsics import FUNCTIONS

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:echo"
STATUSES = {"SUCCEEDED", "FAILED"}
CHECKS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NAMES = st.sampled_from(["a", "b", "c", "items", "n"]) | st.text(max_size=4)
SCALARS = (
    st.none() | st.booleans() | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(NAMES, inner, max_size=4),
    max_leaves=20,
)

SEGMENTS = st.one_of(
    NAMES.map(lambda name: f".{name}"),
    NAMES.map(lambda name: f"['{name}']"),
    st.integers(-3, 5).map(lambda index: f"[{index}]"),
    st.sampled_from(["[*]", ".*", "..a", "..*", "[0,1]", "[1:]", "[:2]", "[::2]", "[-1:]", "['a','b']",
                     "[?(@.a > 1)]", "[?(@.n == 'x')]", "[?(@.b)]", "[?(!(@.a))]", "[?(@.a < @.b || @.c)]",
                     "[?(@.s =~ /a.*/i)]", "[", "]", ".", "[?(", "['unterminated", "[a]", "[1:2:3:4]"]),
)
PATHS = st.one_of(
    st.tuples(st.sampled_from(["$", "$$", "$$.Execution.Input", "$var", "$missing"]),
              st.lists(SEGMENTS, max_size=4)).map(lambda parts: parts[0] + "".join(parts[1])),
    st.text(max_size=12).map(lambda text: "$" + text),
)


def _literal(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace("{", "\\{").replace("}", "\\}")
    return f"'{escaped}'"


INTRINSIC_ARGS = st.one_of(
    st.text(max_size=6).map(_literal),
    st.sampled_from(["'{}'", "'{} and {}'", "'a,b'", "','", "'SHA-256'", "'MD5'", "null", "true", "false"]),
    st.integers(-5, 5).map(str),
    st.floats(-10, 10, allow_nan=False).map(repr),
    PATHS,
)
FUNCTION_NAMES = st.sampled_from(sorted(FUNCTIONS))


def _call(parts: tuple[str, list[str]]) -> str:
    return f"{parts[0]}({', '.join(parts[1])})"


INTRINSICS = st.recursive(
    st.tuples(FUNCTION_NAMES, st.lists(INTRINSIC_ARGS, max_size=3)).map(_call),
    lambda inner: st.tuples(FUNCTION_NAMES, st.lists(INTRINSIC_ARGS | inner, max_size=3)).map(_call),
    max_leaves=5,
) | st.text(max_size=15).map(lambda text: "States." + text)

JSONATA_PARTS = st.sampled_from([
    "$states.input", "$states.input.a", "$states.input.items[0]", "$states.context.Execution.Id", "$var",
    "$missing", "1", "'s'", "true", "null", "[1, 2]", "{'k': 1}", "$count($states.input)",
    "$string($states.input)", "$sum([1, 2])", "$uuid()", "$random()", "$now()", "$partition([1,2,3], 2)",
    "$range(0, 3, 1)", "$hash('x', 'SHA-256')", "$parse('{\"a\": 1}')", "$eval('1')", "$states.result",
    "$states.errorOutput", "$$", "$", "function($x){$x}", "$split($states.input.a, ',')",
    "$states.input.n / 0",
    # Built-in functions over generated input (the library crashed on some; jsonata-js answers).
    "$number($states.input.a)", "$number($states.input)", "$toMillis($states.input.a)",
    "$sort($states.input.items)", "$sort($states.input)", "$formatInteger($states.input.n, '#')",
    "$fromMillis($states.input.n)", "$substring($states.input.a, $states.input.n)", "$keys($states.input)",
    "$lookup($states.input, 'a')", "$distinct($states.input.items)", "$reverse($states.input.items)",
    "$max($states.input.items)", "$join($states.input.items, ',')", "$round($states.input.n, 2)",
    "$formatNumber($states.input.n, '#,##0.00')", "$power($states.input.n, 0.5)", "$abs($states.input.n)",
    "$floor($states.input.n)", "$pad($states.input.a, 5)", "$contains($states.input.a, 'x')",
    "$match($states.input.a, /a/)", "$base64encode($states.input.a)", "$base64decode($states.input.a)",
    "$encodeUrl($states.input.a)", "$decodeUrl($states.input.a)", "$type($states.input)",
    "$exists($states.input.a)", "$each($states.input, function($v){$v})", "$merge($states.input.items)",
    "$zip($states.input.items, [1])", "$append($states.input, 1)", "$spread($states.input)",
    "$formatBase($states.input.n, 16)", "$average($states.input.items)", "$boolean($states.input)",
    "$not($states.input)", "$uppercase($states.input.a)", "$trim($states.input.a)",
    "$string($states.input, true)",
    # Built-ins whose second argument comes from the input too (pictures, timezones, precisions, radixes).
    "$parseInteger($states.input.a, $states.input.b)", "$formatInteger($states.input.n, $states.input.a)",
    "$fromMillis($states.input.n, $states.input.a, $states.input.b)", "$now($states.input.a, $states.input.b)",
    "$toMillis($states.input.a, $states.input.b)", "$round($states.input.m, $states.input.n)",
    "$power($states.input.m, $states.input.n)", "$pad($states.input.a, $states.input.n)",
    "$formatBase($states.input.m, $states.input.n)", "$formatNumber($states.input.n, $states.input.a)",
    "$encodeUrlComponent($states.input.a)", "$decodeUrlComponent($states.input.b)",
    "$substring($states.input.a, $states.input.n, $states.input.m)", "$sqrt($states.input.n)",
])
# The values that break functions: generated JSON rarely holds a negative number, a huge one, a
# malformed URL escape, a lone surrogate or a picture string, so the input JSONata reads has them on
# purpose.
EDGE_NUMBERS = st.sampled_from([-1, -0.5, 0, 0.5, 1.5, 2, 16, 36, 99, 400, -400, 1e20, 9e15, 1e300, -1e300, 2**53])
EDGE_TEXTS = st.sampled_from(["", "abc", "%E0%A4%A", "%4", "\ud800", "#", "w", "i", "I", "0001", "[Q]", "[Y",
                              "[Dn]", "[Y0001]-[M01]", "[Z00000]", "+9999", "x", "-0500", "+05:00", "#,##0.00",
                              "##.##.##", "2020-01-01", "1e400"])
JSONATA_INPUT = st.fixed_dictionaries({
    "a": EDGE_TEXTS | st.text(max_size=6), "b": EDGE_TEXTS | st.text(max_size=6),
    "n": EDGE_NUMBERS | st.integers(-10, 10) | st.floats(allow_nan=False), "m": EDGE_NUMBERS,
    "items": st.lists(SCALARS, max_size=3),
}) | JSON
JSONATA_OPERATORS = st.sampled_from([" + ", " & ", " = ", " and ", " ? ", ".", " : ", " < ", " in ", ""])
JSONATA = st.one_of(
    st.tuples(JSONATA_PARTS, st.lists(st.tuples(JSONATA_OPERATORS, JSONATA_PARTS), max_size=2)).map(
        lambda expr: expr[0] + "".join(op + part for op, part in expr[1])),
    st.text(max_size=12),
).map(lambda body: "{% " + body + " %}")

TEMPLATES = st.recursive(
    st.dictionaries(NAMES, SCALARS, max_size=2),
    lambda inner: st.dictionaries(
        st.one_of(NAMES, NAMES.map(lambda name: f"{name}.$")),
        st.one_of(SCALARS, PATHS, INTRINSICS, inner, st.lists(inner, max_size=2)),
        max_size=4,
    ),
    max_leaves=8,
)


def machine(state: dict[str, Any], **top: Any) -> dict[str, Any]:
    """`state` after a Pass that assigns `$var`, so variable paths have something to read."""
    return {"StartAt": "Init", **top, "States": {
        "Init": {"Type": "Pass", "Assign": {"var": {"a": [1, 2], "b": "x"}}, "Next": "S"},
        "S": {**state, "End": True},
    }}


def ends_cleanly(definition: Any, input: Any, *, named: bool = True) -> asl.Result:
    """Run `definition`; it must succeed with JSON or fail with an error name (a Fail state may give none)."""
    result = asl.run(definition, input, handlers={FUNCTION: lambda payload: payload})
    assert result.status in STATUSES
    # The interpreter turns a defect of its own into States.Runtime "An internal error occurred"
    # (so no driver sees an exception): a property that accepted it would pass on a crash.
    assert not (result.error == "States.Runtime" and (result.cause or "").startswith("An internal error")), \
        result.cause
    # ... and a JSONata function that crashes inside the library is reported as "an internal error".
    assert "internal error during evaluation" not in (result.cause or ""), result.cause
    if result.status == "FAILED":
        if named:
            assert isinstance(result.error, str) and result.error
        else:
            assert result.error is None or isinstance(result.error, str)
    else:
        json.dumps(result.output)
    return result


@CHECKS
@given(template=TEMPLATES, input=JSON)
def test_payload_templates_end_in_a_result_or_an_asl_error(template: dict[str, Any], input: Any) -> None:
    ends_cleanly(machine({"Type": "Pass", "Parameters": template}), input)


@CHECKS
@given(template=TEMPLATES, input=JSON)
def test_task_templates_end_in_a_result_or_an_asl_error(template: dict[str, Any], input: Any) -> None:
    state = {"Type": "Task", "Resource": FUNCTION, "Parameters": template, "ResultSelector": template,
             "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]}
    definition = machine(state)
    definition["States"]["Caught"] = {"Type": "Pass", "End": True}
    ends_cleanly(definition, input)


@CHECKS
@given(field=st.sampled_from(["InputPath", "OutputPath", "ResultPath", "ItemsPath", "Variable", "SecondsPath",
                              "TimestampPath", "ErrorPath", "CausePath"]),
       path=PATHS, input=JSON)
def test_paths_end_in_a_result_or_an_asl_error(field: str, path: str, input: Any) -> None:
    state: dict[str, Any]
    if field == "ItemsPath":
        state = {"Type": "Map", "ItemsPath": path,
                 "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}}
    elif field == "Variable":
        state = {"Type": "Choice", "Choices": [
            {"Variable": path, "IsPresent": True, "Next": "Yes"},
            {"Variable": path, "StringMatches": "*", "Next": "Yes"},
            {"Variable": "$$.State.Name", "StringEqualsPath": path, "Next": "Yes"},
        ], "Default": "Yes"}
    elif field in ("SecondsPath", "TimestampPath"):
        state = {"Type": "Wait", field: path}
    elif field in ("ErrorPath", "CausePath"):
        state = {"Type": "Fail", field: path}
    else:
        state = {"Type": "Pass", field: path}
    definition = machine(state)
    if field == "Variable":
        definition["States"]["S"].pop("End")
        definition["States"]["Yes"] = {"Type": "Succeed"}
    elif field in ("ErrorPath", "CausePath"):
        definition["States"]["S"].pop("End")
    # A Fail state's error is whatever ErrorPath selects (even ""), or none at all.
    ends_cleanly(definition, input, named=field not in ("ErrorPath", "CausePath"))


@CHECKS
@given(intrinsic=INTRINSICS, input=JSON)
def test_intrinsic_strings_end_in_a_result_or_an_asl_error(intrinsic: str, input: Any) -> None:
    ends_cleanly(machine({"Type": "Pass", "Parameters": {"value.$": intrinsic}}), input)


@CHECKS
@given(expression=JSONATA, field=st.sampled_from(["Output", "Assign", "Items", "Seconds", "Condition"]),
       input=JSONATA_INPUT)
# Inputs that made functions fail inside the library (each must end in a JSONata error or a value).
@example(expression="{% $power($states.input.n, 0.5) %}", field="Output", input={"n": -1})
@example(expression="{% $decodeUrl($states.input.a) %}", field="Output", input={"a": "%E0%A4%A"})
@example(expression="{% $encodeUrl($states.input.a) %}", field="Output", input={"a": "\ud800"})
@example(expression="{% $states.input %}", field="Output", input={"b": "\ud800"})  # its size is counted
@example(expression="{% $fromMillis($states.input.n, $states.input.a) %}", field="Output",
         input={"n": 1, "a": "[Q]"})
@example(expression="{% $parseInteger($states.input.a, $states.input.b) %}", field="Output",
         input={"a": "abc", "b": "#"})
@example(expression="{% $round($states.input.m, $states.input.n) %}", field="Output", input={"m": 1.5, "n": 400})
@example(expression="{% $now($states.input.a, $states.input.b) %}", field="Output",
         input={"a": "[Y0001]", "b": "x"})
@example(expression="{% $pad($states.input.a, $states.input.n) %}", field="Output", input={"a": "", "n": 1e20})
@example(expression="{% $toMillis($states.input.a, $states.input.b) %}", field="Output",
         input={"a": "x", "b": "+9999"})
def test_jsonata_strings_end_in_a_result_or_an_asl_error(expression: str, field: str, input: Any) -> None:
    state: dict[str, Any]
    if field == "Output":
        state = {"Type": "Pass", "Output": {"v": expression, "w": [expression]}}
    elif field == "Assign":
        state = {"Type": "Pass", "Assign": {"v": expression}, "Output": "{% $v %}"}
    elif field == "Items":
        state = {"Type": "Map", "Items": expression,
                 "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}}
    elif field == "Seconds":
        state = {"Type": "Wait", "Seconds": expression}
    else:
        state = {"Type": "Choice", "Choices": [{"Condition": expression, "Next": "Yes"}], "Default": "Yes"}
    definition = machine(state, QueryLanguage="JSONata")
    definition["States"]["Init"]["Assign"] = {"var": {"a": [1, 2], "b": "x"}}
    if field == "Condition":
        definition["States"]["S"].pop("End")
        definition["States"]["Yes"] = {"Type": "Succeed"}
    ends_cleanly(definition, input)


# --- replay ---------------------------------------------------------------------------------------------

REPLAYED = {
    "StartAt": "Draw",
    "States": {
        "Draw": {"Type": "Pass", "Parameters": {"id.$": "States.UUID()", "n.$": "States.MathRandom(0, 1000)",
                                                "input.$": "$"}, "Next": "Fan"},
        "Fan": {"Type": "Map", "ItemsPath": "$.input.items", "MaxConcurrency": 2,
                "ItemSelector": {"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value"},
                "ItemProcessor": {"StartAt": "Work", "States": {
                    "Work": {"Type": "Task", "Resource": FUNCTION, "End": True, "Retry": [
                        {"ErrorEquals": ["Flaky"], "MaxAttempts": 3, "JitterStrategy": "FULL"}]},
                }}, "ResultPath": "$.results", "Next": "Both"},
        "Both": {"Type": "Parallel", "ResultPath": "$.both", "End": True, "Branches": [
            {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 2, "End": True}}},
            {"StartAt": "Id", "States": {"Id": {"Type": "Pass", "Parameters": {"u.$": "States.UUID()"},
                                                "End": True}}},
        ]},
    },
}


def flaky_handler() -> Any:
    """Fails every other call with a retriable error, deterministically."""
    calls = [0]

    def handler(payload: Any) -> Any:
        calls[0] += 1
        if calls[0] % 2:
            raise asl.TaskError("Flaky", str(calls[0]))
        return payload

    return handler


@settings(max_examples=40, deadline=None)
@given(items=st.lists(JSON, max_size=5), seed=st.integers(0, 2**32))
def test_the_same_definition_input_and_seed_give_the_same_history(items: list[Any], seed: int) -> None:
    first = asl.run(REPLAYED, {"items": items}, handlers={FUNCTION: flaky_handler()}, seed=seed)
    second = asl.run(REPLAYED, {"items": items}, handlers={FUNCTION: flaky_handler()}, seed=seed)
    assert first.status == "SUCCEEDED", (first.error, first.cause)
    assert first.history == second.history
    assert first.output == second.output


def record(definition: dict[str, Any], input: Any, seed: int) -> tuple[list[events.Event], dict[str, Any],
                                                                          list[dict[str, Any]]]:
    """Run through `step`, answering tasks in reverse order and timers by due time; keep the events."""
    handler = flaky_handler()
    event: events.Event | None = events.Start(input=input, at=0.0, seed=seed)
    state: dict[str, Any] | None = None
    log: list[events.Event] = []
    history: list[dict[str, Any]] = []
    timers: dict[str, float] = {}
    pending: list[events.Event] = []
    while event is not None:
        log.append(event)
        now = event.at
        step = asl.step(definition, state, event)
        state = step.state
        history.extend(step.history)
        for command in step.commands:
            if isinstance(command, commands.StartTimer):
                timers[command.timer_id] = command.due_at
            elif isinstance(command, commands.CancelTimer):
                timers.pop(command.timer_id, None)
            elif isinstance(command, commands.InvokeTask):
                try:
                    pending.append(events.TaskSucceeded(command.task_id, handler(command.payload), now + 1))
                except asl.TaskError as exc:
                    pending.append(events.TaskFailed(command.task_id, exc.error, exc.cause, now + 1))
        event = None
        if step.status == "RUNNING":
            if pending:
                event = pending.pop()
            elif timers:
                timer_id = min(timers, key=lambda key: (timers[key], key))
                event = events.TimerFired(timer_id, timers.pop(timer_id))
    assert state is not None
    return log, state, history


@settings(max_examples=25, deadline=None)
@given(items=st.lists(st.integers(), max_size=4), seed=st.integers(0, 2**32))
def test_replaying_the_recorded_events_rebuilds_the_same_state(items: list[int], seed: int) -> None:
    log, final, history = record(REPLAYED, {"items": items}, seed)
    assert final["status"] == "SUCCEEDED"
    state: dict[str, Any] | None = None
    replayed: list[dict[str, Any]] = []
    for event in log:
        step = asl.step(REPLAYED, None if state is None else json.loads(json.dumps(state)), event)
        state = step.state
        replayed.extend(step.history)
    assert state == final
    assert replayed == history
