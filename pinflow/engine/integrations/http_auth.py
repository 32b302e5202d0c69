"""Sending an HTTP Task's request with its EventBridge connection's authorization.

BASIC sends `Authorization: Basic`, API_KEY sends the key as the header it names, and
OAUTH_CLIENT_CREDENTIALS first gets a token from the connection's AuthorizationEndpoint (the client id
and secret as Basic credentials, the connection's OAuthHttpParameters as headers, query and form body)
and sends `Authorization: Bearer <access_token>`. Tokens are kept in memory until `expires_in` runs out
and fetched again when the API answers 401; a token is kept for the connection's OAuth parameters as they
were when it was fetched, so one fetched before UpdateConnection (or before the connection was deleted
and made again) is never sent after it. urllib3 (botocore's own HTTP client) carries the requests, to
the address the host policy checked (`hosts.HostPolicy.resolve`), with the name kept in the Host
header and for TLS (SNI and certificate checks).

Nothing that fails here names a secret: a request that cannot be sent or gets no answer is `NoAnswer`
with a cause naming the host and port only (an exception's own text may hold a header's value or a
URL's query string). A response body is read up to `limit` bytes and no further (`TooLarge`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
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


class Unauthorized(NoAnswer):
    """The connection could not be authorized (it is DEAUTHORIZED now); `cause` names nothing secret."""


class TooLarge(Exception):
    """The response's body is longer than the caller's limit (it was not read further)."""


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
_CHUNK = 64 * 1024
TOKEN_LIMIT = 64 * 1024  # an OAuth token endpoint's answer is small
# What a header's value may hold (no control characters), as EventBridge's HeaderValue pattern allows.
_HEADER_TEXT = re.compile(r"[\x20-\x7E]+")
# connection ARN -> (fingerprint of the OAuth parameters, token, monotonic expiry)
_tokens: dict[str, tuple[str, str, float]] = {}
_tokens_lock = threading.Lock()


def forget(connection_arn: str) -> None:
    """Drop the token kept for a connection (it was updated, deauthorized or deleted)."""
    with _tokens_lock:
        _tokens.pop(connection_arn, None)


def _fingerprint(auth: dict[str, Any]) -> str:
    """What a token was fetched with: a digest of the connection's OAuth parameters, secrets included."""
    oauth = auth.get("OAuthParameters") or {}
    return hashlib.sha256(json.dumps(oauth, sort_keys=True, default=str).encode()).hexdigest()


class Sender:
    """Sends one request to an allowed host, authorized as its connection says.

    Args:
        hosts: where requests may go.
        connections: the connection registry (its state is set as authorization goes).
        limit: the most bytes of a response body read (a longer one raises TooLarge).
    """

    def __init__(self, hosts: HostPolicy, connections: Any, limit: int | None = None) -> None:
        self.hosts = hosts
        self.connections = connections
        self.limit = limit

    def send(self, connection_arn: str, connection: dict[str, Any], method: str, url: str,
             headers: dict[str, str], body: bytes | None, timeout: float) -> Response:
        """The API's answer. Raises hosts.Refused, NoAnswer (Unauthorized: no OAuth token) or TooLarge."""
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
            forget(connection_arn)
            headers["Authorization"] = "Bearer " + self._token(connection_arn, auth, timeout)
            response = self._request(method, url, headers, body, timeout)
        return response

    def _token(self, connection_arn: str, auth: dict[str, Any], timeout: float) -> str:
        fingerprint = _fingerprint(auth)
        with _tokens_lock:
            kept = _tokens.get(connection_arn)
        if kept is not None and kept[0] == fingerprint and kept[2] > time.monotonic():
            return kept[1]
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
            response = self._request(str(oauth.get("HttpMethod", "POST")), endpoint, headers, body, timeout,
                                     limit=TOKEN_LIMIT)
        except (NoAnswer, TooLarge) as exc:
            cause = exc.cause if isinstance(exc, NoAnswer) else "the authorization endpoint's answer is too large"
            self.connections.set_state(connection_arn, "DEAUTHORIZED", f"Failed to authorize: {cause}")
            raise Unauthorized(f"The connection {connection_arn} could not be authorized: {cause}") from None
        token, expires = None, 3600.0
        if 200 <= response.status < 300:
            try:
                answer = json.loads(response.data)
                token = answer.get("access_token")
                expires = float(answer.get("expires_in") or expires)
            except (ValueError, AttributeError, TypeError):
                token = None
        if not isinstance(token, str) or not token or not _HEADER_TEXT.fullmatch(token):
            self.connections.set_state(connection_arn, "DEAUTHORIZED",
                                       f"The authorization endpoint answered {response.status} without an access token")
            raise Unauthorized(f"The connection {connection_arn} could not be authorized: the authorization endpoint "
                           f"answered {response.status} without an access token")
        self.connections.set_state(connection_arn, "AUTHORIZED")
        with _tokens_lock:
            _tokens[connection_arn] = (fingerprint, token, time.monotonic() + max(expires - 30.0, 1.0))
        return token

    def _request(self, method: str, url: str, headers: dict[str, str], body: bytes | None,
                 timeout: float, limit: int | None = None) -> Response:
        return fetch(self.hosts, method, url, headers, body, timeout, limit if limit is not None else self.limit)


