"""Amazon ECS, optimized: `arn:aws:states:::ecs:runTask[.sync|.waitForTaskToken]`, as AWS documents it
("Run Amazon ECS or Fargate tasks with Step Functions").

The result is the task's description (DescribeTasks' `Tasks` and `Failures`) rather than RunTask's
answer, with the SDK's response metadata (as LocalStack reproduces AWS). `.sync`: Step Functions starts
the task as `StartedBy: AWS Step Functions`, records that description as TaskSubmitted, watches the
task with DescribeTasks and ends with its description once it is STOPPED; a container that exited with
a code other than 0 fails the Task with `States.TaskFailed` (the cause: the description as JSON text).
A stopped Task stops the ECS task (StopTask). Errors are `ECS.<Exception>`.

IAM: `ecs:RunTask` on the task definition, and for `.sync` `ecs:DescribeTasks` and `ecs:StopTask`. The
generated role grants what the serverless-step-functions plugin grants (iamStrategies/ecs.js):
`ecs:RunTask`, `StopTask`, `DescribeTasks`, `TagResource` and `iam:PassRole` on `*`, and the
EventBridge rule AWS's `.sync` manages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pinflow.asl.validation import resources
from pinflow.engine.integrations import aws_iam, aws_service, base
from pinflow.engine.integrations.aws_client import CallFailed, Reply

STARTED_BY = "AWS Step Functions"
STOP_REASON = "Stopped by AWS Step Functions: the task was stopped"


class RunTask(aws_service.Job):
    name = "ecs"
    botocore = "ecs"
    actions = {"runTask": "RunTask"}
    dialect = aws_service.Dialect("ECS", "AmazonECS", "AmazonECSException")
    patterns = frozenset(base.SUFFIXES[s] for s in resources.patterns("ecs", "runTask"))

    def request(self, call: base.Call, action: str) -> dict[str, Any]:
        request = super().request(call, action)
        if call.command.pattern == base.SYNC:
            request["startedBy"] = STARTED_BY
        return request

    def result(self, call: base.Call, action: str, reply: Reply) -> Any:
        tasks = reply.response.get("tasks") or []
        if not tasks:
            return self.shaped("RunTask", reply)
        arns = [task["taskArn"] for task in tasks]
        try:
            described = call.engine.aws.call("ecs", "DescribeTasks", {"cluster": tasks[0]["clusterArn"],
                                                                      "tasks": arns}, self.region(call))
        except CallFailed as failed:
            raise aws_service.optimized_failure(self.botocore, self.dialect, failed) from None
        return self.shaped("DescribeTasks", described)

    def job(self, call: base.Call, result: Any) -> tuple[str, dict[str, Any]]:
        task = (result.get("Tasks") or [{}])[0]
        return str(task["TaskArn"]), {"cluster": task.get("ClusterArn")}

    def describe(self, engine: Any, watched: base.Watched) -> tuple[str, Any]:
        reply = self.ask(engine, watched, "DescribeTasks", {"cluster": watched.detail["cluster"],
                                                            "tasks": [watched.target]})
        task = (self.shaped("DescribeTasks", reply, with_metadata=False).get("Tasks") or [{}])[0]
        if task.get("LastStatus") != "STOPPED":
            return "running", task
        exits = [c.get("ExitCode") for c in task.get("Containers") or () if c.get("ExitCode") is not None]
        return ("failed" if any(code != 0 for code in exits) else "succeeded"), task

    def stop(self, engine: Any, watched: base.Watched) -> None:
        self.ask(engine, watched, "StopTask", {"cluster": watched.detail["cluster"], "task": watched.target,
                                               "reason": STOP_REASON})

    def needs(self, call: base.Call) -> Sequence[base.Need]:
        needs = list(super().needs(call))
        if call.command.pattern == base.SYNC:
            needs += [base.Need("ecs:DescribeTasks", aws_iam.ANY), base.Need("ecs:StopTask", aws_iam.ANY)]
        return needs

    def grants(self, references: Sequence[base.Reference], computed: Sequence[base.Computed],
               patterns: frozenset[str], context: Mapping[str, str]) -> list[dict[str, Any]]:
        return [{"Effect": "Allow", "Action": ["ecs:RunTask", "ecs:StopTask", "ecs:DescribeTasks",
                                               "ecs:TagResource", "iam:PassRole"], "Resource": aws_iam.ANY},
                aws_service.events_rule(context, "StepFunctionsGetEventsForECSTaskRule")]
