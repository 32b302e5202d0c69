"""The one place ARNs are built and taken apart (Step Functions, Lambda, IAM)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"

# Names of state machines, executions, activities and aliases: 1-80 characters, none of AWS's
# forbidden ones (whitespace, wildcards, brackets, punctuation and control characters).
_FORBIDDEN = re.compile(r"[\s?*<>{}\[\]\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")
_FUNCTION_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")


def valid_name(name: object, limit: int = 80) -> bool:
    """Whether `name` is a valid Step Functions resource name."""
    return isinstance(name, str) and 0 < len(name) <= limit and not _FORBIDDEN.search(name)


def valid_function_name(name: object) -> bool:
    return isinstance(name, str) and _FUNCTION_NAME.fullmatch(name) is not None


def is_number(text: str) -> bool:
    """Whether a qualifier is written as a version number: ASCII digits (`str.isdigit` also takes "²",
    which int() refuses)."""
    return text.isascii() and text.isdigit()


@dataclass(frozen=True, slots=True)
class Arn:
    """A parsed ARN: arn:partition:service:region:account:resource."""

    partition: str
    service: str
    region: str
    account: str
    resource: str

    @property
    def parts(self) -> list[str]:
        return self.resource.split(":")

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def parse(text: str) -> Arn | None:
    """Parse an ARN, or None when `text` is not one."""
    if not isinstance(text, str) or not text.startswith("arn:"):
        return None
    pieces = text.split(":", 5)
    if len(pieces) != 6 or not pieces[2]:
        return None
    return Arn(pieces[1], pieces[2], pieces[3], pieces[4], pieces[5])


def state_machine(name: str, qualifier: str | None = None, *, region: str = DEFAULT_REGION,
                  account: str = DEFAULT_ACCOUNT) -> str:
    base = f"arn:aws:states:{region}:{account}:stateMachine:{name}"
    return f"{base}:{qualifier}" if qualifier else base


def execution(machine: str, name: str, *, express: bool = False, region: str = DEFAULT_REGION,
              account: str = DEFAULT_ACCOUNT) -> str:
    kind = "express" if express else "execution"
    return f"arn:aws:states:{region}:{account}:{kind}:{machine}:{name}"


def activity(name: str, *, region: str = DEFAULT_REGION, account: str = DEFAULT_ACCOUNT) -> str:
    return f"arn:aws:states:{region}:{account}:activity:{name}"


def function(name: str, qualifier: str | None = None, *, region: str = DEFAULT_REGION,
             account: str = DEFAULT_ACCOUNT) -> str:
    base = f"arn:aws:lambda:{region}:{account}:function:{name}"
    return f"{base}:{qualifier}" if qualifier else base


def role(name: str, *, account: str = DEFAULT_ACCOUNT, path: str = "/") -> str:
    return f"arn:aws:iam::{account}:role{path}{name}"


@dataclass(frozen=True, slots=True)
class StateMachineRef:
    """A state machine ARN split: the machine's name and an optional version number or alias."""

    name: str
    version: int | None = None
    alias: str | None = None


def split_state_machine(text: str) -> StateMachineRef | None:
    """`...:stateMachine:name[:version|:alias]` split, or None when it is not such an ARN."""
    arn = parse(text)
    if arn is None or arn.service != "states":
        return None
    parts = arn.parts
    if parts[0] != "stateMachine" or len(parts) not in (2, 3) or not parts[1]:
        return None
    if len(parts) == 2:
        return StateMachineRef(parts[1])
    qualifier = parts[2]
    if is_number(qualifier):
        return StateMachineRef(parts[1], version=int(qualifier))
    return StateMachineRef(parts[1], alias=qualifier)


def split_execution(text: str) -> tuple[str, str] | None:
    """(machine name, execution name) of an execution ARN, or None."""
    arn = parse(text)
    if arn is None or arn.service != "states":
        return None
    parts = arn.parts
    if parts[0] not in ("execution", "express") or len(parts) != 3:
        return None
    return parts[1], parts[2]


@dataclass(frozen=True, slots=True)
class FunctionRef:
    """A Lambda function reference: name plus an optional qualifier (version, alias or $LATEST)."""

    name: str
    qualifier: str | None = None
    region: str = DEFAULT_REGION
    account: str = DEFAULT_ACCOUNT
    arn: str = field(init=False, repr=False, compare=False)  # read several times per call: made once

    def __post_init__(self) -> None:
        object.__setattr__(self, "arn", function(self.name, self.qualifier, region=self.region,
                                                 account=self.account))

    @property
    def unqualified_arn(self) -> str:
        return function(self.name, region=self.region, account=self.account)


def split_function(text: str, qualifier: str | None = None) -> FunctionRef | None:
    """Resolve the forms Lambda accepts for FunctionName: a name, `name:qualifier`, a partial ARN
    (`account:function:name`) or a full ARN, each optionally qualified; `qualifier` (the Invoke
    Qualifier parameter) applies when the name carries none."""
    if not isinstance(text, str) or not text or not (qualifier is None or isinstance(qualifier, str)):
        return None
    return _split_function(text, qualifier)


# A task's function is split several times per call (its grant, its pins, its resolution), and the
# answer, an immutable reference, depends on the text alone.
@functools.lru_cache(maxsize=4096)
def _split_function(text: str, qualifier: str | None) -> FunctionRef | None:
    region, account = DEFAULT_REGION, DEFAULT_ACCOUNT
    if text.startswith("arn:"):
        arn = parse(text)
        if arn is None or arn.service != "lambda" or arn.parts[0] != "function":
            return None
        region, account = arn.region or region, arn.account or account
        rest = arn.parts[1:]
    elif ":function:" in text:
        account, _, tail = text.partition(":function:")
        rest = tail.split(":")
    else:
        rest = text.split(":")
    if not rest or len(rest) > 2 or not valid_function_name(rest[0]):
        return None
    own = rest[1] if len(rest) == 2 else None
    if own is not None and qualifier is not None and own != qualifier:
        return None
    chosen = own or qualifier
    if chosen is not None and is_number(chosen):
        chosen = chosen.lstrip("0") or "0"  # `hello:01` is version 1: one spelling, so holds and grants match
    return FunctionRef(rest[0], chosen, region, account)
