"""JSONata as AWS runs it: Step Functions' functions, bounds, results and error wording."""

from __future__ import annotations

import copy
import hashlib
import json
import random
import re
import threading
import uuid
from typing import Any

import jsonata as library
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pinflow.asl import errors, jsonata
from pinflow.asl import jsonata_functions as functions
from pinflow.asl.errors import AslError
from tests import recorded as recorded_cases

NOW = 1_700_000_000.123  # 2023-11-14T22:13:20.123Z


def run(expr: str, variables: dict[str, Any] | None = None, *, state_input: Any = None, seed: int = 0,
        now: float = NOW) -> Any:
    bindings = {"states": {"input": {} if state_input is None else state_input, "context": {}}}
    bindings.update(variables or {})
    return jsonata.evaluate(expr, bindings, now=now, rng=random.Random(seed), field="Output")


def cause(expr: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> str:
    """Evaluate an expression that must fail; return its cause."""
    with pytest.raises(AslError) as info:
        run(expr, variables, **kwargs)
    assert info.value.error == errors.QUERY_EVALUATION_ERROR
    assert info.value.cause is not None
    return info.value.cause


def threw(expr: str, detail: str) -> str:
    where = f"The JSONata expression '{expr}' specified for the field 'Output'"
    return f"{where} threw an error during evaluation. {detail}"


def mismatch(name: str, position: int) -> str:
    return f'T0410: Argument {position} of function "{name}" does not match function signature'


# --- recognising and compiling -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("{% $x %}", True),
        ("{%$x%}", True),
        ("{%%}", True),
        (" {% $x %}", False),  # AWS: no spaces outside the delimiters
        ("{% $x %} ", False),
        ("{% $x", False),
        ("{%}", False),
        ("$x", False),
        (1, False),
        (None, False),
    ],
)
def test_is_expression(value: object, expected: bool) -> None:
    assert jsonata.is_expression(value) is expected


def test_compile_accepts_both_forms_and_caches() -> None:
    inner = jsonata.compile(" $states.input.a ")
    assert jsonata.compile("{% $states.input.a %}") is jsonata.compile("{% $states.input.a %}")
    assert jsonata.compile("{% $states.input.a %}").text == inner.text == "$states.input.a"


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ("a[1,2)", "S0202", 'Expected "]", got ","'),
        ('"unterminated', "S0101", "String literal must be terminated by a matching quote"),
        ("1 +", "S0207", "Unexpected end of expression"),
        ('{"a":}', "S0211", 'The symbol "}" cannot be used as a unary operator'),
        ('$match("a", /abc', "S0302", "No terminating / in regular expression"),
        ("", "S0207", "Unexpected end of expression"),
    ],
)
def test_syntax_errors_in_jsonata_js_words(text: str, code: str, message: str) -> None:
    with pytest.raises(jsonata.JsonataSyntaxError) as info:
        jsonata.compile("{% " + text + " %}")
    assert isinstance(info.value, ValueError)
    assert (info.value.code, str(info.value)) == (code, message)


def test_a_syntax_error_met_at_run_time_is_a_query_evaluation_error() -> None:
    assert cause("1 +") == threw("1 +", "S0207: Unexpected end of expression")


# --- bindings in, JSON out ---------------------------------------------------------------------


def test_bindings_are_variables_and_there_is_no_input_document() -> None:
    assert run('$states.input.a & "x"', {"name": "v"}, state_input={"a": "q"}) == "qx"
    assert run("$name", {"name": "v"}) == "v"
    assert run("$") is jsonata.UNDEFINED
    assert run("a") is jsonata.UNDEFINED


def test_json_null_is_a_value_and_not_undefined() -> None:
    assert run("$v = null", {"v": None}) is True
    assert run("$type($v)", {"v": None}) == "null"
    items = {"items": [None, 1, None]}
    assert run("$filter($states.input.items, function($x){ $x = null })", state_input=items) == [None, None]
    assert run("$map($states.input.items, function($x){ $x })", state_input=items) == [None, 1, None]
    assert run("$states.input.items[$ = null]", state_input=items) == [None, None]
    assert run("$exists($states.input.o.k)", state_input={"o": {"k": None}}) is True


