"""Nested state machines: `arn:aws:states:::states:startExecution[.sync|.sync:2|.waitForTaskToken]`.

As AWS documents it ("Start a new AWS Step Functions state machine from a running execution"):
- request-response: the task's result is the StartExecution response (ExecutionArn, StartDate);
- `.sync` and `.sync:2`: StartExecution's response is recorded as TaskSubmitted, and the task ends with
  the child: its result is the child's DescribeExecution, with `Input` and `Output` as JSON text
  (`.sync`) or as JSON (`.sync:2`). A child that fails, times out or is aborted fails the task with
  `States.TaskFailed`, whose cause is that DescribeExecution answer as JSON text. Stopping the parent,
  or its task timing out or being cancelled, stops the child.
- `.waitForTaskToken`: the child is started and the task waits for SendTaskSuccess/Failure.

The child starts on exactly what the parent names (a version, an alias drawn once at the child's start,
or the current revision for an unqualified ARN), pinned like any execution. Its input is the `Input`
parameter (JSON text as is, any other value as JSON, `{}` when absent): a parent links its child by
passing `"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"` in it, as AWS's docs say.
A child started without a `Name` gets one derived from the parent's task, so a call redelivered after a
crash finds the child it started instead of starting another.

IAM, as AWS requires: `states:StartExecution` on the child's unqualified ARN (a version or alias is
named by the `states:StateMachineQualifier` condition key), and for `.sync`, `states:DescribeExecution`
and `states:StopExecution` on the child execution.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from pinflow import arns, errors
from pinflow.asl import events
from pinflow.asl.validation import resources
from pinflow.engine.integrations import base
from pinflow.engine.integrations.base import Call, Reference

PREFIX = "arn:aws:states:::states:startExecution"
KIND = "state machine"
START, DESCRIBE, STOP = "states:StartExecution", "states:DescribeExecution", "states:StopExecution"
# The rule AWS's `.sync` integration manages in EventBridge; a generated role grants it, as AWS asks,
# so the role works on AWS too (pinflow watches the child itself and checks no events: action).
EVENTS_RULE = "rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"


class StartExecution(base.Integration):
    name = "states"
    patterns = frozenset(base.SUFFIXES[suffix] for suffix in resources.patterns("states", "startExecution"))
    # A child's end reaches its parent at once (the child's last step asks for it); checking each watch
    # now and then only covers an end that happened while that message was lost (a crash in between).
    poll_seconds = 30.0
    same_start_again = True  # the child's name is the caller's, or made from the execution and task

    def serves(self, resource: str) -> bool:
        return resource == PREFIX or resource.startswith(PREFIX + ".")

    # --- a call ----------------------------------------------------------------------------------

    def _target(self, call: Call) -> tuple[str, arns.StateMachineRef, arns.Arn]:
        machine_arn = call.parameters.get("StateMachineArn")
        if not isinstance(machine_arn, str):
            raise base.TaskError("States.Runtime", "The field 'StateMachineArn' is required and must be a string")
        ref = arns.split_state_machine(machine_arn)
        parsed = arns.parse(machine_arn)
        if ref is None or parsed is None:
            raise _service_error(call, errors.InvalidArn(
                f"Invalid Arn: 'Resource type not valid in this context: {machine_arn}'"))
        return machine_arn, ref, parsed

    def _name(self, call: Call) -> str:
        given = call.parameters.get("Name")
        if isinstance(given, str):
            return given
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{call.execution_arn}#{call.command.task_id}"))

    def needs(self, call: Call) -> Sequence[base.Need]:
        machine_arn, ref, parsed = self._target(call)
        region, account = parsed.region or arns.DEFAULT_REGION, parsed.account or arns.DEFAULT_ACCOUNT
        unqualified = arns.state_machine(ref.name, region=region, account=account)
        qualifier = str(ref.version) if ref.version is not None else ref.alias
        context = {"states:StateMachineQualifier": qualifier} if qualifier else {}
        needs = [base.Need(START, unqualified, context, called=machine_arn)]
        if call.command.pattern in (base.SYNC, base.SYNC2):
            child = arns.execution(ref.name, self._name(call), region=region, account=account)
            needs += [base.Need(DESCRIBE, child), base.Need(STOP, child)]
        return needs

    def denied(self, call: Call, message: str) -> events.TaskFailed:
        # As Lambda's (`Lambda.AWSLambdaException`): the SDK has no class of its own for this refusal,
        # so the error is the service's generic one, and the cause names AccessDeniedException.
        return call.failed("StepFunctions.AWSStepFunctionsException", (
            f"{message} (Service: AWSStepFunctions; Status Code: 400; Error Code: AccessDeniedException; "
            f"Request ID: {call.request_id}; Proxy: null)"))

    def start(self, call: Call) -> base.Started:
        machine_arn, _, _ = self._target(call)
        engine, pattern = call.engine, call.command.pattern
        name = self._name(call)
        given = call.parameters.get("Input")
        input_text = given if isinstance(given, str) else json.dumps(
            {} if given is None else given, separators=(",", ":"), ensure_ascii=False)
        try:
            if pattern in (base.SYNC, base.SYNC2):
                target = engine.registry.machines.resolve_start(machine_arn, rng=random.Random())
                if target.machine["type"] == "EXPRESS":
                    return base.Done(self._express(call, target, name, input_text))
            started = engine.start_execution(machine_arn, name, input_text,
                                             parent=(call.execution_arn, call.command.task_id))
        except errors.ExecutionAlreadyExists as exc:
            started = self._started_before(call, machine_arn, name, exc)
        except errors.ServiceError as exc:
            raise _service_error(call, exc) from None
        response = {"ExecutionArn": started["executionArn"], "StartDate": _millis(started["startDate"])}
        if pattern == base.CALLBACK:
            return base.AwaitToken()
        answered = dict(response, **_metadata(call.request_id))
        if pattern == base.REQUEST_RESPONSE:
            return base.Done(call.succeeded(answered))
        return base.Watch(started["executionArn"], submitted=answered, detail={"pattern": pattern})

    def _started_before(self, call: Call, machine_arn: str, name: str,
                        exc: errors.ServiceError) -> dict[str, Any]:
        """The child this task already started (a redelivery after a crash), else AWS's error."""
        split = arns.split_state_machine(machine_arn)
        assert split is not None
        arn = arns.execution(split.name, name)
        try:
            row = call.engine.execution_row(arn)
        except errors.ServiceError:
            raise _service_error(call, exc) from None
        parent = json.loads(row["pins"]).get("parent") or {}
        if parent.get("execution") != call.execution_arn or parent.get("task") != call.command.task_id:
            raise _service_error(call, exc) from None
        return {"executionArn": arn, "startDate": row["started_at"]}

    def _express(self, call: Call, target: Any, name: str, input_text: str) -> events.TaskSucceeded | events.TaskFailed:
        """An Express child run to its end on this worker (Express executions keep no record to watch)."""
        from pinflow.engine import express

        try:
            value = json.loads(input_text)
        except ValueError as exc:
            raise _service_error(call, errors.InvalidExecutionInput(
                f"Invalid State Machine Execution Input: '{exc}'")) from None
        ended = express.start_sync(call.engine, target, name, value)
        described = {"ExecutionArn": ended["executionArn"], "StateMachineArn": ended["stateMachineArn"],
                     "Name": ended["name"], "Status": ended["status"], "StartDate": _millis(ended["startDate"]),
                     "StopDate": _millis(ended["stopDate"]), "Input": input_text,
                     "InputDetails": {"Included": True}}
        if ended["status"] == "SUCCEEDED":
            described.update(Output=ended["output"], OutputDetails={"Included": True})
        for key, member in (("error", "Error"), ("cause", "Cause")):
            if ended.get(key) is not None:
                described[member] = ended[key]
        return _outcome(call.engine, call.command.task_id, described, call.command.pattern)

    # --- watching the child -----------------------------------------------------------------------

    def poll(self, engine: Any, watched: base.Watched) -> events.TaskSucceeded | events.TaskFailed | None:
        try:
            row = engine.described_row(watched.target)
        except errors.ServiceError:
            return events.TaskFailed(watched.task_id, "States.TaskFailed",
                                     f"Execution Does Not Exist: '{watched.target}'", engine.clock())
        if row["status"] == "RUNNING":
            return None
        return _outcome(engine, watched.task_id, describe(row), str(watched.detail.get("pattern", base.SYNC)))

    def cancel(self, engine: Any, watched: base.Watched) -> None:
        try:
            engine.stop_execution(watched.target)
        except errors.ServiceError:
            pass  # gone already: nothing left to stop

    # --- what a definition names ------------------------------------------------------------------

    def references(self, state_path: str, state: dict[str, Any]) -> list[Reference]:
        if not self.serves(state["Resource"]):
            return []
        found = []
        for block, payload in base.parameters_of(state):
            text = payload.get("StateMachineArn")
            if not isinstance(text, str) or base.is_expression(text):
                continue
            ref, parsed = arns.split_state_machine(text), arns.parse(text)
            if ref is None or parsed is None:
                continue
            qualifier = str(ref.version) if ref.version is not None else ref.alias
            region, account = parsed.region or arns.DEFAULT_REGION, parsed.account or arns.DEFAULT_ACCOUNT
            found.append(Reference(KIND, state_path, f"{block}.StateMachineArn", text, text,
                                   arns.state_machine(ref.name, region=region, account=account), ref.name,
                                   qualifier, region, account))
        return found

    def computed(self, state_path: str, state: dict[str, Any]) -> list[base.Computed]:
        if not self.serves(state["Resource"]):
            return []
        found: list[base.Computed] = []
        for block in ("Parameters", "Arguments"):
            payload = state.get(block)
            if base.is_expression(payload):
                found.append(base.Computed(KIND, state_path, block, str(payload)))
            elif isinstance(payload, dict):
                if "StateMachineArn.$" in payload:
                    found.append(base.Computed(KIND, state_path, f"{block}.StateMachineArn.$",
                                               str(payload["StateMachineArn.$"])))
                elif base.is_expression(payload.get("StateMachineArn")):
                    found.append(base.Computed(KIND, state_path, f"{block}.StateMachineArn",
                                               str(payload["StateMachineArn"])))
        return found

    def qualify(self, reference: Reference, qualifier: str, *, region: str, account: str) -> str:
        return arns.state_machine(reference.name, qualifier, region=reference.region or region,
                                  account=reference.account or account)

    def grants(self, references: Sequence[Reference], computed: Sequence[base.Computed],
               patterns: frozenset[str], context: Mapping[str, str]) -> list[dict[str, Any]]:
        """StartExecution on each child (its unqualified ARN covers its versions and aliases, which
        IAM authorises against it), and what `.sync` needs on the children's executions."""
        region, account = context["region"], context["account"]
        machines = sorted({ref.unqualified_arn for ref in references})
        starts: list[str] | str = "*" if computed else machines
        statements: list[dict[str, Any]] = []
        if starts:
            statements.append({"Effect": "Allow", "Action": [START], "Resource": starts})
        if patterns & {base.SYNC, base.SYNC2}:
            executions: list[str] | str = "*" if computed else [
                arns.execution(ref.name, "*", region=ref.region or region, account=ref.account or account)
                for ref in sorted({ref.unqualified_arn: ref for ref in references}.values(),
                                  key=lambda r: r.unqualified_arn)]
            if executions:
                statements.append({"Effect": "Allow", "Action": [DESCRIBE, STOP], "Resource": executions})
            statements.append({"Effect": "Allow", "Action": ["events:PutTargets", "events:PutRule",
                                                             "events:DescribeRule"],
                               "Resource": [f"arn:aws:events:{region}:{account}:{EVENTS_RULE}"]})
        return statements


