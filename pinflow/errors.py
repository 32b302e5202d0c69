"""API errors: one exception class per AWS error code, each with its HTTP status.

The API layer turns these into AWS's error shapes; the engine and registry raise them so that what a
boto3 user sees is decided once, here.
"""

from __future__ import annotations


class ServiceError(Exception):
    """An error answered to an API client."""

    code = "InternalFailure"
    status = 500
    sender_fault = False

    def __init__(self, message: str = "", **extra: object) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra


def _error(code: str, status: int = 400, base: type[ServiceError] = ServiceError) -> type[ServiceError]:
    return type(code, (base,), {"code": code, "status": status, "sender_fault": status < 500})


# Step Functions
AccessDeniedException = _error("AccessDeniedException")
ActivityDoesNotExist = _error("ActivityDoesNotExist")
ActivityAlreadyExists = _error("ActivityAlreadyExists")
ConflictException = _error("ConflictException")
ExecutionAlreadyExists = _error("ExecutionAlreadyExists")
ExecutionDoesNotExist = _error("ExecutionDoesNotExist")
ExecutionLimitExceeded = _error("ExecutionLimitExceeded")
ExecutionNotRedrivable = _error("ExecutionNotRedrivable")
InvalidArn = _error("InvalidArn")
InvalidDefinition = _error("InvalidDefinition")
InvalidExecutionInput = _error("InvalidExecutionInput")
InvalidName = _error("InvalidName")
InvalidOutput = _error("InvalidOutput")
InvalidToken = _error("InvalidToken")
MissingRequiredParameter = _error("MissingRequiredParameter")
ResourceNotFound = _error("ResourceNotFound")
StateMachineAlreadyExists = _error("StateMachineAlreadyExists")
StateMachineDeleting = _error("StateMachineDeleting")
StateMachineDoesNotExist = _error("StateMachineDoesNotExist")
StateMachineTypeNotSupported = _error("StateMachineTypeNotSupported")
TaskDoesNotExist = _error("TaskDoesNotExist")
TaskTimedOut = _error("TaskTimedOut")
TooManyTags = _error("TooManyTags")
ValidationException = _error("ValidationException")
ServiceQuotaExceededException = _error("ServiceQuotaExceededException")
ActivityWorkerLimitExceeded = _error("ActivityWorkerLimitExceeded")
# Any AWS JSON service's answer to a request over its rate (botocore's clients retry it).
ThrottlingException = _error("ThrottlingException")

# Lambda (REST-JSON: the status codes differ by error)
ResourceNotFoundException = _error("ResourceNotFoundException", 404)
ResourceConflictException = _error("ResourceConflictException", 409)
InvalidParameterValueException = _error("InvalidParameterValueException", 400)
PreconditionFailedException = _error("PreconditionFailedException", 412)
CodeStorageExceededException = _error("CodeStorageExceededException", 400)
InvalidRequestContentException = _error("InvalidRequestContentException", 400)
RequestTooLargeException = _error("RequestTooLargeException", 413)
PolicyLengthExceededException = _error("PolicyLengthExceededException", 400)
TooManyRequestsException = _error("TooManyRequestsException", 429)

# EventBridge (AWS JSON 1.1; ResourceNotFoundException is shared with Lambda)
ResourceAlreadyExistsException = _error("ResourceAlreadyExistsException")

# IAM (Query protocol)
NoSuchEntity = _error("NoSuchEntity", 404)
EntityAlreadyExists = _error("EntityAlreadyExists", 409)
MalformedPolicyDocument = _error("MalformedPolicyDocument", 400)
DeleteConflict = _error("DeleteConflict", 409)
LimitExceeded = _error("LimitExceeded", 409)
InvalidInput = _error("InvalidInput", 400)
AccessDenied = _error("AccessDenied", 403)

# Authentication (any protocol)
UnrecognizedClientException = _error("UnrecognizedClientException", 400)
InvalidSignatureException = _error("InvalidSignatureException", 403)


def validation(field: str, value: object, constraint: str, *, sensitive: bool = False) -> ServiceError:
    """ValidationException for one request member, in the words every AWS service here uses:
    "1 validation error detected: Value 'x' at 'field' failed to satisfy constraint: ..." (`null` for
    a missing member, no value at all for a sensitive one)."""
    shown = "Value" if sensitive else "Value null" if value is None else f"Value '{value}'"
    return ValidationException(
        f"1 validation error detected: {shown} at '{field}' failed to satisfy constraint: {constraint}")