def test_results_are_plain_json_and_fresh() -> None:
    state_input: dict[str, Any] = {"list": [1, {"a": [2]}], "whole": 1.0}
    result = run("$states.input", state_input=state_input)
    assert result == state_input
    assert type(result["list"]) is list
    result["list"][1]["a"].append(3)
    assert state_input["list"][1]["a"] == [2]
    assert type(run("[1..3]")) is list
    assert type(run("$states.input.list.a", state_input={"list": [{"a": 1}, {"a": 2}]})) is list


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("1+1", 2),
        ("2.0", 2),
        ("$states.input.whole", 1),  # AWS writes 1.0 as 1
        ("1/2", 0.5),
        ("5.5 % 2", 1.5),  # JavaScript's remainder keeps the fraction
        ("-7 % 2", -1),
        ("1/0", "Infinity"),  # AWS writes a non-finite number as JavaScript names it
        ("-1/0", "-Infinity"),
        ("0/0", "NaN"),
        ("[1/0]", ["Infinity"]),
        ("1e308 * 10", "Infinity"),
        ("$parse('-0')", 0),
    ],
)
def test_numbers_come_back_as_aws_writes_them(expr: str, expected: Any) -> None:
    result = run(expr, state_input={"whole": 1.0})
    assert result == expected
    assert type(result) is type(expected)


def test_a_non_finite_number_used_again_fails_as_in_jsonata_js() -> None:
    assert cause("1/0 + 1") == threw("1/0 + 1", "D1001: Number out of range: null")


# --- undefined ---------------------------------------------------------------------------------


def test_undefined_comes_back_as_a_sentinel() -> None:
    assert run("$doesNotExist") is jsonata.UNDEFINED
    assert run("$states.input.missing") is jsonata.UNDEFINED
    template = jsonata.evaluate_template("{% $nothing %}", {}, now=NOW, rng=random.Random(0), field="Output")
    assert template is jsonata.UNDEFINED


@pytest.mark.parametrize(
    ("template", "place"),
    [
        ({"result": "{% $doesNotExist %}"}, "Output/result"),
        ({"v": [1, {"w": "{% $doesNotExist %}"}]}, "Output/v[1]/w"),
        (["{% $doesNotExist %}"], "Output[0]"),
    ],
)
def test_undefined_inside_a_template_fails_naming_its_place(template: Any, place: str) -> None:
    with pytest.raises(AslError) as info:
        jsonata.evaluate_template(template, {}, now=NOW, rng=random.Random(0), field="Output")
    assert info.value.error == errors.QUERY_EVALUATION_ERROR
    assert info.value.cause == (f"The JSONata expression '$doesNotExist' specified for the field '{place}' "
                                "returned nothing (undefined).")


def test_templates_evaluate_every_expression_and_keep_the_rest() -> None:
    template = {"a": "{% 1 %}", "b": ["{% $v %}", "$.not.a.path", " {% 3 %}", None, 0.5],
                "c": {"d": "{% $states.input %}"}, "e": "{%$v%}"}
    bindings = {"states": {"input": {"k": None}}, "v": "x"}
    before = copy.deepcopy(template)
    result = jsonata.evaluate_template(template, bindings, now=NOW, rng=random.Random(0), field="Output")
    assert result == {"a": 1, "b": ["x", "$.not.a.path", " {% 3 %}", None, 0.5], "c": {"d": {"k": None}},
                      "e": "x"}
    assert template == before
    assert jsonata.evaluate_template(7, {}, now=NOW, rng=random.Random(0)) == 7


def test_undefined_error_wording() -> None:
    error = jsonata.undefined_error("{% $doesNotExist %}", "Output")
    assert (error.error, error.cause) == (
        errors.QUERY_EVALUATION_ERROR,
        "The JSONata expression '$doesNotExist' specified for the field 'Output' returned nothing "
        "(undefined).")


@pytest.mark.parametrize(
    ("value", "shown"),
    [("string", "'string' for value: \"string\""), (True, "'boolean' for value: true"),
     ({"foo": "bar"}, "'object' for value: {\"foo\":\"bar\"}"), (None, "'null' for value: null"),
     (1, "'number' for value: 1")],
)
def test_result_type_error_wording(value: Any, shown: str) -> None:
    error = jsonata.result_type_error("$ItemsVar", "Items", "array", value)
    assert error.cause == ("The JSONata expression '$ItemsVar' specified for the field 'Items' returned an "
                           f"unexpected result type. Expected 'array', but was {shown}")


