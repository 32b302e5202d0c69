"""AWS managed policies that Step Functions and Lambda users attach, known by ARN.

IAM keeps about a thousand AWS managed policies; pinflow knows the few a state machine's or a
function's role is given in practice, with the documents, versions and dates AWS publishes in its
managed policy reference (docs.aws.amazon.com/aws-managed-policy/latest/reference/<Name>.html).
They cannot be changed or deleted, as on AWS; attaching any other `arn:aws:iam::aws:policy/...` ARN
is refused with IAM's NoSuchEntity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

ACCOUNT = "aws"


@dataclass(frozen=True)
class AwsPolicy:
    """One AWS managed policy: its default version is `version`, created at `created`."""

    name: str
    path: str
    description: str
    created: float
    version: str
    document: dict[str, Any]

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{ACCOUNT}:policy{self.path}{self.name}"


def _at(year: int, month: int, day: int, hour: int, minute: int) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp()


def _allow(actions: Any, resource: Any = "*") -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]}


POLICIES = (
    AwsPolicy("AWSLambdaRole", "/service-role/", "Default policy for AWS Lambda service role.",
              _at(2015, 2, 6, 18, 41), "v1", _allow(["lambda:InvokeFunction"], ["*"])),
    AwsPolicy("AWSLambdaBasicExecutionRole", "/service-role/", "Provides write permissions to CloudWatch Logs.",
              _at(2015, 4, 9, 15, 3), "v1",
              _allow(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"])),
    AwsPolicy("AWSStepFunctionsFullAccess", "/",
              "An access policy for providing a user/role/etc access to the AWS StepFunctions API. For full "
              "access, in addition to this policy, a user MUST have iam:PassRole permission on at least one IAM "
              "role that can be assumed by the service.",
              _at(2017, 1, 11, 21, 51), "v1", _allow("states:*")),
    AwsPolicy("AdministratorAccess", "/", "Provides full access to AWS services and resources.",
              _at(2015, 2, 6, 18, 39), "v1", _allow("*")),
)

BY_ARN = {policy.arn: policy for policy in POLICIES}


def is_aws_managed(arn: str) -> bool:
    """Whether `arn` names a policy in AWS's own account (`arn:aws:iam::aws:policy/...`)."""
    return arn.split(":")[4:5] == [ACCOUNT] and arn.startswith("arn:") and ":policy/" in arn
