"""ValidateStateMachineDefinition and TestState: the two operations that run no execution.

TestState runs one state through `pinflow.asl.test_state`. A Task calls its function for real
(through the engine's dispatcher, with the given role's policies), unless `mock` gives its result
or its error.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import Any

from pinflow import arns, asl, errors
from pinflow.api import lanes, shapes
from pinflow.api.sfn_executions import check_input
from pinflow.api.sfn_machines import DEFINITION_LIMIT, MACHINE_TYPES, check_definition
from pinflow.api.shapes import Params
from pinflow.asl import commands as cmd
from pinflow.asl import events, json_errors, source
from pinflow.asl.validation import diagnostics as diag
from pinflow.engine import pins
from pinflow.engine.integrations import mock

INSPECTION_LEVELS = ("INFO", "DEBUG", "TRACE")
TEST_STATE_NAME = "TestState"
TEST_EXECUTION_ARN = arns.execution("TestState", "TestState")
# inspectionData members that are not JSON text in the model.
_INSPECTION_AS_IS = frozenset({"errorDetails", "request", "response", "toleratedFailureCount",
                               "toleratedFailurePercentage", "maxConcurrency"})


def validate_state_machine_definition(pf: Any, p: Params) -> dict[str, Any]:
    """ValidateStateMachineDefinition: OK or FAIL with diagnostics, ERRORs (and WARNINGs when asked)."""
    # AWS answers an empty definition with a diagnostic rather than a constraint error.
    definition = p.string("definition", required=True, high=DEFINITION_LIMIT, sensitive=True)
    machine_type = p.enum("type", MACHINE_TYPES, "STANDARD") or "STANDARD"
    severity = p.enum("severity", ("ERROR", "WARNING"), "ERROR")
    limit = p.integer("maxResults", low=0, high=100) or 100
    found = asl.validate(definition, type=machine_type)
    kept = [d for d in found if d.severity == diag.ERROR or severity == diag.WARNING]
    shown = []
    for d in kept[:limit]:
        item = {"severity": d.severity, "code": d.code, "message": d.message}
        if d.location is not None:
            item["location"] = d.location
        shown.append(item)
    truncated = len(kept) > limit
    if severity == diag.WARNING and not any(d.severity == diag.ERROR for d in found):
        extra = _unreachable(pf, str(definition))  # a pinflow server's own warning (integrations.reach)
        shown += extra[: max(0, limit - len(shown))]
        truncated = len(kept) + len(extra) > limit
    failed = any(d.severity == diag.ERROR for d in found)
    return {"result": "FAIL" if failed else "OK", "diagnostics": shown, "truncated": truncated}


def _unreachable(pf: Any, definition: str) -> list[dict[str, Any]]:
    """WARNING diagnostics for Tasks calling an AWS service this server has no endpoint or credentials for."""
    from pinflow.engine.integrations import reach

    try:
        parsed = source.load(definition)
    except ValueError:
        return []
    return [{"severity": diag.WARNING, "code": reach.CODE, "message": found.message, "location": found.location}
            for found in (reach.unreachable(pf.engine.aws, parsed) if isinstance(parsed, dict) else ())]


def _json_object(p: Params, name: str) -> dict[str, Any] | None:
    text = p.string(name, high=262_144, sensitive=True)
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise errors.ValidationException(f"Invalid {name}: '{exc}'") from None
    except RecursionError:
        raise errors.ValidationException(f"Invalid {name}: it is nested too deeply") from None
    if not isinstance(value, dict):
        raise errors.ValidationException(f"Invalid {name}: it must be a JSON object")
    return value


def _check_state(definition: str, state_name: str | None) -> None:
    """Refuse a state (or a machine with `state_name`) that AWS would refuse to test."""
    if state_name is not None:
        check_definition(definition, "STANDARD")
        return
    try:
        state = json.loads(definition)
    except json.JSONDecodeError as exc:
        described = json_errors.describe(definition, exc).message  # worded as AWS's parser words it
        raise errors.InvalidDefinition(
            f"Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: {described}'") from None
    except ValueError as exc:
        raise errors.InvalidDefinition(
            f"Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: {exc}'") from None
    except RecursionError:
        raise errors.InvalidDefinition("Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: The "
                                       "definition is too deeply nested'") from None
    if not isinstance(state, dict):
        raise errors.InvalidDefinition(
            "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The state must be a JSON object'")
    machine = {"StartAt": TEST_STATE_NAME, "States": {TEST_STATE_NAME: state}}
    if "QueryLanguage" in state:
        machine["QueryLanguage"] = state["QueryLanguage"]
    own = f"/States/{TEST_STATE_NAME}/"
    for d in asl.validate(machine):
        if d.severity != diag.ERROR:
            continue
        # The tested state's transitions lead out of the one-state machine: that is expected.
        if d.code in (diag.MISSING_TARGET, diag.MISSING_END) and _top_level(d.location, own):
            continue
        where = f" at {d.location}" if d.location else ""
        raise errors.InvalidDefinition(f"Invalid State Machine Definition: '{d.code}: {d.message}{where}'")


# What a TestState context object may hold (AWS answers anything else with ValidationException
# "Invalid Context object provided: ..."), and the type each field must have.
_CONTEXT_FIELDS: dict[str, dict[str, type | tuple[type, ...] | None]] = {
    "Execution": {"Id": str, "Input": None, "Name": str, "RoleArn": str, "StartTime": str,
                  "RedriveCount": int, "RedriveTime": str},
    "State": {"EnteredTime": str, "Name": str, "RetryCount": int},
    "StateMachine": {"Id": str, "Name": str},
    "Task": {"Token": str},
}
_TYPE_NAMES = {str: "a string", int: "an integer"}


def _tested_state(definition: str, state_name: str | None) -> dict[str, Any]:
    """The state TestState runs: the definition itself, or the machine's state named `state_name`.

    Raises:
        ValidationException: no state of the machine (nested ones included) has that name.
    """
    raw = source.load(definition)
    if state_name is None:
        return raw
    parsed = asl.Definition(raw)
    block = parsed.block_of.get(state_name)
    if block is None:
        raise errors.ValidationException("State not found in definition")  # AWS's answer
    found: dict[str, Any] = parsed.state(block, state_name)
    return found


def _check_mock(state: dict[str, Any], mock: dict[str, Any] | None, reveal_secrets: bool | None) -> None:
    """Refuse a mock AWS would refuse (its ValidationException messages)."""
    if mock is None:
        return
    kind = state.get("Type")
    if kind not in ("Task", "Map", "Parallel"):
        raise errors.ValidationException(f"State type '{kind}' is not supported when a mock is specified")
    if "result" in mock and "errorOutput" in mock:
        raise errors.ValidationException("A test mock should have only one of the following fields: "
                                         "[result, errorOutput].")
    if reveal_secrets:
        raise errors.ValidationException("TestState does not support RevealSecrets when a mock is specified.")


def _check_context(state: dict[str, Any], context: dict[str, Any] | None) -> None:
    """Refuse a context object AWS would refuse: unknown fields, fields of the wrong type, Map, and a
    Task (token) for a state that has none."""
    if context is None:
        return

    def refuse(why: str) -> errors.ServiceError:
        return errors.ValidationException(f"Invalid Context object provided: {why}")

    for name, value in context.items():
        if name == "Map":
            raise refuse("'Map' field is not supported when mocking a Context object")
        fields = _CONTEXT_FIELDS.get(name)
        if fields is None or not isinstance(value, dict):
            raise refuse(f"Field '{name}' is not allowed")
        for key, item in value.items():
            if key not in fields:
                raise refuse(f"Field '{key}' is not allowed")
            expected = fields[key]
            wrong = expected is not None and (not isinstance(item, expected) or isinstance(item, bool))
            if wrong:
                raise refuse(f"{name}.{key} must be {_TYPE_NAMES.get(expected, 'valid')}")  # type: ignore[arg-type]
    if "Task" in context:
        resource = state.get("Resource") if state.get("Type") == "Task" else None
        if not (isinstance(resource, str) and (".sync" in resource or resource.endswith(".waitForTaskToken"))):
            raise refuse("Context object contains 'Task' when state is not a Task state with a '.sync' or "
                         "'.waitForTaskToken' service integration pattern")


def _top_level(location: str | None, own: str) -> bool:
    if location is None or location == "/" or location.startswith("/StartAt"):
        return True
    nested = ("/Branches", "/Iterator", "/ItemProcessor")
    return location.startswith(own) and not any(marker in location for marker in nested)


def _task_resources(value: Any) -> set[str]:
    """Every Task state's Resource in a state or machine (nested branches and iterators too)."""
    found: set[str] = set()
    if isinstance(value, dict):
        if value.get("Type") == "Task" and isinstance(value.get("Resource"), str):
            found.add(value["Resource"])
        for item in value.values():
            found |= _task_resources(item)
    elif isinstance(value, list):
        for item in value:
            found |= _task_resources(item)
    return found


