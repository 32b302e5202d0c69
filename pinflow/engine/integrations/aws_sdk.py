"""SDK integrations: `arn:aws:states:::aws-sdk:<service>:<action>[.waitForTaskToken]` for every service and
operation botocore's models know, as AWS documents them ("AWS SDK service integrations").

The service is named as Step Functions names it: the model's service id in lower case without spaces
(`sfn`, `eventbridge`, `cloudwatchlogs`, `s3`); the action is the operation in camelCase (`putItem`).
Parameters are the operation's request members in PascalCase; the result is its response with
PascalCase members, timestamps as ISO 8601 text, a streamed body as text (`aws_shapes`), without
response metadata (as recorded from AWS in LocalStack's aws-sdk snapshots: `putItem` answers `{}`).
Errors are `<Service>.<Exception>` (`aws_service`), so `ErrorEquals` written for AWS keep matching.
With `.waitForTaskToken` the call is made and the Task waits for SendTaskSuccess or SendTaskFailure.

IAM: `<prefix>:<Operation>` on the resource the parameters name (`aws_iam`), `*` when none can be
derived; a generated role grants the same for what the definition names.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import botocore.exceptions
import botocore.loaders

from pinflow.engine.integrations import aws_client, aws_service, aws_settings, aws_shapes, base, s3

_RESOURCE = re.compile(r"arn:[a-z-]+:states:([a-z0-9-]*):(?:\d{12})?:aws-sdk:([A-Za-z0-9-]+):([A-Za-z0-9]+)"
                       r"(\.waitForTaskToken)?\Z")


class _Catalog:
    """Step Functions' service names to botocore's, and actions to operations (found once, kept)."""

    def __init__(self) -> None:
        self._services: dict[str, str | None] = {}
        self._everything: dict[str, str] | None = None
        self._lock = threading.Lock()

    def service(self, name: str) -> str | None:
        key = name.lower()
        if key not in self._services:
            found = self._quick(key) or self._scan().get(key)
            with self._lock:
                self._services[key] = found
        return self._services[key]

    @staticmethod
    def _sdk_name(service: str) -> str:
        return str(aws_client.service_model(service).metadata.get("serviceId", service)).lower().replace(" ", "")

    def _quick(self, key: str) -> str | None:
        """Most names are botocore's own, or botocore's without hyphens."""
        candidates = [aws_settings.ALIASES.get(key), key]
        candidates += [name for name in aws_client.available_services() if name.replace("-", "") == key]
        for candidate in candidates:
            if candidate is None:
                continue
            try:
                if self._sdk_name(candidate) == key:
                    return candidate
            except botocore.exceptions.UnknownServiceError:
                continue
        return None

    def _scan(self) -> dict[str, str]:
        """Every service by its Step Functions name: every model read once, one at a time (a few seconds,
        the first time a name is neither botocore's nor botocore's without hyphens)."""
        with self._lock:
            if self._everything is None:
                loader = botocore.loaders.create_loader()
                self._everything = {}
                for name in aws_client.available_services():
                    service_id = _service_id(loader, name)
                    self._everything.setdefault(service_id.lower().replace(" ", ""), name)
            return self._everything

    @staticmethod
    def operation(service: str, action: str) -> str | None:
        wanted = action.lower()
        return next((op for op in aws_client.service_model(service).operation_names if op.lower() == wanted), None)


def _service_id(loader: Any, name: str) -> str:
    """A model's service id, the file read on its own (the loader's cache would keep every model)."""
    version = loader.determine_latest_version(name, "service-2")
    for root in loader.search_paths:
        data = loader.file_loader.load_file(os.path.join(root, name, version, "service-2"))
        if data:
            return str(data.get("metadata", {}).get("serviceId", name))
    return name


CATALOG = _Catalog()


def parse(resource: str) -> tuple[str, str, str, str] | None:
    """(region, Step Functions' service name, action, suffix) of an SDK integration's resource."""
    match = _RESOURCE.match(resource)
    return None if match is None else (match.group(1), match.group(2), match.group(3), match.group(4) or "")


class AwsSdk(aws_service.AwsBacked):
    name = "aws-sdk"
    patterns = frozenset({base.REQUEST_RESPONSE, base.CALLBACK})

    def serves(self, resource: str) -> bool:
        return parse(resource) is not None

    def aws_service(self, resource: str) -> str | None:
        found = parse(resource)
        return CATALOG.service(found[1]) if found else None

    def target(self, resource: str) -> tuple[str, str, str | None]:
        """(botocore service, operation, region named in the ARN) of a Task's resource.

        Raises:
            TaskError: `States.Runtime` for a service or action botocore does not know."""
        found = parse(resource)
        assert found is not None
        region, name, action, _ = found
        service = CATALOG.service(name)
        if service is None:
            raise base.TaskError("States.Runtime", f"The service '{name}' of {resource} is not one the AWS SDK knows")
        operation = CATALOG.operation(service, action)
        if operation is None:
            raise base.TaskError("States.Runtime", f"The service '{name}' has no action '{action}' ({resource})")
        return service, operation, region or None

    def _region(self, call: base.Call, named: str | None) -> str:
        return call.engine.aws.region(named, aws_service.place(call)[0])

    def needs(self, call: base.Call) -> Sequence[base.Need]:
        service, operation, named = self.target(call.command.resource)
        params = aws_service.convert(service, operation, call.parameters)
        return aws_service.needs(service, operation, params, self._region(call, named), aws_service.place(call)[1])

    def start(self, call: base.Call) -> base.Started:
        service, operation, named = self.target(call.command.resource)
        params = aws_service.convert(service, operation, call.parameters, call.request_id)
        try:
            reply = call.engine.aws.call(service, operation, params, self._region(call, named))
        except aws_client.CallFailed as failed:
            raise aws_service.sdk_failure(service, failed) from None
        if call.command.pattern == base.CALLBACK:
            return base.AwaitToken()
        shape = aws_client.operation_model(service, operation).output_shape
        return base.Done(call.succeeded(aws_shapes.from_response(shape, reply.response, aws_shapes.SDK) or {}))

    def denied(self, call: base.Call, message: str) -> Any:
        service, _, _ = self.target(call.command.resource)
        failed = aws_service.sdk_failure(service, aws_service.denial(service, call, message))
        return call.failed(failed.error, failed.cause)

    def references(self, state_path: str, state: dict[str, Any]) -> list[base.Reference]:
        try:
            service, operation, _ = self.target(state["Resource"])
        except base.TaskError:
            return []
        return aws_service.references(state_path, service, operation, state)

    def grants(self, references: Sequence[base.Reference], computed: Sequence[base.Computed],
               patterns: frozenset[str], context: Mapping[str, str]) -> list[dict[str, Any]]:
        """The action on what each Task names; S3's as the S3 integration grants it (the plugin treats
        `aws-sdk:s3:*` and `s3:*` alike)."""
        objects = [ref for ref in references if not ref.name.startswith("s3:")]
        buckets = [ref for ref in references if ref.name.startswith("s3:")]
        return aws_service.grants_for(objects, context) + (
            s3.S3().grants(buckets, (), patterns, context) if buckets else [])
