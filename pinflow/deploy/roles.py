"""The roles a deploy generates: one per state machine without a `role`, and one for the functions.

A state machine's role holds what each Task integration says its calls need (`grants`), for what the
definition names. For functions, `lambda:InvokeFunction` on `function:NAME` *and* `function:NAME:*`:
granting only the version just published would cut executions still running on an older version off
their function (the IAM half of the problem pinflow solves); the pair covers every version and alias,
as AWS's documentation recommends. A Task that computes its function at run time (`FunctionName.$`,
JSONata) gets what the serverless-step-functions plugin grants it
(lib/deploy/stepFunctions/iamStrategies/lambda.js): its `AllowedFunctions`, or `*` when it names none.
Child state machines get `states:StartExecution` on the unqualified machine (which covers its versions
and aliases) and, for `.sync`, what AWS asks for watching the child; HTTP Tasks get
`states:InvokeHTTPEndpoint` and `events:RetrieveConnectionCredentials`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pinflow import arns
from pinflow.asl import tasks as asl_tasks
from pinflow.engine.integrations import table
from pinflow.engine.integrations.base import Computed

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


def integration_statements(machine_name: str, definition: dict[str, Any], *, region: str,
                           account: str) -> list[dict[str, Any]]:
    """What each integration a definition's Tasks use says its calls need, in the table's order."""
    grouped: dict[str, tuple[list[Any], list[Any], set[str]]] = {}
    for path, state, integration in table.tasks(definition):
        references, computed, patterns = grouped.setdefault(integration.name, ([], [], set()))
        references.extend(integration.references(path, state))
        computed.extend(task for task in integration.computed(path, state) if plugin_grants_for(task))
        patterns.add(asl_tasks.classify(state["Resource"])[1])
    context = {"machine": machine_name, "region": region, "account": account}
    statements: list[dict[str, Any]] = []
    for integration in table.INTEGRATIONS:
        if integration.name in grouped:
            references, computed, patterns = grouped[integration.name]
            statements.extend(integration.grants(references, computed, frozenset(patterns), context))
    return statements


def plugin_grants_for(task: Computed) -> bool:
    """Whether the serverless-step-functions plugin's generated role grants anything for a Task that
    computes its target: it reads the target member inside Parameters or Arguments
    (lib/deploy/stepFunctions/iamStrategies), so Arguments that are one JSONata expression give it
    nothing to read, and it grants nothing (the plan says so)."""
    return task.field != "Arguments"


def machine_role(machine_name: str, definition: dict[str, Any], extra: Sequence[dict[str, Any]], account: str,
                 region: str = arns.DEFAULT_REGION) -> RoleSpec:
    """The generated role of a state machine: what its Tasks' integrations need, then `extra` statements."""
    statements = integration_statements(machine_name, definition, region=region, account=account)
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
