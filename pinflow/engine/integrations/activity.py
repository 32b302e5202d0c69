"""Activities: `arn:aws:states:<region>:<account>:activity:<name>`.

The engine does not carry the call out: the task waits in the outbox until a worker takes it with
GetActivityTask, and ends with the worker's SendTaskSuccess/Failure (or a timeout). Workers call with
their own credentials, so the execution's role needs nothing for an activity.
"""

from __future__ import annotations

from pinflow import arns
from pinflow.engine.integrations import base


class Activity(base.Integration):
    name = "activity"
    patterns = frozenset({base.CALLBACK})
    pulled = True  # a worker takes the task; the engine never dispatches it

    def serves(self, resource: str) -> bool:
        arn = arns.parse(resource)
        return arn is not None and arn.service == "states" and arn.parts[0] == "activity"

    def start(self, call: base.Call) -> base.Started:
        return base.AwaitToken()
