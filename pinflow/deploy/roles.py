"""The roles a deploy generates: one per state machine without a `role`, and one for the functions.

A state machine's role allows `lambda:InvokeFunction` on `function:NAME` *and* `function:NAME:*` for
every function its definition names. Granting only the version just published would cut executions
still running on an older version off their function (the IAM half of the problem pinflow solves);
the pair covers every version and alias, as AWS's documentation recommends. A Task that computes its
function at run time (`FunctionName.$`, JSONata) gets what the serverless-step-functions plugin
grants it (lib/deploy/stepFunctions/iamStrategies/lambda.js): `lambda:InvokeFunction` on its
`AllowedFunctions`, or on `*` when it names none.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pinflow import arns

POLICY_VERSION = "2012-10-17"
POLICY_NAME = "pinflow-deploy"
INVOKE = "lambda:InvokeFunction"
MAX_ROLE_NAME = 64


@dataclass(frozen=True)
class RoleSpec:
    """A role to create or update, with its one inline policy."""

    name: str
    service: str  # the principal allowed to assume it: states.amazonaws.com or lambda.amazonaws.com
    statements: tuple[dict[str, Any], ...]
    account: str = arns.DEFAULT_ACCOUNT

    @property
    def arn(self) -> str:
        return arns.role(self.name, account=self.account)

    def trust_policy(self) -> str:
        return json.dumps({"Version": POLICY_VERSION, "Statement": [{
            "Effect": "Allow", "Principal": {"Service": self.service}, "Action": "sts:AssumeRole"}]})

    def policy(self) -> dict[str, Any]:
        return {"Version": POLICY_VERSION, "Statement": list(self.statements)}


def role_name(base: str, suffix: str) -> str:
    """`<base><suffix>` within IAM's 64 characters (a long base is shortened and given a hash)."""
    name = f"{base}{suffix}"
    if len(name) <= MAX_ROLE_NAME:
        return name
    digest = hashlib.sha256(base.encode("utf-8")).hexdigest()[:8]
    keep = MAX_ROLE_NAME - len(suffix) - len(digest) - 1
    return f"{base[:keep]}-{digest}{suffix}"


def invoke_statement(functions: Iterable[arns.FunctionRef]) -> dict[str, Any] | None:
    """Allow invoking every version and alias of each function (`fn` and `fn:*`); None for none."""
    resources: list[str] = []
    for ref in functions:
        resources.extend([ref.unqualified_arn, f"{ref.unqualified_arn}:*"])
    if not resources:
        return None
    return {"Effect": "Allow", "Action": [INVOKE], "Resource": sorted(set(resources))}


def computed_statement(allowed: Sequence[Sequence[str]]) -> dict[str, Any] | None:
    """The grant for Tasks that compute their function at run time, one `AllowedFunctions` list each
    (empty: the Task names none, so `*`); None for no such Task."""
    if not allowed:
        return None
    if any(not functions for functions in allowed):
        return {"Effect": "Allow", "Action": [INVOKE], "Resource": "*"}
    return {"Effect": "Allow", "Action": [INVOKE], "Resource": sorted({arn for group in allowed for arn in group})}


def machine_role(machine_name: str, functions: Sequence[arns.FunctionRef],
                 extra: Sequence[dict[str, Any]], account: str,
                 computed: Sequence[Sequence[str]] = ()) -> RoleSpec:
    """The generated role of a state machine: invoke grants for `functions` and for the Tasks that
    compute theirs (`computed`: the AllowedFunctions of each), then `extra` statements."""
    statements: list[dict[str, Any]] = []
    invoke = invoke_statement(functions)
    if invoke is not None:
        statements.append(invoke)
    dynamic = computed_statement(computed)
    if dynamic is not None:
        statements.append(dynamic)
    statements.extend(extra)
    return RoleSpec(role_name(machine_name, "-role"), "states.amazonaws.com", tuple(statements), account)


def functions_role(service: str, stage: str, region: str, statements: Sequence[dict[str, Any]],
                   account: str) -> RoleSpec:
    """The functions' role, named as Serverless names it: `<service>-<stage>-<region>-lambdaRole`."""
    return RoleSpec(role_name(f"{service}-{stage}-{region}", "-lambdaRole"), "lambda.amazonaws.com",
                    tuple(statements), account)


def normalized(statements: Iterable[dict[str, Any]]) -> list[str]:
    """Statements as canonical JSON texts (lists of one item as the item), for comparing policies."""
    return [json.dumps(_canonical(statement), sort_keys=True, separators=(",", ":"))
            for statement in statements]


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        items = [_canonical(item) for item in value]
        if len(items) == 1:
            return items[0]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    return value