@pytest.mark.parametrize("expr", ["$fn := function($x){$x}", "/abc/", '{"f": function(){1}}', "$sum"])
def test_a_function_is_not_a_result(expr: str) -> None:
    assert cause(expr) == (f"The JSONata expression '{expr}' specified for the field 'Output' returned an "
                           "unsupported result type.")


# --- the library's errors in AWS's words -------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "detail"),
    [
        ('$eval("1+1")', "T1006: Attempted to invoke a non-function"),
        ("$randomSeeded(1)", "T1006: Attempted to invoke a non-function"),
        ('$sum("a")', 'T0412: Argument 1 of function "sum" must be an array of "numbers"'),
        ('$abs("a")', mismatch("abs", 1)),
        ("$uppercase(null)", mismatch("uppercase", 1)),
        ('"a" < 1', 'T2009: The values "a" and 1 either side of operator "<" must be of the same data type'),
        ('1 + "a"', 'T2002: The right side of the "+" operator must evaluate to a number'),
        ('$error("boom")', "D3137: boom"),
        ('$assert(false, "nope")', "D3141: nope"),
        ('$replace("abc", "", "x")', "D3010: Second argument of replace function cannot be an empty string"),
    ],
)
def test_library_errors(expr: str, detail: str) -> None:
    assert cause(expr) == threw(expr, detail)


# jsonata-js's codes and messages for failures the library meets as Python errors (jsonata-js
# src/functions.js: power throws D3061 when Math.pow is not finite, the URL functions turn URIError into
# D3140; src/datetime.js: D3130 for a sequence picture, D3132 for an unknown component, D3135 for a
# missing "]"; the templates are src/jsonata.js's errorCodes, values inserted as JSON.stringify does).
@pytest.mark.parametrize(
    ("expr", "detail"),
    [
        ("$power(-1, 0.5)", "D3061: The power function has resulted in a value that cannot be represented as a "
                            "JSON number: base=-1, exponent=0.5"),
        ("$power(10, 400)", "D3061: The power function has resulted in a value that cannot be represented as a "
                            "JSON number: base=10, exponent=400"),
        ("$power(0, -1)", "D3061: The power function has resulted in a value that cannot be represented as a "
                          "JSON number: base=0, exponent=-1"),
        ("$decodeUrl('%E0%A4%A')", 'D3140: Malformed URL passed to $decodeUrl(): "%E0%A4%A"'),
        ("$decodeUrlComponent('%4')", 'D3140: Malformed URL passed to $decodeUrlComponent(): "%4"'),
        ("$encodeUrl($states.input.s)", 'D3140: Malformed URL passed to $encodeUrl(): "\\ud800"'),
        ("$fromMillis(1, '[Q]')", 'D3132: Unknown component specifier "Q" in date/time picture string'),
        ("$toMillis('2020', '[Q]')", 'D3132: Unknown component specifier "Q" in date/time picture string'),
        ("$fromMillis(1, '[Y')", "D3135: No matching closing bracket \"]\" in date/time picture string"),
        ("$parseInteger('abc', '#')", 'D3130: Formatting or parsing an integer as a sequence starting with "#" '
                                      "is not supported by this implementation"),
        ("$fromMillis(1, '[Dn]')", 'D3133: The "name" modifier can only be applied to months and days in the '
                                   'date/time picture string, not "D"'),
        ("$formatBase(10, 99)", "D3100: The radix of the formatBase function must be between 2 and 36.  It was "
                                "given 99"),
    ],
)
def test_failures_inside_library_functions_are_jsonata_js_errors(expr: str, detail: str) -> None:
    assert cause(expr, state_input={"s": "\ud800"}) == threw(expr, detail)


