"""Lambda's wire shapes and checks for the function registry: configurations, aliases, routing, names.

A stored configuration (`functions.latest`, `function_versions.config`) keeps Lambda's member names
with two differences: `CodeSha256` is hex (the blob key; Lambda shows base64) and `LastModified`
is epoch seconds. Versions also keep `Version`, `RevisionId` and `Fingerprint` (what
publish-if-unchanged compares).
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pinflow import arns, errors
from pinflow.functions import runtimes
from pinflow.registry import tags

LATEST = "$LATEST"

# What a published version snapshots of $LATEST, and so what "nothing changed" compares.
SNAPSHOT_KEYS = ("CodeSha256", "Runtime", "Handler", "Timeout", "MemorySize", "Environment", "Role",
                 "Description", "Layers")

_ALIAS_NAME = re.compile(r"(?!^[0-9]+$)([a-zA-Z0-9-_]+)")
_ALIAS_PATTERN = "(?!^[0-9]+$)([a-zA-Z0-9-_]+)"
_FUNCTION_PATTERN = (r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?"
                     r"([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?")
_VERSION_PATTERN = r"(\$LATEST|[0-9]+)"
_ENV_PATTERN = "[a-zA-Z]([a-zA-Z0-9_])+"
_ENV_NAME = re.compile(_ENV_PATTERN)
# Lambda's limit on a function's environment variables, measured as their compact JSON.
ENVIRONMENT_BYTES = 4096
# Variables Lambda sets itself and refuses in a configuration (its "reserved environment variables").
RESERVED_ENVIRONMENT = frozenset({
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
})


def lambda_time(seconds: float) -> str:
    """Lambda's `LastModified` format: `2024-01-31T12:00:00.000+0000`."""
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def b64_of_hex(digest_hex: str) -> str:
    return base64.b64encode(bytes.fromhex(digest_hex)).decode("ascii")


def fingerprint(config: Mapping[str, Any]) -> str:
    # No layers leave no key, so that versions published before layers existed still compare equal.
    compared = {key: config.get(key) for key in SNAPSHOT_KEYS if key != "Layers" or config.get(key)}
    return json.dumps(compared, sort_keys=True, separators=(",", ":"))


def configuration(name: str, config: Mapping[str, Any], *, version: str, revision_id: str,
                  arn: str) -> dict[str, Any]:
    """A `FunctionConfiguration` as Lambda answers it, for $LATEST or a published version."""
    shaped: dict[str, Any] = {
        "FunctionName": name,
        "FunctionArn": arn,
        "Runtime": config["Runtime"],
        "Handler": config["Handler"],
        "CodeSize": config["CodeSize"],
        "Description": config.get("Description", ""),
        "Timeout": config["Timeout"],
        "MemorySize": config["MemorySize"],
        "LastModified": lambda_time(config["LastModified"]),
        "CodeSha256": b64_of_hex(config["CodeSha256"]),
        "Version": version,
        "TracingConfig": {"Mode": "PassThrough"},
        "RevisionId": revision_id,
        "State": "Active",
        "PackageType": "Zip",
        "Architectures": ["x86_64"],
        "EphemeralStorage": {"Size": 512},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"},
    }
    if config.get("Role"):
        shaped["Role"] = config["Role"]
    if config.get("Environment"):
        shaped["Environment"] = {"Variables": dict(config["Environment"])}
    if config.get("Layers"):
        shaped["Layers"] = [{"Arn": layer["Arn"], "CodeSize": layer["CodeSize"]} for layer in config["Layers"]]
    runs_on = runtimes.runtime_version(config["Runtime"])
    if runs_on is not None:
        # What really runs the function here (the machine's node for any nodejs*), in the member Lambda uses
        # for a function's runtime version; boto3 reads it as it reads Lambda's.
        runtime_arn = f"arn:aws:lambda:{arns.DEFAULT_REGION}::runtime:{runs_on}"
        shaped["RuntimeVersionConfig"] = {"RuntimeVersionArn": runtime_arn}
    if version == LATEST:
        # Lambda reports an update status for $LATEST only; published versions never change.
        shaped["LastUpdateStatus"] = "Successful"
    return shaped


