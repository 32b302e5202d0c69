"""Identity policy documents: parsing, validation with IAM's wording, and the parsed model."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pinflow import jsontext
from pinflow.iam import conditions

VERSION = "2012-10-17"
_KNOWN_VERSIONS = ("2008-10-17", VERSION)
_TOP_ELEMENTS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_ELEMENTS = frozenset(
    {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"}
    | {"Principal", "NotPrincipal"}  # accepted by the grammar, then refused for identity policies
)
_PARTITIONS = frozenset({"aws", "aws-cn", "aws-us-gov"})
_VENDOR = re.compile(r"[A-Za-z0-9\-.]+")

# IAM's MalformedPolicyDocument messages.
INVALID_JSON = "This policy contains invalid Json"
SYNTAX_ERRORS = "Syntax errors in policy."
OLD_VERSION = "Policy document must be version 2012-10-17 or greater."
HAS_PRINCIPAL = "Policy document should not specify a principal."
LEGACY_PARSING = "The policy failed legacy parsing"
DUPLICATE_SID = "Statement IDs (SID) in a single policy must be unique."
NO_ACTIONS = "Policy statement must contain actions."
NO_RESOURCES = "Policy statement must contain resources."
NO_VENDOR = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
ONE_COLON = "Actions/Condition can contain only one colon."
VENDOR_REGEX = "Resource vendor must be fully qualified and cannot contain regexes."
NO_PRINCIPAL = "Missing required field Principal"


class MalformedPolicyDocument(ValueError):
    """A policy document IAM would refuse, with IAM's message and where the problem is.

    Attributes:
        message: IAM's wording (what the API returns as the MalformedPolicyDocument message).
        pointer: a JSON Pointer to the offending element, e.g. `/Statement/0/Effect`.
        detail: what exactly is wrong there, for people.
    """

    code = "MalformedPolicyDocument"

    def __init__(self, message: str, *, pointer: str = "", detail: str = "") -> None:
        where = f"{pointer}: " if pointer else ""
        super().__init__(f"{message} ({where}{detail})" if detail else message)
        self.message = message
        self.pointer = pointer
        self.detail = detail


@dataclass(frozen=True)
class Statement:
    """One statement. With `not_action`/`not_resource` the lists say what the statement leaves out."""

    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_action: bool = False
    not_resource: bool = False
    sid: str | None = None
    conditions: tuple[conditions.Condition, ...] = ()
    pointer: str = ""


@dataclass(frozen=True)
class Policy:
    """A parsed identity policy; `name` says which policy decided, in messages."""

    statements: tuple[Statement, ...]
    version: str = VERSION
    id: str | None = None
    name: str | None = None


def parse_policy(document: str | bytes | Mapping[str, Any], *, name: str | None = None) -> Policy:
    """Parse and validate an identity policy document.

    Args:
        document: the JSON text, or the already decoded object.
        name: a name for the policy, carried into decisions.

    Returns:
        The parsed policy.

    Raises:
        MalformedPolicyDocument: the document is not valid, with IAM's message.
    """
    if isinstance(document, str | bytes):
        try:
            document = jsontext.parse(document)
        except ValueError as exc:  # not JSON, nested too deeply, or a lone surrogate
            raise MalformedPolicyDocument(INVALID_JSON, detail=str(exc)) from None
    raw_statements, pointers = _check_syntax(document)
    assert isinstance(document, Mapping)
    if document.get("Version") != VERSION:
        raise MalformedPolicyDocument(OLD_VERSION, pointer="/Version", detail=f"Version must be {VERSION!r}")
    statements = [_statement(raw, pointer) for raw, pointer in zip(raw_statements, pointers, strict=True)]
    _check_sids(statements)
    for statement in statements:
        if not statement.actions:
            raise MalformedPolicyDocument(
                NO_ACTIONS, pointer=statement.pointer, detail="no Action or NotAction"
            )
    for statement in statements:
        if not statement.resources:
            raise MalformedPolicyDocument(
                NO_RESOURCES, pointer=statement.pointer, detail="no Resource or NotResource"
            )
    for statement in statements:
        element = "NotResource" if statement.not_resource else "Resource"
        for resource in statement.resources:
            _check_resource(resource, f"{statement.pointer}/{element}")
    for statement in statements:
        element = "NotAction" if statement.not_action else "Action"
        for action in statement.actions:
            _check_action(action, f"{statement.pointer}/{element}")
    return Policy(tuple(statements), VERSION, document.get("Id"), name)


def check_trust_policy(document: str) -> None:
    """Validate a role's trust policy as IAM does: the policy grammar, then a Principal (or NotPrincipal)
    in every statement and no Resource in any.

    Raises:
        MalformedPolicyDocument: with IAM's message.
    """
    try:
        decoded = jsontext.parse(document)
    except ValueError as exc:  # not JSON, nested too deeply, or a lone surrogate
        raise MalformedPolicyDocument(INVALID_JSON, detail=str(exc)) from None
    raw_statements, pointers = _check_syntax(decoded)
    for statement, pointer in zip(raw_statements, pointers, strict=True):
        if "Principal" not in statement and "NotPrincipal" not in statement:
            raise MalformedPolicyDocument(NO_PRINCIPAL, pointer=pointer, detail="a trust policy names who may assume")
        for element in ("Resource", "NotResource"):
            if element in statement:
                raise MalformedPolicyDocument(f"Has prohibited field {element}", pointer=f"{pointer}/{element}",
                                              detail="a trust policy's resource is the role itself")


def size(document: str) -> int:
    """A policy's size as IAM counts it against its quotas: its characters, whitespace left out."""
    return len(document) - sum(document.count(blank) for blank in " \t\n\r")