def fetch(hosts: HostPolicy, method: str, url: str, headers: dict[str, str], body: bytes | None,
          timeout: float, limit: int | None = None) -> Response:
    """Send one request to the address `hosts` allows for the URL's host (the name kept in the Host
    header and for TLS); the answer with at most `limit` bytes of body.

    Raises:
        hosts.Refused: the host may not be reached.
        NoAnswer: the request could not be sent or got no answer (the cause names host and port only).
        TooLarge: the body is longer than `limit`.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    allowed = hosts.addresses(host, port)
    headers = {name: value for name, value in headers.items() if name.lower() != "host"}
    headers["Host"] = host if parts.port is None else f"{host}:{parts.port}"
    if ":" in host:
        headers["Host"] = f"[{host}]" + (f":{parts.port}" if parts.port is not None else "")
    # TLS is checked against the name the URL gives, though the connection goes to the address.
    tls = {"server_hostname": host, "assert_hostname": host} if parts.scheme == "https" else None
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    deadline = time.monotonic() + timeout
    for index, address in enumerate(allowed):
        # Each allowed address in turn (IPv6 and IPv4 of one name), as a connection would try them,
        # moving on only when no connection could be made.
        try:
            pool = _POOL.connection_from_host(address, port, parts.scheme, pool_kwargs=tls)
            answer = pool.urlopen(method, target, headers=headers, body=body, redirect=False, retries=False,
                                  assert_same_host=False,
                                  timeout=urllib3.Timeout(total=max(deadline - time.monotonic(), 0.001)),
                                  preload_content=False)
            break
        except urllib3.exceptions.NewConnectionError as exc:
            if index == len(allowed) - 1 or time.monotonic() >= deadline:
                raise NoAnswer(_why(exc, host, port)) from None
        except urllib3.exceptions.HTTPError as exc:
            raise NoAnswer(_why(exc, host, port)) from None
        except Exception as exc:  # noqa: BLE001 - http.client's ValueError names an invalid header's value
            raise NoAnswer(f"The request to {host}:{port} could not be sent ({type(exc).__name__})") from None
    try:
        data = _read(answer, limit)
    except urllib3.exceptions.HTTPError as exc:
        raise NoAnswer(_why(exc, host, port)) from None
    finally:
        answer.release_conn()
    names: dict[str, list[str]] = {}
    for name in answer.headers:
        names[name] = answer.headers.getlist(name)
    return Response(answer.status, answer.reason or "", names, data)


def _read(answer: Any, limit: int | None) -> bytes:
    """The body, or TooLarge once more than `limit` bytes came (nothing past limit + one chunk is read)."""
    if limit is None:
        return bytes(answer.read())
    length = answer.headers.get("Content-Length")
    if length is not None and length.isdigit() and int(length) > limit:
        answer.close()
        raise TooLarge()
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = answer.read(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > limit:
            answer.close()
            raise TooLarge()
        chunks.append(chunk)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _why(exc: Exception, host: str, port: int) -> str:
    """What went wrong, naming the host and port only (a URL may carry a secret query parameter)."""
    inner = getattr(exc, "reason", None) or exc
    # urllib3 counts a refused connection as a kind of connect timeout: say which it was.
    refused = isinstance(inner, urllib3.exceptions.NewConnectionError) and not isinstance(
        getattr(inner, "__cause__", None), TimeoutError)
    if not refused and isinstance(inner, urllib3.exceptions.TimeoutError | TimeoutError):
        return f"The request to {host}:{port} timed out"
    detail = str(getattr(inner, "__cause__", None) or "")
    errno = getattr(getattr(inner, "__cause__", None), "strerror", None)
    reason = errno or (detail.rsplit(": ", 1)[-1] if detail else type(inner).__name__)
    return f"Unable to connect to {host}:{port}: {reason}"
