"""Choice rules: JSONPath ones (Variable and an operator, or And/Or/Not), JSONata ones (Condition)."""

from __future__ import annotations

from typing import Any

from pinflow.asl.validation import diagnostics as d
from pinflow.asl.validation import fields, jsonata_rules, payloads, values, variables
from pinflow.asl.validation.context import Context, Scope

_STRING_OPS = (
    "StringEquals",
    "StringLessThan",
    "StringGreaterThan",
    "StringLessThanEquals",
    "StringGreaterThanEquals",
)
_NUMERIC_OPS = (
    "NumericEquals",
    "NumericLessThan",
    "NumericGreaterThan",
    "NumericLessThanEquals",
    "NumericGreaterThanEquals",
)
_TIMESTAMP_OPS = (
    "TimestampEquals",
    "TimestampLessThan",
    "TimestampGreaterThan",
    "TimestampLessThanEquals",
    "TimestampGreaterThanEquals",
)

# Every comparison operator with the JSON type of its operand ("path" for the ...Path twins).
OPERATORS: dict[str, str] = {
    **{op: values.STRING for op in _STRING_OPS},
    "StringMatches": values.STRING,
    **{op: values.NUMBER for op in _NUMERIC_OPS},
    **{op: "timestamp" for op in _TIMESTAMP_OPS},
    "BooleanEquals": values.BOOLEAN,
    **{op + "Path": "path" for op in (*_STRING_OPS, *_NUMERIC_OPS, *_TIMESTAMP_OPS, "BooleanEquals")},
    **{
        op: values.BOOLEAN
        for op in ("IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp")
    },
}
_LOGICAL = ("And", "Or", "Not")
_JSONPATH_RULE_FIELDS = frozenset({"Variable", *OPERATORS, *_LOGICAL})


def check_choices(ctx: Context, scope: Scope, location: str, state: dict[Any, Any], language: str) -> None:
    """Check a Choice state's `Choices` (required, a non-empty array of rules) and `Default`."""
    if "Default" in state:
        values.expect(ctx.report, d.child(location, "Default"), state["Default"], values.STRING)
    if "Choices" not in state:
        ctx.report.schema(location, "These fields are required: [Choices]")
        return
    choices_location = d.child(location, "Choices")
    choices = state["Choices"]
    if not values.expect(ctx.report, choices_location, choices, values.ARRAY):
        return
    if not choices:
        ctx.report.schema(choices_location, "The field 'Choices' must contain at least one choice rule")
    for i, rule in enumerate(choices):
        rule_location = d.item(choices_location, i)
        if not values.expect(ctx.report, rule_location, rule, values.OBJECT):
            continue
        if language == fields.JSONATA:
            _jsonata_rule(ctx, scope, rule_location, rule)
        else:
            _jsonpath_rule(ctx, scope, rule_location, rule, top=True)


def _rule_fields(
    ctx: Context, location: str, rule: dict[Any, Any], language: str, allowed: frozenset[str]
) -> None:
    # A rule field of the other language gets the message that names the language.
    other_only = frozenset({"Condition", "Output"}) if language == fields.JSONPATH else _JSONPATH_RULE_FIELDS
    for _name, message in fields.unsupported(tuple(rule), allowed, other_only, language):
        ctx.report.schema(location, message)


def _jsonata_rule(ctx: Context, scope: Scope, location: str, rule: dict[Any, Any]) -> None:
    _rule_fields(ctx, location, rule, fields.JSONATA, fields.CHOICE_RULE[fields.JSONATA])
    missing = [name for name in ("Condition", "Next") if name not in rule]
    if missing:
        ctx.report.schema(location, f"These fields are required: [{', '.join(missing)}]")
    if "Next" in rule:
        values.expect(ctx.report, d.child(location, "Next"), rule["Next"], values.STRING)
    if "Condition" in rule:
        condition = rule["Condition"]
        if values.is_expression(condition):
            jsonata_rules.check_expression(ctx, scope, d.child(location, "Condition"), condition)
        else:
            values.expect(ctx.report, d.child(location, "Condition"), condition, values.BOOLEAN)
    if "Output" in rule:
        jsonata_rules.check_expressions(ctx, scope, d.child(location, "Output"), rule["Output"])
    if "Assign" in rule:
        variables.check_assign(ctx, scope, d.child(location, "Assign"), rule["Assign"], fields.JSONATA)


def _jsonpath_rule(ctx: Context, scope: Scope, location: str, rule: dict[Any, Any], *, top: bool) -> None:
    allowed = _JSONPATH_RULE_FIELDS | (fields.CHOICE_RULE[fields.JSONPATH] if top else {"Comment"})
    _rule_fields(ctx, location, rule, fields.JSONPATH, allowed)
    if top:
        if "Next" not in rule:
            ctx.report.schema(location, "These fields are required: [Next]")
        else:
            values.expect(ctx.report, d.child(location, "Next"), rule["Next"], values.STRING)
        if "Assign" in rule:
            variables.check_assign(ctx, scope, d.child(location, "Assign"), rule["Assign"], fields.JSONPATH)
    operators = [name for name in rule if name in OPERATORS or name in _LOGICAL]
    if len(operators) != 1:
        ctx.report.schema(
            location, "A choice rule must have exactly one of a comparison operator, 'And', 'Or' or 'Not'"
        )
    for name in operators:
        _operator(ctx, scope, location, rule, name)
    if "Variable" in rule:
        if not any(name in OPERATORS for name in operators):
            ctx.report.schema(location, "Field 'Variable' is not supported")
        payloads.check_path(ctx, scope, d.child(location, "Variable"), "Variable", rule["Variable"])


def _operator(ctx: Context, scope: Scope, location: str, rule: dict[Any, Any], name: str) -> None:
    operand = rule[name]
    operand_location = d.child(location, name)
    if name in ("And", "Or"):
        if values.expect(ctx.report, operand_location, operand, values.ARRAY):
            if not operand:
                ctx.report.schema(
                    operand_location, f"The field '{name}' must contain at least one choice rule"
                )
            for i, nested in enumerate(operand):
                if values.expect(ctx.report, d.item(operand_location, i), nested, values.OBJECT):
                    _jsonpath_rule(ctx, scope, d.item(operand_location, i), nested, top=False)
        return
    if name == "Not":
        if values.expect(ctx.report, operand_location, operand, values.OBJECT):
            _jsonpath_rule(ctx, scope, operand_location, operand, top=False)
        return
    if "Variable" not in rule:
        ctx.report.schema(location, "These fields are required: [Variable]")
    kind = OPERATORS[name]
    if kind == "path":
        payloads.check_path(ctx, scope, operand_location, name, operand)
    elif kind == "timestamp":
        if values.expect(ctx.report, operand_location, operand, values.STRING) and not values.is_timestamp(
            operand
        ):
            ctx.report.schema(operand_location, "String does not match RFC3339 timestamp")
    else:
        values.expect(ctx.report, operand_location, operand, kind)