def policy_from_statements(statements: Sequence[Mapping[str, Any]], *, name: str | None = None) -> Policy:
    """A policy made of role statements (as a project file lists them), at the current Version."""
    return parse_policy({"Version": VERSION, "Statement": list(statements)}, name=name)


def _syntax(pointer: str, detail: str) -> MalformedPolicyDocument:
    return MalformedPolicyDocument(SYNTAX_ERRORS, pointer=pointer, detail=detail)


def _check_syntax(document: object) -> tuple[list[Mapping[str, Any]], list[str]]:
    """The statements and their pointers, once the document's shape is right."""
    if not isinstance(document, Mapping):
        raise _syntax("", "the document must be a JSON object")
    for element in document:
        if element not in _TOP_ELEMENTS:
            raise _syntax(f"/{element}", f"unknown element {element!r}")
    if "Version" in document and document["Version"] not in _KNOWN_VERSIONS:
        raise _syntax("/Version", f"Version must be one of {', '.join(_KNOWN_VERSIONS)}")
    if "Id" in document and not isinstance(document["Id"], str):
        raise _syntax("/Id", "Id must be a string")
    if "Statement" not in document:
        raise _syntax("", "missing Statement")
    body = document["Statement"]
    if isinstance(body, Mapping):
        raw, pointers = [body], ["/Statement"]
    elif isinstance(body, list) and body:
        raw, pointers = body, [f"/Statement/{i}" for i in range(len(body))]
    else:
        raise _syntax("/Statement", "Statement must be an object or a non-empty list of objects")
    for statement, pointer in zip(raw, pointers, strict=True):
        _check_statement_syntax(statement, pointer)
    return raw, pointers


def _check_statement_syntax(statement: object, pointer: str) -> None:
    if not isinstance(statement, Mapping):
        raise _syntax(pointer, "a statement must be a JSON object")
    for element in statement:
        if element not in _STATEMENT_ELEMENTS:
            raise _syntax(f"{pointer}/{element}", f"unknown element {element!r}")
    for first, second in (("Action", "NotAction"), ("Resource", "NotResource")):
        if first in statement and second in statement:
            raise _syntax(pointer, f"a statement cannot have both {first} and {second}")
    effect = statement.get("Effect")
    if not isinstance(effect, str) or effect.lower() not in ("allow", "deny"):
        raise _syntax(f"{pointer}/Effect", 'Effect must be "Allow" or "Deny"')
    for element in ("Action", "NotAction", "Resource", "NotResource"):
        if element in statement:
            value = statement[element]
            if not isinstance(value, str) and not (
                isinstance(value, list) and all(isinstance(item, str) for item in value)
            ):
                raise _syntax(f"{pointer}/{element}", f"{element} must be a string or a list of strings")
    if "Sid" in statement and not isinstance(statement["Sid"], str):
        raise _syntax(f"{pointer}/Sid", "Sid must be a string")
    if "Condition" in statement:
        _check_condition_syntax(statement["Condition"], f"{pointer}/Condition")


