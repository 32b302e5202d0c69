"""API Gateway, optimized: `arn:aws:states:::apigateway:invoke[.waitForTaskToken]`, as AWS documents it
("Create API Gateway REST APIs with Step Functions").

Parameters: `ApiEndpoint` (the API's host, `ID.execute-api.REGION.amazonaws.com`) and `Method`
(required), `Stage`, `Path`, `Headers` and `QueryParameters` (each value a list of strings),
`RequestBody` (sent as JSON; its null members are left out unless `AllowNullValues` is true), and
`AuthType`: `NO_AUTH` (the default), `IAM_ROLE` (the request is signed with SigV4 for `execute-api`
with the server's AWS credentials) or `RESOURCE_POLICY`. Headers AWS reserves (`Authorization`,
`Host`, `X-Amz-*`, ...) are refused. The result is `{"Headers", "ResponseBody", "StatusCode",
"StatusText"}`; an answer outside 2xx fails the Task with `ApiGateway.<status>` (the cause: the
answer's body), no answer with `ApiGateway.SdkClientException`. A pinflow extension: an `http://` or
`https://` URL as the endpoint (an emulator's). The workflow chooses where the request goes, so the
server's `--http-task-hosts` policy applies, as it does to HTTP Tasks.

IAM: `execute-api:Invoke` on `arn:aws:execute-api:REGION:ACCOUNT:ID/STAGE/METHOD/PATH` when `AuthType`
is `IAM_ROLE` (refused as API Gateway refuses it: `ApiGateway.403`); nothing otherwise.
"""

from __future__ import annotations

import http
import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from pinflow.asl import dataflow
from pinflow.asl import errors as asl_errors
from pinflow.asl.validation import resources
from pinflow.engine.integrations import aws_service, base, http_auth
from pinflow.engine.integrations.hosts import Refused

RESOURCE = "arn:aws:states:::apigateway:invoke"
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
AUTH_TYPES = ("NO_AUTH", "IAM_ROLE", "RESOURCE_POLICY")
RESERVED = frozenset(h.lower() for h in ("Authorization", "Connection", "Content-md5", "Expect", "Host",
                                         "Max-Forwards", "Proxy-Authenticate", "Server", "TE",
                                         "Transfer-Encoding", "Trailer", "Upgrade", "Via", "Www-Authenticate"))
RESERVED_PREFIXES = ("x-forwarded", "x-amz", "x-amzn")
TIMEOUT_SECONDS = 29.0  # API Gateway's own limit on an integration