def alias_configuration(name: str, alias: str, stored: Mapping[str, Any]) -> dict[str, Any]:
    """An `AliasConfiguration`."""
    shaped: dict[str, Any] = {
        "AliasArn": arns.function(name, alias),
        "Name": alias,
        "FunctionVersion": stored["FunctionVersion"],
        "Description": stored.get("Description", ""),
        "RevisionId": stored["RevisionId"],
    }
    if stored.get("RoutingConfig"):
        shaped["RoutingConfig"] = {"AdditionalVersionWeights": dict(
            stored["RoutingConfig"]["AdditionalVersionWeights"])}
    return shaped


def _tag_constraint(limit: int, low: int) -> str:
    return (f"Member must have length less than or equal to {limit}, Member must have length greater than or "
            f"equal to {low}, Member must satisfy regular expression pattern: ({tags.ALPHABET})")


def check_tags(given: Mapping[str, str], current: Mapping[str, str] | None = None) -> dict[str, str]:
    """Tags as Lambda takes them (CreateFunction, TagResource), applied onto `current`.

    Raises:
        ValidationException: a key or value off Lambda's TagKey or TagValue (1-128 and 0-256
            characters of AWS's tag alphabet), worded as Lambda words a map's constraints.
        InvalidParameterValueException: a key starting with `aws:`, or more than 50 tags in all.
    """
    for key, value in given.items():
        shown = f"{{{key}={value}}}"
        if not tags.good_key(key):
            raise errors.validation("tags", shown, "Map keys must satisfy constraint: ["
                                    + _tag_constraint(tags.KEY_LIMIT, 1) + "]")
        if not tags.good_value(value):
            raise errors.validation("tags", shown, "Map value must satisfy constraint: ["
                                    + _tag_constraint(tags.VALUE_LIMIT, 0) + "]")
        if tags.reserved(key):
            raise errors.InvalidParameterValueException(
                f"Invalid tag key {key!r}: keys starting with 'aws:' are reserved for use by AWS.")
    merged = {**(current or {}), **given}
    if len(merged) > tags.MAX_TAGS:
        raise errors.InvalidParameterValueException(
            f"Number of tags exceeds resource tag limit: a function can have at most {tags.MAX_TAGS} tags.")
    return merged


def check_alias_name(alias: str) -> None:
    if not isinstance(alias, str) or not 0 < len(alias) <= 128 or not _ALIAS_NAME.fullmatch(alias):
        raise errors.validation("name", alias, f"Member must satisfy regular expression pattern: {_ALIAS_PATTERN}")


def check_version_text(version: str) -> None:
    if not isinstance(version, str) or not re.fullmatch(_VERSION_PATTERN, version):
        raise errors.validation("functionVersion", version,
                                f"Member must satisfy regular expression pattern: {_VERSION_PATTERN}")


def check_limits(timeout: object, memory_size: object) -> None:
    """Lambda's bounds for Timeout (1-900 s) and MemorySize (128-10240 MB)."""
    for field, value, low, high in (("timeout", timeout, 1, 900), ("memorySize", memory_size, 128, 10240)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise errors.InvalidParameterValueException(f"{field} must be an integer, not {value!r}")
        if value < low:
            raise errors.validation(field, value, f"Member must have value greater than or equal to {low}")
        if value > high:
            raise errors.validation(field, value, f"Member must have value less than or equal to {high}")


def check_environment(environment: Mapping[str, Any] | None) -> dict[str, str]:
    """Environment variables as a plain dict, refused as Lambda refuses what can never run.

    Names follow Lambda's pattern (so none holds `=`), none is one Lambda reserves, no value holds a
    NUL (no process environment can), and the whole, as compact JSON, fits in 4 KB.

    Raises:
        ValidationException: a name off the pattern (values are sensitive: not shown).
        InvalidParameterValueException: not strings, a reserved name, a NUL, or over 4 KB.
    """
    variables = dict(environment or {})
    for key, value in variables.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise errors.InvalidParameterValueException(
                f"Environment variable {key!r} must have a string name and a string value")
    if any(not _ENV_NAME.fullmatch(key) for key in variables):
        raise errors.validation("environment.variables", None, "Map keys must satisfy constraint: [Member must "
                                f"satisfy regular expression pattern: {_ENV_PATTERN}]", sensitive=True)
    reserved = [key for key in variables if key in RESERVED_ENVIRONMENT]
    if reserved:
        raise errors.InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the environment variables you "
            "have provided contains reserved keys that are currently not supported for modification. Reserved "
            f"keys used in this request: {', '.join(reserved)}")
    with_nul = [key for key, value in variables.items() if "\x00" in value]
    if with_nul:
        raise errors.InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the value of "
            f"{', '.join(with_nul)} holds a NUL character, which no process environment can hold")
    measured = json.dumps(variables, separators=(",", ":"), ensure_ascii=False)
    if len(measured.encode("utf-8", "surrogatepass")) > ENVIRONMENT_BYTES:
        raise errors.InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the environment variables you "
            f"have provided exceeded the 4KB limit. String measured: {measured}")
    return variables