def test_a_number_out_of_range_names_its_token_as_jsonata_js_does() -> None:
    # jsonata-js's tokenizer throws S0102 with the token; "Number out of range: {{token}}".
    assert cause("$string(1e400)") == threw("$string(1e400)", 'S0102: Number out of range: "1e400"')


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        # jsonata-js shifts the point through the number's text: past a double's range it is NaN.
        ("$round(1.5, 400)", "NaN"),
        ("$round(1.5, 0.5)", "NaN"),
        ("$round(1234.5, -400)", 0),
        ("$round(2.5, 0)", 2),
        # parseInt of text the picture does not describe is NaN.
        ("$parseInteger('abc', '0')", "NaN"),
        ("$parseInteger('12', '0')", 12),
        # A timezone is read with parseInt: "+05:00" is 5 minutes, "-0500" five hours behind.
        ("$fromMillis(0, '[H01]:[m01]', '-0500')", "19:00"),
        # A date picture's literal text is matched literally (escaped for the regular expression).
        ("$toMillis('2020+01', '[Y0001]+[M01]')", 1577836800000),
    ],
)
def test_library_functions_answer_as_jsonata_js(expr: str, expected: Any) -> None:
    assert run(expr) == expected


@pytest.mark.parametrize("expr", ["$now('[Y0001]', 'x')", "$fromMillis(1e20, '[Y]')"])
def test_a_time_a_date_cannot_hold_fails_as_javascript_does(expr: str) -> None:
    # jsonata-js builds a Date from the time and offset: an invalid one ("Invalid time value").
    assert cause(expr) == f"The JSONata expression '{expr}' specified for the field 'Output' threw an error " \
                          "during evaluation: Invalid time value"


def test_eval_is_refused_as_aws_refuses_it() -> None:
    assert cause("$eval('1')") == threw("$eval('1')", "T1006: Attempted to invoke a non-function")
    assert run("$exists($eval)") is False


def test_the_field_is_optional_in_a_cause() -> None:
    with pytest.raises(AslError) as info:
        jsonata.evaluate("$eval('1')", {}, now=NOW, rng=random.Random(0))
    assert info.value.cause == ("The JSONata expression '$eval('1')' threw an error during evaluation. "
                                "T1006: Attempted to invoke a non-function")


# --- AWS's bounds ------------------------------------------------------------------------------

RECURSE = "($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f({n}))"


def test_deep_recursion_fails_with_aws_stack_overflow_wording() -> None:
    assert run(RECURSE.replace("{n}", "20")) == 20
    expr = RECURSE.replace("{n}", "40")
    assert cause(expr) == (
        f"The JSONata expression '{expr}' specified for the field 'Output' threw an error during evaluation: "
        "Stack overflow error: Check for non-terminating recursive function. "
        "Consider rewriting as tail-recursive.")


def test_an_addition_chain_nests_one_level_per_term() -> None:
    assert run("+".join(["1"] * 90)) == 90
    assert "Stack overflow error" in cause("+".join(["1"] * 200))


@pytest.mark.parametrize("expr", ["$count([1..900000])", "$sum([1..900000])", "$range(0, 900000, 1)",
                                  '$pad("", 8388608)'])
def test_values_larger_than_aws_allows_fail(expr: str) -> None:
    limit = "Expression evaluation memory limit exceeded: Check for excessive memory usage"
    assert cause(expr).endswith(f" threw an error during evaluation: {limit}")


def test_a_runaway_loop_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonata, "MAX_STEPS", 10_000)
    expr = "($f := function($x){ $f($x + 1) }; $f(1))"
    assert cause(expr).endswith(": Expression evaluation timeout: Check for infinite loop")


# --- the functions Step Functions adds ---------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("$partition([1,2,3,4,5,6,7,8,9], 3)", [[1, 2, 3], [4, 5, 6], [7, 8, 9]]),
        ("$partition([1,2,3,4,5], 2)", [[1, 2], [3, 4], [5]]),
        ("$partition([1,2,3], 5)", [[1, 2, 3]]),
        ("$partition([1,2,3], 2.9)", [[1, 2], [3]]),  # floored
        ("$partition([1,2,3])", [[1, 2, 3]]),
        ("$partition([1,2,3], 0.5)", jsonata.UNDEFINED),
        ("$partition([], 2)", jsonata.UNDEFINED),
        ("$partition($nothing, 2)", jsonata.UNDEFINED),
    ],
)
def test_partition(expr: str, expected: Any) -> None:
    assert run(expr) == expected


