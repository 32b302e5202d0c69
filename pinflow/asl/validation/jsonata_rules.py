"""JSONata-side checks: each `{% %}` expression parses, reads no top-level context, uses `$states` aptly.

`$states.result` exists only in the top-level Output and Assign of Task, Map and Parallel states, and
`$states.errorOutput` only in a catcher's Output and Assign; AWS refuses a definition that reads them
anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pinflow.asl import jsonata as asl_jsonata
from pinflow.asl.validation import diagnostics as d
from pinflow.asl.validation import values
from pinflow.asl.validation.context import Context, Scope

# JSONata's built-in functions and the ones Step Functions adds: `$name` for these is not a variable.
BUILTINS = frozenset(
    {
        "sum",
        "count",
        "max",
        "min",
        "average",
        "string",
        "substring",
        "substringBefore",
        "substringAfter",
        "uppercase",
        "lowercase",
        "length",
        "trim",
        "pad",
        "contains",
        "split",
        "join",
        "match",
        "replace",
        "eval",
        "base64encode",
        "base64decode",
        "encodeUrlComponent",
        "encodeUrl",
        "decodeUrlComponent",
        "decodeUrl",
        "number",
        "abs",
        "floor",
        "ceil",
        "round",
        "power",
        "sqrt",
        "random",
        "formatNumber",
        "formatBase",
        "formatInteger",
        "parseInteger",
        "boolean",
        "not",
        "exists",
        "append",
        "reverse",
        "shuffle",
        "distinct",
        "sort",
        "zip",
        "keys",
        "lookup",
        "spread",
        "merge",
        "sift",
        "each",
        "error",
        "assert",
        "type",
        "map",
        "filter",
        "single",
        "reduce",
        "now",
        "millis",
        "fromMillis",
        "toMillis",
        "partition",
        "range",
        "hash",
        "uuid",
        "parse",
    }
)

# Nodes whose children are evaluated against something other than the expression's top-level context.
_RELATIVE = ("predicate", "stages", "group", "terms", "pattern", "update", "delete")
# Nodes whose children keep the context of the node itself.
_SAME = (
    "lhs",
    "rhs",
    "expression",
    "expressions",
    "condition",
    "then",
    "_else",
    "arguments",
    "body",
    "lhs_object",
)


@dataclass
class _Analysis:
    top_names: list[str] = field(default_factory=list)
    root: bool = False  # `$$`
    dollar: bool = False  # `$` at the top level
    result: bool = False  # `$states.result`
    error_output: bool = False  # `$states.errorOutput`
    variables: list[str] = field(default_factory=list)
    bound: set[str] = field(default_factory=set)


def _parse(text: str) -> tuple[Any, str | None]:
    """The syntax tree of `text`, or the parser's message when it is not JSONata."""
    try:
        expression = asl_jsonata.compile(text)
    except asl_jsonata.JsonataSyntaxError as error:
        return None, str(error)
    # The compiled expression is the library's evaluator; its tree is what the checks below read.
    return getattr(expression.compiled, "ast", None), None


def _visit(node: Any, top: bool, found: _Analysis) -> None:
    if isinstance(node, (list, tuple)):
        for child in node:
            _visit(child, top, found)
        return
    kind = getattr(node, "type", None)
    if not isinstance(kind, str):
        return
    value = getattr(node, "value", None)
    if kind == "path":
        steps = getattr(node, "steps", None) or []
        if (
            len(steps) >= 2
            and getattr(steps[0], "type", None) == "variable"
            and steps[0].value == "states"
            and getattr(steps[1], "type", None) == "name"
        ):
            found.result |= steps[1].value == "result"
            found.error_output |= steps[1].value == "errorOutput"
        for i, step in enumerate(steps):
            _visit(step, top and i == 0, found)
    elif kind == "name":
        if top and isinstance(value, str) and value not in found.top_names:
            found.top_names.append(value)
    elif kind == "variable":
        if value == "$":
            found.root = True
        elif value == "":
            found.dollar |= top
        elif isinstance(value, str):
            found.variables.append(value)
        for name in (getattr(node, "focus", None), getattr(node, "index", None)):
            if isinstance(name, str):
                found.bound.add(name)
    elif kind == "bind":
        bound = getattr(getattr(node, "lhs", None), "value", None)
        if isinstance(bound, str):
            found.bound.add(bound)
        _visit(getattr(node, "rhs", None), top, found)
        return
    elif kind == "lambda":
        for argument in getattr(node, "arguments", None) or []:
            if isinstance(getattr(argument, "value", None), str):
                found.bound.add(argument.value)
        _visit(getattr(node, "body", None), top, found)
        return
    elif kind in ("function", "partial"):
        procedure = getattr(node, "procedure", None)
        if getattr(procedure, "type", None) != "variable":  # `$name(...)` names a function, not a variable
            _visit(procedure, top, found)
        _visit(getattr(node, "arguments", None), top, found)
        return
    if kind == "sort":
        for term in getattr(node, "terms", None) or []:
            _visit(getattr(term, "expression", None), False, found)
    for attribute in _SAME:
        if kind == "path" and attribute != "lhs_object":
            continue
        _visit(getattr(node, attribute, None), top, found)
    for attribute in _RELATIVE:
        if attribute != "terms":
            _visit(getattr(node, attribute, None), False, found)
    if kind == "filter":
        _visit(getattr(node, "expr", None), False, found)


def check_expression(
    ctx: Context, scope: Scope, location: str, value: str, *, result: bool = False, error_output: bool = False
) -> None:
    """Check one `{% %}` string found at `location`."""
    tree, message = _parse(values.expression_text(value))
    if message is not None:
        ctx.report.error(d.INVALID_JSONATA, location, message)
        return
    found = _Analysis()
    _visit(tree, True, found)
    if found.root:
        ctx.report.error(d.UNSUPPORTED_JSONATA, location, "Reference to '$$' is not supported.")
    if found.dollar:
        ctx.report.error(
            d.UNSUPPORTED_JSONATA, location, "Reference to '$' at the top level is not supported."
        )
    for name in found.top_names:
        ctx.report.error(
            d.UNSUPPORTED_JSONATA, location, f"Reference to '{name}' at the top level is not supported."
        )
    if found.result and not result:
        ctx.report.error(d.UNSUPPORTED_JSONATA, location, "Field '$states.result' does not exist.")
    if found.error_output and not error_output:
        ctx.report.error(d.UNSUPPORTED_JSONATA, location, "Field '$states.errorOutput' does not exist.")
    for name in dict.fromkeys(found.variables):
        if name != "states" and name not in found.bound and name not in BUILTINS:
            scope.references.append((name, location))


def check_expressions(
    ctx: Context, scope: Scope, location: str, value: Any, *, result: bool = False, error_output: bool = False
) -> None:
    """Check every `{% %}` string inside `value` (any JSON), each at its own location."""
    if isinstance(value, dict):
        for key, element in value.items():
            check_expressions(
                ctx, scope, d.child(location, key), element, result=result, error_output=error_output
            )
    elif isinstance(value, list):
        for i, element in enumerate(value):
            check_expressions(
                ctx, scope, d.item(location, i), element, result=result, error_output=error_output
            )
    elif values.is_expression(value):
        check_expression(ctx, scope, location, value, result=result, error_output=error_output)
