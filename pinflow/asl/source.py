"""Reading a definition: a dict as it is, or text that is JSON (or, failing that, YAML)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from pinflow.asl import json_errors

INVALID_JSON = "INVALID_JSON_DESCRIPTION"
SCHEMA = "SCHEMA_VALIDATION_FAILED"
NOT_AN_OBJECT = "Definition must be a valid JSON object"


class DefinitionSyntaxError(ValueError):
    """The definition cannot be read; `code` is the ValidateStateMachineDefinition code AWS gives and
    `location` where its parser stopped (Jackson's description), when known."""

    def __init__(self, message: str, code: str = INVALID_JSON, location: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.location = location


@dataclass(frozen=True)
class Parsed:
    """A parsed definition and the keys its text repeated.

    `duplicate_keys` maps id() of each parsed object that repeated a key to the repeated keys (the last
    value wins, as in AWS's parser); it is valid while `value` is alive.
    """

    value: Any
    duplicate_keys: Mapping[int, tuple[str, ...]] = field(default_factory=dict)


class _YamlLoader(yaml.SafeLoader):
    """A safe loader that keeps timestamps as text (ASL compares them as strings) and refuses aliases."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        # An alias can make a small text expand into a huge (or cyclic) document.
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases are not allowed in a definition", event.start_mark
            )
        return super().compose_node(parent, index)


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Non-standard token '{name}': NaN and Infinity are not JSON")


def parse(text: str) -> Parsed:
    """Parse definition text: JSON, else YAML.

    Raises:
        DefinitionSyntaxError: the text is neither (code INVALID_JSON_DESCRIPTION).
    """
    duplicates: dict[int, tuple[str, ...]] = {}

    def object_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        repeated = []
        for key, value in pairs:
            if key in obj:
                repeated.append(key)
            obj[key] = value
        if repeated:
            duplicates[id(obj)] = tuple(repeated)
        return obj

    if not text.strip():
        raise DefinitionSyntaxError(NOT_AN_OBJECT, SCHEMA)  # AWS's answer to an empty definition
    try:
        return Parsed(
            json.loads(text, object_pairs_hook=object_pairs, parse_constant=_reject_constant), duplicates
        )
    except json.JSONDecodeError as error:
        described = json_errors.describe(text, error)
        json_error = DefinitionSyntaxError(described.message, location=described.location)
    except ValueError as error:
        json_error = DefinitionSyntaxError(str(error))
    except RecursionError:
        raise DefinitionSyntaxError("The definition is too deeply nested") from None
    if text.lstrip().startswith(("{", "[")):
        # Meant as JSON (YAML's flow style would read many broken JSON texts): report the JSON error.
        raise json_error
    try:
        value = yaml.load(text, Loader=_YamlLoader)
    except (yaml.YAMLError, RecursionError):
        raise json_error from None
    if not isinstance(value, dict):
        # YAML reads almost any text as a scalar; only a mapping is a definition written in YAML.
        raise json_error
    return Parsed(value)


def load(definition: dict[str, Any] | str) -> dict[str, Any]:
    """The definition as a dict: a dict as it is, text parsed as JSON or else YAML.

    Raises:
        DefinitionSyntaxError: the text cannot be parsed, or is not an object (code SCHEMA_VALIDATION_FAILED).
    """
    if isinstance(definition, dict):
        return definition
    if not isinstance(definition, str):
        raise DefinitionSyntaxError(NOT_AN_OBJECT, SCHEMA)
    value = parse(definition).value
    if not isinstance(value, dict):
        raise DefinitionSyntaxError(NOT_AN_OBJECT, SCHEMA)
    return value
