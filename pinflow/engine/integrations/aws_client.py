"""AWS service calls through botocore: one client per service and region, credentials from botocore's
chain, endpoints as `aws_settings` says; what came back, or why nothing did, as values.

A call goes where botocore sends it: the service's AWS endpoint for the region, unless an endpoint is
overridden. With an override and no credentials anywhere, the call is signed with placeholder
credentials (a local emulator checks none); with neither an override nor credentials, nothing is sent
and the call fails (`CallFailed`, kind "route"), naming the service and the option to set.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import botocore
import botocore.config
import botocore.exceptions
import botocore.session

from pinflow.engine.integrations.aws_settings import CONFIG_OPTION, ENDPOINT_OPTION, AwsSettings

log = logging.getLogger(__name__)

DEFAULT_REGION = "us-east-1"
PLACEHOLDER = "pinflow"  # the access key and secret an emulator endpoint gets when there are no credentials
_CONFIG = botocore.config.Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=10,
                                 read_timeout=65, max_pool_connections=32)
# Looks at a running job (`quick` calls): a status call that does not answer soon is given up and made
# again at the next look, so one that hangs holds a watch thread for seconds, not minutes.
POLL_CONNECT_SECONDS, POLL_READ_SECONDS = 5.0, 15.0


@dataclass(frozen=True, slots=True)
class Reply:
    """A service's answer: the parsed response (without botocore's ResponseMetadata), the HTTP status,
    the response headers as sent (name case kept) and the request id."""

    response: dict[str, Any]
    status: int
    headers: tuple[tuple[str, str], ...]
    request_id: str


class CallFailed(Exception):
    """A call that did not come back with an answer; `kind` says how: "service" (the service answered
    with an error), "client" (no answer: the endpoint was unreachable, or the request could not be
    made), "route" (no endpoint and no credentials: nothing was sent)."""

    def __init__(self, kind: str, service: str, message: str, *, code: str = "", status: int = 0,
                 request_id: str = "", host_id: str = "", shape: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.service = service
        self.message = message
        self.code = code
        # The error's name in the model: the code, or for a JSON service that keeps its Query codes
        # (SQS: `AWS.SimpleQueueService.NonExistentQueue`) the name botocore gives it apart.
        self.shape = shape or code
        self.status = status
        self.request_id = request_id
        self.host_id = host_id


class AwsClients:
    """botocore clients per (service, region), made once and shared by every worker thread.

    Args:
        settings: region, profile and endpoint overrides (none: botocore's own chain decides).
        session: a botocore session; made from `settings.profile` when None.
    """

    def __init__(self, settings: AwsSettings | None = None, session: botocore.session.Session | None = None) -> None:
        self.settings = settings or AwsSettings()
        self.session = session or botocore.session.Session(profile=self.settings.profile)
        self._clients: dict[tuple[str, str, bool], Any] = {}
        self._lock = threading.Lock()
        self._credentials: Any = None
        self._credentials_known = False

    # --- where calls go -----------------------------------------------------------------------------

    def region(self, given: str | None = None, fallback: str | None = None) -> str:
        """The region of a call: the one it names, else the settings', else botocore's chain (AWS_REGION,
        the profile), else `fallback` (the execution's region), else us-east-1."""
        return (given or self.settings.region or self.session.get_config_variable("region") or fallback
                or DEFAULT_REGION)

    def credentials(self) -> Any:
        """botocore's credentials, looked up once (the chain may ask the instance metadata service);
        None when there are none."""
        with self._lock:
            if not self._credentials_known:
                try:
                    self._credentials = self.session.get_credentials()
                except botocore.exceptions.BotoCoreError as exc:
                    log.warning("AWS credentials could not be loaded: %s", exc)
                    self._credentials = None
                self._credentials_known = True
            return self._credentials

    def missing(self, service: str) -> str | None:
        """Why calls to `service` (a botocore name) cannot be made: neither an endpoint nor credentials;
        None when they can."""
        if self.settings.endpoint(service) or self.credentials() is not None:
            return None
        return (f"pinflow has no endpoint and no AWS credentials for the service '{service}': set "
                f"{ENDPOINT_OPTION} {service}=URL (or [endpoints] in {CONFIG_OPTION} FILE) to call an "
                "emulator, or give credentials the way AWS SDKs take them (AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an instance or container role)")

    def client(self, service: str, region: str, quick: bool = False) -> Any:
        """The botocore client of `service` in `region` (made once); `quick`: the one for status calls,
        with short timeouts and one retry."""
        key = (service, region, quick)
        found = self._clients.get(key)
        if found is not None:
            return found
        credentials = self.credentials()
        with self._lock:
            found = self._clients.get(key)
            if found is None:
                found = self._clients[key] = self._make(service, region, credentials is not None, quick)
        return found

    def _make(self, service: str, region: str, has_credentials: bool, quick: bool = False) -> Any:
        endpoint = self.settings.endpoint(service)
        config = _CONFIG
        if quick:
            config = _CONFIG.merge(botocore.config.Config(
                retries={"mode": "standard", "max_attempts": 2}, connect_timeout=POLL_CONNECT_SECONDS,
                read_timeout=POLL_READ_SECONDS))
        options: dict[str, Any] = {"region_name": region, "config": config}
        if endpoint:
            options["endpoint_url"] = endpoint
            if not has_credentials:
                options.update(aws_access_key_id=PLACEHOLDER, aws_secret_access_key=PLACEHOLDER)
        client = self.session.create_client(service, **options)
        client.meta.events.register("after-call", _keep_headers)
        return client

    # --- calls ----------------------------------------------------------------------------------------

    def call(self, service: str, operation: str, params: Mapping[str, Any], region: str, *,
             quick: bool = False) -> Reply:
        """Call `operation` (botocore's name, e.g. "PutItem") of `service` with `params` (botocore's
        member names and types); `quick` for a status call, given up soon when the service does not
        answer (`POLL_READ_SECONDS`).

        Raises:
            CallFailed: the service's error, no answer, or no route (see CallFailed).
        """
        problem = self.missing(service)
        if problem is not None:
            raise CallFailed("route", service, problem)
        try:
            client = self.client(service, region, quick)
        except botocore.exceptions.BotoCoreError as exc:  # a profile that does not exist, say
            raise CallFailed("client", service, f"Unable to make a {service} client: {exc}") from None
        method = getattr(client, botocore.xform_name(operation))
        try:
            response = method(**params)
        except botocore.exceptions.ClientError as exc:
            answer = exc.response
            error, meta = answer.get("Error", {}), answer.get("ResponseMetadata", {})
            raise CallFailed("service", service, str(error.get("Message") or error.get("message") or ""),
                             code=str(error.get("Code", "")), status=int(meta.get("HTTPStatusCode") or 0),
                             request_id=str(meta.get("RequestId", "")), host_id=str(meta.get("HostId", "")),
                             shape=str(error.get("QueryErrorCode") or "")) from None
        except botocore.exceptions.ParamValidationError as exc:
            raise CallFailed("client", service, str(exc).replace("\n", " ")) from None
        except (botocore.exceptions.BotoCoreError, OSError) as exc:
            raise CallFailed("client", service, f"Unable to execute HTTP request: {exc}") from None
        meta = response.pop("ResponseMetadata", {})
        headers = meta.pop("_pinflow_headers", None) or tuple(meta.get("HTTPHeaders", {}).items())
        return Reply(response, int(meta.get("HTTPStatusCode") or 200), tuple(headers), str(meta.get("RequestId", "")))



_models_session = botocore.session.Session()
_models_lock = threading.Lock()


@functools.lru_cache(maxsize=512)
def service_model(service: str) -> Any:
    """botocore's model of a service (loaded once; models never change while the server runs).

    Raises:
        botocore.exceptions.UnknownServiceError: botocore does not know the service."""
    with _models_lock:
        return _models_session.get_service_model(service)


@functools.lru_cache(maxsize=4096)
def operation_model(service: str, operation: str) -> Any:
    return service_model(service).operation_model(operation)


def available_services() -> list[str]:
    with _models_lock:
        return list(_models_session.get_available_services())


def _keep_headers(http_response: Any, parsed: Any, **_: Any) -> None:
    """Keep the response headers with their names as sent (ResponseMetadata lower-cases them), for the
    SdkHttpMetadata Step Functions adds to optimized integrations' results."""
    if isinstance(parsed, dict):
        parsed.setdefault("ResponseMetadata", {})["_pinflow_headers"] = tuple(http_response.headers.items())
