"""The IAM check made before every task call: what the integration needs, against the execution's role.

The role's current policies (inline and attached) decide first; a role that does not exist, or that
Step Functions may no longer assume (its trust policy changed), allows nothing, unless the server is
permissive and never had it. If they deny, the policies the execution
started with still allow a call to what the execution is pinned to (a numbered version it names, or the
version an alias resolved to at start): a deploy that narrows the role never strands a running
execution, while new executions get the new policy at once (docs/pinning.md).
"""

from __future__ import annotations

import functools
import json
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pinflow import arns
from pinflow.engine import lru
from pinflow.engine.integrations.base import Need
from pinflow.registry import roles

if TYPE_CHECKING:
    from pinflow.engine.runner import Engine


# The most allowed calls remembered at once (see `Authoriser._allowed`).
_ALLOWED_KEPT = 10_000


class Denied(Exception):
    """The role does not allow a call; `message` is IAM's denial, as AWS words it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Authoriser:
    def __init__(self, engine: Engine, registry: Any) -> None:
        self.engine = engine
        self.registry = registry
        self._policies = lru.Lru(1_000)  # a policy document's parsed form never changes
        # (role, action, resource) -> the role's grants that allowed it, when no statement of theirs has a
        # Condition: the same grants (kept while the registry is unchanged) give the same answer.
        self._allowed: dict[tuple[str, str, str], Any] = {}

    def check(self, role_arn: str, pinned: dict[str, Any], need: Need) -> None:
        """Allow `need` for the execution's role, or raise Denied."""
        from pinflow.iam import evaluate

        grants = self.registry.roles.grants(role_arn)
        snapshot = pinned.get("policies")
        if grants is None and snapshot is None and self.registry.roles.permissive:
            return  # `--permissive-iam`: a role this server has never had is not enforced (the plan says so)
        key = (role_arn, need.action, need.resource)
        if grants is not None and self._allowed.get(key) is grants:
            return
        context = self._context(role_arn, need)
        # A role deleted since the start denies everything (as a missing role does on AWS), and so does
        # one Step Functions may no longer assume.
        current = self._current(grants) if grants is not None and grants.assumable else []
        decision = evaluate.is_allowed(current, need.action, need.resource, context=context)
        if decision.allowed:
            if not any(statement.conditions for parsed in current for statement in parsed.statements):
                if len(self._allowed) >= _ALLOWED_KEPT:
                    self._allowed.clear()
                self._allowed[key] = grants
            return
        called = need.called if need.called is not None else need.resource
        pinned_refs = set(pinned.get("refs") or ()) | set((pinned.get("aliases") or {}).keys()) | set(
            pinned.get("resources") or ())
        if called in pinned_refs:
            # Grace for what the execution is pinned to: allowed if its role allowed it at the start
            # (or, on a permissive server, did not exist then, so nothing was enforced).
            if snapshot is None and self.registry.roles.permissive:
                return
            before = evaluate.is_allowed(self._parsed(snapshot or []), need.action, need.resource, context=context)
            if before.allowed:
                return
        if grants is not None and not grants.assumable:
            raise Denied(roles.CANNOT_ASSUME)  # Step Functions' words for a role it cannot assume
        role_name = role_arn.rsplit("/", 1)[-1]
        parsed_role = arns.parse(role_arn)
        account = parsed_role.account if parsed_role and parsed_role.account else arns.DEFAULT_ACCOUNT
        principal = f"arn:aws:sts::{account}:assumed-role/{role_name}/{uuid.uuid4().hex[:32]}"
        raise Denied(decision.denial_message(principal))

    def _current(self, grants: Any) -> list[Any]:
        """The role's policies, parsed once each: an inline one by its text, an attached version by its
        key (a managed policy version never changes), so a call costs no parsing or JSON work."""
        from pinflow.iam import policy

        parsed = [self._policies.get_or(("inline", text), functools.partial(policy.parse_policy, text))
                  for text in grants.inline]
        for attached in grants.attached:
            found = self._policies.get_or(attached.key, functools.partial(self._attached, attached))
            if found is not None:
                parsed.append(found)
        return parsed

    def _attached(self, attached: Any) -> Any:
        from pinflow.iam import policy

        document = self.registry.roles.attached_document(attached)
        return None if document is None else policy.parse_policy(document)

    def _parsed(self, documents: list[dict[str, Any]]) -> list[Any]:
        """Documents of the start-time snapshot (read only when the current policies deny)."""
        from pinflow.iam import policy

        return [self._policies.get_or(json.dumps(d, sort_keys=True), functools.partial(policy.parse_policy, d))
                for d in documents]

    def _context(self, role_arn: str, need: Need) -> dict[str, Any]:
        """The condition keys IAM knows for this call (a Condition on an absent key never matches)."""
        called = arns.parse(need.resource)
        current_time, epoch_time = _times(int(self.engine.clock()))
        context: dict[str, Any] = {
            "aws:RequestedRegion": called.region if called and called.region else arns.DEFAULT_REGION,
            "aws:PrincipalArn": role_arn,
            "aws:CurrentTime": current_time,
            "aws:EpochTime": epoch_time,
        }
        context.update(need.context)
        return context


@functools.lru_cache(maxsize=4)
def _times(second: int) -> tuple[str, str]:
    """aws:CurrentTime and aws:EpochTime for a second (calls in one second share them)."""
    return datetime.fromtimestamp(second, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), str(second)
