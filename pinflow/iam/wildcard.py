"""IAM wildcard matching: `*` is any run of characters, `?` one character, and nothing else is special.

This is not fnmatch: `[`, `]` and `\\` are literal characters, as in IAM. Actions compare without
regard to case; resources and ARNs compare case-sensitively.

Matching runs in time linear in the value, whatever the pattern: the pattern becomes a small
automaton whose set of live positions is one integer (a bit per position), advanced once per
character of the value. A backtracking matcher (a regular expression) takes time exponential in the
number of `*` for a value that almost matches, and a policy is written by whoever may put it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

# Compiled patterns and answers are cached: policies are few, and the same pairs come on every call.
_CACHE_SIZE = 4096
_ANSWERS_CACHE_SIZE = 65536


@dataclass(frozen=True)
class _Automaton:
    """A pattern as bit masks over its positions (bit i: about to match token i; bit n: matched)."""

    literals: dict[str, int]  # character -> the positions whose token is that character
    any_char: int  # `?` matching any character
    any_but_colon: int  # `?` that stays within an ARN segment
    star: int  # every `*` (a position that may be skipped)
    star_any: int  # `*` that may cover any character
    star_but_colon: int  # `*` that stays within an ARN segment
    accept: int
    ignore_case: bool

    def matches(self, value: str) -> bool:
        if self.ignore_case:
            value = value.lower()
        literals, star = self.literals, self.star
        consume_colon = self.any_char
        consume_other = self.any_char | self.any_but_colon
        stay_colon = self.star_any
        stay_other = self.star_any | self.star_but_colon
        state = 1 | ((1 & star) << 1)
        for char in value:
            if char == ":":
                consume, stay = literals.get(char, 0) | consume_colon, stay_colon
            else:
                consume, stay = literals.get(char, 0) | consume_other, stay_other
            state = ((state & consume) << 1) | (state & stay)
            if not state:
                return False
            # Runs of `*` were collapsed to one, so one step of skipping reaches every position.
            state |= (state & star) << 1
        return bool(state & self.accept)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _compile(pattern: str, ignore_case: bool, segments: bool) -> _Automaton:
    """The automaton of `pattern`; with `segments`, `*` and `?` keep to an ARN segment (see
    `matches_resource`)."""
    if ignore_case:
        pattern = pattern.lower()
    literals: dict[str, int] = {}
    any_char = any_but_colon = star_any = star_but_colon = 0
    position = 0
    last = len(pattern) - 1
    for index, char in enumerate(pattern):
        bit = 1 << position
        if char == "*":
            if index < last and pattern[index + 1] == "*":
                continue  # a run of stars is one star, of the kind of its last (the one a colon may follow)
            ends_segment = index == last or pattern[index + 1] == ":"
            if segments and not ends_segment:
                star_but_colon |= bit
            else:
                star_any |= bit
        elif char == "?":
            if segments:
                any_but_colon |= bit
            else:
                any_char |= bit
        else:
            literals[char] = literals.get(char, 0) | bit
        position += 1
    return _Automaton(literals, any_char, any_but_colon, star_any | star_but_colon, star_any, star_but_colon,
                      1 << position, ignore_case)


@functools.lru_cache(maxsize=_ANSWERS_CACHE_SIZE)
def _matches(pattern: str, value: str, ignore_case: bool, segments: bool) -> bool:
    return _compile(pattern, ignore_case, segments).matches(value)


def matches(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """Whether `value` matches the whole of `pattern`, `*` and `?` being the only wildcards.

    Args:
        pattern: the pattern, e.g. `states:Describe*`.
        value: the string to test.
        ignore_case: compare letters without regard to case.
    """
    if "*" not in pattern and "?" not in pattern:
        return pattern.lower() == value.lower() if ignore_case else pattern == value
    return _matches(pattern, value, ignore_case, False)


def matches_action(pattern: str, action: str) -> bool:
    """Whether an action such as `lambda:InvokeFunction` matches an Action entry (case-insensitive)."""
    return matches(pattern, action, ignore_case=True)


def matches_resource(pattern: str, resource: str) -> bool:
    """Whether a resource ARN matches a policy's Resource entry, as IAM compares them.

    The comparison is exact and case-sensitive apart from wildcards: a grant on
    `...:function:hello` does not cover `...:function:hello:1`, while `...:function:hello:*`
    covers every version and alias but not the unqualified ARN. A `*` that ends a segment may
    cover further segments (`...:function:hello*` covers `...:function:hello:1`); `*` and `?`
    elsewhere stay within their segment.
    """
    if "*" not in pattern and "?" not in pattern:
        return pattern == resource
    return _matches(pattern, resource, False, True)


def matches_arn(pattern: str, arn: str) -> bool:
    """Whether `arn` matches `pattern` as the ArnEquals/ArnLike condition operators compare them.

    Each of the six colon-separated parts is matched on its own (the last part, the resource,
    may hold colons of its own), case-sensitively, with `*` and `?` wildcards.
    """
    if pattern == "*":
        return True
    pattern_parts = pattern.split(":", 5)
    arn_parts = arn.split(":", 5)
    if len(pattern_parts) != 6 or len(arn_parts) != 6:
        return False
    return all(matches(p, a) for p, a in zip(pattern_parts, arn_parts, strict=True))
