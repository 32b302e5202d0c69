"""AWS's JSONata for ASL: `{% %}` expressions evaluated by jsonata-python with Step Functions' rules.

What this module adds to the library, and why:

- Bindings, not an input document: `$states` and the workflow variables are variables; `$` is
  undefined, as AWS forbids top-level `$`, `$$` and bare field names.
- The functions Step Functions adds (`$partition`, `$range`, `$hash`, `$random([seed])`, `$uuid`,
  `$parse`) and no `$eval`; `$now`, `$millis`, `$random` and `$shuffle` read the time and random
  source the interpreter passes in, never the machine's (see `pinflow.asl.jsonata_functions`).
- AWS's bounds: evaluation deeper than 100 levels or holding a value larger than AWS allows
  fails, and so does an evaluation past `MAX_STEPS` steps (AWS bounds it by time).
- Results as plain JSON: the library's sequences and null marker become lists and None, a whole
  number is an int (AWS prints `1+1` as 2 and `1.0` as 1), and a non-finite number is the string
  AWS writes for it ("Infinity", "-Infinity", "NaN").
- Failures as `AslError("States.QueryEvaluationError", cause)`, worded as AWS words them:
  "The JSONata expression '<text>' specified for the field '<field>' threw an error during
  evaluation. T1006: Attempted to invoke a non-function". The interpreter prefixes the
  "An error occurred while executing the state ..." sentence.
"""

from __future__ import annotations

import functools
import json
import math
import random
import re
from dataclasses import dataclass
from typing import Any, Final

from jsonata import JException, Jsonata, Utils

from pinflow.asl import errors
from pinflow.asl import jsonata_functions as functions
from pinflow.asl import jsonata_native as native
from pinflow.asl.errors import AslError

# Reported from measurements of AWS: an evaluation nested 100 levels deep passes, 101 fails.
MAX_DEPTH: Final = 100
# AWS stops a runaway expression after some time; pinflow cannot read a clock, so it counts steps
# (a few seconds of evaluation: a step is a few microseconds).
MAX_STEPS: Final = 1_000_000
# Reported from measurements of AWS: a string of 2**22 characters passes, one of 2**23 fails; the
# bound is put where the reported bound on arrays (MAX_ELEMENTS numbers of 8 bytes) puts it.
MAX_STRING: Final = 6_990_256
MAX_ELEMENTS: Final = functions.MAX_ELEMENTS

_NULL = Utils.NULL_VALUE
_LONG = 1 << 63


class JsonataSyntaxError(ValueError):
    """An expression that is not JSONata. `str()` is the parser's message as jsonata-js words it.

    Attributes:
        code: the JSONata error code, e.g. "S0202".
        position: the character offset the parser reached.
    """

    def __init__(self, message: str, code: str, position: int) -> None:
        super().__init__(message)
        self.code = code
        self.position = position