@pytest.mark.parametrize(
    ("expr", "detail"),
    [
        ("$partition([1,2,3], -1)", "D3137: Second argument must be zero or greater"),
        ("$partition([1,2,3], -0.5)", "D3137: Second argument must be zero or greater"),
        ('$partition("abc", 1)', 'T0412: Argument 1 of function "partition" must be an array of undefined'),
        ('$partition([1], "2")', mismatch("partition", 2)),
        ("$partition([1], 1, 1)", mismatch("partition", 3)),
    ],
)
def test_partition_refusals(expr: str, detail: str) -> None:
    assert cause(expr) == threw(expr, detail)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("$range(0, 10, 2)", [0, 2, 4, 6, 8, 10]),
        ("$range(0, 9, 2)", [0, 2, 4, 6, 8]),
        ("$range(10, 0, -3)", [10, 7, 4, 1]),
        ("$range(1, 1, 1)", 1),  # one number is that number, as a JSONata path gives it
        ("$range(0.5, 3.9, 1.5)", [0, 1, 2, 3]),  # each argument floored
        ("$range(-1.5, 0, 1)", [-2, -1, 0]),
        ("$range(5, 1, 1)", jsonata.UNDEFINED),
        ("$range(1, 5, 0)", jsonata.UNDEFINED),
        ("$range(1, 5)", jsonata.UNDEFINED),
        ("$range(1, $nothing, 1)", jsonata.UNDEFINED),
    ],
)
def test_range(expr: str, expected: Any) -> None:
    assert run(expr) == expected


@pytest.mark.parametrize(
    ("expr", "detail"),
    [('$range("1", 5, 1)', mismatch("range", 1)), ("$range(1, 5, true)", mismatch("range", 3)),
     ("$range(1, 5, 1, 1)", mismatch("range", 4))],
)
def test_range_refusals(expr: str, detail: str) -> None:
    assert cause(expr) == threw(expr, detail)


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512"])
def test_hash(algorithm: str) -> None:
    expected = hashlib.new(algorithm.replace("-", "").lower(), "héllo".encode()).hexdigest()
    assert run(f"$hash('héllo', '{algorithm}')") == expected


@pytest.mark.parametrize(
    ("expr", "detail"),
    [
        ("$hash('a', 'sha256')",
         "D3137: Hash algorithm 'sha256' must be one of SHA-1, SHA-384, SHA-256, SHA-512, MD5"),
        ("$hash(1, 'MD5')", mismatch("hash", 1)),
        ("$hash('a', 1)", mismatch("hash", 2)),
        ("$hash()", mismatch("hash", 1)),
        ("$hash('a', 'MD5', 1)", mismatch("hash", 3)),
    ],
)
def test_hash_refusals(expr: str, detail: str) -> None:
    assert cause(expr) == threw(expr, detail)


def test_hash_of_undefined_is_undefined() -> None:
    assert run("$hash($nothing, 'MD5')") is jsonata.UNDEFINED
    assert run("$hash('a')") is jsonata.UNDEFINED


def test_seeded_random_is_java_util_random() -> None:
    # new java.util.Random(seed).nextDouble(); 42 is the value AWS was seen to return.
    assert run("$random(42)") == 0.7275636800328681
    assert run("$random(0)") == 0.730967787376657
    assert run("$random(1)") == 0.7308781907032909
    assert run("$random(42.7)") == run("$random(42)")  # floored
    assert run("$random(42)", seed=1) == run("$random(42)", seed=2)


@given(st.integers(min_value=-(2**70), max_value=2**70))
def test_seeded_random_is_in_range(seed: int) -> None:
    assert 0 <= functions.java_random_double(seed) < 1


def test_unseeded_random_draws_from_the_given_source() -> None:
    first = run("$random()", seed=7)
    assert first == run("$random()", seed=7) == random.Random(7).random()
    values = run("[$random(), $random()]", seed=7)
    assert values[0] == first != values[1]
    assert 0 <= first < 1


@pytest.mark.parametrize(("expr", "detail"), [("$random('1')", mismatch("random", 1)),
                                              ("$random(1, 2)", mismatch("random", 2))])
