"""Carrying out a Task: check the execution's permissions, resolve the function version, invoke it,
and report the outcome to the engine as an event.

Both Lambda forms work: the function ARN as the Resource (the result is the function's payload), and
`arn:aws:states:::lambda:invoke` with FunctionName/Payload/Qualifier (the result is Lambda's Invoke
response: ExecutedVersion, Payload, StatusCode, ...). Callback tasks (`.waitForTaskToken`) invoke
the function and then wait for SendTaskSuccess/Failure.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import uuid
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from pinflow import arns, errors
from pinflow.asl import commands as cmd
from pinflow.asl import events
from pinflow.engine import pins

if TYPE_CHECKING:
    from pinflow.engine.runner import Engine

log = logging.getLogger(__name__)
INVOKE_ACTION = "lambda:InvokeFunction"


def is_activity(resource: str) -> bool:
    arn = arns.parse(resource)
    return arn is not None and arn.service == "states" and arn.parts[0] == "activity"


def request_id(execution_arn: str, task_id: str) -> str:
    """The invocation id a function sees: stable for one attempt of one task, so redeliveries after
    a crash carry the same id and the function can de-duplicate."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{execution_arn}#{task_id}"))


class Denied(Exception):
    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


class _Lru(OrderedDict[Any, Any]):
    """A small thread-safe LRU map for immutable facts."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        self.lock = threading.Lock()

    def get_or(self, key: Any, make: Any) -> Any:
        with self.lock:
            if key in self:
                self.move_to_end(key)
                return self[key]
        value = make()
        with self.lock:
            self[key] = value
            while len(self) > self.size:
                self.popitem(last=False)
        return value


class Dispatcher:
    def __init__(self, engine: Engine, registry: Any, invoker: Any) -> None:
        self.engine = engine
        self.registry = registry
        self.invoker = invoker
        # What never changes once written: an execution's role and pins, a policy document's parsed form.
        self._executions = _Lru(10_000)
        self._policies = _Lru(1_000)

    def run(self, execution_arn: str, command: cmd.InvokeTask,
            given: tuple[str, dict[str, Any]] | None = None) -> None:
        """Invoke and report back (on a worker thread)."""

        def facts() -> tuple[str, dict[str, Any]] | None:
            with self.engine.store.transaction(write=False) as tx:
                row = tx.one("exec_get", (execution_arn,))
            return None if row is None else (row["role_arn"], json.loads(row["pins"]))

        known = given if given is not None else self._executions.get_or(execution_arn, facts)
        if known is None:
            self._executions.pop(execution_arn, None)
            return
        role_arn, pinned = known
        try:
            outcome = self.outcome(execution_arn, role_arn, pinned, command)
        except Exception as exc:
            log.exception("task %s of %s failed in the engine", command.task_id, execution_arn)
            outcome = events.TaskFailed(command.task_id, "States.Runtime", f"Internal error: {exc}",
                                        self.engine.clock())
        if outcome is None:
            # A callback task: its function ran; the answer comes through SendTask*. Mark the row so
            # a restart does not invoke the function again (an approval mail sent twice).
            with self.engine.store.transaction() as tx:
                tx.execute("outbox_mark_claimed", (self.engine.clock(), execution_arn, command.task_id))
            return
        self.engine.submit_event(execution_arn, outcome, consume=("outbox", command.task_id))

    def outcome(self, execution_arn: str, role_arn: str, pinned: dict[str, Any],
                command: cmd.InvokeTask) -> events.Event | None:
        """The event that ends the task (None for a callback task still waiting for its token)."""
        resource = command.resource
        now = self.engine.clock
        if resource.startswith("arn:aws:lambda:"):
            ref = arns.split_function(resource)
            payload, wrap = command.payload, False
        elif resource.startswith(pins.LAMBDA_INVOKE_PREFIX):
            parameters = command.payload if isinstance(command.payload, dict) else {}
            function_name = parameters.get("FunctionName")
            ref = arns.split_function(function_name, parameters.get("Qualifier")) if isinstance(
                function_name, str) else None
            if ref is None:
                return events.TaskFailed(command.task_id, "States.Runtime",
                                         "The field 'FunctionName' is required and must name a function", now())
            payload, wrap = parameters.get("Payload", {}), True
        else:
            return events.TaskFailed(command.task_id, "States.Runtime",
                                     f"The resource '{resource}' is not supported by this server", now())
        if ref is None:
            return events.TaskFailed(command.task_id, "States.Runtime", f"Invalid function ARN '{resource}'", now())
        try:
            self.authorise(role_arn, pinned, ref.arn)
        except Denied as denied:
            return events.TaskFailed(command.task_id, "Lambda.AWSLambdaException", denied.cause, now())
        target = ref.arn
        pinned_version = (pinned.get("aliases") or {}).get(ref.arn)
        if pinned_version is not None:
            target = arns.function(ref.name, pinned_version, region=ref.region, account=ref.account)
        rid = request_id(execution_arn, command.task_id)
        try:
            resolved = self.resolve(target, rid)
        except errors.ServiceError as exc:
            return events.TaskFailed(command.task_id, f"Lambda.{exc.code}", (
                f"{exc.message} (Service: AWSLambda; Status Code: {exc.status}; Error Code: {exc.code}; "
                f"Request ID: {rid})"), now())
        spec = resolved.spec
        if spec.arn != ref.arn:
            spec = _with_arn(spec, ref.arn)
        result = self.invoker.invoke(spec, payload, request_id=rid)
        if result.function_error:
            from pinflow.functions.errors import asl_error_from

            error, cause = asl_error_from(result)
            return events.TaskFailed(command.task_id, error, cause, now())
        if command.pattern == "wait_for_task_token":
            return None
        output = result.payload
        if wrap:
            output = {
                "ExecutedVersion": result.executed_version,
                "Payload": result.payload,
                "SdkHttpMetadata": {"HttpHeaders": {"X-Amz-Executed-Version": result.executed_version},
                                    "HttpStatusCode": 200},
                "SdkResponseMetadata": {"RequestId": rid},
                "StatusCode": 200,
            }
        return events.TaskSucceeded(command.task_id, output, now())

    def resolve(self, target: str, request: str) -> Any:
        """The function version to run for `target`, read each time: a version can be deleted once no
        execution holds it, and must not run from a cache afterwards."""
        return self.registry.functions.resolve(target, rng=random.Random(request))

    def _parsed(self, documents: list[dict[str, Any]]) -> list[Any]:
        from pinflow.iam import policy

        return [self._policies.get_or(json.dumps(d, sort_keys=True), lambda d=d: policy.parse_policy(d))
                for d in documents]

    def _request_context(self, role_arn: str, resource: str) -> dict[str, Any]:
        """The condition keys IAM knows for this call (a Condition on an absent key never matches)."""
        from datetime import UTC, datetime

        called = arns.parse(resource)
        moment = datetime.fromtimestamp(self.engine.clock(), tz=UTC)
        return {
            "aws:RequestedRegion": called.region if called else arns.DEFAULT_REGION,
            "aws:PrincipalArn": role_arn,
            "aws:CurrentTime": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "aws:EpochTime": str(int(moment.timestamp())),
            "lambda:FunctionArn": resource,
        }

    def authorise(self, role_arn: str, pinned: dict[str, Any], resource: str) -> None:
        """lambda:InvokeFunction on the exact ARN called, for the execution's role.

        The role's current policies (inline and attached) decide; a role that does not exist allows
        nothing, unless the server is permissive and never had it. If they deny, the policies the
        execution started with still allow a call to a function version the execution is pinned to
        (a numbered version or an alias resolved at start): a deploy that narrows the role never strands a running
        execution, while new executions get the new policy at once.
        """
        from pinflow.iam import evaluate

        current = self.registry.roles.policies_for(role_arn)
        snapshot = pinned.get("policies")
        if current is None and snapshot is None and self.registry.roles.permissive:
            return  # `--permissive-iam`: a role this server has never had is not enforced (the plan says so)
        context = self._request_context(role_arn, resource)
        # A managed role deleted since the start denies everything (as a missing role does on AWS).
        decision = evaluate.is_allowed(self._parsed(current or []), INVOKE_ACTION, resource, context=context)
        if decision.allowed:
            return
        pinned_refs = set(pinned.get("refs") or ()) | set((pinned.get("aliases") or {}).keys())
        if resource in pinned_refs:
            # Grace for what the execution is pinned to: allowed if its role allowed it at the start
            # (or, on a permissive server, did not exist then, so nothing was enforced).
            if snapshot is None and self.registry.roles.permissive:
                return
            before = evaluate.is_allowed(self._parsed(snapshot or []), INVOKE_ACTION, resource, context=context)
            if before.allowed:
                return
        role_name = role_arn.rsplit("/", 1)[-1]
        parsed_role = arns.parse(role_arn)
        account = parsed_role.account if parsed_role and parsed_role.account else arns.DEFAULT_ACCOUNT
        principal = f"arn:aws:sts::{account}:assumed-role/{role_name}/{uuid.uuid4().hex[:32]}"
        raise Denied(f"{decision.denial_message(principal)} (Service: AWSLambda; Status Code: 403; "
                     f"Error Code: AccessDeniedException; Request ID: {uuid.uuid4()}; Proxy: null)")


def _with_arn(spec: Any, arn: str) -> Any:
    import dataclasses

    return dataclasses.replace(spec, arn=arn)
