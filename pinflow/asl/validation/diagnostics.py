"""Diagnostics, their codes and locations: what the validator reports and where it points."""

from __future__ import annotations

from dataclasses import dataclass, field

# AWS's ValidateStateMachineDefinition codes (errors), as documented and as recorded from the service.
SCHEMA = "SCHEMA_VALIDATION_FAILED"
INVALID_JSON = "INVALID_JSON_DESCRIPTION"
MISSING_TARGET = "MISSING_TRANSITION_TARGET"  # AWS uses it for unreachable states too
MISSING_END = "MISSING_END_STATE"
DUPLICATE_STATE = "DUPLICATE_STATE_NAME"
INVALID_STATE_NAME = "INVALID_STATE_NAME"
DUPLICATE_LABEL = "DUPLICATE_LABEL_NAME"
INVALID_LABEL = "INVALID_LABEL_NAME"
TOO_DEEP = "TOO_DEEPLY_NESTED"
INVALID_JSONATA = "INVALID_JSONATA_EXPRESSION"
UNSUPPORTED_JSONATA = "UNSUPPORTED_JSONATA_EXPRESSION"
# Warnings: AWS's documented ones, plus one of ours (AWS accepts such a definition and fails at run time).
NO_DOLLAR = "NO_DOLLAR"
PASS_RESULT_IS_STATIC = "PASS_RESULT_IS_STATIC"
UNDEFINED_VARIABLE = "UNDEFINED_VARIABLE"

ERROR = "ERROR"
WARNING = "WARNING"

ROOT = "/"


@dataclass(frozen=True)
class Diagnostic:
    """One finding, shaped like AWS's ValidateStateMachineDefinitionDiagnostic.

    `location` points into the definition the way AWS writes it: `/States/<name>/<field>`, object keys
    joined with `/` (state names are not escaped) and array items as `[i]` after their field, e.g.
    `/States/Choose/Choices[0]/Next`; `None` when the finding concerns the whole workflow.
    """

    code: str
    location: str | None
    message: str
    severity: str = ERROR


def child(location: str, key: object) -> str:
    """The location of `key` inside the object at `location`."""
    return ("" if location == ROOT else location) + "/" + str(key)


def item(location: str, index: int) -> str:
    """The location of item `index` of the array at `location`."""
    return f"{location}[{index}]"


@dataclass
class Report:
    """Collects diagnostics in the order they are found."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def error(self, code: str, location: str | None, message: str) -> None:
        """Add an ERROR diagnostic."""
        self.diagnostics.append(Diagnostic(code, location, message, ERROR))

    def schema(self, location: str | None, message: str) -> None:
        """Add a SCHEMA_VALIDATION_FAILED error, the code of most findings."""
        self.error(SCHEMA, location, message)

    def warning(self, code: str, location: str | None, message: str) -> None:
        """Add a WARNING diagnostic (it does not make the definition invalid)."""
        self.diagnostics.append(Diagnostic(code, location, message, WARNING))
