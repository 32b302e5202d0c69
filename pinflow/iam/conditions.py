"""The Condition element of a policy statement: its operators and how they test a request's context."""

from __future__ import annotations

import datetime
import ipaddress
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from pinflow.iam import wildcard

# A request's context: condition key -> value or values. Keys compare without regard to case.
Context = Mapping[str, "str | Sequence[str]"]


def _parse_date(text: str) -> datetime.datetime:
    # AWS accepts ISO 8601 dates and epoch seconds.
    try:
        return datetime.datetime.fromtimestamp(float(text), tz=datetime.UTC)
    except ValueError:
        parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def _numeric(test: Callable[[float, float], bool]) -> Callable[[str, str], bool]:
    def check(policy: str, value: str) -> bool:
        try:
            return test(float(value), float(policy))
        except ValueError:
            return False  # a value that is not a number never matches

    return check


def _dated(test: Callable[[datetime.datetime, datetime.datetime], bool]) -> Callable[[str, str], bool]:
    def check(policy: str, value: str) -> bool:
        try:
            return test(_parse_date(value), _parse_date(policy))
        except (ValueError, OverflowError, OSError):
            return False

    return check


def _in_network(policy: str, value: str) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(policy, strict=False)
    except ValueError:
        return False


# Operator -> (test(policy_value, context_value), negated). A negated operator holds when no
# policy value matches.
_OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (operator.eq, False),
    "StringNotEquals": (operator.eq, True),
    "StringEqualsIgnoreCase": (lambda p, v: p.lower() == v.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda p, v: p.lower() == v.lower(), True),
    "StringLike": (wildcard.matches, False),
    "StringNotLike": (wildcard.matches, True),
    "ArnEquals": (wildcard.matches_arn, False),
    "ArnLike": (wildcard.matches_arn, False),
    "ArnNotEquals": (wildcard.matches_arn, True),
    "ArnNotLike": (wildcard.matches_arn, True),
    "NumericEquals": (_numeric(operator.eq), False),
    "NumericNotEquals": (_numeric(operator.eq), True),
    "NumericLessThan": (_numeric(operator.lt), False),
    "NumericLessThanEquals": (_numeric(operator.le), False),
    "NumericGreaterThan": (_numeric(operator.gt), False),
    "NumericGreaterThanEquals": (_numeric(operator.ge), False),
    "DateEquals": (_dated(operator.eq), False),
    "DateNotEquals": (_dated(operator.eq), True),
    "DateLessThan": (_dated(operator.lt), False),
    "DateLessThanEquals": (_dated(operator.le), False),
    "DateGreaterThan": (_dated(operator.gt), False),
    "DateGreaterThanEquals": (_dated(operator.ge), False),
    "Bool": (lambda p, v: p.lower() == v.lower(), False),
    "BinaryEquals": (operator.eq, False),
    "IpAddress": (_in_network, False),
    "NotIpAddress": (_in_network, True),
}

_SET_PREFIXES = ("ForAnyValue:", "ForAllValues:")
_IF_EXISTS = "IfExists"


def is_known_operator(name: str) -> bool:
    """Whether `name` (with an optional ForAnyValue:/ForAllValues: prefix and IfExists suffix) is valid."""
    for prefix in _SET_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    if name == "Null":
        return True
    if name.endswith(_IF_EXISTS):
        name = name[: -len(_IF_EXISTS)]
    return name in _OPERATORS


@dataclass(frozen=True)
class Condition:
    """One operator applied to one condition key with its policy values (any of which may match)."""

    operator: str
    key: str
    values: tuple[str, ...]

    def holds(self, context: Context) -> bool:
        """Whether the request's context satisfies this condition."""
        present = _lookup(context, self.key)
        name = self.operator
        set_mode = ""
        for prefix in _SET_PREFIXES:
            if name.startswith(prefix):
                set_mode, name = prefix, name[len(prefix) :]
                break
        if name == "Null":
            # "true" asks for the key to be absent, "false" for it to be present.
            wants_absent = any(v.lower() == "true" for v in self.values)
            return (present is None) == wants_absent
        if_exists = name.endswith(_IF_EXISTS)
        if if_exists:
            name = name[: -len(_IF_EXISTS)]
        test, negated = _OPERATORS[name]

        def single(value: str) -> bool:
            matched = any(test(policy_value, value) for policy_value in self.values)
            return not matched if negated else matched

        if set_mode == "ForAllValues:":
            return all(single(v) for v in present or ())
        if present is None:
            # A missing key fails a condition, except where IfExists or a negated operator ask
            # for the key not to match.
            return if_exists or (negated and set_mode == "")
        if set_mode == "ForAnyValue:":
            return any(single(v) for v in present)
        if negated:
            return all(single(v) for v in present)
        return any(single(v) for v in present)


def _lookup(context: Context, key: str) -> tuple[str, ...] | None:
    """The context's values for `key` (compared without case), or None when it has none."""
    wanted = key.lower()
    for name, value in context.items():
        if name.lower() == wanted:
            if isinstance(value, str):
                return (value,)
            return tuple(value)
    return None
