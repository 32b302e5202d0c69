"""How a state's data flows: the JSONPath pipeline (InputPath, Parameters, ResultSelector, ResultPath,
OutputPath, Assign), JSONata fields (Arguments, Output, Assign, ...) with AWS's causes, and AWS's size
limits on outputs and variables.

`DataFlow` is a part of the interpreter's `_Machine`: it reads the machine's definition, time, state
and TestState options, and leaves a state through the machine's `exit`.
"""

from __future__ import annotations

import json
import random
from typing import TYPE_CHECKING, Any

import orjson

from pinflow.asl import errors, jsonata, paths, templates, testing
from pinflow.asl.definition import JSONATA, Definition
from pinflow.asl.errors import AslError
from pinflow.asl.scope import Scope, compact

PAYLOAD_LIMIT = 262_144  # bytes, AWS's 256 KiB quota for a state's input or output
VARIABLE_LIMIT = 262_144  # bytes per variable and per Assign
VARIABLES_TOTAL_LIMIT = 10 * 1024 * 1024


class DataFlow:
    """The interpreter's evaluation of fields (mixed into `_Machine`)."""

    d: Definition
    at: float
    state: dict[str, Any]
    test: testing.Options | None
    outcome: testing.Outcome | None
    # The state being evaluated, for AWS's "An error occurred while executing the state ..." prefix.
    current_name: str = ""
    current_entered: int = 0
    last_checked: Any = None  # the value `check_size` passed last

    if TYPE_CHECKING:
        def scope(self, frame: dict[str, Any], input: Any) -> Scope: ...
        def lazy_rng(self) -> random.Random: ...
        def exit(self, frame: dict[str, Any], output: Any, next_name: str | None,
                 assigned: dict[str, Any] | None = None) -> None: ...

    # --- JSONPath pipeline ----------------------------------------------------------------------

    def input_path(self, state: dict[str, Any], raw: Any, scope: Scope) -> Any:
        if "InputPath" not in state:
            return raw
        path = state["InputPath"]
        if path is None:
            return {}
        return scope.resolve_text(path)

    def output_path(self, state: dict[str, Any], value: Any, scope: Scope) -> Any:
        if "OutputPath" not in state:
            return value
        path = state["OutputPath"]
        if path is None:
            return {}
        return scope.with_input(value).resolve_text(path)

    def apply_result_path(self, state: dict[str, Any], raw: Any, result: Any) -> Any:
        if "ResultPath" not in state:
            return result
        text = state["ResultPath"]
        if text is None:
            return raw
        try:
            path = paths.compile_path(text, reference=True)
            return paths.set_at(raw, path, result)
        except (paths.PathSyntaxError, paths.PathNotFound):
            raise AslError(errors.RESULT_PATH_MATCH_FAILURE,
                           f"Unable to apply ResultPath \"{text}\" to input \"{compact(raw)}\"") from None

    def jsonpath_scope(self, frame: dict[str, Any], state: dict[str, Any]) -> Scope:
        """The scope a JSONPath state's data flow reads: `Scope.of_input` when its fields read nothing
        but the input (known once per state), else the state's whole scope."""
        key = ("reads only input", id(state))
        only_input: bool | None = self.d.cache.get(key)
        if only_input is None:
            only_input = self.d.cache[key] = self.reads_only_input(state)
        return Scope.of_input(frame["input"]) if only_input else self.scope(frame, frame["input"])

    def reads_only_input(self, state: dict[str, Any]) -> bool:
        """Whether a JSONPath state's InputPath, Parameters, ResultSelector, OutputPath and Assign read
        nothing but the input: paths and `.$` fields rooted at `$`, no Assign."""
        if "Assign" in state:
            return False
        for key in ("InputPath", "OutputPath"):
            text = state.get(key)
            if text is not None:
                try:
                    if paths.compile_path(text).root != "$":
                        return False
                except (paths.PathSyntaxError, TypeError):  # TypeError: not a string (nor hashable)
                    return False
        return all(key not in state or self.template(state[key]).input_only for key in ("Parameters", "ResultSelector"))

    def template(self, value: Any) -> templates.Template:
        """A payload template of the definition, compiled once for the definition."""
        key = ("template", id(value))
        compiled: templates.Template | None = self.d.cache.get(key)  # the definition owns `value`: its id is stable
        if compiled is None:
            compiled = self.d.cache[key] = templates.compile(value)
        return compiled

    def jsonpath_assign(self, holder: dict[str, Any], scope: Scope) -> dict[str, Any] | None:
        if "Assign" not in holder:
            return None
        values = self.template(holder["Assign"]).evaluate(scope)
        return values if isinstance(values, dict) else None

    def effective_input(self, frame: dict[str, Any], state: dict[str, Any], scope: Scope,
                        template_key: str = "Parameters", extra_context: dict[str, Any] | None = None) -> Any:
        effective = self.input_path(state, frame["input"], scope)
        if template_key in state:
            inner = scope.with_input(effective)
            if extra_context:
                inner = inner.with_context(extra_context)
            effective = self.template(state[template_key]).evaluate(inner)
        return effective

    def finish_result(self, frame: dict[str, Any], state: dict[str, Any], result: Any) -> None:
        """ResultSelector, ResultPath, OutputPath and Assign for a Task, Map or Parallel result."""
        if self.d.language(state) == JSONATA:
            bindings = self.bindings(self.scope(frame, frame["input"]), result=result)
            output = self.jsonata_field(state, "Output", bindings, default=result)
            assigned = self.jsonata_assign(state, bindings)
        else:
            scope = self.jsonpath_scope(frame, state)
            inspecting = self.outcome is not None  # TestState: keep the stages of the data flow
            if inspecting:
                self.inspect("result", result)
            if "ResultSelector" in state:
                result = self.template(state["ResultSelector"]).evaluate(scope.with_input(result))
            if inspecting:
                self.inspect("afterResultSelector", result)
            assigned = self.jsonpath_assign(state, scope.with_input(result)) if "Assign" in state else None
            merged = self.apply_result_path(state, frame["input"], result)
            if inspecting:
                self.inspect("afterResultPath", merged)
            output = self.output_path(state, merged, scope)
        self.assign(frame, assigned)
        self.exit(frame, output, state.get("Next"), assigned)

    # --- JSONata ----------------------------------------------------------------------------------

    def inspect(self, key: str, value: Any) -> None:
        """Keep a stage of the data flow for TestState's inspectionData (DEBUG and TRACE)."""
        if self.outcome is not None and self.test is not None and self.test.inspect:
            self.outcome.inspection[key] = value

    def bindings(self, scope: Scope, **extra: Any) -> dict[str, Any]:
        states: dict[str, Any] = {"input": scope.input, "context": scope.context}
        states.update(extra)
        bindings = dict(scope.variables)
        bindings["states"] = states
        return bindings

    def jsonata_value(self, value: Any, bindings: dict[str, Any], field_name: str) -> Any:
        key = ("jsonata template", id(value), field_name)
        try:
            template = self.d.cache.get(key)  # the definition owns `value`, so its id is stable
            if template is None:
                template = self.d.cache[key] = jsonata.compile_template(value, field_name)
            result = template.evaluate(bindings, now=self.at, rng=self.lazy_rng())
            if result is jsonata.UNDEFINED:
                raise jsonata.undefined_error(value, field_name)
        except AslError as exc:
            raise AslError(exc.error, self.located(exc.cause, field_name), exc.location or field_name) from None
        return result

    def type_error(self, value: Any, field_name: str, expected: str, result: Any) -> AslError:
        """AWS's error for a JSONata field whose value has the wrong type."""
        exc = jsonata.result_type_error(value, field_name, expected, result)
        return AslError(exc.error, self.located(exc.cause, field_name), field_name)

    def located(self, cause: str | None, field_name: str | None) -> str:
        prefix = (f"An error occurred while executing the state '{self.current_name}' (entered at the event "
                  f"id #{self.current_entered}). ")
        cause = cause or ""
        return cause if cause.startswith("An error occurred") else prefix + cause

    def jsonata_field(self, holder: dict[str, Any], key: str, bindings: dict[str, Any], *, default: Any) -> Any:
        if key not in holder:
            return default
        return self.jsonata_value(holder[key], bindings, key)

    def jsonata_assign(self, holder: dict[str, Any], bindings: dict[str, Any]) -> dict[str, Any] | None:
        if "Assign" not in holder or not isinstance(holder["Assign"], dict):
            return None
        return {name: self.jsonata_value(value, bindings, f"Assign/{name}")
                for name, value in holder["Assign"].items()}

    def locate(self, frame: dict[str, Any]) -> None:
        """Make `frame`'s state the one errors are reported against."""
        self.current_name = frame["state"]
        self.current_entered = frame["entered_id"]

    # --- sizes ------------------------------------------------------------------------------------

    def check_size(self, frame: dict[str, Any], value: Any) -> None:
        # The value that passed last in this step is not measured again (a Task's payload that is the
        # output of the state before, a task's result that is the state's output): values are never
        # changed in place.
        if value is self.last_checked:
            return
        if size(value) > PAYLOAD_LIMIT:
            raise AslError(errors.DATA_LIMIT_EXCEEDED,
                           f"The state/task '{frame['state']}' returned a result with a size exceeding "
                           "the maximum number of bytes service limit.")
        self.last_checked = value

    def assign(self, frame: dict[str, Any], values: dict[str, Any] | None) -> None:
        """Store evaluated Assign values in the frame's scope (visible from the next state on)."""
        if not values:
            return
        total = 0
        for name, value in values.items():
            bytes_ = size(value)
            if bytes_ > VARIABLE_LIMIT:
                raise AslError(errors.RUNTIME,
                               f"The variable '{name}' has a size exceeding the maximum number of bytes "
                               "service limit.")
            total += bytes_
        if total > VARIABLE_LIMIT:
            raise AslError(errors.RUNTIME, "The assignment has a size exceeding the maximum number of bytes "
                           "service limit.")
        # The 10 MiB limit is on the variables held now: a replaced value no longer counts.
        sizes = frame.setdefault("var_sizes", {})
        held = self.state.get("var_bytes", 0) + total - sum(sizes.get(name, 0) for name in values)
        if held > VARIABLES_TOTAL_LIMIT:
            raise AslError(errors.RUNTIME, "The execution's variables exceed the maximum number of bytes "
                           "service limit.")
        self.state["var_bytes"] = held
        for name, value in values.items():
            sizes[name] = size(value)
        frame["vars"].update(values)

    def drop_variables(self, frame: dict[str, Any]) -> None:
        """A branch or iteration ended: its variables no longer count against the limit."""
        released = sum((frame.get("var_sizes") or {}).values())
        if released:
            self.state["var_bytes"] = max(0, self.state.get("var_bytes", 0) - released)


def size(value: Any) -> int:
    """Bytes of a value's compact UTF-8 JSON text (what AWS's 256 KiB limits count)."""
    if value is None or isinstance(value, (bool, int, float)):  # a tuple: checking a union costs twice as much
        return 8
    try:
        return len(orjson.dumps(value))
    except TypeError:  # an integer beyond 64 bits, or a lone surrogate (which only a caller of run can pass)
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        return len(text.encode("utf-8", "surrogatepass"))
