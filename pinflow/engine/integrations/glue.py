"""Glue, optimized: `arn:aws:states:::glue:startJobRun[.sync]`, as AWS documents it ("Start an AWS Glue
job run with Step Functions").

Request-response: the result is StartJobRun's response with the job's name added (`JobRunId`,
`JobName`: Step Functions adds the name, as LocalStack reproduces AWS) and the SDK's response metadata.
`.sync`: that response is recorded as TaskSubmitted, the run is watched with GetJobRun, and the Task
ends with the run (`JobRun`'s members and `JobName`): SUCCEEDED or STOPPED succeed, FAILED, TIMEOUT or
ERROR fail it with `States.TaskFailed` (the cause: the run as JSON text). A stopped Task stops the run
(BatchStopJobRun). Errors are `Glue.<Exception>`.

IAM: `glue:StartJobRun` on the job (`arn:aws:glue:REGION:ACCOUNT:job/NAME`), and for `.sync`
`glue:GetJobRun` and `glue:BatchStopJobRun`. The generated role grants what the
serverless-step-functions plugin grants (iamStrategies/glue.js): those and `glue:GetJobRuns` on `*`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pinflow.asl.validation import resources
from pinflow.engine.integrations import aws_iam, aws_service, base
from pinflow.engine.integrations.aws_client import Reply

FAILED = frozenset({"FAILED", "TIMEOUT", "ERROR"})
ENDED = FAILED | {"SUCCEEDED", "STOPPED"}


class StartJobRun(aws_service.Job):
    name = "glue"
    botocore = "glue"
    actions = {"startJobRun": "StartJobRun"}
    dialect = aws_service.Dialect("Glue", "AWSGlue", "AWSGlueException")
    patterns = frozenset(base.SUFFIXES[s] for s in resources.patterns("glue", "startJobRun"))

    def result(self, call: base.Call, action: str, reply: Reply) -> Any:
        result = self.shaped("StartJobRun", reply)
        return {"JobRunId": result.pop("JobRunId", None), "JobName": call.parameters.get("JobName"), **result}

    def job(self, call: base.Call, result: Any) -> tuple[str, dict[str, Any]]:
        return str(result["JobRunId"]), {"JobName": result["JobName"]}

    def describe(self, engine: Any, watched: base.Watched) -> tuple[str, Any]:
        reply = self.ask(engine, watched, "GetJobRun", {"JobName": watched.detail["JobName"],
                                                        "RunId": watched.target})
        run = dict(self.shaped("GetJobRun", reply, with_metadata=False).get("JobRun") or {})
        run["JobName"] = watched.detail["JobName"]
        state = run.get("JobRunState")
        return ("running" if state not in ENDED else "failed" if state in FAILED else "succeeded"), run

    def stop(self, engine: Any, watched: base.Watched) -> None:
        self.ask(engine, watched, "BatchStopJobRun", {"JobName": watched.detail["JobName"],
                                                      "JobRunIds": [watched.target]})

    def needs(self, call: base.Call) -> Sequence[base.Need]:
        needs = list(super().needs(call))
        if call.command.pattern == base.SYNC:
            job = needs[0].resource
            needs += [base.Need("glue:GetJobRun", job), base.Need("glue:BatchStopJobRun", job)]
        return needs

    def grants(self, references: Sequence[base.Reference], computed: Sequence[base.Computed],
               patterns: frozenset[str], context: Mapping[str, str]) -> list[dict[str, Any]]:
        return [{"Effect": "Allow", "Action": ["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns",
                                               "glue:BatchStopJobRun"], "Resource": aws_iam.ANY}]