class _Tasks:
    """What a tested Task runs: the mock when one is given, else the resource itself."""

    def __init__(self, pf: Any, role_arn: str | None, mock: Mapping[str, Any] | None) -> None:
        self.pf = pf
        self.role_arn = role_arn or ""
        self.mock = mock

    def handlers(self, definition: str) -> dict[str, Callable[[Any], Any]]:
        """A handler per Task resource in `definition`, as `asl.test_state` takes them; each goes through
        the engine's dispatcher, which answers with the mock when one is given (`integrations.mock`)."""
        resources = _task_resources(source.load(definition))
        mocked = None
        if self.mock is not None:
            try:
                mocked = mock.from_test_state(self.mock)
            except ValueError:
                raise errors.ValidationException("Invalid mock result: it must be JSON text") from None
        return {resource: functools.partial(self._invoke, resource, mocked) for resource in resources}

    def _invoke(self, resource: str, mocked: mock.Mocked | None, payload: Any) -> Any:
        command = cmd.InvokeTask(task_id="test-state", resource=resource, payload=payload,
                                 state_name=TEST_STATE_NAME, attempt=0)
        outcome = self.pf.engine.dispatcher.outcome(TEST_EXECUTION_ARN, self.role_arn, pins.pinned(), command,
                                                    mocked)
        if isinstance(outcome, events.TaskSucceeded):
            return outcome.output
        if isinstance(outcome, events.TaskFailed):
            raise asl.TaskError(outcome.error, outcome.cause)
        raise asl.TaskError("States.Runtime", f"TestState needs a mock to test the resource '{resource}'")


