"""Amazon Bedrock, optimized: `arn:aws:states:::bedrock:invokeModel`, as AWS documents it ("Invoke and
customize Amazon Bedrock models with Step Functions").

Parameters: `ModelId` (required), `Body` (a JSON value, sent as JSON text) or `Input.S3Uri` (the body
read from S3), `ContentType` and `Accept` (both `application/json` unless given), `Output.S3Uri` (the
model's answer written there instead of returned), `Trace`, `GuardrailIdentifier`,
`GuardrailVersion`. The result is `{"Body": <the answer, parsed when it is JSON>, "ContentType": ...}`;
errors are `Bedrock.<Exception>`.

IAM and the generated role: `bedrock:InvokeModel` on the model
(`arn:aws:bedrock:REGION::foundation-model/ID`, or the ARN given), as the serverless-step-functions
plugin grants (iamStrategies/bedrock.js); reading or writing S3 needs `s3:GetObject`/`s3:PutObject`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from pinflow.asl.validation import resources
from pinflow.engine.integrations import aws_service, base, s3

JSON = "application/json"


class InvokeModel(aws_service.Optimized):
    name = "bedrock"
    botocore = "bedrock-runtime"
    actions = {"invokeModel": "InvokeModel"}
    dialect = aws_service.Dialect("Bedrock", "AmazonBedrockRuntime", "AmazonBedrockRuntimeException")
    patterns = frozenset(base.SUFFIXES[s] for s in resources.patterns("bedrock", "invokeModel"))

    def request(self, call: base.Call, action: str) -> dict[str, Any]:
        parameters = {k: v for k, v in call.parameters.items() if k not in ("Input", "Output")}
        parameters.setdefault("ContentType", JSON)
        parameters.setdefault("Accept", JSON)
        source = _s3_location(call.parameters.get("Input"), "Input")
        if source is not None:
            with s3.open_object(call.engine, *source) as stream:
                parameters["Body"] = stream.read().decode("utf-8", errors="replace")
        return aws_service.convert(self.botocore, "InvokeModel", parameters)

    def start(self, call: base.Call) -> base.Started:
        reply = self.invoke(call, "InvokeModel", self.request(call, "invokeModel"))
        body: Any = reply.response.get("body") or b""
        data = body.read() if hasattr(body, "read") else bytes(body)
        content_type = str(reply.response.get("contentType") or JSON)
        target = _s3_location(call.parameters.get("Output"), "Output")
        if target is not None:
            s3.put_object(call.engine, *target, data, content_type=content_type)
            return base.Done(call.succeeded({"ContentType": content_type}))
        text = data.decode("utf-8", errors="replace")
        value: Any = text
        if "json" in content_type.lower():
            try:
                value = json.loads(text)
            except ValueError:
                pass
        return base.Done(call.succeeded({"Body": value, "ContentType": content_type}))

    def needs(self, call: base.Call) -> Sequence[base.Need]:
        model = call.parameters.get("ModelId")
        if not isinstance(model, str) or not model:
            raise base.TaskError("States.Runtime", "The field 'ModelId' is required and must be a string")
        needs = aws_service.needs(self.botocore, "InvokeModel", {"modelId": model}, self.region(call),
                                  aws_service.place(call)[1])
        for field, action in (("Input", "s3:GetObject"), ("Output", "s3:PutObject")):
            location = _s3_location(call.parameters.get(field), field)
            if location is not None:
                needs.append(base.Need(action, s3.object_arn(*location)))
        return needs


def _s3_location(value: Any, field: str) -> tuple[str, str] | None:
    """(bucket, key) of `{"S3Uri": "s3://bucket/key"}`, None when absent."""
    if value is None:
        return None
    uri = value.get("S3Uri") if isinstance(value, dict) else None
    parts = urlsplit(uri) if isinstance(uri, str) else None
    if parts is None or parts.scheme != "s3" or not parts.netloc or not parts.path.strip("/"):
        raise base.TaskError("States.Runtime", f"The field '{field}.S3Uri' must be an s3://bucket/key URI")
    return parts.netloc, parts.path.lstrip("/")
