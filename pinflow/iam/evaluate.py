"""Policy evaluation: an explicit Deny wins, then any Allow, and otherwise the request is denied."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pinflow.iam import conditions, policy, wildcard

EXPLICIT_DENY = "explicit deny"
ALLOWED = "allowed"
IMPLICIT_DENY = "implicit deny"


@dataclass(frozen=True)
class Decision:
    """The answer for one (action, resource), and the statement that gave it (None for an implicit deny)."""

    allowed: bool
    reason: str
    action: str
    resource: str
    deciding_policy: policy.Policy | None = None
    deciding_statement: policy.Statement | None = None

    def __bool__(self) -> bool:
        return self.allowed

    def denial_message(self, principal: str) -> str:
        """AWS's AccessDenied wording for this decision, e.g. for `Lambda.AWSLambdaException` causes.

        Args:
            principal: the caller's ARN, e.g. the execution role's assumed-role ARN.
        """
        head = f"User: {principal} is not authorized to perform: {self.action} on resource: {self.resource}"
        if self.reason == EXPLICIT_DENY:
            return f"{head} with an explicit deny in an identity-based policy"
        return f"{head} because no identity-based policy allows the {self.action} action"


def statement_applies(
    statement: policy.Statement, action: str, resource: str, context: conditions.Context | None = None
) -> bool:
    """Whether a statement covers the action on the resource, its conditions included."""
    action_listed = any(wildcard.matches_action(p, action) for p in statement.actions)
    if action_listed == statement.not_action:
        return False
    resource_listed = any(wildcard.matches_resource(p, resource) for p in statement.resources)
    if resource_listed == statement.not_resource:
        return False
    request_context = context or {}
    return all(condition.holds(request_context) for condition in statement.conditions)


def is_allowed(
    policies: Iterable[policy.Policy],
    action: str,
    resource: str,
    *,
    context: conditions.Context | None = None,
) -> Decision:
    """Decide whether the policies allow `action` on `resource`.

    Every statement is looked at: a matching Deny decides at once; otherwise the first matching
    Allow decides; with neither the request is implicitly denied. Resources compare exactly apart
    from wildcards (see `wildcard.matches_resource`), actions without regard to case.

    Args:
        policies: the identity policies attached to the caller.
        action: e.g. `lambda:InvokeFunction`.
        resource: the exact ARN acted on, qualified as it was called.
        context: condition keys of the request, for statements with a Condition.

    Returns:
        The decision, naming the deciding policy and statement.
    """
    allowing: tuple[policy.Policy, policy.Statement] | None = None
    for candidate in policies:
        for statement in candidate.statements:
            if not statement_applies(statement, action, resource, context):
                continue
            if statement.effect == "Deny":
                return Decision(False, EXPLICIT_DENY, action, resource, candidate, statement)
            if allowing is None:
                allowing = (candidate, statement)
    if allowing is not None:
        return Decision(True, ALLOWED, action, resource, *allowing)
    return Decision(False, IMPLICIT_DENY, action, resource)