def _check_condition_syntax(block: object, pointer: str) -> None:
    if not isinstance(block, Mapping):
        raise _syntax(pointer, "Condition must be an object of operators")
    for operator, tests in block.items():
        where = f"{pointer}/{operator}"
        if not conditions.is_known_operator(operator):
            raise _syntax(where, f"unknown condition operator {operator!r}")
        if not isinstance(tests, Mapping):
            raise _syntax(where, "a condition operator must map condition keys to values")
        for key, values in tests.items():
            items = values if isinstance(values, list) else [values]
            if not all(isinstance(v, str | bool | int | float) for v in items):
                raise _syntax(f"{where}/{key}", "condition values must be strings, numbers or booleans")


def _listed(value: str | list[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _condition_text(value: str | bool | int | float) -> str:
    # Policy JSON may hold true/false and numbers; conditions compare their text.
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _statement(raw: Mapping[str, Any], pointer: str) -> Statement:
    """A statement from its checked JSON form; IAM's later checks (in order) are made by the caller."""
    if "Principal" in raw or "NotPrincipal" in raw:
        raise MalformedPolicyDocument(
            HAS_PRINCIPAL, pointer=pointer, detail="an identity policy names no principal"
        )
    if raw["Effect"] not in ("Allow", "Deny"):
        raise MalformedPolicyDocument(
            LEGACY_PARSING, pointer=f"{pointer}/Effect", detail='Effect is case-sensitive: "Allow" or "Deny"'
        )
    parsed_conditions = tuple(
        conditions.Condition(operator, key, tuple(_condition_text(v) for v in _as_list(values)))
        for operator, tests in raw.get("Condition", {}).items()
        for key, values in tests.items()
    )
    return Statement(
        effect=raw["Effect"],
        actions=_listed(raw.get("Action", raw.get("NotAction", []))),
        resources=_listed(raw.get("Resource", raw.get("NotResource", []))),
        not_action="NotAction" in raw,
        not_resource="NotResource" in raw,
        sid=raw.get("Sid"),
        conditions=parsed_conditions,
        pointer=pointer,
    )


def _as_list(values: Any) -> list[Any]:
    return values if isinstance(values, list) else [values]


def _check_sids(statements: list[Statement]) -> None:
    seen: set[str] = set()
    for statement in statements:
        if statement.sid:
            if statement.sid in seen:
                raise MalformedPolicyDocument(
                    DUPLICATE_SID, pointer=f"{statement.pointer}/Sid", detail=f"Sid {statement.sid!r} repeats"
                )
            seen.add(statement.sid)


def _check_resource(resource: str, pointer: str) -> None:
    if resource == "*":
        return
    parts = resource.split(":", 5)
    if len(parts) < 2:
        raise MalformedPolicyDocument(f'Resource {resource} must be in ARN format or "*".', pointer=pointer)
    if parts[0] != "arn" or parts[1] not in _PARTITIONS:
        raise MalformedPolicyDocument(
            f'Partition "{parts[1]}" is not valid for resource "{resource}".', pointer=pointer
        )
    if len(parts) < 3 or not parts[2] or "*" in parts[2] or "?" in parts[2]:
        raise MalformedPolicyDocument(VENDOR_REGEX, pointer=pointer, detail=f"in {resource!r}")


def _check_action(action: str, pointer: str) -> None:
    if action == "*":
        return
    parts = action.split(":")
    if len(parts) == 1:
        raise MalformedPolicyDocument(NO_VENDOR, pointer=pointer, detail=f"action {action!r}")
    if len(parts) > 2:
        raise MalformedPolicyDocument(ONE_COLON, pointer=pointer, detail=f"action {action!r}")
    if parts[0] != "*" and not _VENDOR.fullmatch(parts[0]):
        raise MalformedPolicyDocument(f"Vendor {parts[0]} is not valid", pointer=pointer)
