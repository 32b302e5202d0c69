"""JSONPath payload templates: Parameters, ResultSelector, ItemSelector, Assign and friends.

A key ending in `.$` takes the value of its path (`$...`, `$$...`, `$name...`) or intrinsic function,
and loses the suffix; every other value is copied as a literal, whatever it looks like.

A template is compiled once (`compile`; the interpreter keeps one per definition) and evaluated for
each state run: compiling parses the `.$` paths and intrinsic calls ahead, so evaluating only walks
the entries.
"""

from __future__ import annotations

from typing import Any

from pinflow.asl import errors, intrinsics, paths
from pinflow.asl.errors import AslError
from pinflow.asl.scope import Scope

# How an entry of a compiled template gets its value.
_LITERAL = 0  # kept as it is (a string, number, boolean or null)
_NESTED = 1  # a compiled object or array: a new copy each time
_PATH = 2  # a `.$` path, parsed
_INTRINSIC = 3  # a `.$` intrinsic call, parsed
_DYNAMIC = 4  # any other `.$` text: `evaluate_dynamic` raises its error when the field is reached
_NOT_TEXT = 5  # a key that is not text (YAML allows one): it fails as reading its suffix fails, when reached


class Template:
    """A compiled payload template. Immutable: one serves every evaluation."""

    __slots__ = ("entries", "input_only", "kind", "literal")

    def __init__(self, template: Any) -> None:
        # kind: dict, list or None (a literal); entries: (output key, how, what, field) in order.
        self.kind: type | None = type(template) if type(template) in (dict, list) else None
        self.literal = template if self.kind is None else None
        entries: list[tuple[Any, int, Any, str]] = []
        if type(template) is dict:
            for key, value in template.items():
                if not isinstance(key, str):
                    entries.append((key, _NOT_TEXT, None, key))
                elif key.endswith(".$") and isinstance(value, str):
                    entries.append((key[:-2], *_dynamic(value), key))
                else:
                    entries.append((key, *_static(value), key))
        elif type(template) is list:
            entries = [(None, *_static(item), "") for item in template]
        self.entries = tuple(entries)
        # Whether evaluating reads nothing but the input (`$` paths and literals): `Scope.of_input` will do.
        self.input_only = all(how == _LITERAL or (how == _NESTED and what.input_only)
                              or (how == _PATH and what.root == "$") for _, how, what, _ in self.entries)

    def evaluate(self, scope: Scope) -> Any:
        """The template's value for `scope`.

        Raises:
            AslError: a path selected nothing (States.Runtime) or an intrinsic failed
                (States.IntrinsicFailure).
        """
        if self.kind is dict:
            out: dict[str, Any] = {}
            for key, how, what, field in self.entries:
                if how == _LITERAL:
                    out[key] = what
                elif how == _PATH:  # the commonest `.$` field, resolved without a further call
                    out[key] = scope.resolve(what, field)
                else:
                    out[key] = _value(how, what, field, scope)
            return out
        if self.kind is list:
            return [what if how == _LITERAL else _value(how, what, field, scope)
                    for _, how, what, field in self.entries]
        return self.literal


def compile(template: Any) -> Template:
    """Compile a payload template (any JSON value) for `Template.evaluate`."""
    return Template(template)


def evaluate(template: Any, scope: Scope) -> Any:
    """The value of a payload template for `scope` (compiling it first: for templates met once).

    Raises:
        AslError: a path selected nothing (States.Runtime) or an intrinsic failed
            (States.IntrinsicFailure).
    """
    return Template(template).evaluate(scope)


def evaluate_dynamic(text: str, scope: Scope, field: str) -> Any:
    """The value of one `.$` field: a path, a context path, a variable path or an intrinsic call."""
    if text.startswith("$"):
        try:
            path = paths.compile_path(text)
        except paths.PathSyntaxError as exc:
            raise AslError(errors.RUNTIME, str(exc)) from None
        return scope.resolve(path, field)
    if intrinsics.looks_like_intrinsic(text):
        try:
            call = intrinsics.parse(text)
        except intrinsics.IntrinsicSyntaxError as exc:
            raise AslError(errors.INTRINSIC_FAILURE, str(exc)) from None
        return intrinsics.evaluate(call, lambda p: scope.resolve_text(p, field), scope.rng())
    raise AslError(
        errors.RUNTIME,
        f"The value for the field '{field}' must be a valid JSONPath or a valid intrinsic function call",
    )


def _static(value: Any) -> tuple[int, Any]:
    return (_NESTED, Template(value)) if type(value) in (dict, list) else (_LITERAL, value)


def _dynamic(text: str) -> tuple[int, Any]:
    """How a `.$` field's text is evaluated: parsed now where it parses as `evaluate_dynamic` parses it.
    Any other text is left to `evaluate_dynamic`, so its error is raised when the field is reached,
    after the errors of the fields before it."""
    try:
        if text.startswith("$"):
            return _PATH, paths.compile_path(text)
        if intrinsics.looks_like_intrinsic(text):
            return _INTRINSIC, intrinsics.parse(text)
    except Exception:  # noqa: BLE001 - raised again, in field order, by evaluate_dynamic
        pass
    return _DYNAMIC, text


def _value(how: int, what: Any, field: str, scope: Scope) -> Any:
    if how == _NESTED:
        return what.evaluate(scope)
    if how == _PATH:
        return scope.resolve(what, field)
    if how == _INTRINSIC:
        return intrinsics.evaluate(what, lambda p: scope.resolve_text(p, field), scope.rng())
    if how == _NOT_TEXT:
        field.endswith(".$")  # raises AttributeError, as evaluating such a key always did
    return evaluate_dynamic(what, scope, field)
