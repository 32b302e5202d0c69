"""Lambda: a function ARN as the Resource (the result is the function's payload), and
`arn:aws:states:::lambda:invoke[.waitForTaskToken]` with FunctionName/Payload/Qualifier (the result is
Lambda's Invoke response: ExecutedVersion, Payload, StatusCode, ...; a callback task invokes the function
and then waits for SendTaskSuccess/Failure).

IAM: `lambda:InvokeFunction` on the exact ARN called, qualified as called (AWS's semantics). Pinning:
a numbered version is held; an alias is resolved once, when the execution starts (docs/pinning.md).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping, Sequence
from typing import Any

from pinflow import arns, errors
from pinflow.asl.validation import resources
from pinflow.engine.integrations import base
from pinflow.engine.integrations.base import Call, Computed, Reference

INVOKE_ACTION = "lambda:InvokeFunction"
INVOKE_PREFIX = "arn:aws:states:::lambda:invoke"
KIND = "function"


class _SeededOnDraw:
    """`random.Random(seed)`, made only when drawn from: an alias with weights draws, nothing else does,
    and seeding a generator costs more than the rest of resolving a version."""

    __slots__ = ("_rng", "_seed")

    def __init__(self, seed: str) -> None:
        self._seed = seed
        self._rng: random.Random | None = None

    def random(self) -> float:
        if self._rng is None:
            self._rng = random.Random(self._seed)
        return self._rng.random()


class Lambda(base.Integration):
    name = "lambda"
    patterns = frozenset(base.SUFFIXES[suffix] for suffix in resources.patterns("lambda", "invoke"))

    def serves(self, resource: str) -> bool:
        return resource.startswith("arn:aws:lambda:") or _is_invoke(resource)

    def target(self, call: Call) -> arns.FunctionRef:
        """The function a call names (its ARN, or FunctionName and Qualifier)."""
        resource = call.command.resource
        if not _is_invoke(resource):
            ref = arns.split_function(resource)
            if ref is None:
                raise base.TaskError("States.Runtime", f"Invalid function ARN '{resource}'")
            return ref
        parameters = call.parameters
        function_name = parameters.get("FunctionName")
        qualifier = parameters.get("Qualifier")
        ref = arns.split_function(function_name, qualifier if isinstance(qualifier, str) else None) if isinstance(
            function_name, str) else None
        if ref is None:
            raise base.TaskError("States.Runtime", "The field 'FunctionName' is required and must name a function")
        return ref

    def needs(self, call: Call) -> Sequence[base.Need]:
        ref = self.target(call)
        return (base.Need(INVOKE_ACTION, ref.arn, {"lambda:FunctionArn": ref.arn}, called=ref.arn),)

    def denied(self, call: Call, message: str) -> Any:
        return call.failed("Lambda.AWSLambdaException", (
            f"{message} (Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException; "
            f"Request ID: {call.request_id}; Proxy: null)"))

    def start(self, call: Call) -> base.Started:
        ref = self.target(call)
        engine, command = call.engine, call.command
        target = ref.arn
        pinned_version = (call.pinned.get("aliases") or {}).get(ref.arn)
        if pinned_version is not None:
            target = arns.function(ref.name, pinned_version, region=ref.region, account=ref.account)
        rid = call.request_id
        try:
            # Read each time: a version can be deleted once no execution holds it, and must not run
            # from a cache afterwards.
            resolved = engine.registry.functions.resolve(target, rng=_SeededOnDraw(rid))
        except errors.ServiceError as exc:
            raise base.TaskError(f"Lambda.{exc.code}", (
                f"{exc.message} (Service: AWSLambda; Status Code: {exc.status}; Error Code: {exc.code}; "
                f"Request ID: {rid})")) from None
        spec = resolved.spec
        if spec.arn != ref.arn:
            spec = dataclasses.replace(spec, arn=ref.arn)
        payload = call.parameters.get("Payload", {}) if _is_invoke(command.resource) else command.payload
        from pinflow.functions.invoker import Throttled

        try:
            # A Task's result carries no log (Step Functions gives none): it is not read.
            result = engine.invoker.invoke(spec, payload, request_id=rid, log=False)
        except Throttled:
            # What Step Functions reports when Lambda throttles: a Retry on it is the remedy AWS advises.
            raise base.TaskError("Lambda.TooManyRequestsException", (
                "Rate Exceeded. (Service: AWSLambda; Status Code: 429; Error Code: TooManyRequestsException; "
                f"Request ID: {rid}; Proxy: null)")) from None
        if result.function_error:
            from pinflow.functions.errors import asl_error_from

            error, cause = asl_error_from(result)
            return base.Done(call.failed(error, cause))
        if command.pattern == base.CALLBACK:
            return base.AwaitToken()
        output = result.payload
        if _is_invoke(command.resource):
            output = {
                "ExecutedVersion": result.executed_version,
                "Payload": result.payload,
                "SdkHttpMetadata": {"HttpHeaders": {"X-Amz-Executed-Version": result.executed_version},
                                    "HttpStatusCode": 200},
                "SdkResponseMetadata": {"RequestId": rid},
                "StatusCode": 200,
            }
        return base.Done(call.succeeded(output))

    # --- what a definition names ------------------------------------------------------------------

    def references(self, state_path: str, state: dict[str, Any]) -> list[Reference]:
        resource = state["Resource"]
        if resource.startswith("arn:aws:lambda:"):
            ref = arns.split_function(resource)
            return [_reference(state_path, "Resource", resource, None, ref)] if ref is not None else []
        if not _is_invoke(resource):
            return []
        found = []
        for block, payload in base.parameters_of(state):
            name = payload.get("FunctionName")
            qualifier = payload.get("Qualifier")
            if not isinstance(name, str) or base.is_expression(name):
                continue  # computed at run time: cannot be known here
            qualifier = qualifier if isinstance(qualifier, str) else None
            ref = arns.split_function(name, qualifier)
            if ref is not None:
                found.append(_reference(state_path, f"{block}.FunctionName", name, qualifier, ref))
        return found

    def computed(self, state_path: str, state: dict[str, Any]) -> list[Computed]:
        """`lambda:invoke` Tasks whose function is computed at run time: a `FunctionName.$` path or
        intrinsic, a JSONata `FunctionName`, or Arguments that are one JSONata expression."""
        if not _is_invoke(state["Resource"]):
            return []
        found: list[Computed] = []
        for block in ("Parameters", "Arguments"):
            payload = state.get(block)
            if base.is_expression(payload):
                found.append(Computed(KIND, state_path, block, str(payload)))
            elif isinstance(payload, dict):
                dynamic = payload.get("FunctionName.$")
                name = payload.get("FunctionName")
                allowed = payload.get("AllowedFunctions")
                listed = tuple(str(item) for item in allowed) if isinstance(allowed, list) else (
                    (allowed,) if isinstance(allowed, str) else ())
                if dynamic is not None:
                    found.append(Computed(KIND, state_path, f"{block}.FunctionName.$", str(dynamic), listed))
                elif base.is_expression(name):
                    found.append(Computed(KIND, state_path, f"{block}.FunctionName", str(name), listed))
        return found

    def qualify(self, reference: Reference, qualifier: str, *, region: str, account: str) -> str:
        full = reference.text.startswith("arn:")
        return arns.function(reference.name, qualifier, region=reference.region if full else region,
                             account=reference.account if full or ":function:" in reference.text else account)

    def grants(self, references: Sequence[Reference], computed: Sequence[Computed],
               patterns: frozenset[str], context: Mapping[str, str]) -> list[dict[str, Any]]:
        """Invoke every version and alias of each function named (`fn` and `fn:*`): granting only the
        version just published would cut executions still running on an older one off their function.
        A Task that computes its function gets what the serverless-step-functions plugin grants it
        (lib/deploy/stepFunctions/iamStrategies/lambda.js): its `AllowedFunctions`, or `*`."""
        statements: list[dict[str, Any]] = []
        named = sorted({arn for ref in references for arn in (ref.unqualified_arn, f"{ref.unqualified_arn}:*")})
        if named:
            statements.append({"Effect": "Allow", "Action": [INVOKE_ACTION], "Resource": named})
        if computed:
            if any(not task.allowed for task in computed):
                statements.append({"Effect": "Allow", "Action": [INVOKE_ACTION], "Resource": "*"})
            else:
                statements.append({"Effect": "Allow", "Action": [INVOKE_ACTION],
                                   "Resource": sorted({arn for task in computed for arn in task.allowed})})
        return statements


def holds(registry: Any, reference: Reference, rng: random.Random) -> tuple[set[str], dict[str, str]]:
    """What an execution holds on to for one function reference: (version ARNs, alias ARN -> version)."""
    if reference.level == "version":
        return {reference.arn}, {}
    if reference.level != "alias":
        return set(), {}
    try:
        resolved = registry.functions.resolve(reference.arn, rng=rng)
    except errors.ServiceError:
        return set(), {}  # a missing alias fails the task that calls it, as on AWS
    if resolved.executed_version == "$LATEST":
        return set(), {}  # an alias on $LATEST pins nothing: its code can change (docs/pinning.md)
    version = arns.function(reference.name, resolved.executed_version, region=reference.region,
                            account=reference.account)
    return {version}, {reference.arn: resolved.executed_version}


def _is_invoke(resource: str) -> bool:
    return resource == INVOKE_PREFIX or resource.startswith(INVOKE_PREFIX + ".")


def _reference(state_path: str, field: str, text: str, qualifier: str | None, ref: arns.FunctionRef) -> Reference:
    return Reference(KIND, state_path, field, text, ref.arn, ref.unqualified_arn, ref.name, ref.qualifier,
                     ref.region, ref.account)
