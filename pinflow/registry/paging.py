"""Opaque pagination tokens and page sizes for the registry's list operations."""

from __future__ import annotations

import base64
import json

from pinflow import errors

# Step Functions: maxResults 0 (or absent) means the default page of 100; at most 1000.
DEFAULT_PAGE = 100
MAX_PAGE = 1000


def encode(position: int | str) -> str:
    """A token for where the next page starts (an offset or the last key returned)."""
    return base64.urlsafe_b64encode(json.dumps({"p": position}).encode()).decode("ascii")


def decode(token: str | None, error: type[errors.ServiceError] = errors.InvalidToken) -> int | str | None:
    """The position a token names; None for no token.

    Raises:
        error: the token was not made by `encode` (InvalidToken unless told otherwise).
    """
    if token is None:
        return None
    try:
        position = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))["p"]
    except (ValueError, KeyError, TypeError, UnicodeError):
        raise error(f"Invalid Token: '{token}'") from None
    if isinstance(position, bool) or not isinstance(position, int | str):
        raise error(f"Invalid Token: '{token}'")
    return position


def offset(token: str | None) -> int:
    """The offset a Step Functions nextToken names (0 for none)."""
    position = decode(token)
    if position is None:
        return 0
    if not isinstance(position, int) or position < 0:
        raise errors.InvalidToken(f"Invalid Token: '{token}'")
    return position


def page_size(max_results: int | None) -> int:
    """Step Functions' maxResults: 0 or None gives the default page, above 1000 is refused.

    Raises:
        ValidationException: with AWS's constraint wording.
    """
    if max_results is None or max_results == 0:
        return DEFAULT_PAGE
    if max_results > MAX_PAGE:
        raise errors.ValidationException(
            f"1 validation error detected: Value '{max_results}' at 'maxResults' failed to satisfy "
            f"constraint: Member must have value less than or equal to {MAX_PAGE}")
    if max_results < 0:
        raise errors.ValidationException(
            f"1 validation error detected: Value '{max_results}' at 'maxResults' failed to satisfy "
            "constraint: Member must have value greater than or equal to 0")
    return max_results