class _Undefined:
    """JSONata's "undefined": an expression that returned nothing (JSON has no such value)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNDEFINED"


UNDEFINED: Final = _Undefined()


@dataclass(frozen=True, eq=False, slots=True)
class Expression:
    """A compiled expression. `text` is the text between the delimiters, trimmed, as AWS quotes it.

    `native` is the fast path for common shapes (see `jsonata_native`), or None.
    """

    text: str
    compiled: Any
    native: native.Native | None = None


class _Engine(Jsonata):  # type: ignore[misc, unused-ignore]  # the library is untyped
    """The library's evaluator with JavaScript's arithmetic, as jsonata-js (and AWS) computes it.

    The library raises ZeroDivisionError on `1/0` and truncates `%` to an integer; JavaScript gives
    Infinity or NaN, and a fractional remainder. A non-finite result is kept (AWS writes `1/0` as
    "Infinity"); using it as an operand fails with D1001, as in jsonata-js.
    """

    def evaluate_numeric_expression(self, lhs: Any, rhs: Any, op: Any) -> Any:
        if lhs is not None and not Utils.is_numeric(lhs):
            raise JException("T2001", -1, op, lhs)
        if rhs is not None and not Utils.is_numeric(rhs):
            raise JException("T2002", -1, op, rhs)
        if lhs is None or rhs is None:
            return None
        left, right = float(lhs), float(rhs)
        if op == "+":
            result = left + right
        elif op == "-":
            result = left - right
        elif op == "*":
            result = left * right
        elif op == "/":
            result = _divide(left, right)
        else:
            result = math.fmod(left, right) if right != 0 else math.nan
        return Utils.convert_number(result) if math.isfinite(result) else result


def _divide(left: float, right: float) -> float:
    if right != 0:
        return left / right
    if left == 0 or math.isnan(left):
        return math.nan
    # The sign of a zero divisor counts, as in IEEE 754.
    return math.copysign(math.inf, left) * math.copysign(1.0, right)


def is_expression(value: object) -> bool:
    """Whether `value` is a JSONata expression: a string that starts with `{%` and ends with `%}`.

    AWS allows no spaces outside the delimiters, so `" {% 1 %}"` is a literal string.
    """
    return isinstance(value, str) and len(value) >= 4 and value.startswith("{%") and value.endswith("%}")


def expression_text(expr: str | Expression) -> str:
    """The expression as AWS quotes it in a cause: the text between the delimiters, trimmed."""
    if isinstance(expr, Expression):
        return expr.text
    return (expr[2:-2] if is_expression(expr) else expr).strip()


def compile(expr: str) -> Expression:
    """Compile an expression, given as `"{% ... %}"` or as the text between the delimiters.

    Args:
        expr: the expression.

    Returns:
        The compiled expression; compiling the same text again returns the same object.

    Raises:
        JsonataSyntaxError: `expr` is not JSONata.
    """
    return _compile(expr[2:-2] if is_expression(expr) else expr)


@functools.lru_cache(maxsize=4096)
def _compile(source: str) -> Expression:
    previous = getattr(Jsonata.CURRENT, "jsonata", None)
    try:
        compiled = _Engine(source)
    except JException as error:
        if error.error == "S0102" and error.current is None:
            # The library leaves out the number it could not hold; jsonata-js names it.
            found = _NUMBER.match(source, int(error.location))
            error.current = found.group() if found else None
        raise JsonataSyntaxError(_message(error), str(error.error), int(error.location)) from None
    except KeyError as error:  # the parser met a symbol it has no entry for
        raise JsonataSyntaxError(f"Unknown operator: {json.dumps(error.args[0])}", "S0204", 0) from None
    except Exception as error:  # noqa: BLE001 - a nesting, a signature, ... the parser gives up on
        raise JsonataSyntaxError(f"Syntax error: {error}", "S0201", 0) from None
    finally:
        # Constructing registers the object as this thread's evaluator; a shared compiled
        # expression must never be one (the library keeps per-evaluation state on it).
        if previous is not None:
            Jsonata.CURRENT.jsonata = previous
    compiled.set_output_convert_nulls(False)  # keep JSON null apart from undefined
    compiled.environment.parent = _FUNCTIONS
    return Expression(source.strip(), compiled, native.compile_native(compiled.ast))


def _read_native(expression: Expression, bindings: dict[str, Any]) -> Any:
    """The expression's value by the fast path, UNDEFINED, or native.SLOW for the library."""
    assert expression.native is not None
    value = expression.native(bindings)
    if value is native.SLOW:
        return value
    return UNDEFINED if value is native.UNDEFINED_HERE else _to_json(value)


_FUNCTIONS: Final = functions.frame()


