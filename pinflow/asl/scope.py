"""What an expression can see while a state runs: its input, the context object and the variables.

`Scope` is built once per state evaluation and handed to payload templates, intrinsic functions,
Choice rules and JSONata, so each of them resolves `$...`, `$$...` and `$name...` the same way.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from typing import Any

from pinflow.asl import errors, paths
from pinflow.asl.errors import AslError

MISSING: Any = object()


def compact(value: Any) -> str:
    """JSON text as AWS prints it in causes: compact, non-ASCII kept."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Scope:
    """The values one state's expressions read; all reads are of the values at state entry."""

    __slots__ = ("_context", "_context_factory", "input", "now", "rng", "state_name", "variables")

    def __init__(
        self,
        input: Any,
        context: Callable[[], dict[str, Any]] | dict[str, Any],
        variables: Mapping[str, Any],
        rng: Callable[[], random.Random],
        now: float,
        state_name: str,
    ) -> None:
        self.input = input
        self._context: dict[str, Any] | None = context if isinstance(context, dict) else None
        self._context_factory = context if callable(context) else None
        self.variables = variables
        self.rng = rng
        self.now = now
        self.state_name = state_name

    @classmethod
    def of_input(cls, input: Any) -> Scope:
        """A scope that holds only `input`, for fields that read nothing else (paths rooted at `$`):
        a state's whole scope costs more to make. It has no variables; reading its context object or
        drawing from it fails."""
        scope = cls.__new__(cls)
        scope.input = input
        scope._context = None
        scope._context_factory = _only_input
        scope.variables = {}
        scope.rng = _only_input
        scope.now = 0.0
        scope.state_name = ""
        return scope

    @property
    def context(self) -> dict[str, Any]:
        """The context object (`$$`), built on first use: most states never read it."""
        if self._context is None:
            assert self._context_factory is not None
            self._context = self._context_factory()
        return self._context

    def with_input(self, input: Any) -> Scope:
        """The same scope reading another document as `$` (e.g. ResultSelector reads the result)."""
        if input is self.input:  # a state without InputPath reads its input: nothing to copy
            return self
        # Copied slot by slot: every state makes one or two of these, and __init__'s checks cost more.
        clone = Scope.__new__(Scope)
        clone.input = input
        clone._context = self._context
        clone._context_factory = self._context_factory
        clone.variables = self.variables
        clone.rng = self.rng
        clone.now = self.now
        clone.state_name = self.state_name
        return clone

    def with_context(self, extra: dict[str, Any]) -> Scope:
        """The same scope with keys added to the context object (Task.Token, Map.Item)."""
        context = dict(self.context)
        context.update(extra)
        return Scope(self.input, context, self.variables, self.rng, self.now, self.state_name)

    def variable(self, name: str) -> Any:
        """The value of workflow variable `name`.

        Raises:
            AslError: States.Runtime when the variable was never assigned.
        """
        try:
            return self.variables[name]
        except KeyError:
            raise AslError(errors.RUNTIME, f"The variable '${name}' was not found.") from None

    def resolve(self, path: paths.Path, field: str | None = None) -> Any:
        """The value of a compiled path: on the input, the context object or a variable.

        Raises:
            AslError: the path selected nothing.
        """
        if path.root == "$":
            document = self.input
        elif path.root == "$$":
            document = self.context
        else:
            document = self.variable(path.root)
        try:
            return path.find(document)
        except paths.PathNotFound:
            if path.root == "$$":
                where = "the input"  # AWS's wording, for the context object too
                shown = compact(self.context)
            elif path.root == "$":
                where = "the input"
                shown = compact(self.input)
            else:
                raise AslError(
                    errors.RUNTIME,
                    f"The JSONPath '{path.text}' specified for the field '{field}' could not be found "
                    f"in the variable '${path.root}'" if field else
                    f"Invalid path '{path.text}': The variable '${path.root}' has no such member",
                ) from None
            if field is None:
                raise AslError(errors.RUNTIME, f"Invalid path '{path.text}' : No results for path: "
                               f"{_bracketed(path)}") from None
            raise AslError(
                errors.RUNTIME,
                f"The JSONPath '{path.text}' specified for the field '{field}' could not be found in "
                f"{where} '{shown}'",
            ) from None

    def resolve_text(self, text: str, field: str | None = None) -> Any:
        """Compile (cached) and resolve a path given as text."""
        try:
            path = paths.compile_path(text)
        except paths.PathSyntaxError as exc:
            raise AslError(errors.RUNTIME, str(exc)) from None
        return self.resolve(path, field)


def _only_input() -> Any:
    raise RuntimeError("this scope holds only an input")


def _bracketed(path: paths.Path) -> str:
    """Jayway's normalised form of a definite path, as AWS quotes it: $['a'][0]."""
    parts = ["$"]
    for kind, arg in path.segments:
        parts.append(f"['{arg}']" if kind == paths.NAME else f"[{arg}]")
    return "".join(parts)