def test_random_refusals(expr: str, detail: str) -> None:
    assert cause(expr) == threw(expr, detail)


def test_uuid_is_a_v4_uuid_from_the_given_source() -> None:
    value = run("$uuid()", seed=3)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", value)
    assert uuid.UUID(value).version == 4
    assert run("$uuid()", seed=3) == value != run("$uuid()", seed=4)
    assert len(set(run("[$uuid(), $uuid(), $uuid()]"))) == 3
    assert cause("$uuid(1)") == threw("$uuid(1)", mismatch("uuid", 1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("-0", 0), ("1", 1), ("1.1", 1.1), ("true", True), ('"HelloWorld"', "HelloWorld"),
     ('[1, 2, "HelloWorld"]', [1, 2, "HelloWorld"]), ('{"Arg1": 1, "Arg2": []}', {"Arg1": 1, "Arg2": []}),
     ("null", None), (' {"a": [null]} ', {"a": [None]})],
)
def test_parse(text: str, expected: Any) -> None:
    result = run("$parse($states.input.text)", state_input={"text": text})
    assert result == expected
    assert type(result) is type(expected)


def test_parse_keeps_json_null_a_value() -> None:
    assert run("$type($parse('null'))") == "null"
    assert run("$exists($parse('{\"a\": null}').a)") is True


@pytest.mark.parametrize("text", ["", "  ", "{", '{"a":1}{"b":2}', '{"a":1,"a":2}', "1e400", "NaN", "'x'"])
def test_parse_refuses_what_is_not_one_json_document(text: str) -> None:
    assert cause("$parse($states.input.text)", state_input={"text": text}) == threw(
        "$parse($states.input.text)", "D3137: Invalid JSON")


def test_parse_arguments() -> None:
    assert run("$parse($nothing)") is jsonata.UNDEFINED
    assert cause("$parse(1)") == threw("$parse(1)", mismatch("parse", 1))
    assert cause("$parse('1', 2)") == threw("$parse('1', 2)", mismatch("parse", 2))


# --- time and randomness come from the caller --------------------------------------------------


def test_now_and_millis_use_the_given_time() -> None:
    assert run("$now()") == "2023-11-14T22:13:20.123Z"
    assert run("$millis()") == 1_700_000_000_123
    assert run("$now()", now=0) == "1970-01-01T00:00:00.000Z"
    assert run("$now('[Y0001]-[M01]-[D01]')") == "2023-11-14"
    assert run("$fromMillis($millis())") == "2023-11-14T22:13:20.123Z"
    assert cause("$now(1)") == threw("$now(1)", mismatch("now", 1))
    assert cause("$millis(1)") == threw("$millis(1)", mismatch("millis", 1))


def test_shuffle_draws_from_the_given_source() -> None:
    shuffled = run("$shuffle([1,2,3,4,5,6,7,8])", seed=5)
    assert sorted(shuffled) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert shuffled == run("$shuffle([1,2,3,4,5,6,7,8])", seed=5)
    assert run("$shuffle($nothing)") is jsonata.UNDEFINED


def test_another_use_of_the_library_on_the_thread_does_not_change_the_arithmetic() -> None:
    library.Jsonata("1 + 1").evaluate(None)  # registers the library's own evaluator for this thread
    assert run("1/0") == "Infinity"


