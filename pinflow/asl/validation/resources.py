"""Task `Resource` ARNs: the shapes Step Functions recognises, and what Express workflows may not use."""

from __future__ import annotations

import re

# Optimized integrations (`arn:<partition>:states:::<service>:<action>[<suffix>]`): the actions AWS documents
# for each, and the integration patterns each action supports ("" request-response, ".sync" and ".sync:2" run
# a job, ".waitForTaskToken" a callback). An action or a pattern outside the table is refused. Services not
# listed here (and every `aws-sdk:` integration) are accepted as long as the ARN is well formed. The engine's
# integrations read what they serve from here (`patterns`), so validation and the engine cannot disagree.
_RESPONSE, _CALLBACK, _SYNC, _SYNC2 = "", ".waitForTaskToken", ".sync", ".sync:2"
OPTIMIZED: dict[str, dict[str, frozenset[str]]] = {
    "lambda": {"invoke": frozenset({_RESPONSE, _CALLBACK})},
    "dynamodb": {action: frozenset({_RESPONSE}) for action in ("getItem", "putItem", "deleteItem", "updateItem")},
    "sns": {"publish": frozenset({_RESPONSE, _CALLBACK})},
    "sqs": {"sendMessage": frozenset({_RESPONSE, _CALLBACK})},
    "states": {"startExecution": frozenset({_RESPONSE, _SYNC, _SYNC2, _CALLBACK})},
    "events": {"putEvents": frozenset({_RESPONSE, _CALLBACK})},
    "http": {"invoke": frozenset({_RESPONSE})},
    "apigateway": {"invoke": frozenset({_RESPONSE, _CALLBACK})},
    "ecs": {"runTask": frozenset({_RESPONSE, _SYNC, _CALLBACK})},
    "batch": {"submitJob": frozenset({_RESPONSE, _SYNC, _CALLBACK})},
    "glue": {"startJobRun": frozenset({_RESPONSE, _SYNC})},
    "athena": {"startQueryExecution": frozenset({_RESPONSE, _SYNC}),
               **{action: frozenset({_RESPONSE}) for action in ("stopQueryExecution", "getQueryExecution",
                                                                 "getQueryResults")}},
    "bedrock": {"invokeModel": frozenset({_RESPONSE})},
    # As ItemReader's and ResultWriter's resources (pinflow also takes them as a Task's).
    "s3": {action: frozenset({_RESPONSE}) for action in ("getObject", "putObject", "listObjectsV2")},
}


def patterns(service: str, action: str) -> frozenset[str]:
    """The pattern suffixes AWS supports for an optimized integration's action (empty for none)."""
    return OPTIMIZED.get(service, {}).get(action, frozenset())


_ARN = re.compile(r"arn:([a-z0-9-]+):([a-z0-9-]+):([a-z0-9-]*):(\d{12}|):(.+)\Z")
_INTEGRATION = re.compile(r"([A-Za-z0-9-]+):([A-Za-z0-9-]+)((?:\.sync(?::2)?|\.waitForTaskToken)?)\Z")
_SDK = re.compile(r"aws-sdk:[A-Za-z0-9-]+:[A-Za-z0-9]+((?:\.waitForTaskToken)?)\Z")


def _not_recognized(resource: str) -> str:
    shown = _ARN.sub(lambda m: m.group(0).replace(f"arn:{m.group(1)}:", "arn:<partition>:", 1), resource)
    return (
        f"The resource provided {shown} is not recognized. The value is not a valid resource ARN, "
        "or the resource is not available in this region."
    )


def problem(resource: str, *, express: bool) -> str | None:
    """AWS's message when `resource` cannot be a Task's Resource, else None."""
    match = _ARN.match(resource)
    if match is None:
        return _not_recognized(resource)
    service, region, account, rest = match.group(2), match.group(3), match.group(4), match.group(5)
    if express and service == "states" and rest.startswith("activity:"):
        return "Express state machine does not support Activity ARN"  # AWS's CreateStateMachine message
    if service != "states" or region or account:
        return None  # a Lambda function, an activity or another service's ARN: AWS resolves it later
    pattern = ""
    sdk = _SDK.match(rest)
    if sdk:
        pattern = sdk.group(1)
    else:
        integration = _INTEGRATION.match(rest)
        if integration is None:
            return _not_recognized(resource)
        name, action, pattern = integration.groups()
        if name in OPTIMIZED and pattern not in patterns(name, action):
            return _not_recognized(resource)
    if express and pattern:
        # AWS's message for '.waitForTaskToken' ends with a space, its '.sync' one does not: both as recorded.
        if pattern.startswith(".sync"):
            return "Express state machine does not support '.sync' service integration"
        return f"Express state machine does not support '{pattern}' service integration "
    return None
