"""Which fields each state type accepts, in each query language (the tables of ASL sections 1.2-1.3).

Everything that decides "is this field allowed here" lives in this module, so adding a field to ASL is
a change to one table.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

JSONPATH = "JSONPath"
JSONATA = "JSONata"
QUERY_LANGUAGES = (JSONPATH, JSONATA)

STATE_TYPES = ("Task", "Wait", "Pass", "Succeed", "Fail", "Choice", "Parallel", "Map")


_GROUPS = {
    "@common": "Type Comment QueryLanguage",
    "@flow": "Next End",
    "@errors": "Retry Catch",
    "@io": "InputPath OutputPath",
    "@map": "ItemProcessor Iterator ItemSelector MaxConcurrency ItemReader ItemBatcher ResultWriter Label "
    "ToleratedFailurePercentage ToleratedFailureCount",
}


def _names(text: str) -> frozenset[str]:
    """A set of field names written as one string; `@group` stands for the names of a group above."""
    return frozenset(name for word in text.split() for name in _GROUPS.get(word, word).split())


TOP_LEVEL = _names("Comment StartAt States Version TimeoutSeconds QueryLanguage")
SUB_WORKFLOW = _names("Comment StartAt States")
PROCESSOR = _names("Comment StartAt States ProcessorConfig")

# Fields each state type accepts in a JSONPath state.
JSONPATH_FIELDS: dict[str, frozenset[str]] = {
    "Pass": _names("@common @flow @io ResultPath Parameters Result Assign"),
    "Task": _names(
        "@common @flow @io @errors ResultPath Parameters ResultSelector Assign Resource TimeoutSeconds "
        "TimeoutSecondsPath HeartbeatSeconds HeartbeatSecondsPath Credentials"
    ),
    "Choice": _names("@common @io Choices Default Assign"),
    "Wait": _names("@common @flow @io Seconds SecondsPath Timestamp TimestampPath Assign"),
    "Succeed": _names("@common @io"),
    "Fail": _names("@common Error ErrorPath Cause CausePath"),
    "Parallel": _names("@common @flow @io @errors ResultPath Parameters ResultSelector Assign Branches"),
    "Map": _names(
        "@common @flow @io @errors @map ResultPath Parameters ResultSelector Assign ItemsPath "
        "MaxConcurrencyPath ToleratedFailurePercentagePath ToleratedFailureCountPath"
    ),
}

# Fields each state type accepts in a JSONata state.
JSONATA_FIELDS: dict[str, frozenset[str]] = {
    "Pass": _names("@common @flow Output Assign"),
    "Task": _names(
        "@common @flow @errors Arguments Output Assign Resource TimeoutSeconds HeartbeatSeconds Credentials"
    ),
    "Choice": _names("@common Choices Default Output Assign"),
    "Wait": _names("@common @flow Seconds Timestamp Output Assign"),
    "Succeed": _names("@common Output"),
    "Fail": _names("@common Error Cause"),
    "Parallel": _names("@common @flow @errors Arguments Output Assign Branches"),
    "Map": _names("@common @flow @errors @map Items Output Assign"),
}

FIELDS = {JSONPATH: JSONPATH_FIELDS, JSONATA: JSONATA_FIELDS}

# Fields of a Choice rule (JSONPath: plus Variable, And/Or/Not and the operators) and of a catcher.
CHOICE_RULE = {
    JSONPATH: _names("Next Comment Assign"),
    JSONATA: _names("Condition Next Comment Assign Output"),
}
CATCHER = {
    JSONPATH: _names("ErrorEquals Next ResultPath Comment Assign"),
    JSONATA: _names("ErrorEquals Next Output Comment Assign"),
}
RETRIER = _names("ErrorEquals IntervalSeconds MaxAttempts BackoffRate MaxDelaySeconds JitterStrategy Comment")


def other(language: str) -> str:
    """The other query language."""
    return JSONATA if language == JSONPATH else JSONPATH


def unsupported(
    fields: Iterable[Any], allowed: frozenset[str], other_allowed: frozenset[str], language: str
) -> list[tuple[str, str]]:
    """The fields that are not allowed, each with AWS's message.

    A field the other query language accepts at this place gets the message that names the language.
    """
    found = []
    for name in fields:
        if name in allowed:
            continue
        if name in other_allowed:
            found.append(
                (
                    name,
                    f"The QueryLanguage is set to '{language}', but field '{name}' is only supported "
                    f"for the '{other(language)}' QueryLanguage",
                )
            )
        else:
            found.append((name, f"Field '{name}' is not supported"))
    return found
