"""`configureTaskTimeouts: true`, as the serverless-step-functions plugin does it (its
lib/deploy/stepFunctions/configureTaskTimeouts.js).

Before intrinsics are resolved, every Task (in Parallel branches and Map processors too) whose
function is one of the project's, named by `Ref` or `Fn::GetAtt` in `Resource` or in the
`Parameters.FunctionName` of `lambda:invoke`, gets `TimeoutSeconds` = the function's timeout
(its own, else the provider's, else Serverless's 6 s) unless it sets `TimeoutSeconds` or
`TimeoutSecondsPath`; one that sets a larger `TimeoutSeconds` (any number, as the plugin compares) is
reported (the function fails first). A Map with both ItemProcessor and Iterator is walked through its
ItemProcessor only, as the plugin walks it (`asl.walk`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

from pinflow.asl import walk
from pinflow.deploy import rewrite
from pinflow.engine.integrations import aws_lambda


def configure(definition: Any, functions: Mapping[str, Any], machine: str) -> tuple[Any, list[str]]:
    """A copy of `definition` with Task timeouts injected, and the warnings for over-long ones.

    Args:
        definition: the state machine's definition as written (intrinsics unresolved).
        functions: the project's functions by key (`project.Function`, with `timeout`).
        machine: the state machine's key, for the warnings.
    """
    made = copy.deepcopy(definition)
    warnings: list[str] = []
    for name, state in _tasks(made):
        key = _function_key(state, functions)
        if key is None:
            continue
        limit = int(functions[key].timeout)
        if "TimeoutSeconds" not in state and "TimeoutSecondsPath" not in state:
            state["TimeoutSeconds"] = limit
        elif _number(state.get("TimeoutSeconds")) and state["TimeoutSeconds"] > limit:
            warnings.append(f'state machine "{machine}" task "{name}": TimeoutSeconds ({state["TimeoutSeconds"]}s) '
                            f'is greater than the function "{key}" timeout ({limit}s): the function fails first')
    return made, warnings


def _number(value: Any) -> bool:
    """A JSON number, as the plugin's `typeof ... === 'number'` sees one (a boolean is not)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _function_key(state: Mapping[str, Any], functions: Mapping[str, Any]) -> str | None:
    resource = state.get("Resource")
    named: Any = resource
    if isinstance(resource, str) and resource.startswith(aws_lambda.INVOKE_PREFIX):
        parameters = state.get("Parameters")
        named = parameters.get("FunctionName") if isinstance(parameters, Mapping) else None
    if not isinstance(named, Mapping) or len(named) != 1:
        return None
    if isinstance(named.get("Ref"), str):
        logical = named["Ref"]
    elif isinstance(named.get("Fn::GetAtt"), list) and named["Fn::GetAtt"] and isinstance(named["Fn::GetAtt"][0], str):
        logical = named["Fn::GetAtt"][0]
    else:
        return None
    if logical in functions:
        return logical
    return next((key for key in functions if rewrite.logical_id(key) == logical), None)


def _tasks(definition: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    if not isinstance(definition, dict):
        return
    for _, name, state in walk.states(definition):
        if state.get("Type") == "Task":
            yield name, state
