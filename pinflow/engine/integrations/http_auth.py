"""Sending an HTTP Task's request with its EventBridge connection's authorization.

BASIC sends `Authorization: Basic`, API_KEY sends the key as the header it names, and
OAUTH_CLIENT_CREDENTIALS first gets a token from the connection's AuthorizationEndpoint (the client id
and secret as Basic credentials, the connection's OAuthHttpParameters as headers, query and form body)
and sends `Authorization: Bearer <access_token>`. Tokens are kept in memory until `expires_in` runs out
and fetched again when the API answers 401. urllib3 (botocore's own HTTP client) carries the requests.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import urllib3

from pinflow.engine.integrations.hosts import HostPolicy


class NoAnswer(Exception):
    """The request got no HTTP answer; `cause` says why without naming anything secret."""

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


@dataclass(frozen=True)
class Response:
    status: int
    reason: str
    headers: dict[str, list[str]]
    data: bytes

    @property
    def content_type(self) -> str:
        return next((values[0] for name, values in self.headers.items() if name.lower() == "content-type"), "")


@dataclass(frozen=True)
class Invocation:
    """A connection's InvocationHttpParameters, secrets included."""

    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    body: dict[str, str] = field(default_factory=dict)


def invocation_parameters(connection: dict[str, Any]) -> Invocation:
    return _parameters(connection["AuthParameters"].get("InvocationHttpParameters") or {})


def _parameters(given: dict[str, Any]) -> Invocation:
    def pairs(key: str) -> dict[str, str]:
        return {str(item.get("Key")): str(item.get("Value", "")) for item in given.get(key) or []}

    return Invocation(pairs("HeaderParameters"), pairs("QueryStringParameters"), pairs("BodyParameters"))


class _WithoutQueries(logging.Filter):
    """urllib3 logs each request line at DEBUG, query string included, and a connection's query
    parameters may be secret (an API key): the query is left out of those lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) > 4 and isinstance(record.args[4], str):
            path, mark, _ = record.args[4].partition("?")
            if mark:
                record.args = (*record.args[:4], f"{path}?(query not logged)", *record.args[5:])
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_WithoutQueries())
_POOL = urllib3.PoolManager(num_pools=32, maxsize=8, retries=False)
_tokens: dict[str, tuple[str, float]] = {}
_tokens_lock = threading.Lock()


class Sender:
    """Sends one request to an allowed host, authorized as its connection says."""

    def __init__(self, hosts: HostPolicy, connections: Any) -> None:
        self.hosts = hosts
        self.connections = connections

    def send(self, connection_arn: str, connection: dict[str, Any], method: str, url: str,
             headers: dict[str, str], body: bytes | None, timeout: float) -> Response:
        """The API's answer. Raises hosts.Refused or NoAnswer."""
        kind = connection["AuthorizationType"]
        auth = connection["AuthParameters"]
        headers = dict(headers)
        if kind == "BASIC":
            basic = auth.get("BasicAuthParameters") or {}
            headers["Authorization"] = _basic(basic.get("Username", ""), basic.get("Password") or "")
        elif kind == "API_KEY":
            key = auth.get("ApiKeyAuthParameters") or {}
            headers[str(key.get("ApiKeyName"))] = str(key.get("ApiKeyValue") or "")
        elif kind == "OAUTH_CLIENT_CREDENTIALS":
            headers["Authorization"] = "Bearer " + self._token(connection_arn, auth, timeout)
        response = self._request(method, url, headers, body, timeout)
        if response.status == 401 and kind == "OAUTH_CLIENT_CREDENTIALS":
            # The token may have been revoked or expired early: get a new one, once.
            with _tokens_lock:
                _tokens.pop(connection_arn, None)
            headers["Authorization"] = "Bearer " + self._token(connection_arn, auth, timeout)
            response = self._request(method, url, headers, body, timeout)
        return response

    def _token(self, connection_arn: str, auth: dict[str, Any], timeout: float) -> str:
        with _tokens_lock:
            kept = _tokens.get(connection_arn)
        if kept is not None and kept[1] > time.monotonic():
            return kept[0]
        oauth = auth.get("OAuthParameters") or {}
        client = oauth.get("ClientParameters") or {}
        extra = _parameters(oauth.get("OAuthHttpParameters") or {})
        headers = dict(extra.headers)
        headers["Authorization"] = _basic(client.get("ClientID", ""), client.get("ClientSecret") or "")
        endpoint = str(oauth.get("AuthorizationEndpoint", ""))
        if extra.query:
            endpoint += ("&" if urlsplit(endpoint).query else "?") + urlencode(extra.query)
        body = None
        if extra.body:
            body = urlencode(extra.body).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        try:
            response = self._request(str(oauth.get("HttpMethod", "POST")), endpoint, headers, body, timeout)
        except NoAnswer as exc:
            self.connections.set_state(connection_arn, "DEAUTHORIZED", f"Failed to authorize: {exc.cause}")
            raise
        token, expires = None, 3600.0
        if 200 <= response.status < 300:
            try:
                import json

                answer = json.loads(response.data)
                token = answer.get("access_token")
                expires = float(answer.get("expires_in") or expires)
            except (ValueError, AttributeError, TypeError):
                token = None
        if not isinstance(token, str) or not token:
            self.connections.set_state(connection_arn, "DEAUTHORIZED",
                                       f"The authorization endpoint answered {response.status} without an access token")
            raise NoAnswer(f"The connection {connection_arn} could not be authorized: the authorization endpoint "
                           f"answered {response.status} without an access token")
        self.connections.set_state(connection_arn, "AUTHORIZED")
        with _tokens_lock:
            _tokens[connection_arn] = (token, time.monotonic() + max(expires - 30.0, 1.0))
        return token

    def _request(self, method: str, url: str, headers: dict[str, str], body: bytes | None,
                 timeout: float) -> Response:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        self.hosts.check(host, port)
        try:
            answer = _POOL.request(method, url, headers=headers, body=body, redirect=False,
                                   timeout=urllib3.Timeout(total=timeout), preload_content=True)
        except urllib3.exceptions.HTTPError as exc:
            raise NoAnswer(_why(exc, host, port)) from None
        names: dict[str, list[str]] = {}
        for name in answer.headers:
            names[name] = answer.headers.getlist(name)
        return Response(answer.status, answer.reason or "", names, answer.data)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _why(exc: Exception, host: str, port: int) -> str:
    """What went wrong, naming the host and port only (a URL may carry a secret query parameter)."""
    inner = getattr(exc, "reason", None) or exc
    if isinstance(inner, urllib3.exceptions.TimeoutError | TimeoutError):
        return f"The request to {host}:{port} timed out"
    detail = str(getattr(inner, "__cause__", None) or "")
    errno = getattr(getattr(inner, "__cause__", None), "strerror", None)
    reason = errno or (detail.rsplit(": ", 1)[-1] if detail else type(inner).__name__)
    return f"Unable to connect to {host}:{port}: {reason}"