class Invoke(aws_service.AwsBacked):
    name = "apigateway"
    patterns = frozenset(base.SUFFIXES[s] for s in resources.patterns("apigateway", "invoke"))

    def serves(self, resource: str) -> bool:
        found = aws_service.split(resource)
        return found is not None and found[1] == "apigateway" and found[2] == "invoke"

    def aws_service(self, resource: str) -> str | None:
        return None  # calls the API's own endpoint, not an AWS API

    def _request(self, call: base.Call) -> tuple[str, str, str, dict[str, str], bytes | None]:
        """(url, method, auth type, headers, body) of a call, or TaskError for a field that is wrong."""
        p = call.parameters
        endpoint, method, auth = p.get("ApiEndpoint"), p.get("Method"), p.get("AuthType", "NO_AUTH")
        if not isinstance(endpoint, str) or not endpoint:
            raise base.TaskError("States.Runtime", "The field 'ApiEndpoint' is required and must be a string")
        if not isinstance(method, str) or method.upper() not in METHODS:
            raise base.TaskError("States.Runtime", f"The field 'Method' must be one of {', '.join(METHODS)}")
        if auth not in AUTH_TYPES:
            raise base.TaskError("States.Runtime", f"The field 'AuthType' must be one of {', '.join(AUTH_TYPES)}")
        base_url = endpoint if "://" in endpoint else f"https://{endpoint}"
        path = "/".join(part.strip("/") for part in (str(p.get("Stage") or ""), str(p.get("Path") or ""))
                        if part.strip("/"))
        url = base_url.rstrip("/") + "/" + quote(path, safe="/")
        query = _pairs(p.get("QueryParameters"), "QueryParameters")
        if query:
            url += "?" + urlencode(query)
        headers = {"Accept": "application/json"}
        for name, value in _pairs(p.get("Headers"), "Headers"):
            if name.lower() in RESERVED or name.lower().startswith(RESERVED_PREFIXES):
                raise base.TaskError("States.Runtime", f"The 'Headers' field contains unsupported values: {name}")
            headers[name] = f"{headers[name]},{value}" if name in headers and name != "Accept" else value
        body = None
        if "RequestBody" in p:
            given = p["RequestBody"]
            if not p.get("AllowNullValues"):
                given = _without_nulls(given)
            body = (given if isinstance(given, str) else json.dumps(given, separators=(",", ":"),
                                                                    ensure_ascii=False)).encode("utf-8")
            headers["Content-Type"] = "application/json"
        return url, method.upper(), str(auth), headers, body

    def needs(self, call: base.Call) -> Sequence[base.Need]:
        url, method, auth, _, _ = self._request(call)
        if auth != "IAM_ROLE":
            return []
        region, account = aws_service.place(call)
        parts = urlsplit(url)
        api = (parts.hostname or "").split(".")[0]
        region = _host_region(parts.hostname or "") or region
        return [base.Need("execute-api:Invoke", f"arn:aws:execute-api:{region}:{account}:{api}/"
                          f"{str(call.parameters.get('Stage') or '').strip('/')}/{method}/"
                          f"{str(call.parameters.get('Path') or '').lstrip('/')}")]

    def denied(self, call: base.Call, message: str) -> Any:
        """API Gateway refuses a signed call its policies do not allow with a 403 and IAM's message."""
        return call.failed("ApiGateway.403", json.dumps({"Message": message}))

    def start(self, call: base.Call) -> base.Started:
        url, method, auth, headers, body = self._request(call)
        if auth == "IAM_ROLE":
            headers = _signed(call, url, method, headers, body)
        try:
            # Sent to the address the host policy checked, the body read no further than AWS's limit.
            response = http_auth.fetch(call.engine.http_hosts, method, url, dict(headers), body, TIMEOUT_SECONDS,
                                       dataflow.PAYLOAD_LIMIT)
        except Refused as exc:
            raise base.TaskError("ApiGateway.SdkClientException", str(exc)) from None
        except http_auth.NoAnswer as exc:
            raise base.TaskError("ApiGateway.SdkClientException",
                                 f"Unable to execute HTTP request: {exc.cause}") from None
        except http_auth.TooLarge:
            raise base.TaskError(asl_errors.DATA_LIMIT_EXCEEDED, (
                f"The state/task '{call.command.state_name}' returned a result with a size exceeding the maximum "
                "number of bytes service limit.")) from None
        text = response.data.decode("utf-8", errors="replace")
        if not 200 <= response.status < 300:
            raise base.TaskError(f"ApiGateway.{response.status}", text)
        answer: Any = text
        if "json" in response.content_type.lower() or text[:1] in ("{", "["):
            try:
                answer = json.loads(text) if text else {}
            except ValueError:
                answer = text
        result = {"Headers": response.headers, "ResponseBody": answer, "StatusCode": response.status,
                  "StatusText": _reason(response.status)}
        if call.command.pattern == base.CALLBACK:
            return base.AwaitToken()
        return base.Done(call.succeeded(result))


def _pairs(value: Any, field: str) -> list[tuple[str, str]]:
    """`{"name": ["a", "b"]}` as pairs (a single string counts as a list of one)."""
    if value is None:
        return []
    if not isinstance(value, dict):
        raise base.TaskError("States.Runtime", f"The field '{field}' must be an object of string lists")
    pairs = []
    for name, items in value.items():
        for item in items if isinstance(items, list) else [items]:
            pairs.append((str(name), item if isinstance(item, str) else json.dumps(item)))
    return pairs


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def _host_region(host: str) -> str | None:
    parts = host.split(".")
    return parts[2] if len(parts) >= 4 and parts[1] == "execute-api" else None


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _signed(call: base.Call, url: str, method: str, headers: dict[str, str], body: bytes | None) -> dict[str, str]:
    """The headers with a SigV4 signature for `execute-api` (AuthType IAM_ROLE)."""
    credentials = call.engine.aws.credentials()
    if credentials is None:
        raise base.TaskError("ApiGateway.SdkClientException", call.engine.aws.missing("execute-api") or
                             "Unable to load AWS credentials to sign the request")
    region = _host_region(urlsplit(url).hostname or "") or call.engine.aws.region(None, aws_service.place(call)[0])
    request = AWSRequest(method=method, url=url, data=body or b"", headers=dict(headers))
    SigV4Auth(credentials.get_frozen_credentials(), "execute-api", region).add_auth(request)
    return dict(request.headers.items())
