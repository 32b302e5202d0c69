"""Static validation of a definition, like AWS's ValidateStateMachineDefinition."""

from __future__ import annotations

from typing import Any

from pinflow.asl import source
from pinflow.asl.validation import diagnostics, machine
from pinflow.asl.validation.diagnostics import Diagnostic

__all__ = ["Diagnostic", "validate"]


def validate(definition: Any, *, type: str = "STANDARD") -> list[Diagnostic]:
    """Every problem AWS would report for `definition`, as diagnostics; never raises.

    Args:
        definition: a dict, or its text (JSON, else YAML). Any other value is reported, not raised.
        type: "STANDARD" or "EXPRESS" (Express workflows refuse `.sync` and `.waitForTaskToken` tasks).

    Returns:
        The diagnostics in the order found; the definition is valid when none has severity "ERROR".
    """
    duplicate_keys: dict[int, tuple[str, ...]] = {}
    if isinstance(definition, str):
        try:
            parsed = source.parse(definition)
        except source.DefinitionSyntaxError as error:
            return [Diagnostic(error.code, error.location, str(error))]
        definition = parsed.value
        duplicate_keys = dict(parsed.duplicate_keys)
    try:
        return machine.check(definition, express=type == "EXPRESS", duplicate_keys=duplicate_keys)
    except RecursionError:
        return [Diagnostic(diagnostics.TOO_DEEP, None, "The definition is too deeply nested")]
