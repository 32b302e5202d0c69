"""The JSONata functions Step Functions adds or replaces, with AWS's argument rules and wording.

AWS adds `$partition`, `$range`, `$hash`, `$random([seed])`, `$uuid` and `$parse`, and removes
`$eval`. pinflow also replaces the functions that would read the machine's clock or an unseeded
generator (`$now`, `$millis`, `$random`, `$shuffle`): they read the evaluation's `Context`, which
`pinflow.asl.jsonata` installs on the library's per-thread evaluator before each evaluation.

The library passes a function exactly the arguments written, with `None` for an undefined one and
its null marker for JSON null, so each function checks its own arguments the way AWS does: a
surplus or mistyped argument fails with T0410, an undefined one usually gives undefined.
"""

from __future__ import annotations

import copy
import decimal
import hashlib
import json
import math
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jsonata import JException, Jsonata, Utils
from jsonata.datetimeutils import DateTimeUtils
from jsonata.functions import Functions
from jsonata.signature import Signature

from pinflow.asl import jsonata_failures

NULL = Utils.NULL_VALUE

# Reported from measurements of AWS: `[1..873782]` passes and one element more fails with its
# memory limit. It is also the most `$range` may build.
MAX_ELEMENTS = 873_782

# java.util.Random's 48-bit linear congruential generator (its published specification).
_LCG_MULTIPLIER = 0x5DEECE66D
_LCG_INCREMENT = 0xB
_LCG_MASK = (1 << 48) - 1
_LONG_MIN, _LONG_MAX = -(1 << 63), (1 << 63) - 1

_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}


@dataclass(frozen=True, slots=True)
class Context:
    """What an evaluation may read besides its bindings: the time and the random source."""

    now_ms: int
    rng: random.Random


class FunctionError(jsonata_failures.DetailedError):
    """An error from one of these functions, already worded as AWS words it (`CODE: message`).

    It is a JException so that the library passes it through untouched (it turns any other
    exception raised inside `and`/`or` into its own "Unexpected" error).
    """


def context() -> Context:
    """The context of the evaluation running on this thread."""
    found: Context = Jsonata.CURRENT.jsonata.pinflow_context
    return found


def mismatch(name: str, position: int) -> FunctionError:
    """AWS's T0410 for argument `position` (1-based) of `$name`."""
    return FunctionError(f'T0410: Argument {position} of function "{name}" does not match function signature')


def _at_most(name: str, args: tuple[Any, ...], count: int) -> None:
    if len(args) > count:
        raise mismatch(name, count + 1)


def _is_number(value: Any) -> bool:
    # bool is an int in Python, and JSONata's booleans are not numbers.
    return isinstance(value, int | float) and not isinstance(value, bool)


def _whole(value: Any, name: str, position: int) -> int:
    """A numeric argument as the integer AWS uses: non-integers are floored (AWS's documentation)."""
    if not _is_number(value) or not math.isfinite(value):
        raise mismatch(name, position)
    whole: int = math.floor(value)
    return whole


def _partition(*args: Any) -> Any:
    """`$partition(array, size)`: chunks of `size` items, the last one holding the rest."""
    _at_most("partition", args, 2)
    items = args[0] if args else None
    if items is None:
        return None
    if not isinstance(items, list):
        raise FunctionError('T0412: Argument 1 of function "partition" must be an array of undefined')
    size = args[1] if len(args) > 1 else None
    if size is None:
        return [list(items)]
    if not _is_number(size):
        raise mismatch("partition", 2)
    if size < 0:
        raise FunctionError("D3137: Second argument must be zero or greater")
    whole = _whole(size, "partition", 2)
    if whole == 0 or not items:
        return None
    return [list(items[start:start + whole]) for start in range(0, len(items), whole)]