def evaluate(
    expr: str | Expression,
    bindings: dict[str, Any],
    *,
    now: float,
    rng: random.Random,
    field: str | None = None,
) -> Any:
    """Evaluate one expression.

    Args:
        expr: the expression (see `compile`) or a compiled one.
        bindings: variable name (no `$`) to JSON value: `states` and the workflow variables.
        now: the time `$now()` and `$millis()` give, in seconds since the epoch.
        rng: where `$random()`, `$uuid()` and `$shuffle()` draw from.
        field: the ASL field the expression sits in (e.g. "Output/result"), named in causes.

    Returns:
        A plain JSON value, or `UNDEFINED` when the expression returned nothing. The value
        is a fresh copy, sharing nothing with `bindings`.

    Raises:
        AslError: States.QueryEvaluationError, with AWS's cause.
    """
    expression = _compiled(expr, field)
    if expression.native is not None:
        found = _read_native(expression, bindings)
        if found is not native.SLOW:
            return found
    return _run(expression, _prepare(bindings), _context(now, rng), field)


def evaluate_template(
    template: Any,
    bindings: dict[str, Any],
    *,
    now: float,
    rng: random.Random,
    field: str | None = None,
) -> Any:
    """Evaluate every `{% %}` string in a JSON value; every other value stays as written.

    An expression nested in an object or an array that returns nothing fails, as at AWS, naming
    its place as AWS does: `Output/result`, `Output/values[0]`. When `template` is itself an
    expression and returns nothing, `UNDEFINED` comes back instead, for the caller to report
    with what it knows of the field (see `undefined_error`).

    Args:
        template: any JSON value.
        bindings: as for `evaluate`.
        now: as for `evaluate`.
        rng: as for `evaluate`.
        field: the field holding `template` (e.g. "Output"); nested places are named under it.

    Returns:
        A fresh JSON value, or `UNDEFINED`.

    Raises:
        AslError: States.QueryEvaluationError, with AWS's cause.
    """
    return compile_template(template, field).evaluate(bindings, now=now, rng=rng)


class Template:
    """A JSON template with its `{% %}` expressions compiled, and their places named, once.

    Drivers keep one per template of a definition (see `compile_template`) and evaluate it for
    each state that uses it.
    """

    __slots__ = ("_plan", "_whole")

    def __init__(self, template: Any, field: str | None) -> None:
        self._whole = is_expression(template)
        self._plan = _plan(template, field)

    def evaluate(self, bindings: dict[str, Any], *, now: float, rng: random.Random) -> Any:
        """As `evaluate_template`: a fresh JSON value, or UNDEFINED when the whole template is one
        expression that returns nothing; an expression nested deeper that returns nothing fails."""
        run = _Evaluation(bindings, now, rng)
        if self._whole:
            expression, place = self._plan[1], self._plan[2]
            return run.value(expression, place)
        return run.build(self._plan)


def compile_template(template: Any, field: str | None = None) -> Template:
    """A template compiled for repeated evaluation (see `Template`)."""
    return Template(template, field)


# A plan is ("literal", value) | ("expression", Expression, place) | ("object", [(key, plan)])
# | ("array", [plan]); literal objects and arrays are copied on evaluation, never shared.
def _plan(value: Any, path: str | None) -> tuple[Any, ...]:
    if isinstance(value, dict):
        items = [(key, _plan(item, _key_path(path, key))) for key, item in value.items()]
        if all(plan[0] == "literal" for _, plan in items):
            return ("literal", value)
        return ("object", items)
    if isinstance(value, list):
        plans = [_plan(item, f"{path or ''}[{index}]") for index, item in enumerate(value)]
        if all(plan[0] == "literal" for plan in plans):
            return ("literal", value)
        return ("array", plans)
    if is_expression(value):
        return ("expression", _compiled(value, path), path)
    return ("literal", value)


