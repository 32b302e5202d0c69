"""The table of Task integrations: the one place the engine learns who carries out a resource.

Adding an integration is a module in this package (a `base.Integration`) and a line below. The first
integration that serves a resource carries it out; a resource none serves fails its task.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pinflow.asl import walk
from pinflow.engine.integrations import (
    activity,
    apigateway,
    athena,
    aws_lambda,
    aws_sdk,
    batch,
    bedrock,
    dynamodb,
    ecs,
    eventbridge,
    glue,
    http_task,
    s3,
    sns,
    sqs,
    states,
)
from pinflow.engine.integrations.base import Computed, Integration, Reference

INTEGRATIONS: tuple[Integration, ...] = (
    aws_lambda.Lambda(),
    activity.Activity(),
    states.StartExecution(),
    http_task.HttpInvoke(),
    aws_sdk.AwsSdk(),
    dynamodb.DynamoDb(),
    sns.Publish(),
    sqs.SendMessage(),
    eventbridge.PutEvents(),
    s3.S3(),
    glue.StartJobRun(),
    athena.Athena(),
    batch.SubmitJob(),
    ecs.RunTask(),
    bedrock.InvokeModel(),
    apigateway.Invoke(),
)

_BY_NAME = {integration.name: integration for integration in INTEGRATIONS}


def for_resource(resource: str) -> Integration | None:
    """The integration that carries out a Task's `resource`, or None."""
    found = _known.get(resource, _UNKNOWN)
    if found is _UNKNOWN:
        found = next((integration for integration in INTEGRATIONS if integration.serves(resource)), None)
        if len(_known) > 10_000:  # resources are few; a runaway set of computed ones must not grow this
            _known.clear()
        _known[resource] = found
    return found  # type: ignore[return-value]


_UNKNOWN = object()
_known: dict[str, object] = {}


def by_name(name: str) -> Integration | None:
    return _BY_NAME.get(name)


def tasks(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], Integration]]:
    """Every Task of a definition that an integration serves: (its path, the state, the integration)."""
    for path, state in walk.tasks(definition):
        integration = for_resource(state["Resource"])
        if integration is not None:
            yield path, state, integration


def references(definition: dict[str, Any], kind: str | None = None) -> list[Reference]:
    """What a definition's Tasks name statically (of one `kind` only, if given), in every nested block."""
    found = [ref for path, state, integration in tasks(definition) for ref in integration.references(path, state)]
    return found if kind is None else [ref for ref in found if ref.kind == kind]


def computed(definition: dict[str, Any], kind: str | None = None) -> list[Computed]:
    """The Tasks of a definition that name what they call only at run time (of one `kind`, if given)."""
    found = [task for path, state, integration in tasks(definition) for task in integration.computed(path, state)]
    return found if kind is None else [task for task in found if task.kind == kind]