def describe(row: Mapping[str, Any]) -> dict[str, Any]:
    """An execution row as DescribeExecution answers it inside a task result (AWS's SDK shape:
    members capitalised, dates in epoch milliseconds, input and output as JSON text)."""
    split = arns.split_execution(row["arn"])
    described: dict[str, Any] = {
        "ExecutionArn": row["arn"],
        "Input": row["input"],
        "InputDetails": {"Included": True},
        "Name": row["name"],
        "RedriveCount": int(row["redrive_count"] or 0),
        "StartDate": _millis(row["started_at"]),
        "StateMachineArn": arns.state_machine(split[0] if split else row["machine"]),
        "Status": row["status"],
    }
    if row["status"] == "SUCCEEDED":
        described["Output"] = row["output"]
        described["OutputDetails"] = {"Included": True}
    if row["stopped_at"] is not None:
        described["StopDate"] = _millis(row["stopped_at"])
    for key, member in (("error", "Error"), ("cause", "Cause"), ("version_arn", "StateMachineVersionArn"),
                        ("alias_arn", "StateMachineAliasArn")):
        if row.get(key):
            described[member] = row[key]
    if row["status"] in ("FAILED", "TIMED_OUT", "ABORTED"):
        described["RedriveStatus"] = "REDRIVABLE"
    else:
        described["RedriveStatus"] = "NOT_REDRIVABLE"
        described["RedriveStatusReason"] = f"Execution is {row['status']} and cannot be redriven"
    return described


