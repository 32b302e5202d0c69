"""What every integration that calls an AWS service shares: making the call through the engine's botocore
clients, naming its errors as Step Functions names them, the IAM each call needs, and the base of the
optimized integrations.

Errors, as Step Functions reports them:
- SDK integrations (`aws-sdk:`): `<Service>.<Exception>` with the Java SDK 2.x's names (`DynamoDb`,
  `Sfn`, `S3`; `NoSuchKey` -> `NoSuchKeyException`), an error the model does not know as the service's
  base exception (`S3.S3Exception`), and the cause "<message> (Service: <Service>, Status Code: <n>,
  Request ID: <id>)" (recorded from AWS in LocalStack's aws-sdk snapshots: `Sfn.InvalidTokenException`,
  "Invalid Token: 'Invalid token' (Service: Sfn, Status Code: 400, Request ID: ...)").
- Optimized integrations: `<Prefix>.<Exception>` with the integration's prefix (`DynamoDB.`, `SNS.`,
  `SQS.`, `Glue.`), the cause in the Java SDK 1.x's words "<message> (Service: <Name>; Status Code: <n>;
  Error Code: <code>; Request ID: <id>; Proxy: null)".
- No answer at all (the endpoint unreachable, or no endpoint and no credentials):
  `<Name>.SdkClientException`, as the Java SDKs raise it, with a cause that says what to do.

IAM: a call needs `<prefix>:<Operation>` on the resource its parameters name (`aws_iam`). What a Task
names statically is a reference (kind `aws resource`): the generated role grants the action on it (`*`
in place of what is computed at run time), and an execution holds it, so a call naming exactly it keeps
the permissions the execution started with, as a pinned function version does (docs/pinning.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pinflow import arns
from pinflow.asl import events
from pinflow.engine.integrations import aws_client, aws_iam, aws_shapes, base
from pinflow.engine.integrations.aws_client import CallFailed, Reply

if TYPE_CHECKING:
    from pinflow.engine.runner import Engine

_OPTIMIZED = re.compile(r"arn:[a-z-]+:states:([a-z0-9-]*):(\d{12}|):([a-zA-Z0-9-]+):([a-zA-Z0-9]+)"
                        r"(\.sync(?::2)?|\.waitForTaskToken)?\Z")
# How a service refuses a caller its policies do not allow (code, HTTP status); AccessDeniedException
# (400) for the others.
DENIALS = {"s3": ("AccessDenied", 403), "sns": ("AuthorizationError", 403), "sqs": ("AccessDenied", 403)}
RESOURCE_KIND = "aws resource"
# Stand-ins for the region and account in a resource written before either is known (a reference).
REGION, ACCOUNT = "{region}", "{account}"


def split(resource: str) -> tuple[str, str, str, str] | None:
    """(region, service, action, suffix) of `arn:aws:states:[region]::<service>:<action>[<suffix>]`."""
    match = _OPTIMIZED.match(resource)
    if match is None:
        return None
    region, _, service, action, suffix = match.groups()
    return region, service, action, suffix or ""


def place(call: base.Call) -> tuple[str, str]:
    """(region, account) of the execution making a call (pinflow's defaults when its ARN has none)."""
    parsed = arns.parse(call.execution_arn)
    return (parsed.region if parsed and parsed.region else arns.DEFAULT_REGION,
            parsed.account if parsed and parsed.account else arns.DEFAULT_ACCOUNT)


def metadata(reply: Reply) -> dict[str, Any]:
    """The response metadata the Java SDK 1.x adds to an optimized integration's result (as recorded
    from AWS in LocalStack's DynamoDB snapshots: AllHttpHeaders as lists, HttpHeaders as text)."""
    return {
        "SdkHttpMetadata": {
            "AllHttpHeaders": {name: [value] for name, value in reply.headers},
            "HttpHeaders": dict(reply.headers),
            "HttpStatusCode": reply.status,
        },
        "SdkResponseMetadata": {"RequestId": reply.request_id},
    }


# --- errors ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dialect:
    """How an optimized integration names a service's errors (the Java SDK 1.x's client, which AWS's
    optimized integrations use): `prefix` of error names, `client` (the cause's "Service:"), and
    `fallback`, the client's base exception, for an error the model does not know."""

    prefix: str
    client: str
    fallback: str


def sdk_failure(service: str, failed: CallFailed) -> base.TaskError:
    """A failed SDK integration call as Step Functions reports it (see the module docstring)."""
    model = aws_client.service_model(service)
    name = aws_shapes.service_error_name(model.metadata.get("serviceId", service))
    if failed.kind != "service":
        return base.TaskError(f"{name}.SdkClientException", failed.message)
    shape = aws_shapes.error_shape(model, failed.shape)
    error = f"{name}.{aws_shapes.exception_name(shape) if shape else name + 'Exception'}"
    details = [f"Service: {name}", f"Status Code: {failed.status}", f"Request ID: {failed.request_id}"]
    if failed.host_id:
        details.append(f"Extended Request ID: {failed.host_id}")
    return base.TaskError(error, f"{failed.message} ({', '.join(details)})")


def optimized_failure(service: str, dialect: Dialect, failed: CallFailed) -> base.TaskError:
    """A failed optimized integration call as Step Functions reports it (see the module docstring)."""
    if failed.kind != "service":
        return base.TaskError(f"{dialect.prefix}.SdkClientException", failed.message)
    shape = aws_shapes.error_shape(aws_client.service_model(service), failed.shape)
    error = f"{dialect.prefix}.{aws_shapes.exception_name(shape) if shape else dialect.fallback}"
    return base.TaskError(error, (
        f"{failed.message} (Service: {dialect.client}; Status Code: {failed.status}; Error Code: {failed.code}; "
        f"Request ID: {failed.request_id}; Proxy: null)"))


def denial(service: str, call: base.Call, message: str) -> CallFailed:
    """An IAM refusal as the service would answer it, so it is named like the service's own errors."""
    code, status = DENIALS.get(service, ("AccessDeniedException", 400))
    return CallFailed("service", service, message, code=code, status=status, request_id=call.request_id)


def job_failed(engine: Engine, task_id: str, described: Any) -> events.TaskFailed:
    """A `.sync` job that ended badly: `States.TaskFailed`, the job's description as JSON text the cause."""
    return events.TaskFailed(task_id, "States.TaskFailed",
                             json.dumps(described, separators=(",", ":"), ensure_ascii=False), engine.clock())


# --- requests and IAM -------------------------------------------------------------------------------------


def convert(service: str, operation: str, parameters: Mapping[str, Any], token: str | None = None) -> dict[str, Any]:
    """A Task's parameters as botocore's request of `operation`. `token` (the call's request id, the same
    when a call is made again after a crash) fills the operation's idempotency token where the Task
    gives none (Athena's ClientRequestToken, ECS's clientToken), so the service does the work once.

    Raises:
        TaskError: `States.Runtime`, a field the operation does not take (named)."""
    shape = aws_client.operation_model(service, operation).input_shape
    try:
        converted: dict[str, Any] = aws_shapes.to_request(shape, dict(parameters))
    except aws_shapes.BadParameters as exc:
        raise base.TaskError("States.Runtime", str(exc)) from None
    if token is not None and shape is not None:
        for name, member in shape.members.items():
            if member.metadata.get("idempotencyToken") and name not in converted:
                converted[name] = token
    return converted


def needs(service: str, operation: str, params: Mapping[str, Any], region: str, account: str) -> list[base.Need]:
    """Every permission one call needs (one per resource it reads or writes, `aws_iam.permissions`);
    `called` is how an execution would hold each resource (pin_key)."""
    signing = aws_client.service_model(service).signing_name
    found = aws_iam.permissions(service, signing, operation, params, region, account)
    held = aws_iam.permissions(service, signing, operation, params, REGION, ACCOUNT)
    if len(held) != len(found):
        held = found
    return [base.Need(action, resource, called=pin_key(action, written))
            for (action, resource), (_, written) in zip(found, held, strict=True)]


def pin_key(action: str, resource: str) -> str:
    """How an execution holds a statically named AWS resource (`pinned["resources"]`)."""
    return f"{action} {resource}"


def written(state: dict[str, Any]) -> dict[str, Any] | None:
    """A Task's top-level parameters as far as the definition fixes them: a member given by a path
    (`Key.$`) or by JSONata stands as `*`; None when the whole payload is computed."""
    for key in ("Parameters", "Arguments"):
        payload = state.get(key)
        if base.is_expression(payload):
            return None
        if isinstance(payload, dict):
            view: dict[str, Any] = {}
            for name, value in payload.items():
                if name.endswith(".$"):
                    view[name[:-2]] = "*"
                else:
                    view[name] = "*" if base.is_expression(value) else value
            return view
    return {}


def references(state_path: str, service: str, operation: str, state: dict[str, Any]) -> list[base.Reference]:
    """What a Task names in `service` through `operation`, one reference per permission the call needs
    (`aws_iam.permissions`): `name` is the IAM action, `text` the resource with `{region}`/`{account}`
    standing in (`*` where computed)."""
    signing = aws_client.service_model(service).signing_name
    view = written(state)
    if view is None:
        found = [(aws_iam.action(signing, operation), aws_iam.ANY)]
    else:
        shape = aws_client.operation_model(service, operation).input_shape
        members = {name.lower(): name for name in (shape.members if shape is not None else ())}
        named = {members.get(key.lower(), key): value for key, value in view.items()}
        found = aws_iam.permissions(service, signing, operation, named, REGION, ACCOUNT)
    return [base.Reference(RESOURCE_KIND, state_path, "Parameters", resource, resource, resource, action)
            for action, resource in found]


def grants_for(references: Sequence[base.Reference], context: Mapping[str, str]) -> list[dict[str, Any]]:
    """One statement per IAM action: the resources the references name in the machine's region and
    account, or `*` when one of them is computed."""
    by_action: dict[str, set[str]] = {}
    for ref in references:
        if ref.kind != RESOURCE_KIND:
            continue
        resource = ref.text.replace(REGION, context["region"]).replace(ACCOUNT, context["account"])
        by_action.setdefault(ref.name, set()).add(resource)
    return [{"Effect": "Allow", "Action": [action], "Resource": "*" if "*" in found else sorted(found)}
            for action, found in sorted(by_action.items())]


def holds(references: Sequence[base.Reference]) -> list[str]:
    """The pin keys of the resources a definition names exactly (nothing computed in them)."""
    return sorted({pin_key(ref.name, ref.text) for ref in references
                   if ref.kind == RESOURCE_KIND and "*" not in ref.text})


# --- integrations -----------------------------------------------------------------------------------------


class AwsBacked(base.Integration):
    """An integration that calls an AWS service through botocore."""

    def aws_service(self, resource: str) -> str | None:
        """The botocore service a Task with `resource` calls (None when it calls none), so that a
        definition can be checked for services the server cannot reach."""
        raise NotImplementedError


class Optimized(AwsBacked):
    """An optimized integration `arn:aws:states:::<service>:<action>`: its actions map to botocore
    operations of one service; subclasses shape requests and results where AWS's differ from the API's.

    Class attributes: `name` (the ARN's service), `botocore` (botocore's service name), `actions`
    (action -> operation), `dialect`; `patterns` come from `asl.validation.resources`."""

    botocore = ""
    actions: Mapping[str, str] = {}
    dialect = Dialect("", "", "")

    def serves(self, resource: str) -> bool:
        found = split(resource)
        return found is not None and found[1] == self.name and found[2] in self.actions

    def aws_service(self, resource: str) -> str | None:
        return self.botocore

    def action(self, call: base.Call) -> tuple[str, str]:
        """(action, botocore operation) of a call."""
        found = split(call.command.resource)
        assert found is not None
        return found[2], self.actions[found[2]]

    def region(self, call: base.Call) -> str:
        found = split(call.command.resource)
        return call.engine.aws.region(found[0] if found else None, place(call)[0])

    # --- the call --------------------------------------------------------------------------------

    def request(self, call: base.Call, action: str) -> dict[str, Any]:
        """botocore's parameters for a call (the Task's, converted by the operation's input shape)."""
        return convert(self.botocore, self.actions[action], call.parameters, call.request_id)

    def invoke(self, call: base.Call, operation: str, params: Mapping[str, Any]) -> Reply:
        """Make one call of this integration's service, or raise its failure as a TaskError."""
        try:
            return call.engine.aws.call(self.botocore, operation, params, self.region(call))
        except CallFailed as failed:
            raise optimized_failure(self.botocore, self.dialect, failed) from None

    def shaped(self, operation: str, reply: Reply, *, with_metadata: bool = True) -> dict[str, Any]:
        """A reply as the optimized integration's result: PascalCase members, epoch-millisecond
        timestamps, and the SDK's response metadata."""
        shape = aws_client.operation_model(self.botocore, operation).output_shape
        result = aws_shapes.from_response(shape, reply.response, aws_shapes.OPTIMIZED) or {}
        return {**result, **metadata(reply)} if with_metadata else result

    def start(self, call: base.Call) -> base.Started:
        action, operation = self.action(call)
        reply = self.invoke(call, operation, self.request(call, action))
        result = self.result(call, action, reply)
        if call.command.pattern == base.CALLBACK:
            return base.AwaitToken()
        if call.command.pattern in (base.SYNC, base.SYNC2):
            return self.watch(call, action, result, reply)
        return base.Done(call.succeeded(result))

    def result(self, call: base.Call, action: str, reply: Reply) -> Any:
        """The Task's result of a request-response call (and the TaskSubmitted output of a `.sync` one)."""
        return self.shaped(self.actions[action], reply)

    def watch(self, call: base.Call, action: str, result: Any, reply: Reply) -> base.Started:
        """What a `.sync` call watches (integrations that support `.sync` say)."""
        raise base.TaskError("States.Runtime", f"{call.command.resource} has no .sync pattern")

    def denied(self, call: base.Call, message: str) -> events.TaskFailed:
        failed = optimized_failure(self.botocore, self.dialect, denial(self.botocore, call, message))
        return call.failed(failed.error, failed.cause)

    # --- IAM and what a definition names -----------------------------------------------------------

    def needs(self, call: base.Call) -> Sequence[base.Need]:
        action, operation = self.action(call)
        region, account = self.region(call), place(call)[1]
        return needs(self.botocore, operation, self.request(call, action), region, account)

    def references(self, state_path: str, state: dict[str, Any]) -> list[base.Reference]:
        found = split(state["Resource"])
        if found is None or found[2] not in self.actions:
            return []
        return references(state_path, self.botocore, self.actions[found[2]], state)

    def grants(self, references: Sequence[base.Reference], computed: Sequence[base.Computed],
               patterns: frozenset[str], context: Mapping[str, str]) -> list[dict[str, Any]]:
        return grants_for(references, context)


class Job(Optimized):
    """An optimized integration whose `.sync` pattern runs a job to its end: the call's answer is recorded
    as TaskSubmitted, the engine keeps a watch row, and `describe` is asked every `poll_seconds` until
    the job ends; a stopped Task stops the job (`stop`)."""

    poll_seconds = 5.0

    def watch(self, call: base.Call, action: str, result: Any, reply: Reply) -> base.Started:
        target, detail = self.job(call, result)
        return base.Watch(target, submitted=result, detail={**detail, "region": self.region(call),
                                                            "pattern": call.command.pattern})

    def job(self, call: base.Call, result: Any) -> tuple[str, dict[str, Any]]:
        """(what the job is called, what `describe` and `stop` need) from the starting call's result."""
        raise NotImplementedError

    def describe(self, engine: Engine, watched: base.Watched) -> tuple[str, Any]:
        """("running" | "succeeded" | "failed", the job's description) as the Task's result shapes it."""
        raise NotImplementedError

    def stop(self, engine: Engine, watched: base.Watched) -> None:
        raise NotImplementedError

    def ask(self, engine: Engine, watched: base.Watched, operation: str, params: Mapping[str, Any]) -> Reply:
        """One call while watching, bounded by the quick clients' timeouts (raises CallFailed)."""
        return engine.aws.call(self.botocore, operation, params, str(watched.detail["region"]), quick=True)

    def poll(self, engine: Engine, watched: base.Watched) -> events.TaskSucceeded | events.TaskFailed | None:
        try:
            status, described = self.describe(engine, watched)
        except CallFailed as failed:
            if failed.kind == "service" and 400 <= failed.status < 500 and failed.status != 429:
                error = optimized_failure(self.botocore, self.dialect, failed)
                return events.TaskFailed(watched.task_id, error.error, error.cause, engine.clock())
            return None  # no answer, or the service is busy: look again later
        if status == "running":
            return None
        if status == "failed":
            return job_failed(engine, watched.task_id, described)
        return events.TaskSucceeded(watched.task_id, described, engine.clock())

    def cancel(self, engine: Engine, watched: base.Watched) -> None:
        try:
            self.stop(engine, watched)
        except CallFailed:
            pass  # ended or gone already: nothing left to stop


def events_rule(context: Mapping[str, str], rule: str) -> dict[str, Any]:
    """The EventBridge rule AWS's `.sync` integrations manage (a generated role grants it, as AWS asks,
    so the role works on AWS as well; pinflow polls the job itself)."""
    return {"Effect": "Allow", "Action": ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
            "Resource": [f"arn:aws:events:{context['region']}:{context['account']}:rule/{rule}"]}