async def test_state(pf: Any, p: Params) -> dict[str, Any]:
    """TestState: run one state (or a machine's state named by stateName) and say where it goes next, in
    the lane for long requests (a Task state calls its function)."""
    return await lanes.SYNC.run(_test_state, pf, p)


def _test_state(pf: Any, p: Params) -> dict[str, Any]:
    definition = p.required("definition", high=DEFINITION_LIMIT, sensitive=True)
    role_arn = p.string("roleArn", low=1, high=256)
    input_value = check_input(p.string("input", high=262_144, sensitive=True))
    level = p.enum("inspectionLevel", INSPECTION_LEVELS, "INFO") or "INFO"
    reveal_secrets = p.boolean("revealSecrets")
    variables = _json_object(p, "variables")
    context = _json_object(p, "context")
    state_name = p.string("stateName", low=1, high=80, sensitive=True)
    mock = p.struct("mock")
    p.struct("stateConfiguration")
    if role_arn is not None and arns.parse(role_arn) is None:
        raise errors.InvalidArn(f"Invalid Arn: 'Invalid ARN prefix: {role_arn}'")
    _check_state(definition, state_name)
    state = _tested_state(definition, state_name)
    _check_mock(state, mock, reveal_secrets)
    _check_context(state, context)
    result = asl.test_state(definition, input_value, variables=variables, context=context,
                            inspection_level=level, handlers=_Tasks(pf, role_arn, mock).handlers(definition),
                            state_name=state_name)
    answer: dict[str, Any] = {"status": result.status}
    if result.status in ("SUCCEEDED", "CAUGHT_ERROR"):
        answer["output"] = shapes.json_text(result.output)
    if result.error is not None:
        answer["error"] = result.error
    if result.cause is not None:
        answer["cause"] = result.cause
    if result.next_state is not None:
        answer["nextState"] = result.next_state
    if level != "INFO" and result.inspection_data is not None:
        answer["inspectionData"] = {key: value if key in _INSPECTION_AS_IS else shapes.json_text(value)
                                    for key, value in result.inspection_data.items()}
    return answer