def _range(*args: Any) -> Any:
    """`$range(start, end, step)`: start, start+step, ... up to end, end included if reached.

    Like a JSONata path, no number is undefined and one number is that number, not an array.
    """
    _at_most("range", args, 3)
    if len(args) < 3 or any(value is None for value in args):
        return None
    start, end, step = (_whole(value, "range", position) for position, value in enumerate(args, 1))
    if step == 0:
        return None
    count = max(0, (end - start) // step + 1)
    if count > MAX_ELEMENTS:
        raise MemoryLimitError()
    if count == 0:
        return None
    if count == 1:
        return start
    return list(range(start, start + count * step, step))


def _hash(*args: Any) -> Any:
    """`$hash(text, algorithm)`: the hex digest of the UTF-8 text."""
    _at_most("hash", args, 2)
    text = args[0] if args else NULL
    if text is None:
        return None
    if not isinstance(text, str):
        raise mismatch("hash", 1)
    algorithm = args[1] if len(args) > 1 else None
    if algorithm is None:
        return None
    if not isinstance(algorithm, str):
        raise mismatch("hash", 2)
    if algorithm not in _HASHES:
        raise FunctionError(
            f"D3137: Hash algorithm '{algorithm}' must be one of SHA-1, SHA-384, SHA-256, SHA-512, MD5")
    return hashlib.new(_HASHES[algorithm], text.encode()).hexdigest()


def java_random_double(seed: int) -> float:
    """The first `nextDouble()` of a `java.util.Random` seeded with `seed` (a Java long)."""
    # A Java long keeps the low 64 bits, and the generator only ever looks at the low 48.
    state = (seed ^ _LCG_MULTIPLIER) & _LCG_MASK

    def next_bits(bits: int) -> int:
        nonlocal state
        state = (state * _LCG_MULTIPLIER + _LCG_INCREMENT) & _LCG_MASK
        return state >> (48 - bits)

    high = next_bits(26)
    low = next_bits(27)
    return ((high << 27) + low) * 2.0**-53


def _random(*args: Any) -> Any:
    """`$random([seed])`: 0 <= n < 1; a seed gives what `new java.util.Random(seed).nextDouble()` gives."""
    _at_most("random", args, 1)
    seed = args[0] if args else None
    if seed is None:
        return context().rng.random()
    # A double converted to a Java long saturates at the long's bounds.
    return java_random_double(min(max(_whole(seed, "random", 1), _LONG_MIN), _LONG_MAX))


def _uuid(*args: Any) -> Any:
    """`$uuid()`: a version 4 UUID drawn from the evaluation's random source."""
    _at_most("uuid", args, 0)
    return str(uuid.UUID(int=context().rng.getrandbits(128), version=4))


def _reject_constant(text: str) -> Any:
    raise ValueError(text)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key")
    return result


def _nulls(value: Any) -> Any:
    """Parsed JSON with JSON null as the library's null marker (a Python None reads as undefined)."""
    if value is None:
        return NULL
    if isinstance(value, dict):
        return {key: _nulls(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_nulls(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("number out of range")
    return value


def _parse(*args: Any) -> Any:
    """`$parse(text)`: the JSON value `text` holds. AWS's parser is strict: one document, no
    duplicate keys, no NaN or Infinity."""
    _at_most("parse", args, 1)
    text = args[0] if args else None
    if text is None:
        return None
    if not isinstance(text, str):
        raise mismatch("parse", 1)
    try:
        return _nulls(json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys))
    except (ValueError, RecursionError):
        raise FunctionError("D3137: Invalid JSON") from None


def _optional_text(name: str, args: tuple[Any, ...], position: int) -> str | None:
    value = args[position - 1] if len(args) >= position else None
    if value is not None and not isinstance(value, str):
        raise mismatch(name, position)
    return value


def _now(*args: Any) -> Any:
    """`$now([picture [, timezone]])`: the evaluation's time, ISO 8601 by default."""
    _at_most("now", args, 2)
    picture = _optional_text("now", args, 1)
    timezone = _optional_text("now", args, 2)
    return Functions.datetime_from_millis(context().now_ms, picture, _timezone(timezone))


_LEADING_INTEGER = re.compile(r"\s*[-+]?\d+")


def _timezone(text: str | None) -> str | None:
    """A timezone argument read as jsonata-js reads it (`parseInt`: the leading integer, so "+05:00" is
    5); one with no leading integer gives jsonata-js an invalid date, which it cannot format."""
    if text is None or text is NULL:
        return text
    found = _LEADING_INTEGER.match(text)
    if found is None:
        raise InvalidTimeError()
    return str(int(found.group()))


def _millis(*args: Any) -> Any:
    """`$millis()`: the evaluation's time in milliseconds since the epoch."""
    _at_most("millis", args, 0)
    return context().now_ms


def _shuffle(*args: Any) -> Any:
    """`$shuffle(array)`: the items in an order drawn from the evaluation's random source."""
    _at_most("shuffle", args, 1)
    items = args[0] if args else None
    if items is None:
        return None
    shuffled = list(items) if isinstance(items, list) else [items]
    context().rng.shuffle(shuffled)
    return shuffled


class BoundError(JException):  # type: ignore[misc, unused-ignore]
    """An evaluation that went past one of the bounds AWS puts on it; its message has no code."""

    message = ""

    def __init__(self) -> None:
        RuntimeError.__init__(self, self.message)
        self.error = self.message
        self.location = -1
        self.current = None
        self.expected = None
        self.extra = None
        self.type = None
        self.remaining = None
        self.detail = self.message


class MemoryLimitError(BoundError):
    """One value grew past what AWS lets an expression hold."""

    message = "Expression evaluation memory limit exceeded: Check for excessive memory usage"


class DepthLimitError(BoundError):
    """Evaluation nested deeper than AWS allows (a recursion that does not end, usually)."""

    message = ("Stack overflow error: Check for non-terminating recursive function. "
               "Consider rewriting as tail-recursive.")


class InvalidTimeError(BoundError):
    """A time JavaScript's Date cannot hold (jsonata-js fails with its RangeError, which has no code)."""

    message = "Invalid time value"


class StepLimitError(BoundError):
    """Evaluation took more steps than pinflow allows (AWS bounds it by time, which pinflow cannot read)."""

    message = "Expression evaluation timeout: Check for infinite loop"


_JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([Ee][-+]?[0-9]+)?")
_PREFIXED_NUMBER = re.compile(r"0[xX][0-9A-Fa-f]+|0[oO][0-7]+|0[bB][01]+")


def _stringified(value: Any) -> str:
    """A value as jsonata-js quotes it in a message (JSON.stringify)."""
    return json.dumps(None if value is NULL else value, separators=(",", ":"), ensure_ascii=False)


class _Checked:
    """Built-in functions whose library version fails with a bare Python error where jsonata-js (and
    AWS) fails with a coded one; each keeps the library's signature and behaviour otherwise."""

    @staticmethod
    def number(arg: Any) -> Any:
        """`$number`: jsonata-js casts a JSON-number text, or a 0x/0o/0b text, else fails with D3030."""
        if arg is None or isinstance(arg, bool) or _is_number(arg) or arg is NULL:
            return Functions.number(arg)
        if isinstance(arg, str):
            if _JSON_NUMBER.fullmatch(arg):
                value = float(arg)
                if math.isfinite(value):
                    return Utils.convert_number(value)
            elif _PREFIXED_NUMBER.fullmatch(arg):
                return int(arg[2:], {"x": 16, "o": 8, "b": 2}[arg[1].lower()])
        raise FunctionError(f"D3030: Unable to cast value to a number: {_stringified(arg)}")

    @staticmethod
    def sort(arr: Any, comparator: Any) -> Any:
        """`$sort`: without a comparator, only all numbers or all strings (D3070 otherwise)."""
        if comparator is None and isinstance(arr, list) and len(arr) > 1 and not (
                all(_is_number(item) for item in arr) or all(isinstance(item, str) for item in arr)):
            raise FunctionError("D3070: The single argument form of the sort function can only be applied to "
                                "an array of strings or an array of numbers.  Use the second argument to "
                                "specify a comparison function")
        return Functions.sort(arr, comparator)

    @staticmethod
    def datetime_to_millis(timestamp: Any, picture: Any) -> Any:
        """`$toMillis`: a timestamp that is not ISO 8601 fails with D3110 (when no picture is given)."""
        try:
            return Functions.datetime_to_millis(timestamp, _escaped_literals(picture))
        except (ValueError, TypeError, OverflowError):
            if picture is not None:
                raise
            raise FunctionError("D3110: The argument of the toMillis function must be an ISO 8601 formatted "
                                f"timestamp. Given {_stringified(timestamp)}") from None

    @staticmethod
    def datetime_from_millis(millis: Any, picture: Any, timezone: Any) -> Any:
        """`$fromMillis`: without a picture, JavaScript's `Date.toISOString()`, which writes years past
        9999 as +YYYYYY (the library's datetime stops at 9999) and refuses a time past 8.64e15 ms."""
        if millis is None or picture is not None or timezone is not None:
            return Functions.datetime_from_millis(millis, picture, _timezone(timezone))
        return _iso_from_millis(millis)

    @staticmethod
    def round(arg: Any, precision: Any) -> Any:
        """`$round`: the library rounds through `decimal`, whose default 28 digits fail on a number like
        1e28 that JavaScript (and AWS) round without trouble.

        jsonata-js shifts the decimal point by rewriting the number's text (`1.5e<exponent+precision>`):
        a fractional precision, or one that shifts the number past a double's range, gives NaN; one
        that shifts it below the smallest double rounds it to 0.
        """
        if _is_number(arg) and _is_number(precision) and precision != 0:
            if not float(precision).is_integer():
                return math.nan
            magnitude = math.log10(abs(arg)) + precision if arg != 0 else -math.inf
            if magnitude > _DOUBLE_DIGITS:
                return math.nan
            if magnitude < -_DOUBLE_DIGITS - 20:
                return 0
        with decimal.localcontext(_DECIMALS):
            return Functions.round(arg, precision)

    @staticmethod
    def decode_url(text: Any) -> Any:
        """`$decodeUrl`: a `%` not followed by two hex digits is malformed (JavaScript's decodeURI throws;
        Python's unquote keeps it)."""
        _check_escapes(text)
        return Functions.decode_url(text)

    @staticmethod
    def decode_url_component(text: Any) -> Any:
        """`$decodeUrlComponent`: as `decode_url`."""
        _check_escapes(text)
        return Functions.decode_url_component(text)

    @staticmethod
    def parse_integer(value: Any, picture: Any) -> Any:
        """`$parseInteger`: text the picture does not describe gives NaN, as jsonata-js's `parseInt` (and
        its roman numeral and word readers) give; a picture it cannot read fails as jsonata-js's does."""
        if value is None:
            return None
        spec = DateTimeUtils._analyse_integer_picture(picture)
        matcher = DateTimeUtils._generate_regex_with_component(None, spec)
        try:
            return matcher.parse(value)
        except (ValueError, KeyError):
            return math.nan

    @staticmethod
    def format_base(value: Any, radix: Any) -> Any:
        """`$formatBase`: rounds as `$round` does first."""
        with decimal.localcontext(_DECIMALS):
            return Functions.format_base(value, radix)

    @staticmethod
    def format_integer(value: Any, picture: Any) -> Any:
        """`$formatInteger`: a picture the implementation cannot read fails with D3130."""
        try:
            return Functions.format_integer(value, picture)
        except RuntimeError:
            raise FunctionError("D3130: Formatting or parsing an integer as a sequence starting with "
                                f"{_stringified(picture)} is not supported by this implementation") from None


_BROKEN_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _check_escapes(text: Any) -> None:
    if isinstance(text, str) and _BROKEN_ESCAPE.search(text):
        raise ValueError("malformed escape")  # jsonata_failures makes it jsonata-js's D3140


_REGEX_SPECIAL = re.compile(r"[.*+?^${}()|\\]")


def _escaped_literals(picture: Any) -> Any:
    """A date/time picture whose literal text is escaped for a regular expression: the library puts
    the literal text into the regular expression it parses with as written, where jsonata-js escapes
    it (so `+0000` would not compile)."""
    if not isinstance(picture, str) or _REGEX_SPECIAL.search(picture) is None:
        return picture
    out: list[str] = []
    inside = False
    index = 0
    while index < len(picture):
        char = picture[index]
        if not inside and char in "[]" and picture[index + 1:index + 2] == char:
            out.append(char * 2)  # a doubled bracket is a literal bracket
            index += 2
            continue
        if char == "[":
            inside = True
        elif char == "]":
            inside = False
        out.append("\\" + char if not inside and _REGEX_SPECIAL.match(char) else char)
        index += 1
    return "".join(out)


_DECIMALS = decimal.Context(prec=400, Emax=999_999, Emin=-999_999)
_DOUBLE_DIGITS = 308.25  # log10 of the largest double
_MAX_TIME_MS = 8.64e15  # JavaScript's Date range: 100,000,000 days either side of the epoch


def _iso_from_millis(millis: float) -> str:
    if not math.isfinite(millis) or abs(millis) > _MAX_TIME_MS:
        raise InvalidTimeError()
    whole = int(millis)  # JavaScript's TimeClip drops the fraction
    days, ms = divmod(whole, 86_400_000)
    # Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil_from_days).
    shifted = days + 719_468
    era = shifted // 146_097
    day_of_era = shifted - era * 146_097
    year_of_era = (day_of_era - day_of_era // 1460 + day_of_era // 36_524 - day_of_era // 146_096) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    month_index = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * month_index + 2) // 5 + 1
    month = month_index + 3 if month_index < 10 else month_index - 9
    year = year_of_era + era * 400 + (1 if month <= 2 else 0)
    shown = f"{year:04d}" if 0 <= year <= 9999 else f"{'+' if year > 0 else '-'}{abs(year):06d}"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, fraction = divmod(rest, 1000)
    return f"{shown}-{month:02d}-{day:02d}T{hours:02d}:{minutes:02d}:{seconds:02d}.{fraction:03d}Z"


# name -> (signature, method of _Checked): the library's own signatures.
CHECKED: dict[str, tuple[str, str]] = {
    "number": ("<(nsb)-:n>", "number"),
    "sort": ("<af?:a>", "sort"),
    "toMillis": ("<s-s?:n>", "datetime_to_millis"),
    "formatInteger": ("<n-s:s>", "format_integer"),
    "fromMillis": ("<n-s?s?:s>", "datetime_from_millis"),
    "round": ("<n-n?:n>", "round"),
    "parseInteger": ("<s-s:n>", "parse_integer"),
    "decodeUrl": ("<s-:s>", "decode_url"),
    "decodeUrlComponent": ("<s-:s>", "decode_url_component"),
    "formatBase": ("<n-n?:s>", "format_base"),
}


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "partition": _partition,
    "range": _range,
    "hash": _hash,
    "random": _random,
    "uuid": _uuid,
    "parse": _parse,
    "now": _now,
    "millis": _millis,
    "shuffle": _shuffle,
}


class _NullAwareSignature(Signature):  # type: ignore[misc, unused-ignore]  # the library is untyped
    """A built-in function's signature that reads JSON null as null ("l"), as jsonata-js does.

    The library reads its null marker as a missing argument, so `$formatInteger(null, '#')` reaches
    the function and crashes it; jsonata-js (and AWS) refuse null where the signature has no room for
    it: T0410.
    """

    def get_symbol(self, value: Any) -> str:
        return "l" if value is NULL else str(super().get_symbol(value))


def _builtin(name: str, function: Any) -> Any:
    """A copy of a built-in function whose signature reads JSON null as jsonata-js does, and whose
    Python failures are jsonata-js's errors (`jsonata_failures`)."""
    signature = getattr(function, "signature", None)
    if not isinstance(function, Jsonata.JNativeFunction) or signature is None:
        return function
    checked = _NullAwareSignature.__new__(_NullAwareSignature)
    checked.__dict__.update(signature.__dict__)
    copied = copy.copy(function)
    copied.signature = checked
    copied.method = _guard(name, function.method)
    return copied


def _guard(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    return jsonata_failures.guard(name, function, memory=MemoryLimitError, time=InvalidTimeError)


def frame() -> Any:
    """A library frame holding these functions (and no `$eval`), above the built-in functions."""
    functions = Jsonata.Frame(Jsonata.static_frame)
    for name, builtin in Jsonata.static_frame.bindings.items():
        functions.bind(name, _builtin(name, builtin))
    for name, implementation in FUNCTIONS.items():
        functions.bind(name, Jsonata.JLambda(_guard(name, implementation)))
    for name, (signature, method) in CHECKED.items():
        functions.bind(name, _builtin(name, Jsonata.function(name, signature, _Checked, method)))
    # Bound to nothing, `$eval(...)` fails as AWS's does: "T1006: Attempted to invoke a non-function".
    functions.bind("eval", None)
    return functions
