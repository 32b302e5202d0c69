"""The JSONPath data flow of JSONPath states: paths, reference paths, payload templates and the pipeline
InputPath -> Parameters -> ResultSelector -> ResultPath -> OutputPath, as AWS runs it."""

from __future__ import annotations

from typing import Any

import pytest

from pinflow import asl
from pinflow.asl import errors, paths

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:echo"


def pass_machine(**fields: Any) -> dict[str, Any]:
    return {"StartAt": "S", "States": {"S": {"Type": "Pass", **fields, "End": True}}}


def task_machine(**fields: Any) -> dict[str, Any]:
    return {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": FUNCTION, **fields, "End": True}}}


def succeeded(definition: dict[str, Any], input: Any, **kwargs: Any) -> Any:
    result = asl.run(definition, input, **kwargs)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    return result.output


def failed(definition: dict[str, Any], input: Any, **kwargs: Any) -> asl.Result:
    result = asl.run(definition, input, **kwargs)
    assert result.status == "FAILED", result.output
    return result


# --- the whole pipeline -------------------------------------------------------------------------


def test_task_pipeline_applies_each_stage_in_order() -> None:
    seen: list[Any] = []

    def handler(payload: Any) -> Any:
        seen.append(payload)
        return {"status": 200, "body": {"total": payload["sum"] * 10}, "noise": True}

    definition = task_machine(
        InputPath="$.order",
        Parameters={"sum.$": "$.amount", "literal": "$.not.a.path", "nested": [{"id.$": "$.id"}]},
        ResultSelector={"total.$": "$.body.total", "code.$": "$.status"},
        ResultPath="$.order.charge",
        OutputPath="$.order",
    )
    output = succeeded(definition, {"order": {"id": "o-1", "amount": 4}, "other": 1},
                       handlers={FUNCTION: handler})
    # Parameters read the InputPath's selection; literals are copied as they are.
    assert seen == [{"sum": 4, "literal": "$.not.a.path", "nested": [{"id": "o-1"}]}]
    # ResultPath merges into the *raw* input; OutputPath then selects from the merged document.
    assert output == {"id": "o-1", "amount": 4, "charge": {"total": 40, "code": 200}}


def test_pass_result_goes_to_result_path_and_input_path_is_ignored_for_it() -> None:
    definition = pass_machine(InputPath="$.a", Result={"r": 1}, ResultPath="$.out")
    assert succeeded(definition, {"a": 1}) == {"a": 1, "out": {"r": 1}}


def test_pass_parameters_read_the_input_path_selection() -> None:
    definition = pass_machine(InputPath="$.a", Parameters={"v.$": "$"}, ResultPath="$.r", OutputPath="$.r")
    assert succeeded(definition, {"a": [1, 2]}) == {"v": [1, 2]}


def test_defaults_pass_the_input_through() -> None:
    assert succeeded(pass_machine(), {"a": 1}) == {"a": 1}


def test_result_path_dollar_replaces_the_input() -> None:
    assert succeeded(pass_machine(Result=[1, 2], ResultPath="$"), {"a": 1}) == [1, 2]


# --- the null forms ------------------------------------------------------------------------------


def test_input_path_null_gives_an_empty_object() -> None:
    assert succeeded(pass_machine(InputPath=None), {"a": 1}) == {}


def test_input_path_null_gives_the_task_an_empty_object() -> None:
    seen: list[Any] = []
    def handler(payload: Any) -> Any:
        seen.append(payload)
        return 1

    succeeded(task_machine(InputPath=None), {"a": 1}, handlers={FUNCTION: handler})
    assert seen == [{}]


def test_result_path_null_keeps_the_raw_input() -> None:
    assert succeeded(pass_machine(Result={"x": 1}, ResultPath=None), {"a": 1}) == {"a": 1}
    output = succeeded(task_machine(ResultPath=None), {"a": 1}, handlers={FUNCTION: lambda p: "discarded"})
    assert output == {"a": 1}


def test_output_path_null_gives_an_empty_object() -> None:
    assert succeeded(pass_machine(OutputPath=None), {"a": 1}) == {}


# --- definite and indefinite paths ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "document", "expected"),
    [
        ("$.a.b", {"a": {"b": 1}}, 1),
        ("$['a b']", {"a b": 2}, 2),
        ("$.a[0]", {"a": [7, 8]}, 7),
        ("$.a[-1]", {"a": [7, 8]}, 8),
        ("$.a", {"a": None}, None),
        ("$", "scalar", "scalar"),
    ],
)
def test_definite_paths_select_one_node(path: str, document: Any, expected: Any) -> None:
    assert succeeded(pass_machine(InputPath=path), document) == expected


