"""The States.* intrinsic functions: parsing, each function, and AWS's recorded behaviour."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pinflow.asl import errors, intrinsics
from pinflow.asl.errors import AslError
from pinflow.asl.intrinsics import values
from pinflow.asl.intrinsics.nodes import Literal, PathArg


def resolver(paths: dict[str, Any]) -> Callable[[str], Any]:
    def resolve(path: str) -> Any:
        if path not in paths:
            raise AslError(errors.RUNTIME, f"The JSONPath '{path}' could not be found")
        return paths[path]

    return resolve


def run(text: str, paths: dict[str, Any] | None = None, seed: int = 0) -> Any:
    return intrinsics.evaluate(text, resolver(paths or {}), random.Random(seed))


def failure(text: str, paths: dict[str, Any] | None = None) -> str:
    """Evaluate a call that must fail with States.IntrinsicFailure; return the cause."""
    with pytest.raises(AslError) as info:
        run(text, paths)
    assert info.value.error == errors.INTRINSIC_FAILURE
    assert info.value.cause is not None
    return info.value.cause


def syntax_error(text: str) -> intrinsics.IntrinsicSyntaxError:
    with pytest.raises(intrinsics.IntrinsicSyntaxError) as info:
        intrinsics.parse(text)
    return info.value


# --- recognising and parsing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("States.Format('{}', $.a)", True),
        ("States.UUID()", True),
        ("States.Nope(1)", True),
        ("States.Format('x'", True),
        ("$.a", False),
        ("States.Format", False),
        (" States.UUID()", False),
        ("States.Format ('x')", False),
        ("MyStates.UUID()", False),
        ("{% $x %}", False),
    ],
)
def test_looks_like_intrinsic(text: str, expected: bool) -> None:
    assert intrinsics.looks_like_intrinsic(text) is expected


def test_parse_literals_paths_and_nesting() -> None:
    call = intrinsics.parse(
        "States.Array('a', -1, 2.5, 1e3, null, true, false, $.x, $$.Execution.Id, $v.f, States.UUID())"
    )
    assert call.name == "States.Array"
    assert call.args[:7] == (
        Literal("a", ("a",)),
        Literal(-1),
        Literal(2.5),
        Literal(1000.0),
        Literal(None),
        Literal(True),
        Literal(False),
    )
    assert call.args[7:10] == (PathArg("$.x"), PathArg("$$.Execution.Id"), PathArg("$v.f"))
    assert [path.kind for path in call.paths()] == ["input", "context", "variable"]
    assert call.args[10] == intrinsics.Call("States.UUID", ())


def test_numbers_keep_int_and_float_apart() -> None:
    assert type(intrinsics.parse("States.Array(3)").args[0].value) is int  # type: ignore[union-attr]
    assert type(intrinsics.parse("States.Array(3.0)").args[0].value) is float  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "path",
    [
        "$",
        "$$",
        "$.a['b c'][0]",
        '$.a["x, y"]',
        "$.a[?(@.x == 1)]",
        "$.a[0,1]",
        "$..name",
        "$var",
        "$var.list[2]",
        "$.a['it\\'s']",
        "$$.Map.Item.Value",
    ],
)
def test_paths_end_at_the_argument_boundary(path: str) -> None:
    call = intrinsics.parse(f"States.Array({path}, 'after')")
    assert call.args == (PathArg(path), Literal("after", ("after",)))


def test_whitespace_between_arguments() -> None:
    assert intrinsics.parse("States.Array( 1 ,\t'x' ,\n$.a )") == intrinsics.parse("States.Array(1,'x',$.a)")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (r"States.Array('it\'s')", "it's"),
        (r"States.Array('\{\}')", "{}"),
        (r"States.Array('back\\slash')", "back\\slash"),
        ('States.Array(\'{"key": "value"}\')', '{"key": "value"}'),  # unescaped braces are accepted
        ("States.Array('')", ""),
    ],
)
def test_string_escapes(text: str, value: str) -> None:
    assert run(text) == [value]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("States.Format('x'", "missing ')'"),
        ("States.Format('x'))", "unexpected text"),
        ("States.Array(1,)", "expected an argument"),
        ("States.Array(,1)", "expected an argument"),
        ("States.Array(1 2)", "expected ',' or ')'"),
        ("States.Nope(1)", "unknown intrinsic function 'States.Nope'"),
        ("States.Array(Other.Thing(1))", "unknown intrinsic function 'Other.Thing'"),
        ("States.Array('abc)", "unterminated string"),
        (r"States.Array('a\"b')", "invalid escape sequence"),
        (r"States.Array('a\nb')", "invalid escape sequence"),
        ("States.Array('a\\", "escapes nothing"),
        ("States.Array($.a[0)", "unbalanced ')' in a path"),
        ("States.Array($.a['b)", "unterminated bracket or quote"),
        ("States.Array($.a[0, 1)", "unbalanced ')' in a path"),
        ("States.Array($.a[(0]", "unbalanced ']' in a path"),
        ("States.Array(nul)", "expected an argument"),
        ("States.Array(nullx)", "expected an argument"),
        ("States.Array(1.)", "invalid number"),
        ("States.Array(12abc)", "invalid number"),
        ("States.Array(1e999)", "out of range"),
        ("States.Array('a'b)", "after a string literal"),
        ("States.Array", "expected '('"),
        ("", "expected a function name"),
        ("States.UUID(1)", "States.UUID takes 0 argument(s) but 1 were given"),
        ("States.Format()", "takes at least 1 argument(s) but 0 were given"),
        ("States.MathRandom(1)", "takes 2 to 3 argument(s)"),
        ("States.JsonMerge($.a, $.b)", "takes 3 argument(s) but 2"),
    ],
)
def test_parse_errors(text: str, reason: str) -> None:
    error = syntax_error(text)
    assert reason in error.reason
    assert error.text == text
    assert 0 <= error.position <= len(text)


def test_parse_error_points_at_the_problem() -> None:
    assert syntax_error(r"States.Array(1, 'a\xb')").position == 18
    assert syntax_error("States.Array(1, States.Nope())").position == 16


def nested(depth: int) -> str:
    text = "States.ArrayLength($.a)"
    for _ in range(depth - 1):
        text = f"States.Array({text})"
    return text


def test_nesting_up_to_ten_levels() -> None:
    assert run(nested(10), {"$.a": [1, 2]}) == [[[[[[[[[2]]]]]]]]]
    assert "nested at most 10 levels" in syntax_error(nested(11)).reason


def test_parse_is_pure_and_hashable() -> None:
    text = "States.Format('{} {}', $.a, States.Array(1))"
    first = intrinsics.parse(text)
    assert first == intrinsics.parse(text)
    assert hash(first) == hash(intrinsics.parse(text))


def test_evaluate_accepts_text_or_a_parsed_call() -> None:
    call = intrinsics.parse("States.MathAdd($.a, 1)")
    assert run("States.MathAdd($.a, 1)", {"$.a": 2}) == 3
    assert intrinsics.evaluate(call, resolver({"$.a": 2}), random.Random()) == 3


def test_path_failures_propagate_unchanged() -> None:
    with pytest.raises(AslError) as info:
        run("States.Array($.missing)")
    assert info.value.error == errors.RUNTIME


def test_result_shares_nothing_with_the_input() -> None:
    data: dict[str, Any] = {"a": {"x": [1]}}
    result = run("States.ArrayGetItem($.list, 0)", {"$.list": [data]})
    result["a"]["x"].append(2)
    assert data == {"a": {"x": [1]}}


# --- States.Format ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [  # AWS-recorded renderings of each JSON type.
        ("", "Formatting argument ."),
        (" ", "Formatting argument  ."),
        ("HelloWorld", "Formatting argument HelloWorld."),
        (None, "Formatting argument null."),
        (1, "Formatting argument 1."),
        (1.1, "Formatting argument 1.1."),
        ('{"Arg1": 1, "Arg2": []}', 'Formatting argument {"Arg1": 1, "Arg2": []}.'),
        (True, "Formatting argument true."),
        (1.0, "Formatting argument 1.0."),
        (["a", 1, None, [True]], "Formatting argument [a, 1, null, [true]]."),
        ({"Id": "arn:x", "Name": "n"}, "Formatting argument {Id=arn:x, Name=n}."),
    ],
)
def test_format_renders_values_like_aws(value: Any, text: str) -> None:
    assert run("States.Format('Formatting argument {}.', $.v)", {"$.v": value}) == text


def test_format_template_from_a_path_or_variable() -> None:
    assert run("States.Format($t, $.n)", {"$t": "It's {}!", "$.n": "Pikachu"}) == "It's Pikachu!"


def test_format_escaped_braces_are_not_placeholders() -> None:
    assert run(r"States.Format('\{\} {} \{x\}', 'v')") == "{} v {x}"
    assert run("States.Format('no placeholders')") == "no placeholders"


def test_format_errors() -> None:
    assert "1 placeholder(s) but 2 value(s)" in failure("States.Format('{}', 1, 2)")
    assert "2 placeholder(s) but 1 value(s)" in failure("States.Format('{} {}', 1)")
    assert "the template must be a string" in failure("States.Format($.t)", {"$.t": 5})


# --- JSON functions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [  # AWS-recorded: blank text is null, -0 is 0.
        ("", None),
        (" ", None),
        ("\n\t ", None),
        ("null", None),
        ("-0", 0),
        ("1", 1),
        ("1.1", 1.1),
        ("true", True),
        ('"HelloWorld"', "HelloWorld"),
        ('[1, 2, "HelloWorld"]', [1, 2, "HelloWorld"]),
        ('{"Arg1": 1, "Arg2": []}', {"Arg1": 1, "Arg2": []}),
        (' {"a": 1} ', {"a": 1}),
    ],
)
def test_string_to_json(text: str, value: Any) -> None:
    assert run("States.StringToJson($.s)", {"$.s": text}) == value


@pytest.mark.parametrize("text", ["{", "NaN", "Infinity", "1e400", "[1] 2", "'a'", "{a: 1}"])
def test_string_to_json_rejects_invalid_json(text: str) -> None:
    assert "not valid JSON" in failure("States.StringToJson($.s)", {"$.s": text})


@pytest.mark.parametrize("value", [None, 1, [], {}])
def test_string_to_json_needs_a_string(value: Any) -> None:
    assert "must be a string" in failure("States.StringToJson($.s)", {"$.s": value})


def test_string_to_json_of_a_literal() -> None:
    assert run('States.StringToJson(\'{"constant_in_literal": "false"}\')') == {
        "constant_in_literal": "false"
    }


@pytest.mark.parametrize(
    ("value", "text"),
    [  # AWS-recorded, then Java's number forms and Jackson's escaping.
        (None, "null"),
        (0, "0"),
        (1, "1"),
        (1.1, "1.1"),
        (True, "true"),
        ("HelloWorld", '"HelloWorld"'),
        ([1, 2, "HelloWorld"], '[1,2,"HelloWorld"]'),
        ({"Arg1": 1, "Arg2": []}, '{"Arg1":1,"Arg2":[]}'),
        (1.0, "1.0"),
        (1e20, "1.0E20"),
        ('é\n\x01"\\/', '"é\\n\\u0001\\"\\\\/"'),
    ],
)
def test_json_to_string(value: Any, text: str) -> None:
    assert run("States.JsonToString($.v)", {"$.v": value}) == text


def test_json_merge_is_shallow() -> None:
    first = {"a": {"a1": 1, "a2": 2}, "b": 2, "d": 3}
    second = {"a": {"a3": 1, "a4": 2}, "c": 3, "d": 4}
    merged = run("States.JsonMerge($.x, $.y, false)", {"$.x": first, "$.y": second})
    assert merged == {"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3, "d": 4}
    assert first == {"a": {"a1": 1, "a2": 2}, "b": 2, "d": 3}


def test_json_merge_errors() -> None:
    paths = {"$.o": {"a": 1}, "$.l": [1]}
    assert "deep merging is not supported" in failure("States.JsonMerge($.o, $.o, true)", paths)
    assert "must be a boolean" in failure("States.JsonMerge($.o, $.o, 'false')", paths)
    assert "the first argument must be a JSON object" in failure("States.JsonMerge($.l, $.o, false)", paths)
    assert "the second argument must be a JSON object" in failure("States.JsonMerge($.o, null, false)", paths)


# --- arrays -------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", " ", None, 1, 1.1, "{}", {"Arg1": 1, "Arg2": []}])
def test_array(value: Any) -> None:
    assert run("States.Array($.a, $.b)", {"$.a": value, "$.b": value}) == [value, value]
    assert run("States.Array()") == []


def test_array_partition() -> None:
    paths = {"$.a": [1, 2, 3, 4, 5, 6, 7, 8, 9]}
    assert run("States.ArrayPartition($.a, 4)", paths) == [[1, 2, 3, 4], [5, 6, 7, 8], [9]]
    assert run("States.ArrayPartition($.a, 3.6)", paths) == [[1, 2, 3, 4], [5, 6, 7, 8], [9]]
    assert run("States.ArrayPartition($.a, 20)", paths) == [[1, 2, 3, 4, 5, 6, 7, 8, 9]]
    assert run("States.ArrayPartition($.e, 2)", {"$.e": []}) == []


def test_array_partition_errors() -> None:
    paths = {"$.a": [1, 2]}
    assert "positive integer" in failure("States.ArrayPartition($.a, 0)", paths)
    assert "positive integer" in failure("States.ArrayPartition($.a, 0.4)", paths)
    assert "positive integer" in failure("States.ArrayPartition($.a, -2)", paths)
    assert "must be a number" in failure("States.ArrayPartition($.a, '2')", paths)
    assert "must be an array" in failure("States.ArrayPartition('ab', 2)", paths)


@pytest.mark.parametrize(
    ("array", "value", "found"),
    [  # AWS-recorded cases first.
        ([], None, False),
        ([], [], False),
        ([], 1, False),
        ([[1, 2, 3], 2], None, False),
        ([[1, 2, 3], 2], [1, 2, 3], True),
        ([{"1": 2, "2": []}], [], False),
        ([{"1": 2, "2": []}], {"1": 2, "2": []}, True),
        ([True, False], True, True),
        ([True, False], False, True),
        ([1, 0], True, False),
        ([True], 1, False),
        ([{"a": 1, "b": 2}], {"b": 2, "a": 1}, True),
        ([None], None, True),
    ],
)
def test_array_contains(array: list[Any], value: Any, found: bool) -> None:
    assert run("States.ArrayContains($.a, $.v)", {"$.a": array, "$.v": value}) is found


@pytest.mark.parametrize(
    ("args", "expected"),
    [  # AWS-recorded: the end is included when the step lands on it.
        ("0, 9, 3", [0, 3, 6, 9]),
        ("0, 10, 3", [0, 3, 6, 9]),
        ("1, 9, 9", [1]),
        ("1, 9, 2", [1, 3, 5, 7, 9]),
        ("10, 0, -5", [10, 5, 0]),
        ("1, 0, 1", []),
        ("0.6, 2.4, 1", [1, 2]),
        ("1, 1000, 1", list(range(1, 1001))),
    ],
)
def test_array_range(args: str, expected: list[int]) -> None:
    assert run(f"States.ArrayRange({args})") == expected


def test_array_range_errors() -> None:
    assert "more than the maximum of 1000" in failure("States.ArrayRange(0, 1000, 1)")
    assert "more than the maximum of 1000" in failure("States.ArrayRange(0, 1e15, 1)")
    assert "the step must not be 0" in failure("States.ArrayRange(0, 10, 0)")
    assert "the step must not be 0" in failure("States.ArrayRange(0, 10, 0.2)")
    assert "must be a number" in failure("States.ArrayRange(0, '10', 1)")


def test_array_get_item() -> None:
    paths = {"$.a": [1, 2, 3, 4, 5, 6, 7, 8, 9]}
    assert run("States.ArrayGetItem($.a, 5)", paths) == 6  # AWS-recorded
    assert run("States.ArrayGetItem($.a, 0.0)", paths) == 1


def test_array_get_item_errors() -> None:
    paths = {"$.a": [1, 2, 3]}
    assert "out of bounds" in failure("States.ArrayGetItem($.a, 3)", paths)
    assert "out of bounds" in failure("States.ArrayGetItem($.a, -1)", paths)
    assert "must be an integer" in failure("States.ArrayGetItem($.a, 1.5)", paths)
    assert "must be an integer" in failure("States.ArrayGetItem($.a, true)", paths)
    assert "must be an array" in failure("States.ArrayGetItem($.o, 0)", {"$.o": {"0": 1}})


def test_array_length() -> None:
    many = [None, None, True, True, False, False, 1, 1, 1.1, 0, 0, "HelloWorld", "HelloWorld", [], [], [None]]
    assert run("States.ArrayLength($.a)", {"$.a": many}) == 16
    assert run("States.ArrayLength($.a)", {"$.a": []}) == 0
    assert "must be an array" in failure("States.ArrayLength($.a)", {"$.a": "abc"})


def test_array_unique_keeps_first_occurrences() -> None:
    items: list[Any] = [None, None, True, True, False, 1, 1, 1.0, 0, "x", "x", [], []]
    items += [{"a": 1, "b": 2}, {"b": 2, "a": 1}]
    expected: list[Any] = [None, True, False, 1, 0, "x", [], {"a": 1, "b": 2}]
    assert run("States.ArrayUnique($.a)", {"$.a": items}) == expected
    assert run("States.ArrayUnique($.a)", {"$.a": [1, 2, 2, 3, 3, 4]}) == [1, 2, 3, 4]
    assert "must be an array" in failure("States.ArrayUnique($.a)", {"$.a": None})


# --- encoding and hashing -----------------------------------------------------------------------


def test_base64_encode_and_decode() -> None:
    assert run("States.Base64Encode($.s)", {"$.s": ""}) == ""
    assert run("States.Base64Encode($.s)", {"$.s": "Data to encode"}) == "RGF0YSB0byBlbmNvZGU="
    assert run("States.Base64Decode($.s)", {"$.s": "RGF0YSB0byBlbmNvZGU="}) == "Data to encode"
    assert run("States.Base64Decode('SGVsbG8gV29ybGQ')") == "Hello World"  # padding is optional
    assert run("States.Base64Decode(States.Base64Encode('héllo ✓'))") == "héllo ✓"
    assert run("States.Base64Decode('/w==')") == "\ufffd"  # not UTF-8


def test_base64_limits_and_errors() -> None:
    assert run("States.Base64Encode($.s)", {"$.s": "a" * 10_000}).startswith("YWFh")
    assert "at most 10000 characters" in failure("States.Base64Encode($.s)", {"$.s": "a" * 10_001})
    assert "at most 10000 characters" in failure("States.Base64Encode($.s)", {"$.s": "\U0001f600" * 5001})
    assert "at most 10000 characters" in failure("States.Base64Decode($.s)", {"$.s": "A" * 10_004})
    assert "must be a string" in failure("States.Base64Encode(1)")
    assert "must be a string" in failure("States.Base64Decode(null)")
    for bad in ["abc$", "A", "AB=C", "ab cd"]:
        assert "not valid Base64" in failure("States.Base64Decode($.s)", {"$.s": bad})


@pytest.mark.parametrize(
    ("algorithm", "digest"),
    [  # AWS-recorded digests of "input data".
        ("MD5", "812f45842bc6d66ee14572ce20db8e86"),
        ("SHA-1", "aaff4a450a104cd177d28d18d74485e8cae074b7"),
        ("SHA-256", "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"),
        (
            "SHA-384",
            "d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b87525bdc835ebb27e1fb9e9374a15562",
        ),
        (
            "SHA-512",
            "6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce"
            "2deba23bf2954f0f1d593fc50283731a533d30d425402d4f91316d871303aac4",
        ),
    ],
)
def test_hash(algorithm: str, digest: str) -> None:
    assert run("States.Hash($.d, $.a)", {"$.d": "input data", "$.a": algorithm}) == digest


def test_hash_errors() -> None:
    assert "must be one of MD5, SHA-1" in failure("States.Hash('x', 'sha-256')")
    assert "must be one of" in failure("States.Hash('x', $.a)", {"$.a": ["MD5"]})
    assert "must not be null" in failure("States.Hash(null, 'MD5')")
    assert "at most 10000 characters" in failure("States.Hash($.d, 'MD5')", {"$.d": "x" * 10_001})
    assert "at most 10000 characters" in failure("States.Hash($.d, 'MD5')", {"$.d": ["x" * 9_999]})


def test_hash_of_a_non_string_hashes_its_json_text() -> None:
    assert run("States.Hash($.d, 'MD5')", {"$.d": {"a": 1}}) == run("States.Hash('{\"a\":1}', 'MD5')")


# --- math ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "total"),
    [  # AWS-recorded: each argument is rounded half up (Java Math.round) before adding.
        (-9, 3, -6),
        (1.49, 1.5, 3),
        (1.5, 1.51, 4),
        (-1.49, -1.5, -2),
        (-1.5, -1.51, -3),
        (1.49, 0, 1),
        (1.49, -1.49, 0),
        (1.5, 0, 2),
        (1.51, 0, 2),
        (-1.49, 0, -1),
        (-1.5, 0, -1),
        (-1.51, 0, -2),
        (0.5, 0, 1),
        (2.5, 0, 3),
        (3.5, 0, 4),
        (-0.5, 0.5, 1),
        (-0.5, 0, 0),
        (-2.5, 0, -2),
        (-3.5, 0, -3),
        (2147483647, -2147483648, -1),
    ],
)
def test_math_add(a: float, b: float, total: int) -> None:
    assert run("States.MathAdd($.a, $.b)", {"$.a": a, "$.b": b}) == total


def test_math_add_literals_and_nesting() -> None:
    assert run("States.MathAdd(States.ArrayLength($.a), -1)", {"$.a": [1, 2, 3]}) == 2


def test_math_add_errors() -> None:
    assert "between -2147483648 and 2147483647" in failure("States.MathAdd(2147483648, 0)")
    assert "between -2147483648 and 2147483647" in failure("States.MathAdd(0, -2147483649)")
    assert "must be a number" in failure("States.MathAdd('1', 2)")
    assert "must be a number" in failure("States.MathAdd(true, 2)")
    assert "must be a number" in failure("States.MathAdd(null, 2)")


@pytest.mark.parametrize(("start", "end"), [(12.5, 44.51), (9999, 99999), (-99999, -9999), (0, 1)])
def test_math_random_is_within_bounds(start: float, end: float) -> None:
    low, high = values.java_round(start), values.java_round(end)
    for seed in range(50):
        number = run("States.MathRandom($.s, $.e)", {"$.s": start, "$.e": end}, seed=seed)
        assert type(number) is int
        assert low <= number < high


def test_math_random_with_a_seed_depends_on_the_seed_only() -> None:
    results = {run("States.MathRandom(1, 1000, 42)", seed=seed) for seed in range(20)}
    assert len(results) == 1
    assert run("States.MathRandom(1, 1000, 42.2)") in results
    assert len({run(f"States.MathRandom(1, 1000000, {seed})") for seed in range(20)}) > 1


def test_math_random_without_a_seed_follows_the_execution_generator() -> None:
    assert run("States.MathRandom(0, 1000000)", seed=5) == run("States.MathRandom(0, 1000000)", seed=5)
    assert len({run("States.MathRandom(0, 1000000)", seed=seed) for seed in range(20)}) > 1


def test_math_random_errors() -> None:
    assert "must be less than the end" in failure("States.MathRandom(5, 5)")
    assert "must be less than the end" in failure("States.MathRandom(5, 1)")
    assert "must be a number" in failure("States.MathRandom('1', 5)")
    assert "the seed must be a number" in failure("States.MathRandom(1, 5, 'x')")


# --- strings and UUID ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "delimiters", "pieces"),
    [  # AWS-recorded: every delimiter character splits, empty pieces are dropped.
        (" ", ",", [" "]),
        (" , ", ",", [" ", " "]),
        (", , ,", ",", [" ", " "]),
        (",,,,", ",", []),
        ("1,2,3,4,5", ",", ["1", "2", "3", "4", "5"]),
        ("This.is+a,test=string", ".+,=", ["This", "is", "a", "test", "string"]),
        ("split on T and \nnew line", "T\n", ["split on ", " and ", "new line"]),
        ("a-b", "", ["a-b"]),
        ("", ",", []),
    ],
)
def test_string_split(text: str, delimiters: str, pieces: list[str]) -> None:
    assert run("States.StringSplit($.t, $.d)", {"$.t": text, "$.d": delimiters}) == pieces


def test_string_split_errors() -> None:
    assert "the first argument must be a string" in failure("States.StringSplit(1, ',')")
    assert "the delimiter must be a string" in failure("States.StringSplit('a', null)")


def test_uuid_is_a_v4_uuid_from_the_execution_generator() -> None:
    first = run("States.UUID()", seed=3)
    assert first == run("States.UUID()", seed=3)
    assert first != run("States.UUID()", seed=4)
    assert len(first) == 36
    assert first[14] == "4"
    assert first[19] in "89ab"


# --- number and text forms ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "text"),
    [  # Java's Double.toString.
        (1.0, "1.0"),
        (-1.5, "-1.5"),
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (0.1, "0.1"),
        (0.001, "0.001"),
        (0.0001, "1.0E-4"),
        (1.5e-05, "1.5E-5"),
        (100.0, "100.0"),
        (1234567.0, "1234567.0"),
        (9999999.0, "9999999.0"),
        (10000000.0, "1.0E7"),
        (12345678.9, "1.23456789E7"),
        (1e20, "1.0E20"),
        (1.7976931348623157e308, "1.7976931348623157E308"),
        (5e-324, "4.9E-324"),
    ],
)
def test_format_double(number: float, text: str) -> None:
    assert values.format_double(number) == text


@pytest.mark.parametrize(
    ("value", "rounded"), [(0.49999999999999994, 0), (-0.49999999999999994, 0), (2.5, 3), (-2.5, -2), (7, 7)]
)
def test_java_round(value: float, rounded: int) -> None:
    assert values.java_round(value) == rounded


# --- properties ---------------------------------------------------------------------------------

FUNCTION_NAMES = sorted(intrinsics.FUNCTIONS)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=10,
)


def quoted(text: str) -> str:
    escaped = "".join("\\" + char if char in "'{}\\" else char for char in text)
    return f"'{escaped}'"


def literal_texts() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=10).map(quoted),
        st.sampled_from(["{}", "'{} and {}'", "'MD5'", "'SHA-256'", "','", "false", "true", "null"]),
        st.integers(min_value=-3000, max_value=3000).map(str),
        st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(repr),
    )


@st.composite
def calls(draw: st.DrawFn, depth: int = 0) -> str:
    name = draw(st.sampled_from(FUNCTION_NAMES))
    args = []
    for index in range(draw(st.integers(min_value=0, max_value=4))):
        choice = draw(st.integers(min_value=0, max_value=5 if depth < 2 else 4))
        if choice <= 2:
            args.append(f"$.v{index}")
        elif choice <= 4:
            args.append(draw(literal_texts()))
        else:
            args.append(draw(calls(depth=depth + 1)))
    return f"{name}({', '.join(args)})"


@settings(max_examples=300, deadline=None)
@given(text=calls(), data=st.lists(json_values, min_size=4, max_size=4), seed=st.integers(0, 1000))
def test_any_call_evaluates_or_fails_with_our_errors(text: str, data: list[Any], seed: int) -> None:
    paths = {f"$.v{index}": value for index, value in enumerate(data)}
    try:
        result = run(text, paths, seed)
    except (AslError, intrinsics.IntrinsicSyntaxError) as exc:
        if isinstance(exc, AslError):
            assert exc.error == errors.INTRINSIC_FAILURE
        return
    json.dumps(result)  # a JSON value


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="States.Fomat(Ary$.'{}\\,) -1n", max_size=40))
def test_any_text_parses_or_raises_a_syntax_error(text: str) -> None:
    try:
        call = intrinsics.parse(text)
    except intrinsics.IntrinsicSyntaxError as exc:
        assert 0 <= exc.position <= len(text)
        return
    assert call.name in intrinsics.FUNCTIONS


@given(text=st.text(max_size=30))
def test_any_string_literal_round_trips(text: str) -> None:
    assert run(f"States.Array({quoted(text)})") == [text]


@given(value=json_values)
def test_json_to_string_and_back(value: Any) -> None:
    text = run("States.JsonToString($.v)", {"$.v": value})
    back = run("States.StringToJson($.t)", {"$.t": text})
    assert values.json_key(back) == values.json_key(value)


@given(number=st.floats(allow_nan=False, allow_infinity=False))
def test_format_double_reads_back(number: float) -> None:
    assert float(values.format_double(number)) == number