def _outcome(engine: Any, task_id: str, described: dict[str, Any], pattern: str
             ) -> events.TaskSucceeded | events.TaskFailed:
    """A `.sync` task's end from its child's description: `.sync:2` gives Input and Output as JSON."""
    if described["Status"] != "SUCCEEDED":
        return events.TaskFailed(task_id, "States.TaskFailed", json.dumps(described, separators=(",", ":"),
                                                                          ensure_ascii=False), engine.clock())
    result = dict(described)
    if pattern == base.SYNC2:
        for key in ("Input", "Output"):
            if isinstance(result.get(key), str):
                result[key] = json.loads(result[key])
    return events.TaskSucceeded(task_id, result, engine.clock())


def _service_error(call: Call, exc: errors.ServiceError) -> base.TaskError:
    """A StartExecution refusal as AWS reports it in the parent: `StepFunctions.<Code>Exception`."""
    return base.TaskError(f"StepFunctions.{exc.code}Exception", (
        f"{exc.message} (Service: AWSStepFunctions; Status Code: {exc.status}; Error Code: {exc.code}; "
        f"Request ID: {call.request_id}; Proxy: null)"))


def _metadata(request_id: str) -> dict[str, Any]:
    """The SDK's response metadata AWS adds to a request-response result."""
    return {"SdkHttpMetadata": {"HttpHeaders": {"Content-Type": "application/x-amz-json-1.0",
                                                "x-amzn-RequestId": request_id},
                                "HttpStatusCode": 200},
            "SdkResponseMetadata": {"RequestId": request_id}}


def _millis(seconds: float) -> int:
    return round(seconds * 1000)