@pytest.mark.parametrize(
    ("path", "document", "expected"),
    [
        ("$.a[*].b", {"a": [{"b": 1}, {"c": 2}, {"b": 3}]}, [1, 3]),
        ("$..b", {"a": [{"b": 1}, {"c": {"b": 2}}]}, [1, 2]),
        ("$.a[?(@.n > 1)]", {"a": [{"n": 1}, {"n": 2}, {"n": 3}]}, [{"n": 2}, {"n": 3}]),
        ("$.a[1:]", {"a": [1, 2, 3]}, [2, 3]),
        ("$.a[0,2]", {"a": [1, 2, 3]}, [1, 3]),
        ("$.a[*]", {"a": [1]}, [1]),
        ("$[*][*]", [[1, 2], [3]], [1, 2, 3]),
    ],
)
def test_indefinite_paths_gather_matches_into_a_list(path: str, document: Any, expected: Any) -> None:
    assert succeeded(pass_machine(InputPath=path), document) == expected


def test_an_indefinite_path_that_matches_nothing_is_an_empty_list_not_an_error() -> None:
    assert succeeded(pass_machine(InputPath="$.a[?(@.n > 5)]"), {"a": [{"n": 1}]}) == []
    assert succeeded(pass_machine(Parameters={"x.$": "$.missing[*]"}), {"a": 1}) == {"x": []}


@pytest.mark.parametrize(
    ("field", "path", "shown"),
    [
        ("InputPath", "$.NoSuchInputPath", "$['NoSuchInputPath']"),
        ("OutputPath", "$.NoSuchOutputPath", "$['NoSuchOutputPath']"),
        ("InputPath", "$.a[5]", "$['a'][5]"),
    ],
)
def test_a_definite_path_that_selects_nothing_fails_with_states_runtime(
        field: str, path: str, shown: str) -> None:
    result = failed(pass_machine(**{field: path}), {"a": [1]})
    assert result.error == errors.RUNTIME
    assert result.cause == (f"An error occurred while executing the state 'S' (entered at the event id #2). "
                            f"Invalid path '{path}' : No results for path: {shown}")


def test_a_path_through_null_selects_nothing() -> None:
    result = failed(pass_machine(OutputPath="$.a.b"), {"a": None})
    assert result.error == errors.RUNTIME


def test_input_path_may_read_the_context_object() -> None:
    assert succeeded(pass_machine(InputPath="$$.Execution.Input.a"), {"a": {"b": 1}}) == {"b": 1}


# --- payload templates ---------------------------------------------------------------------------


def test_template_evaluates_dot_dollar_keys_at_every_depth_and_copies_the_rest() -> None:
    template = {
        "literal": "$.a",
        "path.$": "$.a",
        "context.$": "$$.State.Name",
        "nested": {"deep.$": "$.b[1]", "list": [1, {"x.$": "$.a"}, "$.a"]},
        "numbers": [1, 2.5, None, True],
    }
    assert succeeded(pass_machine(Parameters=template), {"a": "A", "b": [0, 9]}) == {
        "literal": "$.a",
        "path": "A",
        "context": "S",
        "nested": {"deep": 9, "list": [1, {"x": "A"}, "$.a"]},
        "numbers": [1, 2.5, None, True],
    }


def test_template_intrinsic_function() -> None:
    template = {"greeting.$": "States.Format('Hello, {}!', $.name)"}
    assert succeeded(pass_machine(Parameters=template), {"name": "Ada"}) == {"greeting": "Hello, Ada!"}


def test_template_path_that_selects_nothing_fails_with_awss_wording() -> None:
    # AWS reports States.Runtime here, not the States.ParameterPathFailure the spec names.
    result = failed(pass_machine(Parameters={"value.$": "$.no_such_jsonpath"}), {"a": 1})
    assert result.error == errors.RUNTIME
    assert result.cause == (
        "An error occurred while executing the state 'S' (entered at the event id #2). The JSONPath "
        "'$.no_such_jsonpath' specified for the field 'value.$' could not be found in the input '{\"a\":1}'")


def test_result_selector_reads_the_result_not_the_input() -> None:
    definition = task_machine(ResultSelector={"x.$": "$.x", "input_a.$": "$$.Execution.Input.a"})
    output = succeeded(definition, {"a": 1}, handlers={FUNCTION: lambda p: {"x": 2}})
    assert output == {"x": 2, "input_a": 1}


def test_result_selector_flattens_arrays_of_arrays() -> None:
    definition = task_machine(ResultSelector={"flat.$": "$[*][*]"})
    assert succeeded(definition, {}, handlers={FUNCTION: lambda p: [[1, 2], [3]]}) == {"flat": [1, 2, 3]}


# --- ResultPath ------------------------------------------------------------------------------------


def test_result_path_creates_intermediate_objects() -> None:
    assert succeeded(pass_machine(Result=1, ResultPath="$.a.b.c"), {"x": 0}) == {"x": 0, "a": {"b": {"c": 1}}}


def test_result_path_overwrites_an_existing_field_and_keeps_its_siblings() -> None:
    output = succeeded(pass_machine(Result={"new": 1}, ResultPath="$.a.b"), {"a": {"b": {"old": 1}, "c": 2}})
    assert output == {"a": {"b": {"new": 1}, "c": 2}}


