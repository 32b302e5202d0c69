"""The static validator: what AWS's ValidateStateMachineDefinition and CreateStateMachine refuse, with AWS's
codes, locations and (where AWS's wording is known) messages; and what AWS accepted, accepted."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pinflow import asl
from pinflow.asl import source
from pinflow.asl.validation import fields
from tests import recorded

LAMBDA = "arn:aws:states:::lambda:invoke"

# --- helpers ------------------------------------------------------------------------------------


def machine(states: dict[str, Any], start: str | None = None, **top: Any) -> dict[str, Any]:
    return {"StartAt": start if start is not None else next(iter(states)), "States": states, **top}


def pass_state(**fields: Any) -> dict[str, Any]:
    return {"Type": "Pass", "End": True, **fields}


def one(state: Any, **top: Any) -> dict[str, Any]:
    """A machine of one state, S."""
    return machine({"S": state}, **top)


def errors(definition: Any, **kwargs: Any) -> list[tuple[str, str | None, str]]:
    return [
        (d.code, d.location, d.message) for d in asl.validate(definition, **kwargs) if d.severity == "ERROR"
    ]


def found(definition: Any, **kwargs: Any) -> set[tuple[str, str | None]]:
    return {(code, location) for code, location, _ in errors(definition, **kwargs)}


def warnings(definition: Any) -> set[tuple[str, str | None]]:
    return {(d.code, d.location) for d in asl.validate(definition) if d.severity == "WARNING"}


def valid(definition: Any, **kwargs: Any) -> bool:
    problems = errors(definition, **kwargs)
    assert not problems, problems
    return True


SCHEMA = "SCHEMA_VALIDATION_FAILED"
TARGET = "MISSING_TRANSITION_TARGET"

# --- the AWS-recorded cases ---------------------------------------------------------------------


def _cases(kind: str) -> list[Any]:
    if not recorded.AVAILABLE:
        return [pytest.param(None, marks=pytest.mark.skip(reason=recorded.SKIP_REASON))]
    cases = recorded.cases(kind)
    return [
        pytest.param(case, id=f"{i}-{case['id'].rsplit('::', 2)[-2][-60:]}") for i, case in enumerate(cases)
    ]


def _aws_list(cause: str) -> str | None:
    """The diagnostics in a CreateStateMachine cause, as AWS prints them: "CODE: message at location, ..."."""
    match = re.search(r"Invalid State Machine Definition: '(.*)'\Z", cause, re.DOTALL)
    return match.group(1) if match else None


@pytest.mark.parametrize("case", _cases("validation"))
def test_aws_recorded_validation(case: dict[str, Any]) -> None:
    diagnostics = asl.validate(case["definition"], type=case.get("type", "STANDARD"))
    problems = [d for d in diagnostics if d.severity == "ERROR"]
    expected = case["expected"]
    if expected["status"] == "VALIDATE_OK":
        assert not problems
        return
    assert problems, "AWS refused this definition"
    if expected["status"] == "VALIDATE_FAIL":
        wanted = {
            (d["code"], d.get("location"), d["message"])
            for d in expected["diagnostics"]
            if d.get("severity", "ERROR") == "ERROR"
        }
        assert wanted <= {(d.code, d.location, d.message) for d in problems}
        return
    # CREATE_FAILED: where AWS's own list of diagnostics is in the cause, it is reproduced word for word.
    listed = _aws_list(expected["cause"])
    if listed is not None:
        assert ", ".join(f"{d.code}: {d.message} at {d.location}" for d in problems) == listed


def test_every_definition_aws_ran_is_valid() -> None:
    if not recorded.AVAILABLE:
        pytest.skip(recorded.SKIP_REASON)
    refused = []
    for case in recorded.cases("executions"):
        problems = errors(case["definition"], type=case.get("type", "STANDARD"))
        if problems:
            refused.append((case["id"], problems[:3]))
    assert not refused, refused[:5]


# --- reading a definition -----------------------------------------------------------------------


def test_text_is_read_as_json_then_yaml() -> None:
    assert valid(json.dumps(one(pass_state())))
    yaml_text = (
        "StartAt: W\nStates:\n  W:\n    Type: Wait\n    Timestamp: 2016-03-14T01:59:00Z\n    End: true\n"
    )
    assert valid(yaml_text)  # a YAML timestamp stays text, as ASL compares it


def test_empty_text_is_not_an_object() -> None:
    assert errors(" ") == [(SCHEMA, None, "Definition must be a valid JSON object")]
    assert errors("[1, 2]") == [(SCHEMA, None, "Definition must be a valid JSON object")]
    assert errors(42) == [(SCHEMA, None, "Definition must be a valid JSON object")]


def test_broken_json_is_an_invalid_json_description() -> None:
    ((code, location, message),) = errors('{"StartAt": }')
    assert (code, location) == ("INVALID_JSON_DESCRIPTION", '[Source: (String)"{"StartAt": }"; line: 1, column: 14]')
    assert message == ("Unexpected character ('}' (code 125)): expected a value\n at " + location)
    ((code, location, message),) = errors('{\n  "StartAt": "A"\n  "States": {}\n}')
    assert location.endswith("; line: 3, column: 4]")
    assert message.startswith("Unexpected character ('\"' (code 34)): was expecting comma to separate Object entries")
    assert [code for code, *_ in errors('{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}, "x": NaN}')] == [
        "INVALID_JSON_DESCRIPTION"]


def test_text_that_is_not_json_is_described_as_aws_parser_describes_it() -> None:
    # AWS's ValidateStateMachineDefinition, recorded in LocalStack's
    # tests/aws/services/stepfunctions/v2/test_sfn_api_validation.snapshot.json
    # (test_validate_state_machine_definition_not_a_definition[NOT_A_DEF]): Jackson's message, and its
    # description of where it stopped as the location.
    location = '[Source: (String)"not a definition"; line: 1, column: 4]'
    assert errors("not a definition") == [(
        "INVALID_JSON_DESCRIPTION", location,
        "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or "
        "'false')\n at " + location)]
    # The same recording: an empty definition is not an object, and {} lacks the required fields.
    assert errors("") == [(SCHEMA, None, "Definition must be a valid JSON object")]
    assert errors("{}") == [(SCHEMA, "/", "These fields are required: [States, StartAt]")]
    # Jackson quotes at most 500 characters of the source.
    long_text = "nope " + "x" * 600
    ((_, location, _),) = errors(long_text)
    assert location == f'[Source: (String)"{long_text[:500]}"[truncated 105 chars]; line: 1, column: 5]'


def test_a_state_name_repeated_in_the_text_is_a_duplicate() -> None:
    text = '{"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "A": {"Type": "Succeed"}}}'
    assert errors(text) == [("DUPLICATE_STATE_NAME", "/States/A", "Duplicate State name: A")]


def test_load() -> None:
    definition = one(pass_state())
    assert source.load(definition) is definition
    assert source.load(json.dumps(definition)) == definition
    assert source.load("StartAt: S\nStates: {S: {Type: Succeed}}") == machine({"S": {"Type": "Succeed"}})
    with pytest.raises(source.DefinitionSyntaxError) as raised:
        source.load("{")
    assert raised.value.code == "INVALID_JSON_DESCRIPTION"
    with pytest.raises(source.DefinitionSyntaxError) as raised:
        source.load("just words")  # YAML would read a string; only a mapping is a YAML definition
    assert raised.value.code == "INVALID_JSON_DESCRIPTION"
    assert str(raised.value).startswith("Unrecognized token 'just'")
    with pytest.raises(source.DefinitionSyntaxError):
        source.load("a: &x [1]\nb: *x\n")  # aliases could expand a small text into a huge document


def test_deep_nesting_is_reported_not_raised() -> None:
    deep: Any = "x"
    for _ in range(100_000):
        deep = {"a": [deep]}
    assert found(one(pass_state(Parameters=deep))) == {("TOO_DEEPLY_NESTED", None)}
    assert found('{"a":' * 100_000) == {("INVALID_JSON_DESCRIPTION", None)}


# --- the top level ------------------------------------------------------------------------------


def test_required_and_unknown_top_level_fields() -> None:
    assert errors({}) == [(SCHEMA, "/", "These fields are required: [States, StartAt]")]
    assert errors({"StartAt": "A"}) == [(SCHEMA, "/", "These fields are required: [States]")]
    assert found({**one(pass_state()), "Extra": 1}) == {(SCHEMA, "/")}
    assert found(one(pass_state(), TimeoutSeconds="60")) == {(SCHEMA, "/TimeoutSeconds")}
    assert valid(one(pass_state(), Comment="c", Version="1.0", TimeoutSeconds=60))


def test_query_language_values() -> None:
    assert errors(one(pass_state(), QueryLanguage="jsonata")) == [
        (SCHEMA, "/QueryLanguage", "Value should be one of the following: [JSONPath, JSONata]")
    ]
    assert errors(one(pass_state(), QueryLanguage=1)) == [
        (SCHEMA, "/QueryLanguage", "Expected value of type [STRING]")
    ]
    assert found(one(pass_state(QueryLanguage="XPath"))) == {(SCHEMA, "/States/S/QueryLanguage")}


# --- transitions --------------------------------------------------------------------------------


def test_next_and_end() -> None:
    assert found(one(pass_state(Next="S"))) == {(SCHEMA, "/States/S")}  # both
    assert found(one({"Type": "Pass"})) == {(SCHEMA, "/States/S"), ("MISSING_END_STATE", None)}  # neither
    assert found(one(pass_state(End="yes"))) >= {(SCHEMA, "/States/S/End")}
    assert found(one({"Type": "Succeed", "End": True})) == {(SCHEMA, "/States/S")}
    assert valid(machine({"A": {"Type": "Pass", "Next": "B", "End": False}, "B": {"Type": "Succeed"}}))


def test_targets_that_do_not_exist() -> None:
    definition = machine(
        {
            "A": {"Type": "Pass", "Next": "Nope"},
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.x", "IsNull": True, "Next": "Nope"}],
                "Default": "Nope",
            },
            "T": {
                "Type": "Task",
                "Resource": LAMBDA,
                "End": True,
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Nope"}],
            },
        }
    )
    targets = [
        (location, message)
        for code, location, message in errors(definition)
        if code == TARGET and "Missing" in message
    ]
    assert targets == [
        ("/States/A/Next", "Missing 'Next' target: Nope"),
        ("/States/C/Default", "Missing 'Next' target: Nope"),
        ("/States/C/Choices[0]/Next", "Missing 'Next' target: Nope"),
        ("/States/T/Catch[0]/Next", "Missing 'Next' target: Nope"),
    ]


def test_unreachable_states() -> None:
    definition = machine({"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Succeed"}, "C": pass_state()})
    assert errors(definition) == [(TARGET, "/States/C", 'State "C" is not reachable.')]


def test_a_workflow_without_a_terminal_state_is_reported_once() -> None:
    loop = {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}}
    assert errors(machine(loop)) == [("MISSING_END_STATE", None, "Workflow has no terminal state")]
    assert errors(machine({**loop, "X": {"Type": "Pass", "Next": "A"}})) == [
        ("MISSING_END_STATE", None, "Workflow has no terminal state")
    ]
    assert found(machine({**loop, "C": pass_state()})) == {(TARGET, "/States/C")}


def test_start_at() -> None:
    assert found(one(pass_state(), start="Z")) == {(TARGET, "/StartAt")}
    assert found({"States": {"S": pass_state()}}) == {(SCHEMA, "/")}
    branch = {"StartAt": "Z", "States": {"B": {"Type": "Succeed"}}}
    assert (TARGET, "/States/S/Branches[0]/StartAt") in found(
        one(pass_state(Type="Parallel", Branches=[branch]))
    )


def test_state_names() -> None:
    assert found(machine({"N" * 81: pass_state()})) == {("INVALID_STATE_NAME", "/States/" + "N" * 81)}
    assert valid(machine({"N" * 80: pass_state()}))
    inner = {"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}
    definition = machine(
        {"P": {"Type": "Parallel", "Branches": [inner], "Next": "B"}, "B": {"Type": "Succeed"}}
    )
    assert found(definition) == {("DUPLICATE_STATE_NAME", "/States/B")}


def test_transitions_stay_inside_their_branch() -> None:
    inner = {"StartAt": "I", "States": {"I": {"Type": "Pass", "Next": "After"}}}
    definition = machine(
        {"P": {"Type": "Parallel", "Branches": [inner], "Next": "After"}, "After": {"Type": "Succeed"}}
    )
    assert (TARGET, "/States/P/Branches[0]/States/I/Next") in found(definition)


# --- which fields each state accepts ------------------------------------------------------------


@pytest.mark.parametrize("kind", ["Pass", "Wait", "Choice", "Succeed", "Fail", "Map", "Parallel"])
def test_timeout_seconds_is_for_tasks_only(kind: str) -> None:
    assert (SCHEMA, "/States/S") in found(one({"Type": kind, "TimeoutSeconds": 5}))
    assert "Field 'TimeoutSeconds' is not supported" in {
        m for _, _, m in errors(one({"Type": kind, "TimeoutSeconds": 5}))
    }


@pytest.mark.parametrize("kind", ["Pass", "Wait", "Choice", "Succeed", "Fail"])
@pytest.mark.parametrize("field", ["Retry", "Catch"])
def test_retry_and_catch_are_for_task_parallel_and_map(kind: str, field: str) -> None:
    assert f"Field '{field}' is not supported" in {m for _, _, m in errors(one({"Type": kind, field: []}))}


def test_fields_of_the_other_query_language() -> None:
    assert errors(one(pass_state(Output={}))) == [
        (
            SCHEMA,
            "/States/S",
            "The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' "
            "QueryLanguage",
        )
    ]
    for field in ("InputPath", "OutputPath", "ResultPath", "Parameters", "Result"):
        assert errors(one(pass_state(**{field: "$"}), QueryLanguage="JSONata")) == [
            (
                SCHEMA,
                "/States/S",
                f"The QueryLanguage is set to 'JSONata', but field '{field}' is only supported "
                "for the 'JSONPath' QueryLanguage",
            )
        ]
    task = {"Type": "Task", "Resource": LAMBDA, "End": True}
    assert found(
        one({**task, "ResultSelector": {}, "TimeoutSecondsPath": "$.t"}, QueryLanguage="JSONata")
    ) == {(SCHEMA, "/States/S")}
    assert found(one({**task, "Arguments": {}})) == {(SCHEMA, "/States/S")}
    assert valid(one({**task, "Arguments": {}, "Output": {}}, QueryLanguage="JSONata"))


def test_a_jsonpath_state_under_a_jsonata_machine_is_refused() -> None:
    definition = one(pass_state(QueryLanguage="JSONPath", ResultPath="$.x"), QueryLanguage="JSONata")
    assert errors(definition) == [
        (
            SCHEMA,
            "/States/S",
            "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
        )
    ]
    assert valid(one(pass_state(QueryLanguage="JSONata", Output=1)))  # the other way is allowed


def test_states_inside_a_map_inherit_the_machines_language() -> None:
    processor = {"StartAt": "P", "States": {"P": pass_state(Output=1)}}
    definition = one({"Type": "Map", "QueryLanguage": "JSONata", "ItemProcessor": processor, "End": True})
    assert found(definition) == {(SCHEMA, "/States/S/ItemProcessor/States/P")}
    with_language = {**processor, "QueryLanguage": "JSONata"}
    assert (SCHEMA, "/States/S/ItemProcessor") in found(
        one({"Type": "Map", "ItemProcessor": with_language, "End": True})
    )


def test_unknown_and_missing_type() -> None:
    assert found(one({"Type": "Sleep", "End": True})) == {(SCHEMA, "/States/S/Type")}
    assert errors(one({"End": True})) == [(SCHEMA, "/States/S", "These fields are required: [Type]")]
    assert found(one("Pass")) == {(SCHEMA, "/States/S"), ("MISSING_END_STATE", None)}


# --- Choice -------------------------------------------------------------------------------------


def choice(*rules: Any, language: str | None = None) -> dict[str, Any]:
    top = {"QueryLanguage": language} if language else {}
    return machine(
        {"C": {"Type": "Choice", "Choices": list(rules), "Default": "D"}, "D": {"Type": "Succeed"}}, **top
    )


def test_jsonpath_choice_rules() -> None:
    assert valid(
        choice(
            {"Variable": "$.x", "NumericEquals": 1, "Next": "D"},
            {
                "And": [{"Variable": "$.a", "IsPresent": True}, {"Not": {"Variable": "$.b", "IsNull": True}}],
                "Next": "D",
            },
            {"Variable": "$.t", "TimestampLessThanPath": "$$.Execution.StartTime", "Next": "D"},
        )
    )
    rules = "/States/C/Choices"
    assert found(choice({"Variable": "$.x", "NumericEquals": 1, "StringEquals": "a", "Next": "D"})) == {
        (SCHEMA, f"{rules}[0]")
    }
    assert found(choice({"Variable": "$.x", "Next": "D"})) == {(SCHEMA, f"{rules}[0]")}  # no operator
    assert found(choice({"Variable": "$.x", "IsNull": True})) == {(SCHEMA, f"{rules}[0]")}  # no Next
    assert found(choice({"StringEquals": "a", "Next": "D"})) == {(SCHEMA, f"{rules}[0]")}  # no Variable
    nested_next = {"And": [{"Variable": "$.x", "IsNull": True, "Next": "D"}], "Next": "D"}
    assert found(choice(nested_next)) == {(SCHEMA, f"{rules}[0]/And[0]")}
    assert found(choice({"Or": [], "Next": "D"})) == {(SCHEMA, f"{rules}[0]/Or")}
    assert found(choice({"Not": [], "Next": "D"})) == {(SCHEMA, f"{rules}[0]/Not")}
    assert found(choice({"Variable": "$.x", "NumericEquals": "1", "Next": "D"})) == {
        (SCHEMA, f"{rules}[0]/NumericEquals")
    }
    assert found(choice({"Variable": "$.x", "BooleanEquals": 1, "Next": "D"})) == {
        (SCHEMA, f"{rules}[0]/BooleanEquals")
    }
    assert found(choice({"Variable": "$.x", "TimestampEquals": "2016-03-14 01:59:00Z", "Next": "D"})) == {
        (SCHEMA, f"{rules}[0]/TimestampEquals")
    }
    assert found(choice({"Variable": "x", "IsNull": True, "Next": "D"})) == {(SCHEMA, f"{rules}[0]/Variable")}
    assert found(choice({"Condition": True, "Next": "D"})) == {(SCHEMA, f"{rules}[0]")}


def test_choices_must_be_a_non_empty_list() -> None:
    assert found(machine({"C": {"Type": "Choice", "Default": "D"}, "D": {"Type": "Succeed"}})) == {
        (SCHEMA, "/States/C")
    }
    assert found(choice()) == {(SCHEMA, "/States/C/Choices")}


def test_jsonata_choice_rules() -> None:
    assert valid(
        choice(
            {
                "Condition": "{% $states.input.x > 1 %}",
                "Next": "D",
                "Output": "{% $states.input %}",
                "Assign": {"seen": True},
            },
            {"Condition": False, "Next": "D"},
            language="JSONata",
        )
    )
    rule = "/States/C/Choices[0]"
    assert found(choice({"Variable": "$.x", "IsNull": True, "Next": "D"}, language="JSONata")) == {
        (SCHEMA, rule)
    }
    assert found(choice({"Condition": "yes", "Next": "D"}, language="JSONata")) == {
        (SCHEMA, f"{rule}/Condition")
    }
    assert found(choice({"Condition": "{% x > %}", "Next": "D"}, language="JSONata")) == {
        ("INVALID_JSONATA_EXPRESSION", f"{rule}/Condition")
    }


# --- Retry and Catch ----------------------------------------------------------------------------


def task(**fields: Any) -> dict[str, Any]:
    return machine(
        {"T": {"Type": "Task", "Resource": LAMBDA, "Next": "D", **fields}, "D": {"Type": "Succeed"}}
    )


def test_retriers() -> None:
    assert valid(
        task(
            Retry=[
                {
                    "ErrorEquals": ["Custom"],
                    "IntervalSeconds": 1,
                    "MaxAttempts": 0,
                    "BackoffRate": 1,
                    "MaxDelaySeconds": 5,
                    "JitterStrategy": "FULL",
                },
                {"ErrorEquals": ["States.ALL"]},
            ]
        )
    )
    retrier = "/States/T/Retry[0]"
    for field, value in [
        ("IntervalSeconds", 0),
        ("MaxAttempts", -1),
        ("BackoffRate", 0.5),
        ("MaxDelaySeconds", 0),
        ("MaxDelaySeconds", 31_622_401),
        ("JitterStrategy", "HALF"),
        ("IntervalSeconds", 1.5),
    ]:
        assert found(task(Retry=[{"ErrorEquals": ["X"], field: value}])) == {
            (SCHEMA, f"{retrier}/{field}")
        }, field
    assert found(task(Retry=[{"ErrorEquals": []}])) == {(SCHEMA, f"{retrier}/ErrorEquals")}
    assert found(task(Retry=[{"MaxAttempts": 1}])) == {(SCHEMA, retrier)}
    assert found(task(Retry=[{"ErrorEquals": ["X"], "Next": "D"}])) == {(SCHEMA, retrier)}


def test_states_all_alone_and_last() -> None:
    assert found(task(Retry=[{"ErrorEquals": ["States.ALL", "X"]}])) == {
        (SCHEMA, "/States/T/Retry[0]/ErrorEquals")
    }
    assert found(task(Retry=[{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}])) == {
        (SCHEMA, "/States/T/Retry[0]")
    }
    catch = [{"ErrorEquals": ["States.ALL"], "Next": "D"}, {"ErrorEquals": ["X"], "Next": "D"}]
    assert found(task(Catch=catch)) == {(SCHEMA, "/States/T/Catch[0]")}


def test_catchers() -> None:
    assert valid(task(Catch=[{"ErrorEquals": ["X"], "Next": "D", "ResultPath": "$.error"}]))
    assert found(task(Catch=[{"ErrorEquals": ["X"]}])) == {(SCHEMA, "/States/T/Catch[0]")}
    assert found(task(Catch=[{"ErrorEquals": ["X"], "Next": "D", "ResultPath": "$$.x"}])) == {
        (SCHEMA, "/States/T/Catch[0]/ResultPath")
    }
    assert found(task(Catch=[{"ErrorEquals": ["X"], "Next": "D", "Output": {}}])) == {
        (SCHEMA, "/States/T/Catch[0]")
    }


# --- Wait, Task, Fail ---------------------------------------------------------------------------


def test_wait_needs_exactly_one_duration() -> None:
    assert valid(one({"Type": "Wait", "SecondsPath": "$.s", "End": True}))
    assert found(one({"Type": "Wait", "End": True})) == {(SCHEMA, "/States/S")}
    assert found(one({"Type": "Wait", "Seconds": 1, "TimestampPath": "$.t", "End": True})) == {
        (SCHEMA, "/States/S")
    }
    assert found(one({"Type": "Wait", "Seconds": -1, "End": True})) == {(SCHEMA, "/States/S/Seconds")}
    assert found(one({"Type": "Wait", "SecondsPath": "$.a[*]", "End": True})) == {
        (SCHEMA, "/States/S/SecondsPath")
    }
    jsonata = {"QueryLanguage": "JSONata"}
    assert valid(one({"Type": "Wait", "Seconds": "{% $states.input.s %}", "End": True}, **jsonata))
    assert found(one({"Type": "Wait", "SecondsPath": "$.s", "End": True}, **jsonata)) == {
        (SCHEMA, "/States/S")
    }


@pytest.mark.parametrize(
    "timestamp",
    [
        "2016-03-14T01:59:00Z",
        "2016-03-14T01:59:00.123456789Z",
        "2016-03-14T01:59:00+05:30",
        "2016-02-29T23:59:59-01:00",
    ],
)
def test_rfc3339_timestamps(timestamp: str) -> None:
    assert valid(one({"Type": "Wait", "Timestamp": timestamp, "End": True}))


@pytest.mark.parametrize(
    "timestamp",
    [
        "2016-03-14 01:59:00Z",
        "2016-03-14t01:59:00Z",
        "2016-03-14T01:59:00z",
        "2016-03-14T01:59:00",
        "2015-02-29T00:00:00Z",
        "2016-03-14T24:00:00Z",
        "2016-03-14T01:59:00+25:00",
        "{% '2016-03-14T01:59:00Z' %}",
    ],
)
def test_timestamps_aws_refuses(timestamp: str) -> None:
    assert errors(one({"Type": "Wait", "Timestamp": timestamp, "End": True})) == [
        (SCHEMA, "/States/S/Timestamp", "String does not match RFC3339 timestamp")
    ]


def test_task_timeouts() -> None:
    assert valid(task(TimeoutSeconds=10, HeartbeatSeconds=5))
    assert valid(task(TimeoutSecondsPath="$.t", HeartbeatSecondsPath="$$.Execution.Input.h"))
    assert found(task(TimeoutSeconds=10, TimeoutSecondsPath="$.t")) == {(SCHEMA, "/States/T")}
    assert found(task(HeartbeatSeconds=5, HeartbeatSecondsPath="$.h")) == {(SCHEMA, "/States/T")}
    assert found(task(TimeoutSeconds=10, HeartbeatSeconds=10)) == {(SCHEMA, "/States/T/HeartbeatSeconds")}
    assert found(task(TimeoutSeconds=0)) == {(SCHEMA, "/States/T/TimeoutSeconds")}
    assert found(task(TimeoutSeconds=100_000_000)) == {(SCHEMA, "/States/T/TimeoutSeconds")}
    assert found(task(TimeoutSeconds="{% 5 %}")) == {(SCHEMA, "/States/T/TimeoutSeconds")}
    assert valid(task(TimeoutSeconds="{% 5 %}", HeartbeatSeconds="{% 1 %}", QueryLanguage="JSONata"))


def test_task_resources() -> None:
    assert valid(task(Resource="arn:aws:lambda:us-east-1:123456789012:function:f:1"))
    assert valid(task(Resource="arn:aws:states:us-east-1:123456789012:activity:work"))
    assert valid(task(Resource="arn:aws:states:::aws-sdk:s3:listBuckets"))
    assert valid(task(Resource="arn:aws:states:::dynamodb:putItem"))
    assert valid(task(Resource="arn:aws:states:::sns:publish.waitForTaskToken"))
    assert errors(task(Resource="arn:aws:states:::dynamodb:query")) == [
        (
            SCHEMA,
            "/States/T/Resource",
            "The resource provided arn:<partition>:states:::dynamodb:query is not "
            "recognized. The value is not a valid resource ARN, or the resource is not "
            "available in this region.",
        )
    ]
    assert found(task(Resource="createToken")) == {(SCHEMA, "/States/T/Resource")}
    assert found(machine({"T": {"Type": "Task", "End": True}})) == {(SCHEMA, "/States/T")}


def test_express_refuses_sync_and_callbacks() -> None:
    for pattern in (".sync", ".sync:2", ".waitForTaskToken"):
        definition = task(Resource=f"arn:aws:states:::states:startExecution{pattern}")
        assert valid(definition)
        # AWS's messages, as recorded (LocalStack's test_sfn_api_express.snapshot.json,
        # test_illegal_callbacks[SYNC|WAIT_FOR_TASK_TOKEN]): the '.waitForTaskToken' one ends with a space.
        message = ("Express state machine does not support '.sync' service integration" if pattern.startswith(
            ".sync") else "Express state machine does not support '.waitForTaskToken' service integration ")
        assert errors(definition, type="EXPRESS") == [(SCHEMA, "/States/T/Resource", message)]
    assert valid(task(), type="EXPRESS")


def test_express_refuses_activities() -> None:
    # AWS refuses an Express machine whose Task runs an activity (recorded in LocalStack's
    # test_sfn_api_express.snapshot.json, test_illegal_activity_task).
    definition = task(Resource="arn:aws:states:us-east-1:123456789012:activity:review")
    assert valid(definition)
    assert errors(definition, type="EXPRESS") == [
        (SCHEMA, "/States/T/Resource", "Express state machine does not support Activity ARN")]


def test_task_credentials() -> None:
    assert valid(task(Credentials={"RoleArn": "arn:aws:iam::123456789012:role/r"}))
    assert valid(task(Credentials={"RoleArn.$": "$.role"}))
    assert errors(task(Credentials={"InvalidField": "x"}, QueryLanguage="JSONata")) == [
        (SCHEMA, "/States/T/Credentials", "The field 'RoleArn' is required but was missing")
    ]


def test_fail_error_and_error_path_are_exclusive() -> None:
    assert valid(one({"Type": "Fail", "Error": "E", "CausePath": "States.Format('{}', $.c)"}))
    assert valid(one({"Type": "Fail", "ErrorPath": "$$.State.Name", "Cause": "c"}))
    assert found(one({"Type": "Fail", "Error": "E", "ErrorPath": "$.e"})) == {(SCHEMA, "/States/S")}
    assert found(one({"Type": "Fail", "Cause": "C", "CausePath": "$.c"})) == {(SCHEMA, "/States/S")}
    assert found(one({"Type": "Fail", "ErrorPath": "error"})) == {(SCHEMA, "/States/S/ErrorPath")}
    assert found(one({"Type": "Fail", "Error": 5})) == {(SCHEMA, "/States/S/Error")}
    assert valid(one({"Type": "Fail", "Error": "{% $states.input.e %}"}, QueryLanguage="JSONata"))
    assert found(one({"Type": "Fail", "ErrorPath": "$.e"}, QueryLanguage="JSONata")) == {
        (SCHEMA, "/States/S")
    }


# --- Map and Parallel ---------------------------------------------------------------------------


PROCESSOR = {"StartAt": "I", "States": {"I": pass_state()}}


def map_state(**fields: Any) -> dict[str, Any]:
    return one({"Type": "Map", "ItemProcessor": PROCESSOR, "End": True, **fields})


def test_map_processor() -> None:
    assert valid(one({"Type": "Map", "Iterator": PROCESSOR, "End": True}))
    distributed = {**PROCESSOR, "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}}
    assert valid(
        map_state(
            ItemProcessor=distributed,
            Label="batch-1",
            ToleratedFailurePercentage=5.5,
            ToleratedFailureCountPath="$.n",
            ItemBatcher={"MaxItemsPerBatch": 10},
        )
    )
    assert found(one({"Type": "Map", "End": True})) == {(SCHEMA, "/States/S")}
    assert found(map_state(Iterator=PROCESSOR)) == {(SCHEMA, "/States/S")}
    bad_mode = {**PROCESSOR, "ProcessorConfig": {"Mode": "PARALLEL"}}
    assert found(map_state(ItemProcessor=bad_mode)) == {
        (SCHEMA, "/States/S/ItemProcessor/ProcessorConfig/Mode")
    }
    assert found(map_state(ItemProcessor={"StartAt": "I"})) == {(SCHEMA, "/States/S/ItemProcessor")}


def test_map_fields() -> None:
    assert valid(map_state(ItemsPath="$.items", ItemSelector={"v.$": "$$.Map.Item.Value"}, MaxConcurrency=0))
    assert found(map_state(ItemSelector={}, Parameters={})) == {(SCHEMA, "/States/S")}
    assert found(map_state(MaxConcurrency=1, MaxConcurrencyPath="$.m")) == {(SCHEMA, "/States/S")}
    assert found(map_state(MaxConcurrency=-1)) == {(SCHEMA, "/States/S/MaxConcurrency")}
    assert found(map_state(ToleratedFailurePercentage=100.5)) == {
        (SCHEMA, "/States/S/ToleratedFailurePercentage")
    }
    assert found(map_state(ToleratedFailureCount=-1)) == {(SCHEMA, "/States/S/ToleratedFailureCount")}
    assert found(map_state(ToleratedFailureCount=1, ToleratedFailureCountPath="$.c")) == {
        (SCHEMA, "/States/S")
    }
    assert found(map_state(ItemsPath="$.items[*]")) == {(SCHEMA, "/States/S/ItemsPath")}
    assert found(map_state(ItemBatcher={})) == {(SCHEMA, "/States/S/ItemBatcher")}
    assert found(map_state(ItemBatcher={"MaxInputBytesPerBatch": 262_145})) == {
        (SCHEMA, "/States/S/ItemBatcher/MaxInputBytesPerBatch")
    }
    assert found(map_state(ItemReader={"Resource": "arn:aws:states:::s3:putObject"})) == {
        (SCHEMA, "/States/S/ItemReader/Resource")
    }
    jsonata = {"QueryLanguage": "JSONata"}
    assert valid(map_state(Items="{% $states.input.list %}", MaxConcurrency="{% 2 %}", **jsonata))
    assert valid(map_state(Items=[1, "{% 2 %}"], **jsonata))
    assert found(map_state(Items="list", **jsonata)) == {(SCHEMA, "/States/S/Items")}
    assert found(map_state(ItemsPath="$.items", **jsonata)) == {(SCHEMA, "/States/S")}


@pytest.mark.parametrize("label", ["", "a b", "a?", "a*", "a<", "a:", "a$", "a\x00", "a\x85", "L" * 41])
def test_map_labels_aws_refuses(label: str) -> None:
    assert found(map_state(Label=label)) == {("INVALID_LABEL_NAME", "/States/S/Label")}


def test_labels_are_unique() -> None:
    second = {
        "Type": "Map",
        "ItemProcessor": {"StartAt": "J", "States": {"J": pass_state()}},
        "Label": "L",
        "End": True,
    }
    definition = machine(
        {"M": {"Type": "Map", "ItemProcessor": PROCESSOR, "Label": "L", "Next": "N"}, "N": second}
    )
    assert found(definition) == {("DUPLICATE_LABEL_NAME", "/States/N/Label")}


def test_parallel_branches() -> None:
    branch = {"StartAt": "B", "States": {"B": pass_state()}}
    assert valid(one({"Type": "Parallel", "Branches": [branch], "End": True}))
    assert found(one({"Type": "Parallel", "End": True})) == {(SCHEMA, "/States/S")}
    assert found(one({"Type": "Parallel", "Branches": [], "End": True})) == {(SCHEMA, "/States/S/Branches")}
    assert found(
        one({"Type": "Parallel", "Branches": [{**branch, "QueryLanguage": "JSONata"}], "End": True})
    ) == {(SCHEMA, "/States/S/Branches[0]")}
    assert (SCHEMA, "/States/S/Branches[0]/States/B") in found(
        one(
            {
                "Type": "Parallel",
                "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass"}}}],
                "End": True,
            }
        )
    )


# --- payload templates and paths ----------------------------------------------------------------


def test_dynamic_keys_hold_a_path_or_an_intrinsic() -> None:
    assert valid(
        one(
            pass_state(
                Parameters={
                    "a.$": "$.x",
                    "b.$": "$$.Execution.Id",
                    "c.$": "States.UUID()",
                    "d": [{"e.$": "States.Format('{}', $.x)"}],
                    "f": "text",
                }
            )
        )
    )
    assert errors(one(pass_state(Parameters={"n": {"bad.$": "x"}}))) == [
        (
            SCHEMA,
            "/States/S/Parameters/n",
            "The value for the field 'bad.$' must be a valid JSONPath or a valid intrinsic function call",
        )
    ]
    assert found(one(pass_state(Parameters={"bad.$": 5}))) == {(SCHEMA, "/States/S/Parameters")}
    assert found(one(pass_state(Parameters={"bad.$": "States.Nope("}))) == {(SCHEMA, "/States/S/Parameters")}
    task_definition = task(ResultSelector={"bad.$": "$["})
    assert found(task_definition) == {(SCHEMA, "/States/T/ResultSelector")}


def test_warnings_aws_documents() -> None:
    assert warnings(one(pass_state(Parameters={"p": "$.x"}))) == {("NO_DOLLAR", "/States/S/Parameters/p")}
    assert warnings(one(pass_state(Result={"r.$": "$.x"}))) == {
        ("PASS_RESULT_IS_STATIC", "/States/S/Result/r.$")
    }


def test_paths_where_aws_requires_them() -> None:
    assert valid(one(pass_state(InputPath="$.a[0:2]", OutputPath=None, ResultPath=None)))
    assert valid(one(pass_state(InputPath="$$.Execution.Input", ResultPath="$.a['b c'][0]")))
    assert found(one(pass_state(InputPath="a.b"))) == {(SCHEMA, "/States/S/InputPath")}
    assert found(one(pass_state(ResultPath="$.a[*]"))) == {(SCHEMA, "/States/S/ResultPath")}
    assert found(one(pass_state(ResultPath="$$.Execution"))) == {(SCHEMA, "/States/S/ResultPath")}
    assigned = machine(
        {"A": {"Type": "Pass", "Assign": {"v": 1}, "Next": "B"}, "B": pass_state(ResultPath="$v")}
    )
    assert found(assigned) == {(SCHEMA, "/States/B/ResultPath")}


# --- JSONata ------------------------------------------------------------------------------------


def jsonata(state: dict[str, Any]) -> dict[str, Any]:
    return one(state, QueryLanguage="JSONata")


def test_jsonata_expressions_must_parse() -> None:
    assert valid(
        jsonata(pass_state(Output={"a": ["{% $states.input.x + 1 %}", "{% not closed", " {% literal %}"]}))
    )
    assert found(jsonata(pass_state(Output={"a": ["{% 1 + %}"]}))) == {
        ("INVALID_JSONATA_EXPRESSION", "/States/S/Output/a[0]")
    }


def test_jsonata_may_not_read_the_top_level_context() -> None:
    assert errors(jsonata(pass_state(Output={"v": "{% phone %}"}))) == [
        (
            "UNSUPPORTED_JSONATA_EXPRESSION",
            "/States/S/Output/v",
            "Reference to 'phone' at the top level is not supported.",
        )
    ]
    assert errors(jsonata(pass_state(Output="{% $$ %}"))) == [
        ("UNSUPPORTED_JSONATA_EXPRESSION", "/States/S/Output", "Reference to '$$' is not supported.")
    ]
    relative = "{% $states.input.items[price > 1].{'n': name}^(n) ~> $map(function($v){ $v.n }) %}"
    assert valid(jsonata(pass_state(Output=relative)))


def test_states_result_and_error_output_only_where_aws_provides_them() -> None:
    result_in_pass = jsonata(pass_state(Output="{% $states.result %}"))
    assert errors(result_in_pass) == [
        ("UNSUPPORTED_JSONATA_EXPRESSION", "/States/S/Output", "Field '$states.result' does not exist.")
    ]
    assert errors(jsonata(pass_state(Assign={"e": "{% $states.errorOutput %}"}))) == [
        (
            "UNSUPPORTED_JSONATA_EXPRESSION",
            "/States/S/Assign/e",
            "Field '$states.errorOutput' does not exist.",
        )
    ]
    catcher = {
        "ErrorEquals": ["States.ALL"],
        "Next": "D",
        "Output": "{% $states.errorOutput %}",
        "Assign": {"error": "{% $states.errorOutput.Error %}"},
    }
    good = task(
        QueryLanguage="JSONata",
        Output="{% $states.result %}",
        Assign={"r": "{% $states.result %}"},
        Catch=[catcher],
    )
    assert valid(good)
    assert found(task(QueryLanguage="JSONata", Arguments={"a": "{% $states.result %}"})) == {
        ("UNSUPPORTED_JSONATA_EXPRESSION", "/States/T/Arguments/a")
    }
    late = {"ErrorEquals": ["States.ALL"], "Next": "D", "Output": "{% $states.result %}"}
    assert found(task(QueryLanguage="JSONata", Catch=[late])) == {
        ("UNSUPPORTED_JSONATA_EXPRESSION", "/States/T/Catch[0]/Output")
    }


# --- variables ----------------------------------------------------------------------------------


def test_assign_variable_names() -> None:
    assert valid(one(pass_state(Assign={"x": 1, "_y": "$.z", "über": 2, "n.$": "$.n"})))
    for name in ("a.b", "x[2]", "states", "1x", "v" * 81):
        assert found(one(pass_state(Assign={name: 1}))) == {(SCHEMA, f"/States/S/Assign/{name}")}, name
    assert found(one({"Type": "Succeed", "Assign": {"x": 1}})) == {(SCHEMA, "/States/S")}


def test_a_variable_no_state_assigns_is_a_warning_as_aws_accepts_it() -> None:
    definition = jsonata(pass_state(Output="{% $doesNotExist %}"))
    assert valid(definition)
    assert warnings(definition) == {("UNDEFINED_VARIABLE", "/States/S/Output")}
    assigned = machine(
        {
            "A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "B"},
            "B": pass_state(Parameters={"v.$": "$x", "f.$": "States.Format('{}', $x)"}),
        }
    )
    assert not warnings(assigned)
    inner = {"StartAt": "I", "States": {"I": pass_state(InputPath="$x")}}
    outer = machine(
        {
            "A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "M"},
            "M": {"Type": "Map", "ItemProcessor": inner, "End": True},
        }
    )
    assert not warnings(outer)  # an inline Map reads the outer scope
    distributed = {**inner, "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}}
    outer["States"]["M"]["ItemProcessor"] = distributed
    assert warnings(outer) == {("UNDEFINED_VARIABLE", "/States/M/ItemProcessor/States/I/InputPath")}


# --- any input ----------------------------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
_KNOWN = set().union(*fields.JSONPATH_FIELDS.values(), *fields.JSONATA_FIELDS.values(), fields.TOP_LEVEL)
_FIELDS = st.sampled_from(sorted(_KNOWN | {"Variable", "Condition", "And", "Unknown"}))
_SAMPLES = [
    "Pass",
    "Task",
    "Choice",
    "Map",
    "JSONata",
    "JSONPath",
    "$",
    "$.a",
    "$$.x",
    "$v",
    "{% x %}",
    "{% 1 + %}",
]
_VALUES = _JSON | st.sampled_from(
    [
        *_SAMPLES,
        "{% $states.input %}",
        "States.Format('{}', $.a)",
        LAMBDA,
        True,
        [{"ErrorEquals": ["States.ALL"], "Next": "S"}],
        {"StartAt": "S", "States": {"S": {"Type": "Succeed"}}},
    ]
)
_STATE = st.dictionaries(_FIELDS, _VALUES, max_size=6)
_DEFINITION = st.fixed_dictionaries(
    {
        "StartAt": st.sampled_from(["S", "T", 1]),
        "States": st.dictionaries(st.sampled_from(["S", "T", "U"]), _STATE),
    },
    optional={"QueryLanguage": st.sampled_from(["JSONata", "JSONPath", 3])},
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_JSON, _DEFINITION, st.text(max_size=40)))
def test_any_input_gives_diagnostics_never_an_exception(definition: Any) -> None:
    diagnostics = asl.validate(definition)
    assert isinstance(diagnostics, list)
    for diagnostic in diagnostics:
        assert diagnostic.severity in ("ERROR", "WARNING")
        # A JSON Pointer, or (text that is not JSON) where AWS's parser stopped.
        assert diagnostic.location is None or diagnostic.location.startswith("/") or (
            diagnostic.code == "INVALID_JSON_DESCRIPTION" and diagnostic.location.startswith("[Source: "))


def test_reader_config_max_items_zero_is_accepted() -> None:
    # AWS documents only MaxItems' upper bound (100,000,000); published samples that AWS accepted and ran
    # use 0 for "no limit".
    reader = {"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": "b", "Key": "k"},
              "ReaderConfig": {"InputType": "JSON", "MaxItems": 0}}
    distributed = {**PROCESSOR, "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}}
    assert valid(map_state(ItemProcessor=distributed, ItemReader=reader))
    reader["ReaderConfig"] = {"InputType": "JSON", "MaxItems": -1}
    assert found(map_state(ItemProcessor=distributed, ItemReader=reader)) == {
        (SCHEMA, "/States/S/ItemReader/ReaderConfig/MaxItems")}