def check_runtime(runtime: object) -> None:
    """Refuse a runtime that is not one of Lambda's (botocore's model lists them), or that this server
    cannot run (such a function would only ever fail, later, with a 502).

    Raises:
        ValidationException: not one of Lambda's, with Lambda's enum wording.
        InvalidParameterValueException: one of Lambda's that this server's workers do not run.
    """
    allowed = lambda_runtimes()
    if runtime not in allowed:
        raise errors.validation("runtime", runtime, f"Member must satisfy enum value set: [{', '.join(allowed)}]")
    if not runtimes.runnable(str(runtime)):
        raise errors.InvalidParameterValueException(runtimes.refusal(str(runtime)))


@functools.cache
def lambda_runtimes() -> tuple[str, ...]:
    """Every value of Lambda's Runtime enum, from botocore's model of the Lambda API."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("lambda")
    return tuple(model.shape_for("Runtime").enum)


def check_function_name(name: object) -> None:
    """A plain function name (no ARN, no qualifier), as CreateFunction takes it."""
    if not arns.valid_function_name(name):
        raise errors.validation("functionName", name,
                                f"Member must satisfy regular expression pattern: {_FUNCTION_PATTERN}")


def function_ref(name_or_arn: str, qualifier: str | None = None) -> arns.FunctionRef:
    """A FunctionName (name, partial or full ARN, optionally qualified) and Qualifier, split.

    Raises:
        InvalidParameterValueException: the name carries a qualifier other than `qualifier`.
        ValidationException: not a function name Lambda accepts.
    """
    ref = arns.split_function(name_or_arn, qualifier)
    if ref is not None:
        return ref
    alone = arns.split_function(name_or_arn)
    if alone is not None and qualifier is not None and alone.qualifier not in (None, qualifier):
        raise errors.InvalidParameterValueException(
            "The derived qualifier from the function name does not match the specified qualifier.")
    raise errors.validation("functionName", name_or_arn,
                            f"Member must satisfy regular expression pattern: {_FUNCTION_PATTERN}")


def routing(weights_config: Mapping[str, Any] | None, primary: str) -> tuple[str, float] | None:
    """The additional version and its weight from a RoutingConfig, checked as Lambda does.

    Raises:
        InvalidParameterValueException / ValidationException: with Lambda's wording.
    """
    weights = (weights_config or {}).get("AdditionalVersionWeights") or {}
    if not weights:
        return None
    if len(weights) > 1:
        raise errors.InvalidParameterValueException(
            "Number of items in AdditionalVersionWeights cannot be greater than 1")
    ((extra, weight),) = weights.items()
    extra = str(extra)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0.0 <= weight <= 1.0:
        raise errors.validation(
            "routingConfig.additionalVersionWeights", f"{{{extra}={weight}}}",
            "Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must "
            "have value greater than or equal to 0.0, Member must not be null]")
    if extra == primary:
        raise errors.InvalidParameterValueException(
            f"Invalid function version {primary}. Function version {primary} is already included in routing "
            "configuration.")
    if primary == LATEST:
        raise errors.InvalidParameterValueException(
            "$LATEST is not supported for an alias pointing to more than 1 version")
    if not arns.is_number(extra):
        raise errors.validation(
            "routingConfig.additionalVersionWeights", f"{{{extra}={weight}}}",
            "Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must "
            "have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+, "
            "Member must not be null]")
    return extra, float(weight)
