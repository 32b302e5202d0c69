"""The AWS-compatible HTTP API: Step Functions (AWS JSON 1.0), Lambda (REST-JSON) and IAM (Query).

`app.create_app(pf, auth=...)` builds the ASGI app; `auth` verifies SigV4 signatures; `wire` is the
HTTP protocol `pinflow server` gives uvicorn. Modules are
imported by their users (`from pinflow.api import app`).
"""

__all__ = [
    "app",
    "auth",
    "awsjson",
    "iam_api",
    "lambda_api",
    "restjson",
    "sfn_executions",
    "sfn_machines",
    "sfn_testing",
    "shapes",
    "stepfunctions",
    "wire",
]
