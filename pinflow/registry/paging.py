"""Opaque pagination tokens and page sizes for the registry's list operations.

Lists page by key (`keyset_page`): a token names the last item a page returned, so an item added or
removed between two pages neither repeats nor skips one that was there all along, as an offset would.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from typing import TypeVar

from pinflow import errors

T = TypeVar("T")
# An item's place in its list; compared as a tuple (negate a number to list newest first).
Key = tuple[int | float | str, ...]

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


def keyset_page(items: Iterable[T], key: Callable[[T], Key], token: str | None, size: int,
                error: type[errors.ServiceError] = errors.InvalidToken) -> tuple[list[T], str | None]:
    """One page of `items` in `key` order, starting after the item a previous page's token names.

    Args:
        items: every item (in any order).
        key: an item's place; unique per item.
        token: a token this function made for the same list, or None for the first page.
        size: the most items on the page.
        error: raised for a token this function did not make for such a list.

    Returns:
        (the page, the token for the next page or None when this page ends the list).
    """
    ordered = sorted(items, key=key)
    if token is not None:
        after = _decode_key(token, error)
        try:
            ordered = [item for item in ordered if key(item) > after]
        except TypeError:  # a token made for a list keyed by other types
            raise error(f"Invalid Token: '{token}'") from None
    page = ordered[:size]
    if len(ordered) <= size:
        return page, None
    return page, base64.urlsafe_b64encode(json.dumps({"k": list(key(page[-1]))}).encode()).decode("ascii")


def _decode_key(token: str, error: type[errors.ServiceError]) -> Key:
    try:
        found = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))["k"]
    except (ValueError, KeyError, TypeError, UnicodeError):
        raise error(f"Invalid Token: '{token}'") from None
    if not isinstance(found, list) or not all(
            isinstance(part, int | float | str) and not isinstance(part, bool) for part in found):
        raise error(f"Invalid Token: '{token}'")
    return tuple(found)


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
        raise errors.validation("maxResults", max_results, f"Member must have value less than or equal to {MAX_PAGE}")
    if max_results < 0:
        raise errors.validation("maxResults", max_results, "Member must have value greater than or equal to 0")
    return max_results
