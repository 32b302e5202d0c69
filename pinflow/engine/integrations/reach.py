"""Which Tasks of a definition call an AWS service this server cannot reach (neither an endpoint nor
credentials), so that CreateStateMachine, UpdateStateMachine and `pinflow deploy --plan` can say so
before the first run instead of the Task failing then.

AWS's CreateStateMachine has no member for warnings, so the server logs them; deploy asks
ValidateStateMachineDefinition with `severity: WARNING`, whose diagnostics carry them (code
`UNREACHABLE_SERVICE`, located at the Task's Resource), and prints them in the plan. Executions started
with a mock test case that mocks such a Task never call the service.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pinflow.engine.integrations import aws_service, table
from pinflow.engine.integrations.aws_client import AwsClients

CODE = "UNREACHABLE_SERVICE"


@dataclass(frozen=True, slots=True)
class Unreachable:
    """A Task whose service cannot be called: where (`path` as deploy names states, `location` as a JSON
    Pointer to its Resource), what it calls, and what to do about it."""

    path: str
    location: str
    resource: str
    service: str
    message: str


def unreachable(aws: AwsClients, definition: dict[str, Any]) -> list[Unreachable]:
    """The Tasks of `definition` (nested ones too) whose AWS service has neither endpoint nor credentials."""
    found = []
    problems: dict[str, str | None] = {}
    for path, state, integration in table.tasks(definition):
        if not isinstance(integration, aws_service.AwsBacked):
            continue
        resource = state["Resource"]
        service = integration.aws_service(resource)
        if service is None:
            continue
        if service not in problems:
            problems[service] = aws.missing(service)
        problem = problems[service]
        if problem is not None:
            found.append(Unreachable(path, pointer(path) + "/Resource", resource, service,
                                     f"{path}: {resource} will fail with SdkClientException: {problem}"))
    return found


def pointer(path: str) -> str:
    """A state's path as deploy writes it (`Par/Branches[0]/Send`) as a JSON Pointer
    (`/States/Par/Branches/0/States/Send`)."""
    parts = [part for part in re.split(r"/", path) if part]
    out = []
    for index, part in enumerate(parts):
        branch = re.fullmatch(r"Branches\[(\d+)\]", part)
        if branch:
            out += ["Branches", branch.group(1)]
        elif part in ("ItemProcessor", "Iterator") and index < len(parts) - 1:
            out.append(part)
        else:
            out += ["States", part.replace("~", "~0").replace("/", "~1")]
    return "/" + "/".join(out)
