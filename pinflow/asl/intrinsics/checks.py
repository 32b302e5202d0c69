"""Argument checks shared by the functions; each failure is a States.IntrinsicFailure."""

from __future__ import annotations

from typing import Any

from pinflow.asl import errors
from pinflow.asl.errors import AslError
from pinflow.asl.intrinsics import values

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
# AWS's limit on the text given to States.Base64Encode, States.Base64Decode and States.Hash.
MAX_TEXT_LENGTH = 10_000


def failure(name: str, detail: str) -> AslError:
    """The error a function raises when its arguments are unusable."""
    return AslError(errors.INTRINSIC_FAILURE, f"Invalid arguments in {name}: {detail}")


def _got(value: Any) -> str:
    text = values.to_json_text(value)
    if len(text) > 100:
        text = text[:100] + "..."
    return f"{values.type_name(value)} {text}"


def array(name: str, value: Any, what: str) -> list[Any]:
    """`value` if it is a JSON array."""
    if not isinstance(value, list):
        raise failure(name, f"{what} must be an array, but got {_got(value)}")
    return value


def obj(name: str, value: Any, what: str) -> dict[str, Any]:
    """`value` if it is a JSON object."""
    if not isinstance(value, dict):
        raise failure(name, f"{what} must be a JSON object, but got {_got(value)}")
    return value


def string(name: str, value: Any, what: str) -> str:
    """`value` if it is a string."""
    if not isinstance(value, str):
        raise failure(name, f"{what} must be a string, but got {_got(value)}")
    return value


def text_limit(name: str, value: str, what: str) -> str:
    """`value` if it is at most 10,000 characters long, counted as Java counts them."""
    length = values.utf16_length(value)
    if length > MAX_TEXT_LENGTH:
        raise failure(name, f"{what} must be at most {MAX_TEXT_LENGTH} characters long, but has {length}")
    return value


def rounded(name: str, value: Any, what: str) -> int:
    """A number rounded to the nearest integer, as AWS rounds non-integer arguments."""
    if not values.is_number(value):
        raise failure(name, f"{what} must be a number, but got {_got(value)}")
    return values.java_round(value)


def integer(name: str, value: Any, what: str) -> int:
    """A number with no fractional part (`2.0` is accepted as `2`)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not values.is_number(value) or isinstance(value, float):
        raise failure(name, f"{what} must be an integer, but got {_got(value)}")
    return int(value)


def int32(name: str, value: int, what: str) -> int:
    """`value` if it fits in a 32-bit signed integer."""
    if not INT32_MIN <= value <= INT32_MAX:
        raise failure(name, f"{what} must be between {INT32_MIN} and {INT32_MAX}, but got {value}")
    return value
