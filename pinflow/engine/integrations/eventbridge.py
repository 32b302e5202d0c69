"""EventBridge, optimized: `arn:aws:states:::events:putEvents[.waitForTaskToken]`, as AWS documents it
("Add EventBridge events with Step Functions").

Each entry's `Detail` that is not text is sent as JSON text, and Step Functions adds the state machine's
and the execution's ARNs to each entry's `Resources` (both as LocalStack reproduces AWS's recorded
events). The result is PutEvents' response (`Entries` with each `EventId`, `FailedEntryCount`) with the
SDK's response metadata; a response with failed entries fails the Task with `EventBridge.FailedEntry`
(the cause: that response as JSON text), other errors are `EventBridge.<Exception>`.

IAM and the generated role: `events:PutEvents` on each event bus the entries name
(`arn:aws:events:REGION:ACCOUNT:event-bus/NAME`, `default` when none is named), as the
serverless-step-functions plugin grants (iamStrategies/eventbridge.js).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pinflow import arns
from pinflow.asl.validation import resources
from pinflow.engine.integrations import aws_iam, aws_service, base
from pinflow.engine.integrations.aws_client import Reply

ACTION = "events:PutEvents"


class PutEvents(aws_service.Optimized):
    name = "events"
    botocore = "events"
    actions = {"putEvents": "PutEvents"}
    dialect = aws_service.Dialect("EventBridge", "AmazonEventBridge", "AmazonEventBridgeException")
    patterns = frozenset(base.SUFFIXES[s] for s in resources.patterns("events", "putEvents"))

    def request(self, call: base.Call, action: str) -> dict[str, Any]:
        request = super().request(call, action)
        split = arns.split_execution(call.execution_arn)
        region, account = aws_service.place(call)
        machine = arns.state_machine(split[0], region=region, account=account) if split else None
        for entry in request.get("Entries") or ():
            added = [arn for arn in (machine, call.execution_arn) if arn]
            entry["Resources"] = [*(entry.get("Resources") or ()), *added]
        return request

    def result(self, call: base.Call, action: str, reply: Reply) -> Any:
        result = super().result(call, action, reply)
        if reply.response.get("FailedEntryCount"):
            raise base.TaskError("EventBridge.FailedEntry", json.dumps(
                {key: value for key, value in result.items() if not key.startswith("Sdk")},
                separators=(",", ":"), ensure_ascii=False))
        return result

    def needs(self, call: base.Call) -> Sequence[base.Need]:
        region, account = self.region(call), aws_service.place(call)[1]
        buses = _buses(self.request(call, "putEvents").get("Entries"))
        return [base.Need(ACTION, aws_iam.event_bus(bus, region, account),
                          called=aws_service.pin_key(ACTION, aws_iam.event_bus(bus, aws_service.REGION,
                                                                               aws_service.ACCOUNT)))
                for bus in buses]

    def references(self, state_path: str, state: dict[str, Any]) -> list[base.Reference]:
        if not self.serves(state["Resource"]):
            return []
        view = aws_service.written(state)
        entries = None if view is None else view.get("Entries")
        buses = _buses(entries) if isinstance(entries, list) else ["*"]
        found = []
        for bus in buses:
            resource = "*" if bus == "*" else aws_iam.event_bus(bus, aws_service.REGION, aws_service.ACCOUNT)
            found.append(base.Reference(aws_service.RESOURCE_KIND, state_path, "Parameters.Entries", resource,
                                        resource, resource, ACTION))
        return found


def _buses(entries: Any) -> list[str]:
    """The event buses entries name (`default` for an entry that names none; `*` when computed)."""
    names = set()
    for entry in entries if isinstance(entries, list) else [{}]:
        if not isinstance(entry, dict):
            names.add("*")
            continue
        given = "*" if "EventBusName.$" in entry or base.is_expression(entry.get("EventBusName")) else (
            entry.get("EventBusName") or "default")
        names.add(str(given))
    return sorted(names)