def test_result_path_may_set_an_existing_array_element() -> None:
    assert succeeded(pass_machine(Result="x", ResultPath="$.a[1]"), {"a": [1, 2]}) == {"a": [1, "x"]}


def test_result_path_does_not_change_the_input_seen_by_the_context_object() -> None:
    definition = {"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Result": 1, "ResultPath": "$.added", "Next": "B"},
        "B": {"Type": "Pass", "Parameters": {"original.$": "$$.Execution.Input"}, "End": True},
    }}
    assert succeeded(definition, {"a": 1}) == {"original": {"a": 1}}


@pytest.mark.parametrize(
    ("result_path", "input"),
    [
        ("$.a.b", {"a": "a string"}),
        ("$.x", [1, 2]),
        ("$.x", "a string"),
        ("$.x", 3),
        ("$.a[3]", {"a": [1]}),
    ],
)
def test_result_path_into_a_non_object_fails_with_result_path_match_failure(
        result_path: str, input: Any) -> None:
    result = failed(pass_machine(Result=1, ResultPath=result_path), input)
    assert result.error == errors.RESULT_PATH_MATCH_FAILURE
    assert result.cause is not None and result_path in result.cause


def test_result_path_match_failure_can_be_caught() -> None:
    definition = {"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": FUNCTION, "ResultPath": "$.x.y",
              "Catch": [{"ErrorEquals": ["States.ResultPathMatchFailure"], "ResultPath": "$.error",
                         "Next": "Caught"}], "End": True},
        "Caught": {"Type": "Pass", "End": True},
    }}
    output = succeeded(definition, {"x": 5}, handlers={FUNCTION: lambda p: 1})
    assert output["x"] == 5
    assert output["error"]["Error"] == errors.RESULT_PATH_MATCH_FAILURE


# --- payloads of any JSON type -----------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 1.5, True, "text", [], [1, [2]], {}])
def test_every_json_value_flows_through_a_pass_state(value: Any) -> None:
    assert succeeded(pass_machine(), value) == value


def test_default_execution_input_is_an_empty_object() -> None:
    assert succeeded(pass_machine(), None) == {}


# --- what AWS's path engine (Jayway) reads ------------------------------------------------------------


def test_dollar_inside_a_filter_is_the_document_root() -> None:
    # Jayway's filter grammar: `$` in a filter is the document's root, `@` the item under test.
    document = {"items": [{"id": 1}, {"id": 2}], "wanted": 2}
    output = succeeded(pass_machine(Parameters={"found.$": "$.items[?(@.id == $.wanted)]"}), document)
    assert output == {"found": [{"id": 2}]}


def test_spaces_after_a_path_are_ignored() -> None:
    # Jayway trims spaces from a path's end before compiling it (CharacterIndex.trim), so AWS reads
    # "$$.Execution.Name " as "$$.Execution.Name".
    output = succeeded(pass_machine(Parameters={"name.$": "$$.Execution.Name ", "v.$": "$.v  "}), {"v": 1},
                       name="run-1")
    assert output == {"name": "run-1", "v": 1}
    assert asl.validate(pass_machine(Parameters={"name.$": "$$.Execution.Name "})) == []


@pytest.mark.parametrize("text", ["$.v\n", "$.v\t", "$.v\r\n"])
def test_other_whitespace_after_a_path_is_part_of_the_name(text: str) -> None:
    # Jayway trims spaces only; outside a filter a name runs to the next '.', '[' or '('
    # (PathCompiler.readPropertyOrFunctionToken), so "$.v\n" reads the member "v\n".
    assert paths.compile_path(text).segments == ((paths.NAME, text[2:]),)
    assert paths.compile_path(text).find({text[2:]: 1}) == 1
    with pytest.raises(paths.PathNotFound):
        paths.compile_path(text).find({"v": 1})


def test_a_space_before_a_path_makes_it_no_path() -> None:
    # Jayway's PathCompiler.compile looks at the first character before trimming: " $.v" is read as
    # "$. $.v", which fails ("Could not parse token").
    with pytest.raises(paths.PathSyntaxError):
        paths.compile_path(" $.v")
    assert asl.validate(pass_machine(Parameters={"v.$": " $.v"}))


def test_a_bare_word_in_a_filter_comparison_is_read_as_a_string() -> None:
    # A leniency (docs/fidelity.md): three published AWS samples, which AWS accepted, filter with
    # `[?(@.status==Failure)]`. Jayway 2.x's FilterCompiler.readLiteral reads an unquoted value as a
    # number and fails on a word; what AWS does when it evaluates one is not recorded anywhere we found.
    definition = pass_machine(Parameters={"failed.$": "$.results[?(@.status==Failure)].id"})
    assert asl.validate(definition) == []
    results = [{"id": 1, "status": "Failure"}, {"id": 2, "status": "Success"}]
    assert succeeded(definition, {"results": results}) == {"failed": [1]}
