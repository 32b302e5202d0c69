"""Limits and defects that must end an execution cleanly, never hang or raise out of `step`."""

from __future__ import annotations

from pinflow import asl
from pinflow.asl import retry


def test_an_endless_loop_fails_at_the_history_limit() -> None:
    loop = {"StartAt": "Spin", "States": {
        "Spin": {"Type": "Pass", "Next": "Again"},
        "Again": {"Type": "Choice", "Choices": [{"Variable": "$.stop", "IsPresent": True, "Next": "Done"}],
                  "Default": "Spin"},
        "Done": {"Type": "Succeed"}}}
    result = asl.run(loop, {})
    assert result.status == "FAILED"
    assert result.error == "States.Runtime"
    assert "25000" in result.cause
    assert 25_000 <= len(result.history) <= 25_002


def test_an_express_execution_times_out_after_five_minutes() -> None:
    result = asl.run({"StartAt": "Long", "States": {"Long": {"Type": "Wait", "Seconds": 400, "End": True}}},
                     type="EXPRESS")
    assert result.status == "TIMED_OUT"
    assert result.history[-1]["timestamp"] - result.history[0]["timestamp"] == 300


def test_a_jsonata_fail_error_must_be_a_string() -> None:
    result = asl.run({"QueryLanguage": "JSONata", "StartAt": "F", "States": {
        "F": {"Type": "Fail", "Error": "{% 5 %}", "Cause": "x"}}})
    assert result.status == "FAILED"
    assert result.error == "States.QueryEvaluationError"
    assert "Expected 'string'" in result.cause


def test_a_jsonata_max_concurrency_must_be_a_number() -> None:
    result = asl.run({"QueryLanguage": "JSONata", "StartAt": "M", "States": {
        "M": {"Type": "Map", "Items": [1], "MaxConcurrency": "{% 'many' %}", "End": True,
              "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}}})
    assert result.status == "FAILED"
    assert result.error == "States.QueryEvaluationError"


def test_jsonata_item_batcher_fields_are_evaluated() -> None:
    result = asl.run({"QueryLanguage": "JSONata", "StartAt": "M", "States": {
        "M": {"Type": "Map", "Items": [1, 2, 3], "End": True,
              "ItemBatcher": {"MaxItemsPerBatch": "{% 2 %}", "BatchInput": {"tag": "{% 'b' %}"}},
              "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}}})
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == [{"Items": [1, 2], "BatchInput": {"tag": "b"}}, {"Items": [3], "BatchInput": {"tag": "b"}}]


def test_a_long_retry_run_keeps_its_capped_delay() -> None:
    retrier = {"ErrorEquals": ["States.ALL"], "MaxAttempts": 99_999_999, "BackoffRate": 2.0, "MaxDelaySeconds": 60}
    assert retry.delay(retrier, 5000, None) == 60.0
    assert retry.delay({"ErrorEquals": ["States.ALL"]}, 5000, None) == 99_999_999.0


def test_replacing_a_variable_does_not_count_twice_against_the_10_mib_limit() -> None:
    big = "x" * 150_000
    states = {f"S{i}": {"Type": "Pass", "Assign": {"v": big}, "Next": f"S{i + 1}"} for i in range(80)}
    states["S80"] = {"Type": "Succeed"}
    result = asl.run({"StartAt": "S0", "States": states})
    assert result.status == "SUCCEEDED", result.cause
