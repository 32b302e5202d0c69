"""What an execution is pinned to: its machine version or revision, each function it called or will call
(pinned or live, and so whether a deploy can change it), child state machines, and the role's grants it
keeps. The classification is the deploy plan's (`pinflow.deploy.plan`), so the console and
`pinflow deploy --plan` never disagree."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from pinflow import arns
from pinflow.asl import walk
from pinflow.deploy import plan

INVOKE = "lambda:InvokeFunction"
START_EXECUTION = "arn:aws:states:::states:startExecution"


def pinned(pf: Any, row: dict[str, Any], definition: dict[str, Any]) -> dict[str, Any]:
    """What the execution in `row` (an engine row) running `definition` is pinned to."""
    pins = json.loads(row.get("pins") or "{}")
    aliases: dict[str, str] = dict(pins.get("aliases") or {})
    running = plan.RunningExecution(
        arn=row["arn"], name=row["name"], machine=row["machine"], definition=definition,
        role_arn=row["role_arn"], version_arn=row["version_arn"], alias_arn=row["alias_arn"],
        revision_id=row["revision_id"], alias_versions=aliases)
    impact = plan.execution_impact(running, {}, {})
    grants = _Grants(pf, row["role_arn"], pins)
    held = set(pins.get("refs") or ())
    calls = [_call(pf, call, grants, held | set(aliases)) for call in impact.calls]
    return {
        "machine": _machine(pf, row),
        "calls": calls,
        "children": list(_children(definition)),
        "role": grants.summary(),
        "holds": sorted(held | ({row["version_arn"]} if row["version_arn"] else set())),
    }


def _machine(pf: Any, row: dict[str, Any]) -> dict[str, Any]:
    """The machine version, alias and revision the execution runs, and whether the machine moved on."""
    described = pf.machines.describe(arns.state_machine(row["machine"]))
    current = described.get("revisionId")
    return {
        "name": row["machine"],
        "versionArn": row["version_arn"],
        "aliasArn": row["alias_arn"],
        "revisionId": row["revision_id"],
        "machineRevisionId": current,
        "machineChanged": current is not None and current != row["revision_id"],
    }


def _call(pf: Any, call: plan.Call, grants: _Grants, held: set[str]) -> dict[str, Any]:
    ref = arns.split_function(call.written) if call.kind != plan.COMPUTED else None
    shaped: dict[str, Any] = {
        "state": call.state,
        "function": call.function,
        "written": call.written,
        "kind": call.kind,
        "version": call.version,
        "live": call.live,
        "describe": call.describe(),
    }
    if ref is not None:
        shaped["calledArn"] = ref.arn
        shaped["pinnedRef"] = ref.arn in held or (call.version is not None and not call.live)
        shaped["grant"] = grants.decide(ref.arn, ref.arn in held)
        if call.live:
            shaped["latest"] = _latest(pf, ref.name)
    return shaped


def _latest(pf: Any, name: str) -> dict[str, Any] | None:
    """$LATEST's code now, and the newest version with the same code (what a live call runs today)."""
    try:
        versions, _ = pf.functions.list_versions_by_function(name, max_items=10_000)
    except Exception as exc:  # noqa: BLE001 (a missing function fails the call, not this page)
        return {"missing": True, "message": getattr(exc, "message", str(exc))}
    latest = versions[0]
    same = [v["Version"] for v in versions[1:] if v["CodeSha256"] == latest["CodeSha256"]]
    return {"codeSha256": latest["CodeSha256"], "sameCodeAs": same[-1] if same else None,
            "lastModified": latest["LastModified"]}


def _children(definition: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Child state machines the definition starts (`states:startExecution`) with a constant ARN."""
    for _, name, state in walk.states(definition):
        resource = state.get("Resource")
        if not isinstance(resource, str) or not resource.startswith(START_EXECUTION):
            continue
        payload = state.get("Parameters") or state.get("Arguments") or {}
        target = payload.get("StateMachineArn") if isinstance(payload, dict) else None
        if not isinstance(target, str) or target.startswith("{%"):
            yield {"state": name, "stateMachineArn": None, "kind": "computed", "live": True}
            continue
        ref = arns.split_state_machine(target)
        kind = "version" if ref and ref.version is not None else "alias" if ref and ref.alias else "latest"
        yield {"state": name, "stateMachineArn": target, "kind": kind, "live": kind == "latest"}


class _Grants:
    """The role's policies now and at the execution's start, and what each allows (the engine's rule,
    `docs/pinning.md`: the current policies decide; a pinned version keeps its start-time grant)."""

    def __init__(self, pf: Any, role_arn: str, pins: dict[str, Any]) -> None:
        self.role_arn = role_arn
        self.at_start: list[dict[str, Any]] | None = pins.get("policies")
        self.now: list[dict[str, Any]] | None = pf.roles.policies_for(role_arn)

    def summary(self) -> dict[str, Any]:
        return {
            "roleArn": self.role_arn,
            "managed": self.now is not None or self.at_start is not None,
            "policiesAtStart": self.at_start,
            "policiesNow": self.now,
            "changedSinceStart": _canonical(self.at_start) != _canonical(self.now),
        }

    def decide(self, resource: str, pinned_ref: bool) -> dict[str, Any]:
        """Whether a call to `resource` is allowed now, was at the start, and so whether it goes through."""
        if self.now is None and self.at_start is None:
            return {"enforced": False, "allowed": True}
        now = _allowed(self.now or [], resource, self.role_arn)
        at_start = True if self.at_start is None else _allowed(self.at_start, resource, self.role_arn)
        kept = not now and pinned_ref and at_start
        return {"enforced": True, "allowedNow": now, "allowedAtStart": at_start, "keptByPin": kept,
                "allowed": now or kept}


def _allowed(documents: list[dict[str, Any]], resource: str, role_arn: str) -> bool:
    from pinflow.iam import evaluate, policy

    try:
        parsed = [policy.parse_policy(document) for document in documents]
    except policy.MalformedPolicyDocument:
        return False
    context = {"aws:PrincipalArn": role_arn, "lambda:FunctionArn": resource}
    return evaluate.is_allowed(parsed, INVOKE, resource, context=context).allowed


def _canonical(documents: list[dict[str, Any]] | None) -> str:
    return json.dumps(documents, sort_keys=True)