class _Evaluation:
    """One template's evaluation: the bindings are prepared for the library at most once."""

    __slots__ = ("bindings", "context", "now", "prepared", "rng")

    def __init__(self, bindings: dict[str, Any], now: float, rng: random.Random) -> None:
        self.bindings = bindings
        self.now = now
        self.rng = rng
        self.prepared: dict[str, Any] | None = None
        self.context: functions.Context | None = None

    def value(self, expression: Expression, place: str | None) -> Any:
        if expression.native is not None:
            found = _read_native(expression, self.bindings)
            if found is not native.SLOW:
                return found
        if self.prepared is None:
            self.prepared = _prepare(self.bindings)
            self.context = _context(self.now, self.rng)
        assert self.context is not None
        return _run(expression, self.prepared, self.context, place)

    def build(self, plan: tuple[Any, ...]) -> Any:
        kind = plan[0]
        if kind == "literal":
            value = plan[1]
            return _copy(value) if type(value) is dict or type(value) is list else value
        if kind == "object":
            return {key: self.build(item) for key, item in plan[1]}
        if kind == "array":
            return [self.build(item) for item in plan[1]]
        result = self.value(plan[1], plan[2])
        if result is UNDEFINED:
            raise undefined_error(plan[1], plan[2])
        return result


def _copy(value: Any) -> Any:
    if type(value) is dict:
        return {key: _copy(item) for key, item in value.items()}
    if type(value) is list:
        return [_copy(item) for item in value]
    return value


def _key_path(path: str | None, key: str) -> str:
    return key if path is None else f"{path}/{key}"


def _compiled(expr: str | Expression, field: str | None) -> Expression:
    if isinstance(expr, Expression):
        return expr
    try:
        return compile(expr)
    except JsonataSyntaxError as error:
        # A definition is checked before it runs, so this is a caller passing unchecked text.
        raise AslError(errors.QUERY_EVALUATION_ERROR, _threw(expression_text(expr), field,
                                                             f"{error.code}: {error}", True), field) from None


def _context(now: float, rng: random.Random) -> functions.Context:
    return functions.Context(now_ms=round(now * 1000), rng=rng)


# --- bindings in, JSON out ---------------------------------------------------------------------


def _prepare(bindings: dict[str, Any]) -> dict[str, Any]:
    """The bindings as the library reads them: JSON null as its null marker where None would read
    as undefined (a variable's own value, and an array's items)."""
    return {name: _NULL if value is None else _nulls_in_arrays(value) for name, value in bindings.items()}


def _nulls_in_arrays(value: Any) -> Any:
    # The library reads None inside an object as JSON null but None in an array as undefined
    # (`$filter`, predicates and lambdas would drop it). Objects are copied only along the way to an
    # array.
    kind = type(value)
    if kind is dict:
        copied = None
        for key, item in value.items():
            if type(item) is dict or type(item) is list:
                fixed = _nulls_in_arrays(item)
                if fixed is not item:
                    if copied is None:
                        copied = dict(value)
                    copied[key] = fixed
        return value if copied is None else copied
    if kind is list:
        # Every array is copied: the library changes some arrays it is handed (a predicate on an
        # empty array appends to it), and the bindings are the execution's own state.
        return [_NULL if item is None else _nulls_in_arrays(item) if type(item) is dict or type(item) is list
                else item for item in value]
    return value


class _Unsupported(Exception):
    """A result with something JSON cannot hold (a function, a regular expression)."""


def _to_json(value: Any) -> Any:
    if value is None or value is _NULL:
        return None
    kind = type(value)
    if kind is str or kind is bool:
        return value
    if kind is int:
        if -_LONG <= value < _LONG:
            return value
        # Past a long, AWS holds the number as a double (and a double has a largest value).
        return _number(float(value)) if abs(value) < 2**1024 else ("Infinity" if value > 0 else "-Infinity")
    if kind is float:
        return _number(value)
    if isinstance(value, dict):
        return {str(key): _to_json(item) for key, item in value.items()}
    if isinstance(value, list):  # plain lists, the library's sequences and its lazy ranges
        return [_to_json(item) for item in value]
    raise _Unsupported


def _number(value: float) -> int | float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    # AWS writes a whole number without a fraction while it fits in a long.
    if value.is_integer() and -_LONG <= value < _LONG:
        return int(value)
    return value


# --- evaluation --------------------------------------------------------------------------------


