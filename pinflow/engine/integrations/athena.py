"""Athena, optimized: `arn:aws:states:::athena:startQueryExecution[.sync]`, `stopQueryExecution`,
`getQueryExecution` and `getQueryResults`, as AWS documents them ("Run Athena queries with Step
Functions").

Each answers with the API's response and the SDK's response metadata. `startQueryExecution.sync`
records StartQueryExecution's response as TaskSubmitted, watches the query with GetQueryExecution, and
ends with its response (`QueryExecution`): SUCCEEDED succeeds, FAILED or CANCELLED fails the Task with
`States.TaskFailed` (the cause: that response as JSON text). A stopped Task stops the query
(StopQueryExecution). Errors are `Athena.<Exception>`.

IAM: `athena:<Operation>` on the work group (`arn:aws:athena:REGION:ACCOUNT:workgroup/NAME`, `primary`
when none is named). The generated role grants what the serverless-step-functions plugin grants
(iamStrategies/athena.js, after AWS's policy templates): Athena's actions on the work group and data
catalogs, and the S3, Glue catalog and Lake Formation access Athena uses with the caller's identity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pinflow.asl.validation import resources
from pinflow.engine.integrations import aws_service, base

ACTIONS = {"startQueryExecution": "StartQueryExecution", "stopQueryExecution": "StopQueryExecution",
           "getQueryExecution": "GetQueryExecution", "getQueryResults": "GetQueryResults"}
SYNC_ACTIONS = ["athena:StartQueryExecution", "athena:StopQueryExecution", "athena:GetQueryExecution",
                "athena:GetDataCatalog", "athena:GetWorkGroup", "athena:BatchGetQueryExecution",
                "athena:GetQueryResults", "athena:ListQueryExecutions"]
S3_ACTIONS = ["s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket", "s3:ListBucketMultipartUploads",
              "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload", "s3:CreateBucket", "s3:PutObject"]
GLUE_ACTIONS = ["glue:CreateDatabase", "glue:GetDatabase", "glue:GetDatabases", "glue:UpdateDatabase",
                "glue:DeleteDatabase", "glue:CreateTable", "glue:UpdateTable", "glue:GetTable", "glue:GetTables",
                "glue:DeleteTable", "glue:BatchDeleteTable", "glue:BatchCreatePartition", "glue:CreatePartition",
                "glue:UpdatePartition", "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition",
                "glue:DeletePartition", "glue:BatchDeletePartition"]


class Athena(aws_service.Job):
    name = "athena"
    botocore = "athena"
    actions = ACTIONS
    dialect = aws_service.Dialect("Athena", "AmazonAthena", "AmazonAthenaException")
    patterns = frozenset(base.SUFFIXES[s] for action in ACTIONS for s in resources.patterns("athena", action))

    def job(self, call: base.Call, result: Any) -> tuple[str, dict[str, Any]]:
        return str(result["QueryExecutionId"]), {}

    def describe(self, engine: Any, watched: base.Watched) -> tuple[str, Any]:
        reply = self.ask(engine, watched, "GetQueryExecution", {"QueryExecutionId": watched.target})
        described = self.shaped("GetQueryExecution", reply, with_metadata=False)
        state = ((described.get("QueryExecution") or {}).get("Status") or {}).get("State")
        return ("succeeded" if state == "SUCCEEDED" else "failed" if state in ("FAILED", "CANCELLED")
                else "running"), described

    def stop(self, engine: Any, watched: base.Watched) -> None:
        self.ask(engine, watched, "StopQueryExecution", {"QueryExecutionId": watched.target})

    def needs(self, call: base.Call) -> Sequence[base.Need]:
        needs = list(super().needs(call))
        if call.command.pattern == base.SYNC:
            group = needs[0].resource
            needs += [base.Need("athena:GetQueryExecution", group), base.Need("athena:StopQueryExecution", group)]
        return needs

    def grants(self, references: Sequence[base.Reference], computed: Sequence[base.Computed],
               patterns: frozenset[str], context: Mapping[str, str]) -> list[dict[str, Any]]:
        region, account = context["region"], context["account"]
        groups = sorted({ref.text.replace(aws_service.REGION, region).replace(aws_service.ACCOUNT, account)
                         for ref in references if ref.name == "athena:StartQueryExecution"}) or [
            f"arn:aws:athena:{region}:{account}:workgroup/*"]
        catalogs = f"arn:aws:athena:{region}:{account}:datacatalog/*"
        statements = [s for s in aws_service.grants_for(references, context)
                      if s["Action"] != ["athena:StartQueryExecution"]]
        starting = SYNC_ACTIONS if base.SYNC in patterns else ["athena:StartQueryExecution", "athena:GetDataCatalog"]
        if any(ref.name == "athena:StartQueryExecution" for ref in references):
            statements += [
                {"Effect": "Allow", "Action": starting, "Resource": [*groups, catalogs]},
                {"Effect": "Allow", "Action": S3_ACTIONS, "Resource": ["arn:aws:s3:::*"]},
                {"Effect": "Allow", "Action": GLUE_ACTIONS, "Resource": [
                    f"arn:aws:glue:{region}:{account}:{kind}" for kind in
                    ("catalog", "database/*", "table/*", "userDefinedFunction/*")]},
                {"Effect": "Allow", "Action": ["lakeformation:GetDataAccess"], "Resource": "*"},
            ]
        return statements
