"""Execution roles for tests: Step Functions may assume them (as CreateStateMachine requires), and the
AWS managed policy AWSLambdaRole attached lets them invoke any function."""

from __future__ import annotations

import json
from typing import Any

from pinflow import arns, errors

STATES_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
LAMBDA_ROLE_POLICY = "arn:aws:iam::aws:policy/service-role/AWSLambdaRole"


def execution_role(pf: Any, name: str) -> str:
    """Create (once) the role `name` that Step Functions may assume and that may invoke any function;
    its ARN."""
    try:
        pf.roles.create_role(name, STATES_TRUST)
    except errors.EntityAlreadyExists:
        return arns.role(name)
    pf.policies.attach_role_policy(name, LAMBDA_ROLE_POLICY)
    return arns.role(name)