class _Guard:
    """Counts evaluation steps and depth, and looks at each value made, to enforce AWS's bounds."""

    __slots__ = ("depth", "steps")

    def __init__(self) -> None:
        self.depth = 0
        self.steps = 0

    def enter(self, expr: Any, input: Any, environment: Any) -> None:
        self.depth += 1
        self.steps += 1
        if self.depth > MAX_DEPTH:
            raise functions.DepthLimitError()
        if self.steps > MAX_STEPS:
            raise functions.StepLimitError()

    def leave(self, expr: Any, input: Any, environment: Any, result: Any) -> None:
        self.depth -= 1
        if isinstance(result, list | str):
            limit = MAX_STRING if type(result) is str else MAX_ELEMENTS
            if len(result) > limit:
                raise functions.MemoryLimitError()


def _evaluator(context: functions.Context) -> Any:
    """This thread's evaluator object, holding `context` for the functions that read it.

    The library evaluates on a per-thread object it keeps in `Jsonata.CURRENT` (it stores the
    evaluation's focus there); pinflow keeps one of its own per thread, never a shared compiled one.
    """
    current = Jsonata.CURRENT
    engine = getattr(current, "pinflow_engine", None)
    if engine is None:
        engine = _Engine("null")
        current.pinflow_engine = engine
    current.jsonata = engine
    engine.pinflow_context = context
    return engine


def _run(expression: Expression, prepared: dict[str, Any], context: functions.Context,
         field: str | None) -> Any:
    guard = _Guard()
    frame = dict(prepared)
    frame["__evaluate_entry"] = guard.enter
    frame["__evaluate_exit"] = guard.leave
    _evaluator(context)
    try:
        raw = expression.compiled.evaluate(None, frame)
    except (functions.FunctionError, functions.BoundError) as error:
        detail, coded = error.detail, isinstance(error, functions.FunctionError)
        raise AslError(errors.QUERY_EVALUATION_ERROR, _threw(expression.text, field, detail, coded), field) from None
    except JException as error:
        detail, coded = _detail(error, expression)
        raise AslError(errors.QUERY_EVALUATION_ERROR, _threw(expression.text, field, detail, coded), field) from None
    except Exception:  # noqa: BLE001 - a failure inside the library itself (RecursionError, ...)
        cause = f"{_sentence(expression.text, field)} threw an internal error during evaluation."
        raise AslError(errors.QUERY_EVALUATION_ERROR, cause, field) from None
    if raw is None:
        return UNDEFINED
    try:
        return _to_json(raw)
    except _Unsupported:
        cause = f"{_sentence(expression.text, field)} returned an unsupported result type."
    except RecursionError:  # a value nested deeper than Python's stack (from `$parse`)
        cause = f"{_sentence(expression.text, field)} threw an internal error during evaluation."
    raise AslError(errors.QUERY_EVALUATION_ERROR, cause, field)


# --- causes ------------------------------------------------------------------------------------


def _sentence(text: str, field: str | None) -> str:
    where = "" if field is None else f" specified for the field '{field}'"
    return f"The JSONata expression '{text}'{where}"


def _threw(text: str, field: str | None, detail: str, coded: bool) -> str:
    # AWS ends its sentence before a coded message ("... evaluation. T1006: ...") and runs on into
    # an uncoded one ("... evaluation: Stack overflow error: ...").
    separator = ". " if coded else ": "
    return f"{_sentence(text, field)} threw an error during evaluation{separator}{detail}"


def undefined_error(expr: str | Expression, field: str | None) -> AslError:
    """AWS's error for an expression in `field` that returned nothing."""
    return AslError(errors.QUERY_EVALUATION_ERROR,
                    f"{_sentence(expression_text(expr), field)} returned nothing (undefined).", field)


def type_name(value: Any) -> str:
    """The name AWS gives a JSON value's type in its causes: null, boolean, number, string, array, object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def result_type_error(expr: str | Expression, field: str | None, expected: str, value: Any) -> AslError:
    """AWS's error for an expression in `field` whose value is not of the `expected` type (e.g. 'array')."""
    shown = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return AslError(errors.QUERY_EVALUATION_ERROR,
                    f"{_sentence(expression_text(expr), field)} returned an unexpected result type. "
                    f"Expected '{expected}', but was '{type_name(value)}' for value: {shown}", field)


