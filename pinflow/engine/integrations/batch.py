"""AWS Batch, optimized: `arn:aws:states:::batch:submitJob[.sync|.waitForTaskToken]`, as AWS documents it
("Run AWS Batch jobs with Step Functions").

Request-response: SubmitJob's response (`JobArn`, `JobId`, `JobName`) with the SDK's response metadata.
`.sync`: Step Functions tells the job it was started by it (the environment variable
`MANAGED_BY_AWS=STARTED_BY_STEP_FUNCTIONS` added to `ContainerOverrides`, as LocalStack reproduces AWS),
records SubmitJob's response as TaskSubmitted, watches the job with DescribeJobs and ends with its
description: SUCCEEDED succeeds, FAILED fails the Task with `States.TaskFailed` (the cause: the
description as JSON text). A stopped Task terminates the job (TerminateJob). Errors are
`Batch.<Exception>`.

IAM: `batch:SubmitJob` on the job queue, and for `.sync` `batch:DescribeJobs` and `batch:TerminateJob`.
The generated role grants what the serverless-step-functions plugin grants (iamStrategies/batch.js):
those three on `*`, and the EventBridge rule AWS's `.sync` manages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pinflow.asl.validation import resources
from pinflow.engine.integrations import aws_iam, aws_service, base

MANAGED = {"name": "MANAGED_BY_AWS", "value": "STARTED_BY_STEP_FUNCTIONS"}
STOP_REASON = "Terminated by AWS Step Functions: the task was stopped"


class SubmitJob(aws_service.Job):
    name = "batch"
    botocore = "batch"
    actions = {"submitJob": "SubmitJob"}
    dialect = aws_service.Dialect("Batch", "AWSBatch", "AWSBatchException")
    patterns = frozenset(base.SUFFIXES[s] for s in resources.patterns("batch", "submitJob"))

    def request(self, call: base.Call, action: str) -> dict[str, Any]:
        request = super().request(call, action)
        if call.command.pattern == base.SYNC:
            overrides = request.setdefault("containerOverrides", {})
            overrides["environment"] = [*(overrides.get("environment") or ()), dict(MANAGED)]
        return request

    def job(self, call: base.Call, result: Any) -> tuple[str, dict[str, Any]]:
        return str(result["JobId"]), {}

    def describe(self, engine: Any, watched: base.Watched) -> tuple[str, Any]:
        reply = self.ask(engine, watched, "DescribeJobs", {"jobs": [watched.target]})
        jobs = self.shaped("DescribeJobs", reply, with_metadata=False).get("Jobs") or [{}]
        status = jobs[0].get("Status")
        return ("succeeded" if status == "SUCCEEDED" else "failed" if status == "FAILED" else "running"), jobs[0]

    def stop(self, engine: Any, watched: base.Watched) -> None:
        self.ask(engine, watched, "TerminateJob", {"jobId": watched.target, "reason": STOP_REASON})

    def needs(self, call: base.Call) -> Sequence[base.Need]:
        needs = list(super().needs(call))
        if call.command.pattern == base.SYNC:
            needs += [base.Need("batch:DescribeJobs", aws_iam.ANY), base.Need("batch:TerminateJob", aws_iam.ANY)]
        return needs

    def grants(self, references: Sequence[base.Reference], computed: Sequence[base.Computed],
               patterns: frozenset[str], context: Mapping[str, str]) -> list[dict[str, Any]]:
        return [{"Effect": "Allow", "Action": ["batch:SubmitJob", "batch:DescribeJobs", "batch:TerminateJob"],
                 "Resource": aws_iam.ANY},
                aws_service.events_rule(context, "StepFunctionsGetEventsForBatchJobsRule")]
