"""Where AWS service integrations send their calls: a region, and per service an endpoint override.

By default nothing is overridden: botocore's own chain decides the credentials (environment, shared
files, SSO, container and instance roles) and the region, so pinflow can orchestrate a real AWS account.
An override sends one service's calls to another address that speaks its protocol (a local emulator),
given on the command line (`--aws-endpoint sqs=http://127.0.0.1:9324`, repeatable) or in a TOML file
(`--aws-config FILE`):

    region = "eu-west-1"        # optional: else botocore's chain, else the execution's region
    profile = "dev"             # optional: a profile of the shared AWS files

    [endpoints]
    sqs = "http://127.0.0.1:9324"
    "*" = "http://127.0.0.1:4566"   # every service not named (an emulator that serves them all)

A service is named as botocore names it (`sqs`, `dynamodb`, `stepfunctions`, `bedrock-runtime`) or as
the SDK integrations name it (`sfn`, `eventbridge`, `bedrockruntime`); the command line wins over the
file. botocore's own `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` are honoured as well.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

ANY = "*"
# The SDK integrations' service names that are not botocore's (both are accepted in settings).
ALIASES = {"sfn": "stepfunctions", "eventbridge": "events", "cloudwatchlogs": "logs", "states": "stepfunctions",
           "bedrockruntime": "bedrock-runtime", "redshiftdata": "redshift-data"}
ENDPOINT_OPTION = "--aws-endpoint"
CONFIG_OPTION = "--aws-config"


@dataclass(frozen=True)
class AwsSettings:
    """The region, profile and endpoint overrides AWS service integrations use.

    `endpoints` maps botocore service names (or `*`, every other service) to URLs."""

    region: str | None = None
    profile: str | None = None
    endpoints: Mapping[str, str] = field(default_factory=dict)

    def endpoint(self, service: str) -> str | None:
        """The URL `service` (a botocore name) is overridden to, if any: pinflow's settings, then
        botocore's environment variables."""
        found = self.endpoints.get(service) or self.endpoints.get(ANY)
        if found:
            return found
        variable = "AWS_ENDPOINT_URL_" + service.upper().replace("-", "_").replace(" ", "_")
        return os.environ.get(variable) or os.environ.get("AWS_ENDPOINT_URL") or None

    def with_endpoints(self, given: Mapping[str, str]) -> AwsSettings:
        """These settings with `given` overrides on top (the command line over the file)."""
        return replace(self, endpoints={**self.endpoints, **given})


def service_key(name: str) -> str:
    """A service as settings key it: botocore's name (SDK integration names are translated)."""
    key = name.strip().lower()
    return ALIASES.get(key, key)


def parse_endpoint(text: str) -> tuple[str, str]:
    """`SERVICE=URL` as (botocore service name, URL).

    Raises:
        ValueError: not SERVICE=URL, or the URL is not http(s) with a host.
    """
    service, sep, url = text.partition("=")
    if not sep or not service.strip():
        raise ValueError(f"expected SERVICE=URL, got {text!r}")
    return service_key(service), _checked_url(url.strip(), service.strip())


def parse_endpoints(texts: Iterable[str]) -> dict[str, str]:
    return dict(parse_endpoint(text) for text in texts)


def read(path: str | Path) -> AwsSettings:
    """The settings in a TOML file (see the module docstring).

    Raises:
        ValueError: the file cannot be read or parsed, or holds something it should not (named).
    """
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    unknown = sorted(set(data) - {"region", "profile", "endpoints"})
    if unknown:
        raise ValueError(f"{path}: unknown setting {', '.join(unknown)} (expected region, profile, [endpoints])")
    region, profile, endpoints = data.get("region"), data.get("profile"), data.get("endpoints", {})
    for name, value in (("region", region), ("profile", profile)):
        if value is not None and (not isinstance(value, str) or not value):
            raise ValueError(f"{path}: {name} must be a non-empty string")
    if not isinstance(endpoints, dict):
        raise ValueError(f"{path}: [endpoints] must be a table of SERVICE = URL")
    parsed: dict[str, str] = {}
    for service, url in endpoints.items():
        if not isinstance(url, str):
            raise ValueError(f"{path}: endpoints.{service} must be a URL string")
        try:
            parsed[service_key(service)] = _checked_url(url, service)
        except ValueError as exc:
            raise ValueError(f"{path}: endpoints.{service}: {exc}") from None
    return AwsSettings(region=region, profile=profile, endpoints=parsed)


def _checked_url(url: str, service: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"the endpoint of {service} must be an http(s) URL with a host, got {url!r}")
    return url.rstrip("/")
