"""Mocked integrations: Step Functions Local's mock configuration file, read unchanged, and TestState's
`mock`, both answering a Task in place of the integration it names.

The file, as AWS documents it ("Configuration file for mocked service integrations"):

    {"StateMachines": {"<machine name>": {"TestCases": {"<test case>": {"<state name>": "<response>"}}}},
     "MockedResponses": {"<response>": {"0": {"Return": <result>},
                                        "1-2": {"Throw": {"Error": "...", "Cause": "..."}}}}}

An execution takes a test case when StartExecution names it after the machine's ARN:
`arn:aws:states:us-east-1:123456789012:stateMachine:Orders#HappyPath`. A state the test case lists is
answered from its mocked response and never calls anything (every integration: Lambda, activities,
nested state machines, AWS services, HTTP); the others run as usual. The response's keys number the
state's invocations in the execution (`"0"` the first, `"1-2"` the next two), as Step Functions Local
counts them: every call of the state, whether a Retry makes it again or a loop comes back to the
state, takes the next answer; an invocation past the last one defined fails the Task. The history
shows the integration's usual events (TaskScheduled, TaskStarted, TaskSucceeded or TaskFailed; the
Lambda events for a function ARN): the mocked answer is the outcome. A `.waitForTaskToken` or `.sync`
Task ends with the mocked answer at once, as in Step Functions Local. No IAM check is made, since no
call is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pinflow.asl import events

ENV = "SFN_MOCK_CONFIG"  # the variable Step Functions Local reads the file's path from
_RANGE = re.compile(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?\Z")


@dataclass(frozen=True, slots=True)
class Mocked:
    """One mocked answer: a result (`Return`), or an error and cause (`Throw`)."""

    result: Any = None
    error: str | None = None
    cause: str | None = None

    def event(self, task_id: str, now: float) -> events.TaskSucceeded | events.TaskFailed:
        if self.error is not None:
            return events.TaskFailed(task_id, self.error, self.cause, now)
        return events.TaskSucceeded(task_id, self.result, now)


@dataclass(frozen=True, slots=True)
class Response:
    """A named mocked response: its answers by invocation (a range written once is repeated)."""

    name: str
    answers: tuple[Mocked, ...]

    def answer(self, invocation: int, state: str) -> Mocked:
        if invocation < len(self.answers):
            return self.answers[invocation]
        return Mocked(error="States.Runtime", cause=(
            f"The mocked response '{self.name}' of the state '{state}' has no answer for invocation {invocation} "
            f"(it defines invocations 0 to {len(self.answers) - 1})"))


class MockConfig:
    """A mock configuration file, checked when read.

    Raises (from `load`):
        ValueError: the file cannot be read, is not JSON, or does not have the documented structure
            (the message names the file and the place).
    """

    def __init__(self, path: str, cases: Mapping[tuple[str, str], Mapping[str, Response]]) -> None:
        self.path = path
        self._cases = cases

    @classmethod
    def load(cls, path: str | Path) -> MockConfig:
        label = str(path)
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ValueError(f"{label}: {exc}") from None
        return cls(label, _parse(label, data))

    def test_case(self, machine: str, case: str) -> Mapping[str, Response] | None:
        """The states a test case of a machine mocks (state name -> response), or None if it has none."""
        return self._cases.get((machine, case))

    def machines_with(self, case: str) -> list[str]:
        return sorted(machine for machine, name in self._cases if name == case)

    def __len__(self) -> int:
        return len(self._cases)


def _parse(label: str, data: Any) -> dict[tuple[str, str], dict[str, Response]]:
    def fail(where: str, why: str) -> ValueError:
        return ValueError(f"{label}: {where}: {why}")

    if not isinstance(data, dict):
        raise ValueError(f"{label}: a mock configuration is a JSON object with StateMachines and MockedResponses")
    machines, responses = data.get("StateMachines"), data.get("MockedResponses")
    if not isinstance(machines, dict):
        raise fail("StateMachines", "must be an object of state machines")
    if not isinstance(responses, dict):
        raise fail("MockedResponses", "must be an object of mocked responses")
    parsed = {name: _response(name, given, fail) for name, given in responses.items()}
    cases: dict[tuple[str, str], dict[str, Response]] = {}
    for machine, spec in machines.items():
        test_cases = spec.get("TestCases") if isinstance(spec, dict) else None
        if not isinstance(test_cases, dict):
            raise fail(f"StateMachines.{machine}", "must hold TestCases, an object of test cases")
        for case, states in test_cases.items():
            where = f"StateMachines.{machine}.TestCases.{case}"
            if not isinstance(states, dict):
                raise fail(where, "must map state names to mocked response names")
            mocked: dict[str, Response] = {}
            for state, response in states.items():
                if response not in parsed:
                    raise fail(f"{where}.{state}", f"no mocked response named {response!r} in MockedResponses")
                mocked[state] = parsed[response]
            cases[(machine, case)] = mocked
    return cases


def _response(name: str, given: Any, fail: Any) -> Response:
    where = f"MockedResponses.{name}"
    if not isinstance(given, dict) or not given:
        raise fail(where, "must be an object of answers keyed by invocation (\"0\", \"1-2\", ...)")
    ranges = []
    for key, answer in given.items():
        match = _RANGE.match(key)
        if match is None:
            raise fail(f"{where}.{key}", "an invocation is a number (\"0\") or a range (\"1-2\")")
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if last < first:
            raise fail(f"{where}.{key}", "a range's end must not come before its start")
        ranges.append((first, last, key, answer))
    answers: list[Mocked] = []
    for first, last, key, answer in sorted(ranges):
        if first != len(answers):
            raise fail(f"{where}.{key}",
                       f"invocations must be numbered one after another from 0; expected {len(answers)}")
        answers.extend([_answer(f"{where}.{key}", answer, fail)] * (last - first + 1))
    return Response(name, tuple(answers))


def _answer(where: str, answer: Any, fail: Any) -> Mocked:
    if not isinstance(answer, dict) or len({"Return", "Throw"} & set(answer)) != 1:
        raise fail(where, "an answer holds exactly one of Return and Throw")
    if "Return" in answer:
        return Mocked(result=answer["Return"])
    thrown = answer["Throw"]
    if not isinstance(thrown, dict) or not isinstance(thrown.get("Error"), str) or not isinstance(
            thrown.get("Cause", ""), str):
        raise fail(f"{where}.Throw", "must hold Error and Cause, both strings")
    return Mocked(error=thrown["Error"], cause=thrown.get("Cause"))


def split_arn(arn: str) -> tuple[str, str | None]:
    """(state machine ARN, test case) of StartExecution's `<ARN>#<test case>` (no test case: None)."""
    machine, sep, case = arn.partition("#")
    return (machine, case) if sep and case else (arn, None)


def from_test_state(mock: Mapping[str, Any]) -> Mocked:
    """TestState's `mock` (`result`, JSON text; or `errorOutput` {error, cause}) as a mocked answer.

    Raises:
        ValueError: `result` is not JSON text."""
    failure = mock.get("errorOutput")
    if isinstance(failure, dict):
        return Mocked(error=str(failure.get("error", "")), cause=failure.get("cause"))
    result = mock.get("result")
    return Mocked(result=json.loads(result) if isinstance(result, str) else result)


def pinned(machine: str, case: str) -> dict[str, str]:
    """What an execution keeps of its test case (in its pins)."""
    return {"machine": machine, "case": case}


def answer(config: MockConfig | None, pins: Mapping[str, Any], state: str, invocation: int) -> Mocked | None:
    """The mocked answer to one call of a Task state of an execution (`invocation` counts the state's
    calls from 0), or None when its state is not mocked."""
    chosen = pins.get("mock")
    if config is None or not isinstance(chosen, dict):
        return None
    states = config.test_case(str(chosen.get("machine")), str(chosen.get("case")))
    response = states.get(state) if states is not None else None
    return None if response is None else response.answer(invocation, state)