def test_each_thread_evaluates_on_its_own_state() -> None:
    results: list[Any] = []

    def work(n: int) -> None:
        for _ in range(50):
            results.append(run(f"$map([1,2,3], function($x){{ $x * {n} }})"))

    workers = [threading.Thread(target=work, args=(n,)) for n in range(1, 5)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(results) == sorted([[n, 2 * n, 3 * n] for n in range(1, 5)] * 50)


def test_a_variable_shadows_a_function_of_the_same_name() -> None:
    assert run("$partition", {"partition": 3}) == 3


# --- AWS's recorded causes ---------------------------------------------------------------------

_RECORDED = re.compile(
    r"An error occurred while executing the state '[^']*' \(entered at the event id #\d+\)\. "
    r"(?P<tail>The JSONata expression '(?P<expr>.*)' specified for the field '(?P<field>[^']*)' "
    r"(?P<outcome>.*))", re.DOTALL)


def _assigned_names(value: Any) -> set[str]:
    """Every variable a definition assigns (its values are not known outside a run)."""
    names: set[str] = set()
    if isinstance(value, dict):
        if isinstance(value.get("Assign"), dict):
            names.update(value["Assign"])
        for item in value.values():
            names |= _assigned_names(item)
    elif isinstance(value, list):
        for item in value:
            names |= _assigned_names(item)
    return names


def _recorded_causes() -> list[Any]:
    found = []
    for case in recorded_cases.cases("executions"):
        recorded = case["expected"].get("cause")
        match = _RECORDED.fullmatch(recorded) if isinstance(recorded, str) else None
        if match is None:
            continue
        referenced = set(re.findall(r"\$(\w+)", match["expr"])) & _assigned_names(case["definition"])
        if referenced:  # reads variables assigned earlier in the run
            continue
        found.append(pytest.param(case["input"], match, id=case["id"].split("::")[-2][-70:]))
    return found


@pytest.mark.skipif(not recorded_cases.AVAILABLE, reason=recorded_cases.SKIP_REASON)
@pytest.mark.parametrize(("state_input", "recorded"), _recorded_causes())
def test_recorded_causes(state_input: Any, recorded: re.Match[str]) -> None:
    expr, field, outcome = recorded["expr"], recorded["field"], recorded["outcome"]
    bindings = {"states": {"input": state_input, "context": {}}}
    try:
        value = jsonata.evaluate(expr, bindings, now=NOW, rng=random.Random(0), field=field)
    except AslError as error:
        assert error.cause == recorded["tail"]
        return
    if value is jsonata.UNDEFINED:
        assert jsonata.undefined_error(expr, field).cause == recorded["tail"]
        return
    expected_type = re.match(r"returned an unexpected result type\. Expected '(\w+)'", outcome)
    assert expected_type is not None, f"AWS failed where pinflow gave {value!r}: {outcome}"
    assert jsonata.result_type_error(expr, field, expected_type[1], value).cause == recorded["tail"]


# --- properties --------------------------------------------------------------------------------

_ATOMS = st.sampled_from([
    "1", "0", "-2.5", "1e3", "'s'", '"t"', "true", "false", "null", "[]", "{}", "[1, 'a', null]",
    "{'k': 1, 'l': [true]}", "$states.input", "$states.input.a", "$states.input.list",
    "$states.input.list[0]", "$states.context", "$v", "$nothing", "$", "a", "$states.input.list[$ > 1]",
    "$states.input.*", "**", "function($x){ $x }", "/a+/", "$states.input.list.$string()", "[1..5]",
])
_FUNCTIONS = st.sampled_from([
    "partition", "range", "hash", "random", "uuid", "parse", "eval", "now", "millis", "shuffle", "sum",
    "count", "string", "number", "uppercase", "substring", "split", "join", "keys", "merge", "map", "filter",
    "reduce", "sort", "append", "exists", "type", "boolean", "not", "round", "power", "sqrt", "formatNumber",
    "fromMillis", "toMillis", "lookup", "each", "spread", "distinct", "reverse", "zip", "error", "assert",
    "contains", "replace", "match", "pad", "trim", "length", "base64decode", "decodeUrl", "abs", "floor",
    "max", "average", "nope",
])
_OPERATORS = st.sampled_from(["+", "-", "*", "/", "%", "&", "=", "!=", "<", ">=", "and", "or", "in", "..",
                              "~>"])


def _expressions() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        call = st.builds(lambda name, args: f"${name}({', '.join(args)})", _FUNCTIONS,
                         st.lists(inner, max_size=3))
        binary = st.builds(lambda a, op, b: f"({a} {op} {b})", inner, _OPERATORS, inner)
        other = st.one_of(
            st.builds(lambda a, b, c: f"{a} ? {b} : {c}", inner, inner, inner),
            st.builds(lambda a, b: f"{a}[{b}]", inner, inner),
            st.builds(lambda a, b: f"{a}.{b}", inner, inner),
            st.builds(lambda items: f"[{', '.join(items)}]", st.lists(inner, max_size=3)),
            st.builds(lambda a, b: f"($x := {a}; {b})", inner, inner),
            st.builds(lambda a: f"{{'key': {a}}}", inner),
        )
        return st.one_of(call, binary, other)

    return st.recursive(_ATOMS, extend, max_leaves=8)


_TEMPLATES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8),
              st.builds(lambda e: "{% " + e + " %}", _expressions()),
              st.builds(lambda t: "{%" + t + "%}", st.text(max_size=12))),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=6,
)
_INPUTS = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False, allow_infinity=False),
              st.text(max_size=5)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from("ab"), inner, max_size=2)),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(template=_TEMPLATES, state_input=_INPUTS, variable=_INPUTS)