# --- the library's errors in jsonata-js's words -------------------------------------------------

# jsonata-python's catalog is jsonata-js's with "function" replaced by "Object"; AWS prints the latter.
_TEMPLATES: Final = {code: text.replace("Object", "function")
                     for code, text in JException.error_codes.items()}
_PLACEHOLDER: Final = re.compile(r"\{\{\{(\w+)\}\}\}|\{\{(\w+)\}\}")
_CODE: Final = re.compile(r"[A-Z]\d{4}")
# Errors the library raises with the message where the code belongs.
_CODES_BY_MESSAGE: Final = {
    "Second argument of replace function cannot be an empty string": "D3010",
    "Fourth argument of replace function must evaluate to a positive number": "D3011",
}
_ARRAY_TYPES: Final = {"a": "arrays", "b": "booleans", "f": "functions", "n": "numbers", "o": "objects",
                       "s": "strings"}
_MISSING: Final = object()
_NUMBER: Final = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([Ee][-+]?[0-9]+)?")
_LONE_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def _detail(error: Any, expression: Expression) -> tuple[str, bool]:
    """The JSONata part of a cause, and whether it opens with a code."""
    code = str(error.error)
    if code in _CODES_BY_MESSAGE:
        return f"{_CODES_BY_MESSAGE[code]}: {code}", True
    if not _CODE.fullmatch(code) or code not in _TEMPLATES:
        return code, False
    if code == "D3100" and error.current is None:
        error.current = error.location  # the library passes the radix where the position belongs
    if code in ("T0410", "T0412") and error.current is None:
        # Raised from inside a function that met JSON null: the library did not say which.
        error.current, error.expected = 1, _function_at(expression.compiled.ast, error.location)
    return f"{code}: {_message(error)}", True


def _message(error: Any) -> str:
    """jsonata-js's message for a library error (without its code)."""
    template = _TEMPLATES.get(str(error.error))
    if template is None:
        return str(error)
    values = [error.current, error.expected, error.extra]
    if error.error == "T0412":
        values[2] = _ARRAY_TYPES.get(str(values[2]), values[2])
    slots = iter(values)

    def fill(match: re.Match[str]) -> str:
        value = next(slots, _MISSING)
        return _raw(value) if match.group(1) else _stringify(value)

    return _PLACEHOLDER.sub(fill, template)


def _function_at(node: Any, position: Any) -> Any:
    """The name of the function called at `position` in a syntax tree, if one is."""
    pending = [node]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, list):
            pending.extend(current)
            continue
        if getattr(current, "type", None) == "function" and getattr(current, "position", None) == position:
            return getattr(current.procedure, "value", None)
        if hasattr(current, "__dict__"):
            for key, child in vars(current).items():
                if key != "_outer_instance" and (isinstance(child, list) or hasattr(child, "type")):
                    pending.append(child)
    return None


def _stringify(value: Any) -> str:
    """`JSON.stringify(value)` as jsonata-js inserts it into a message."""
    if value is _MISSING or value is None:
        return "undefined"
    try:
        text = json.dumps(_to_message_json(value), separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)
    # JSON.stringify escapes a lone surrogate (it could not be written as UTF-8 otherwise).
    return _LONE_SURROGATE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def _to_message_json(value: Any) -> Any:
    if value is None or value is _NULL:
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None  # JSON.stringify writes Infinity and NaN as null
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, dict):
        return {str(key): _to_message_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_to_message_json(item) for item in value]
    if isinstance(value, str | int | bool):
        return value
    return {}  # a function or a regular expression


def _raw(value: Any) -> str:
    if value is _MISSING or value is None:
        return "undefined"
    if isinstance(value, str):
        return value
    return _stringify(value)
