"""Parallel and Map states: result order, inputs of branches and iterations, concurrency, failures,
batching, tolerated failures and the distributed mode."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from pinflow import asl
from pinflow.asl import commands, errors, events

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:work"


def succeeded(definition: dict[str, Any], input: Any = None, **kwargs: Any) -> Any:
    result = asl.run(definition, input, **kwargs)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    return result.output


def branch(*states: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """A block of states chained in order, the last one ending it."""
    chained: dict[str, Any] = {}
    for index, (name, state) in enumerate(states):
        state = dict(state)
        if state["Type"] not in ("Choice", "Succeed", "Fail"):
            if index + 1 < len(states):
                state["Next"] = states[index + 1][0]
            else:
                state["End"] = True
        chained[name] = state
    return {"StartAt": states[0][0], "States": chained}


def single(state: dict[str, Any], name: str = "S") -> dict[str, Any]:
    return branch((name, state))


def map_machine(processor: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return single({"Type": "Map", "ItemProcessor": processor, **fields}, "M")


TASK_PROCESSOR = single({"Type": "Task", "Resource": FUNCTION}, "Work")
PASS_PROCESSOR = single({"Type": "Pass"}, "Inner")


def invocations(step: asl.Step) -> list[commands.InvokeTask]:
    return [command for command in step.commands if isinstance(command, commands.InvokeTask)]


def roundtrip(state: dict[str, Any]) -> dict[str, Any]:
    """The state as the durable engine would store and load it."""
    loaded: dict[str, Any] = json.loads(json.dumps(state))
    return loaded


def types(history: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in history]


# --- Parallel ------------------------------------------------------------------------------------


def parallel_machine(*branches: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return single({"Type": "Parallel", "Branches": list(branches), **fields}, "P")


def test_parallel_results_are_in_branch_order_and_every_branch_gets_the_same_input() -> None:
    definition = parallel_machine(
        single({"Type": "Pass", "Parameters": {"b": 0, "x.$": "$.x"}}),
        single({"Type": "Pass", "Result": "second"}, "S2"),
        branch(("S3", {"Type": "Pass", "Parameters": {"b": 2, "x.$": "$.x"}}),
               ("Done3", {"Type": "Succeed"})),
        Parameters={"x.$": "$.value"},
    )
    assert succeeded(definition, {"value": 7}) == [{"b": 0, "x": 7}, "second", {"b": 2, "x": 7}]


def test_parallel_results_keep_branch_order_when_branches_finish_out_of_order() -> None:
    tasks = [single({"Type": "Task", "Resource": FUNCTION}, f"T{i}") for i in range(3)]
    definition = parallel_machine(*tasks)
    step = asl.step(definition, None, events.Start(input={"n": 1}, at=0.0))
    invoked = invocations(step)
    assert [command.state_name for command in invoked] == ["T0", "T1", "T2"]
    state = step.state
    for at, command in enumerate(reversed(invoked), start=1):
        answer = events.TaskSucceeded(command.task_id, command.state_name, float(at))
        step = asl.step(definition, roundtrip(state), answer)
        state = step.state
    assert step.status == "SUCCEEDED"
    assert state["output"] == ["T0", "T1", "T2"]


def test_parallel_result_selector_and_result_path() -> None:
    definition = parallel_machine(single({"Type": "Pass", "Result": 1}),
                                  single({"Type": "Pass", "Result": 2}, "S2"),
                                  ResultSelector={"first.$": "$[0]", "all.$": "$"}, ResultPath="$.out")
    assert succeeded(definition, {"in": True}) == {"in": True, "out": {"first": 1, "all": [1, 2]}}


def test_parallel_history_events() -> None:
    definition = parallel_machine(single({"Type": "Pass"}))
    result = asl.run(definition, {})
    assert types(result.history) == [
        "ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted", "PassStateEntered",
        "PassStateExited", "ParallelStateSucceeded", "ParallelStateExited", "ExecutionSucceeded",
    ]


def failing_branch() -> dict[str, Any]:
    return single({"Type": "Fail", "Error": "FailureType", "Cause": "Cause description"}, "Boom")


def test_a_failing_branch_fails_the_parallel_state_with_the_branchs_error() -> None:
    result = asl.run(parallel_machine(single({"Type": "Pass"}), failing_branch()), {})
    assert (result.status, result.error, result.cause) == ("FAILED", "FailureType", "Cause description")
    assert "ParallelStateFailed" in types(result.history)


def test_a_failing_branch_can_be_caught() -> None:
    catch = [{"ErrorEquals": ["FailureType"], "ResultPath": "$.error", "Next": "Caught"}]
    definition = parallel_machine(single({"Type": "Pass"}), failing_branch(), Catch=catch)
    definition["States"]["P"].pop("End")
    definition["States"]["Caught"] = {"Type": "Pass", "End": True}
    error = {"Error": "FailureType", "Cause": "Cause description"}
    assert succeeded(definition, {"a": 1}) == {"a": 1, "error": error}


def test_a_retried_parallel_state_runs_its_branches_again() -> None:
    definition = parallel_machine(single({"Type": "Pass"}), failing_branch(),
                                  Retry=[{"ErrorEquals": ["FailureType"], "MaxAttempts": 2}])
    result = asl.run(definition, {})
    assert (result.status, result.error) == ("FAILED", "FailureType")
    kinds = types(result.history)
    assert kinds.count("ParallelStateStarted") == 3
    assert kinds.count("FailStateEntered") == 3


def test_a_failing_branch_cancels_the_tasks_still_running_in_the_others() -> None:
    definition = parallel_machine(single({"Type": "Task", "Resource": FUNCTION}, "Slow"),
                                  single({"Type": "Task", "Resource": FUNCTION}, "Fails"))
    step = asl.step(definition, None, events.Start(input={}, at=0.0))
    slow, fails = invocations(step)
    step = asl.step(definition, roundtrip(step.state), events.TaskFailed(fails.task_id, "Err", "cause", 1.0))
    assert (step.status, step.state["error"]) == ("FAILED", "Err")
    assert commands.CancelTask(slow.task_id) in step.commands
    # The cancelled task's late answer changes nothing.
    late = asl.step(definition, roundtrip(step.state), events.TaskSucceeded(slow.task_id, "late", 2.0))
    assert late.status == "FAILED"
    assert late.history == [] and late.commands == []


# --- Map: order and concurrency -----------------------------------------------------------------------


def test_map_with_max_concurrency_one_runs_items_in_order() -> None:
    calls: list[Any] = []
    definition = map_machine(TASK_PROCESSOR, MaxConcurrency=1)
    def handler(payload: Any) -> Any:
        calls.append(payload)
        return payload.upper()

    output = succeeded(definition, ["a", "b", "c"], handlers={FUNCTION: handler})
    assert calls == ["a", "b", "c"]
    assert output == ["A", "B", "C"]


def test_map_with_max_concurrency_one_invokes_one_task_at_a_time() -> None:
    definition = map_machine(TASK_PROCESSOR, MaxConcurrency=1)
    step = asl.step(definition, None, events.Start(input=[10, 20, 30], at=0.0))
    seen = []
    for at in range(1, 4):
        invoked = invocations(step)
        assert len(invoked) == 1
        seen.append(invoked[0].payload)
        answer = events.TaskSucceeded(invoked[0].task_id, at, float(at))
        step = asl.step(definition, roundtrip(step.state), answer)
    assert seen == [10, 20, 30]
    assert step.status == "SUCCEEDED"
    assert step.state["output"] == [1, 2, 3]


def test_map_max_concurrency_bounds_the_tasks_in_flight_and_keeps_item_order() -> None:
    definition = map_machine(TASK_PROCESSOR, MaxConcurrency=2)
    step = asl.step(definition, None, events.Start(input=[0, 1, 2, 3], at=0.0))
    in_flight = {command.task_id: command.payload for command in invocations(step)}
    assert sorted(in_flight.values()) == [0, 1]
    at = 0.0
    while in_flight:
        # Answer the most recently started item first, to finish out of order.
        task_id = max(in_flight, key=lambda key: in_flight[key])
        payload = in_flight.pop(task_id)
        at += 1
        step = asl.step(definition, roundtrip(step.state), events.TaskSucceeded(task_id, payload * 10, at))
        in_flight.update({command.task_id: command.payload for command in invocations(step)})
        assert len(in_flight) <= 2
    assert step.status == "SUCCEEDED"
    assert step.state["output"] == [0, 10, 20, 30]


def test_map_without_max_concurrency_starts_every_item() -> None:
    definition = map_machine(TASK_PROCESSOR)
    step = asl.step(definition, None, events.Start(input=list(range(5)), at=0.0))
    assert [command.payload for command in invocations(step)] == [0, 1, 2, 3, 4]


def test_map_over_an_empty_list_outputs_an_empty_list() -> None:
    assert succeeded(map_machine(PASS_PROCESSOR), []) == []


def test_map_over_many_items() -> None:
    assert succeeded(map_machine(PASS_PROCESSOR), list(range(2000))) == list(range(2000))


def test_map_history_events() -> None:
    result = asl.run(map_machine(PASS_PROCESSOR, MaxConcurrency=1), ["x"])
    assert types(result.history) == [
        "ExecutionStarted", "MapStateEntered", "MapStateStarted", "MapIterationStarted", "PassStateEntered",
        "PassStateExited", "MapIterationSucceeded", "MapStateSucceeded", "MapStateExited",
        "ExecutionSucceeded",
    ]
    started = result.history[2]
    assert started["mapStateStartedEventDetails"] == {"length": 1}
    assert result.history[3]["mapIterationStartedEventDetails"] == {"name": "M", "index": 0}


# --- Map: item inputs -------------------------------------------------------------------------------------


def test_items_path_and_item_selector_with_the_map_item_context() -> None:
    definition = map_machine(PASS_PROCESSOR, InputPath="$.detail", ItemsPath="$.shipped", ItemSelector={
        "index.$": "$$.Map.Item.Index",
        "value.$": "$$.Map.Item.Value",
        "partner.$": "$.partner",
        "constant": "c",
    })
    output = succeeded(definition, {"detail": {"partner": "UQS", "shipped": ["A", "B"]}})
    assert output == [
        {"index": 0, "value": "A", "partner": "UQS", "constant": "c"},
        {"index": 1, "value": "B", "partner": "UQS", "constant": "c"},
    ]


def test_legacy_iterator_and_parameters() -> None:
    definition = single({"Type": "Map", "Iterator": PASS_PROCESSOR,
                         "Parameters": {"v.$": "$$.Map.Item.Value", "all.$": "$"}}, "M")
    assert succeeded(definition, ["x", "y"]) == [{"v": "x", "all": ["x", "y"]}, {"v": "y", "all": ["x", "y"]}]


def test_the_map_item_context_is_not_visible_inside_the_iteration() -> None:
    processor = single({"Type": "Pass", "Parameters": {"i.$": "$$.Map.Item.Index"}})
    result = asl.run(map_machine(processor), [1])
    assert (result.status, result.error) == ("FAILED", errors.RUNTIME)


def test_items_path_must_select_an_array() -> None:
    result = asl.run(map_machine(PASS_PROCESSOR, ItemsPath="$.items"), {"items": {"not": "a list"}})
    assert (result.status, result.error) == ("FAILED", errors.RUNTIME)


def test_map_result_selector_and_result_path() -> None:
    definition = map_machine(PASS_PROCESSOR, ItemsPath="$.items",
                             ResultSelector={"n.$": "States.ArrayLength($)"}, ResultPath="$.count")
    assert succeeded(definition, {"items": [1, 2, 3]}) == {"items": [1, 2, 3], "count": {"n": 3}}


def test_iterations_read_and_assign_their_own_variables() -> None:
    processor = branch(("Set", {"Type": "Pass", "Assign": {"mine.$": "$"}}),
                       ("Use", {"Type": "Pass", "Parameters": {"mine.$": "$mine", "outer.$": "$outer"}}))
    definition = branch(("Init", {"Type": "Pass", "Assign": {"outer": "o"}}),
                        ("M", {"Type": "Map", "ItemProcessor": processor}))
    assert succeeded(definition, [1, 2]) == [{"mine": 1, "outer": "o"}, {"mine": 2, "outer": "o"}]


# --- Map: failures -----------------------------------------------------------------------------------------


def test_a_failing_iteration_fails_the_map_state() -> None:
    processor = branch(("Check", {"Type": "Choice", "Choices": [
        {"Variable": "$", "NumericEquals": 3, "Next": "Break"}], "Default": "Ok"}),
        ("Break", {"Type": "Fail", "Error": "SomeFailure", "Cause": "three"}),
        ("Ok", {"Type": "Pass"}))
    result = asl.run(map_machine(processor, MaxConcurrency=1), [1, 2, 3, 4])
    assert (result.status, result.error, result.cause) == ("FAILED", "SomeFailure", "three")
    kinds = types(result.history)
    assert kinds.count("MapIterationSucceeded") == 2
    assert "MapIterationFailed" in kinds and "MapStateFailed" in kinds


def test_a_caught_map_failure_outputs_the_error() -> None:
    processor = single({"Type": "Fail", "Error": "Bad", "Cause": "c"})
    definition = map_machine(processor, ItemsPath="$.items",
                             Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.e", "Next": "C"}])
    definition["States"]["M"].pop("End")
    definition["States"]["C"] = {"Type": "Pass", "End": True}
    assert succeeded(definition, {"items": [1]}) == {"items": [1], "e": {"Error": "Bad", "Cause": "c"}}


def distributed(processor: dict[str, Any]) -> dict[str, Any]:
    return {**processor, "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}}


def flaky_processor() -> dict[str, Any]:
    return branch(("Check", {"Type": "Choice", "Choices": [
        {"Variable": "$.fail", "BooleanEquals": True, "Next": "Break"}], "Default": "Ok"}),
        ("Break", {"Type": "Fail", "Error": "ItemFailed", "Cause": "bad item"}),
        ("Ok", {"Type": "Pass", "OutputPath": "$.n"}))


def items(*failing: int, total: int = 4) -> list[dict[str, Any]]:
    return [{"n": n, "fail": n in failing} for n in range(total)]


@pytest.mark.parametrize(("fields", "failing", "ok"), [
    ({"ToleratedFailureCount": 1}, (1,), True),
    ({"ToleratedFailureCount": 1}, (1, 2), False),
    ({"ToleratedFailureCount": 0}, (3,), False),
    ({"ToleratedFailurePercentage": 50}, (0, 1), True),
    ({"ToleratedFailurePercentage": 50}, (0, 1, 2), False),
    ({"ToleratedFailurePercentage": 100}, (0, 1, 2, 3), True),
])
def test_tolerated_failures(fields: dict[str, Any], failing: tuple[int, ...], ok: bool) -> None:
    definition = map_machine(distributed(flaky_processor()), MaxConcurrency=1, **fields)
    result = asl.run(definition, items(*failing))
    if ok:
        assert result.status == "SUCCEEDED", (result.error, result.cause)
        assert len(result.output) == 4
        succeeding = [n for n in range(4) if n not in failing]
        assert [result.output[n] for n in succeeding] == succeeding
    else:
        assert (result.status, result.error) == ("FAILED", errors.EXCEED_TOLERATED_FAILURE_THRESHOLD)


def test_tolerated_failure_count_path_reads_the_input() -> None:
    definition = map_machine(distributed(flaky_processor()), ItemsPath="$.items",
                             ToleratedFailureCountPath="$.n")
    assert asl.run(definition, {"items": items(0), "n": 1}).status == "SUCCEEDED"
    result = asl.run(definition, {"items": items(0), "n": "NoNumber"})
    assert result.error == errors.RUNTIME
    assert result.cause == (
        "An error occurred while executing the state 'M' (entered at the event id #2). The "
        "ToleratedFailureCountPath field refers to value \"NoNumber\" which is not a valid integer: $.n")


# --- Map: batching and the distributed mode --------------------------------------------------------------


def test_item_batcher_groups_items_with_the_batch_input() -> None:
    definition = map_machine(distributed(PASS_PROCESSOR), ItemsPath="$.items",
                             ItemBatcher={"MaxItemsPerBatch": 2, "BatchInput": {"job.$": "$.job"}})
    output = succeeded(definition, {"items": [1, 2, 3, 4, 5], "job": "j"})
    assert output == [
        {"Items": [1, 2], "BatchInput": {"job": "j"}},
        {"Items": [3, 4], "BatchInput": {"job": "j"}},
        {"Items": [5], "BatchInput": {"job": "j"}},
    ]


def test_item_batcher_max_input_bytes_per_batch() -> None:
    definition = map_machine(distributed(PASS_PROCESSOR), ItemBatcher={"MaxInputBytesPerBatch": 10})
    # Each item is 5 bytes of JSON ("aaa" with quotes), so two fit in 10 bytes.
    output = succeeded(definition, ["aaa", "bbb", "ccc"])
    assert output == [{"Items": ["aaa", "bbb"]}, {"Items": ["ccc"]}]


def test_distributed_map_records_a_map_run_and_no_iterations() -> None:
    definition = map_machine(distributed(PASS_PROCESSOR), MaxConcurrency=1,
                             ItemSelector={"v.$": "$$.Map.Item.Value", "from.$": "$"}, Label="TestMap")
    expected = [{"v": "a", "from": ["a", "b"]}, {"v": "b", "from": ["a", "b"]}]
    result = asl.run(definition, ["a", "b"])
    assert result.output == expected
    # AWS's parent history of a Distributed Map: the iterations are child executions.
    assert [e["type"] for e in result.history] == [
        "ExecutionStarted", "MapStateEntered", "MapStateStarted", "MapRunStarted", "MapRunSucceeded",
        "MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"]
    arn = result.history[3]["mapRunStartedEventDetails"]["mapRunArn"]
    assert re.fullmatch(r"arn:aws:states:us-east-1:123456789012:mapRun:state-machine/TestMap:[0-9a-f-]{36}", arn)


def test_distributed_map_iterations_cannot_read_outer_variables() -> None:
    processor = single({"Type": "Pass", "Parameters": {"x.$": "$outer"}})
    inline = branch(("Init", {"Type": "Pass", "Assign": {"outer": 1}}),
                    ("M", {"Type": "Map", "ItemProcessor": processor}))
    assert succeeded(inline, [0]) == [{"x": 1}]
    isolated = branch(("Init", {"Type": "Pass", "Assign": {"outer": 1}}),
                      ("M", {"Type": "Map", "ItemProcessor": distributed(processor)}))
    result = asl.run(isolated, [0])
    # The child execution fails (States.Runtime: no such variable); with no tolerated failures its Map
    # Run fails, and the Map with it, with States.ExceedToleratedFailureThreshold (AWS's docs).
    assert (result.status, result.error) == ("FAILED", errors.EXCEED_TOLERATED_FAILURE_THRESHOLD)
    assert [e["type"] for e in result.history if e["type"].startswith("MapRun")] == ["MapRunStarted", "MapRunFailed"]


def test_map_inside_parallel_inside_map() -> None:
    inner_map = {"Type": "Map", "ItemsPath": "$.xs", "ItemProcessor": single({"Type": "Pass"}, "Leaf")}
    second = single({"Type": "Pass", "Result": "b"}, "B")
    par = {"Type": "Parallel", "Branches": [single(inner_map, "InnerMap"), second]}
    definition = map_machine(single(par, "Par"))
    assert succeeded(definition, [{"xs": [1]}, {"xs": [2, 3]}]) == [[[1], "b"], [[2, 3], "b"]]


# --- JSONata Items that are not an array -------------------------------------------------------------


def _jsonata_map(**fields: Any) -> dict[str, Any]:
    processor = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    return {"QueryLanguage": "JSONata", "StartAt": "M",
            "States": {"M": {"Type": "Map", "ItemProcessor": processor, **fields, "End": True}}}


@pytest.mark.parametrize(("expression", "shown", "kind"), [
    ("1", "1", "number"), ("'text'", '"text"', "string"), ("true", "true", "boolean"),
    ("{'a': 1}", '{"a":1}', "object"), ("null", "null", "null"),
])
def test_jsonata_items_that_are_not_an_array_fail_with_aws_cause(expression: str, shown: str, kind: str) -> None:
    # AWS's recordings (conformance cases test_map_state_items_eval_jsonata_fail[number|string|boolean|
    # object|null]): States.QueryEvaluationError, "returned an unexpected result type", with the value.
    result = asl.run(_jsonata_map(Items=f"{{% {expression} %}}"), {})
    assert (result.status, result.error) == ("FAILED", errors.QUERY_EVALUATION_ERROR)
    assert result.cause == (
        "An error occurred while executing the state 'M' (entered at the event id #2). The JSONata expression "
        f"'{expression}' specified for the field 'Items' returned an unexpected result type. Expected 'array', "
        f"but was '{kind}' for value: {shown}")
    failed = next(e for e in result.history if e["type"] == "EvaluationFailed")
    assert failed["evaluationFailedEventDetails"]["location"] == "Items"
    # ... and AWS records MapStateFailed before the execution fails (same recordings).
    assert [e["type"] for e in result.history][-2:] == ["MapStateFailed", "ExecutionFailed"]


def test_a_jsonata_map_without_items_fails_the_same_way_on_an_input_that_is_not_an_array() -> None:
    # Without Items a Map iterates its input (AWS documents Items as optional, the input by default);
    # whatever the value's type, AWS fails a non-array with States.QueryEvaluationError.
    result = asl.run(_jsonata_map(), {"a": 1})
    assert (result.status, result.error) == ("FAILED", errors.QUERY_EVALUATION_ERROR)
    assert "returned an unexpected result type. Expected 'array', but was 'object' for value: {\"a\":1}" in (
        result.cause or "")
    literal = asl.run(_jsonata_map(Items={"a": "{% 1 %}"}), {})
    assert (literal.status, literal.error) == ("FAILED", errors.QUERY_EVALUATION_ERROR)
    assert "Expected 'array', but was 'object' for value: {\"a\":1}" in (literal.cause or "")
    assert succeeded(_jsonata_map(), [1, 2]) == [1, 2]


def test_item_reader_asks_the_driver_for_the_items() -> None:
    reader = {"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": "b", "Key.$": "$.key"},
              "ReaderConfig": {"InputType": "JSONL", "MaxItemsPath": "$.limit"}}
    definition = map_machine(distributed(PASS_PROCESSOR), ItemReader=reader)
    asked: list[Any] = []

    def read(parameters: Any) -> list[int]:
        asked.append(parameters)
        return [1, 2]

    result = asl.run(definition, {"key": "k.jsonl", "limit": 2}, handlers={reader["Resource"]: read})
    assert (result.status, result.output) == ("SUCCEEDED", [1, 2])
    assert asked == [{"Bucket": "b", "Key": "k.jsonl"}]
    failed = asl.run(definition, {"key": "k", "limit": 2})  # nothing can read it here
    assert (failed.status, failed.error) == ("FAILED", errors.ITEM_READER_FAILED)


def test_result_writer_asks_the_driver_to_write_and_its_answer_is_the_result() -> None:
    writer = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b", "Prefix": "p"}}
    definition = map_machine(distributed(PASS_PROCESSOR), ResultWriter=writer)
    asked: list[Any] = []

    def write(parameters: Any) -> dict[str, Any]:
        asked.append(parameters)
        return {"written": True}

    result = asl.run(definition, [1, 2], handlers={writer["Resource"]: write})
    assert (result.status, result.output) == ("SUCCEEDED", {"written": True})
    assert asked == [{"Bucket": "b", "Prefix": "p"}]
    failed = asl.run(definition, [1])
    assert (failed.status, failed.error) == ("FAILED", errors.RESULT_WRITER_FAILED)