def test_any_template_ends_in_json_or_a_query_evaluation_error(template: Any, state_input: Any,
                                                                 variable: Any) -> None:
    bindings = {"states": {"input": {"a": state_input, "list": [1, 2, state_input]}, "context": {"c": 1}},
                "v": variable}
    before = copy.deepcopy(bindings)
    try:
        result = jsonata.evaluate_template(template, bindings, now=NOW, rng=random.Random(0), field="Output")
    except AslError as error:
        assert error.error == errors.QUERY_EVALUATION_ERROR
        assert isinstance(error.cause, str) and error.cause.startswith("The JSONata expression '")
    else:
        if result is not jsonata.UNDEFINED:
            json.dumps(result, allow_nan=False)
    assert bindings == before


# --- errors the library raises as bare Python errors ------------------------------------------------


@pytest.mark.parametrize(("expr", "detail"), [
    # jsonata-js, the reference implementation AWS's JSONata behaves as: $number casts a JSON number's
    # text (or 0x/0o/0b) and otherwise throws D3030 "Unable to cast value to a number: <value>".
    ("$number('x')", 'D3030: Unable to cast value to a number: "x"'),
    ("$number('1 ')", 'D3030: Unable to cast value to a number: "1 "'),
    ("$toMillis('x')", 'D3110: The argument of the toMillis function must be an ISO 8601 formatted timestamp. '
                       'Given "x"'),
    ("$sort([1, 'a'])", "D3070: The single argument form of the sort function can only be applied to an array "
                        "of strings or an array of numbers.  Use the second argument to specify a comparison "
                        "function"),
])
def test_library_failures_keep_jsonatas_own_code_and_message(expr: str, detail: str) -> None:
    assert cause(expr) == threw(expr, detail)


def test_number_still_casts_what_jsonata_casts() -> None:
    assert [run(expr) for expr in ("$number('12')", "$number('-1.5e2')", "$number('0x1F')", "$number(true)",
                                   "['1', '2'].$number()")] == [12, -150, 31, 1, [1, 2]]


def test_null_where_a_signature_has_no_room_for_it_is_a_signature_mismatch() -> None:
    # jsonata-js types JSON null as "l" when it checks a signature: `<n-s:s>` refuses it with T0410
    # (the library read null as a missing argument and crashed inside the function).
    assert cause("$formatInteger(null, '#')") == threw("$formatInteger(null, '#')", mismatch("formatInteger", 1))
    assert cause("$uppercase(null)") == threw("$uppercase(null)", mismatch("uppercase", 1))
    assert run("$string(null)") == "null"  # `<x-b?:s>` takes any value


def test_from_millis_writes_what_javascripts_date_writes() -> None:
    # jsonata-js's $fromMillis without a picture is `new Date(ms).toISOString()`: years past 9999 as
    # +YYYYYY, before year 0 as -YYYYYY, and a RangeError past 8.64e15 ms.
    assert run("$fromMillis(253402300800000)") == "+010000-01-01T00:00:00.000Z"
    assert run("$fromMillis(-62198755200000)") == "-000001-01-01T00:00:00.000Z"
    assert run("$fromMillis(951782400000)") == "2000-02-29T00:00:00.000Z"
    assert cause("$fromMillis(8.64e15 + 1)").endswith("threw an error during evaluation: Invalid time value")


def test_rounding_a_number_past_28_digits_works() -> None:
    # JavaScript rounds 1e28 (a double) without trouble; the library's decimal arithmetic did not.
    assert run("$round(1e28)") == 1e28
    assert run("$formatBase(1e28, 16)") == "204fce5e3e25020000000000"
