"""HTTP Tasks: `arn:aws:states:::http:invoke`, as AWS documents them ("Call HTTPS APIs").

Fields: `ApiEndpoint` and `Method` (required), `Authentication.ConnectionArn` (required: an EventBridge
connection on this server), `Headers`, `QueryParameters`, `RequestBody`, and `Transform`
(`RequestBodyEncoding: URL_ENCODED` with `RequestEncodingOptions.ArrayFormat` INDICES (the default),
REPEAT, COMMAS or BRACKETS). The connection's InvocationHttpParameters are merged in, its values
winning, as EventBridge merges them. The result is `{Headers, ResponseBody, StatusCode, StatusText}`;
a status outside 2xx fails the task with `States.Http.StatusCode.<code>` (the cause is that result as
JSON text), and a request that gets no answer (refused, unreachable, over the 60 seconds AWS allows,
or a host `--http-task-hosts` does not allow) with `States.Http.Socket`. The connection's own failures
are AWS's `Events.ConnectionResource.*` errors: `ResourceNotFound` for a connection that does not
exist, `InvalidConnectionState` for one that could not be authorized (DEAUTHORIZED). An answer AWS
does not support (a binary content type, `application/octet-stream`, `image/*`, `video/*`,
`audio/*`, or a body that is not text) fails with `States.Runtime`. A response body is read up
to the 256 KiB AWS allows a task's result and no further: a longer one fails the task with
`States.DataLimitExceeded`, as a result over the limit does.

Secrets stay out of history and logs: what the connection adds (credentials, secret parameters) is
never recorded; only the Task's own parameters (TaskScheduled) and the response are, and a failure's
cause names the host and port, never an exception's text (which may quote a header or a query). A pinflow
extension: `http://` endpoints are allowed too (AWS calls HTTPS only), for services on a private network
the host policy admits.

IAM, as AWS requires: `states:InvokeHTTPEndpoint` on the state machine (condition keys
`states:HTTPEndpoint` and `states:HTTPMethod`) and `events:RetrieveConnectionCredentials` on the
connection.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

from pinflow import arns
from pinflow.asl import dataflow
from pinflow.asl import errors as asl_errors
from pinflow.asl.validation import resources
from pinflow.engine.integrations import base, http_auth
from pinflow.engine.integrations.base import Call, Reference
from pinflow.engine.integrations.hosts import Refused

RESOURCE = "arn:aws:states:::http:invoke"
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD")
ARRAY_FORMATS = ("INDICES", "REPEAT", "COMMAS", "BRACKETS")
TIMEOUT_SECONDS = 60.0  # AWS's limit on one HTTP Task request
INVOKE, CREDENTIALS = "states:InvokeHTTPEndpoint", "events:RetrieveConnectionCredentials"
KIND = "connection"
SOCKET = "States.Http.Socket"
NOT_FOUND = "Events.ConnectionResource.ResourceNotFound"
INVALID_STATE = "Events.ConnectionResource.InvalidConnectionState"
BINARY_TYPES = ("application/octet-stream", "image/", "video/", "audio/")


class HttpInvoke(base.Integration):
    name = "http"
    patterns = frozenset(base.SUFFIXES[suffix] for suffix in resources.patterns("http", "invoke"))

    def serves(self, resource: str) -> bool:
        return resource == RESOURCE or resource.startswith(RESOURCE + ".")

    def _request(self, call: Call) -> tuple[str, str, str]:
        """(endpoint, method, connection ARN) of a call, or TaskError for a field that is wrong."""
        parameters = call.parameters
        endpoint, method = parameters.get("ApiEndpoint"), parameters.get("Method")
        connection = (parameters.get("Authentication") or {}).get("ConnectionArn") if isinstance(
            parameters.get("Authentication"), dict) else None
        if not isinstance(endpoint, str) or urlsplit(endpoint).scheme not in ("https", "http") or not urlsplit(
                endpoint).hostname:
            raise base.TaskError("States.Runtime", "The field 'ApiEndpoint' must be an https (or http) URL")
        if not isinstance(method, str) or method.upper() not in METHODS:
            raise base.TaskError("States.Runtime", f"The field 'Method' must be one of {', '.join(METHODS)}")
        if not isinstance(connection, str):
            raise base.TaskError("States.Runtime", "The field 'Authentication.ConnectionArn' is required")
        return endpoint, method.upper(), connection

    def needs(self, call: Call) -> Sequence[base.Need]:
        endpoint, method, connection = self._request(call)
        split = arns.split_execution(call.execution_arn)
        parsed = arns.parse(call.execution_arn)
        region = parsed.region if parsed and parsed.region else arns.DEFAULT_REGION
        account = parsed.account if parsed and parsed.account else arns.DEFAULT_ACCOUNT
        machine = arns.state_machine(split[0] if split else "", region=region, account=account)
        return (base.Need(INVOKE, machine, {"states:HTTPEndpoint": endpoint, "states:HTTPMethod": method}),
                base.Need(CREDENTIALS, connection))

    def start(self, call: Call) -> base.Started:
        endpoint, method, connection_arn = self._request(call)
        connection = call.engine.registry.connections.credentials(connection_arn)
        if connection is None:
            raise base.TaskError(NOT_FOUND, f"The connection {connection_arn} does not exist")
        parameters = call.parameters
        headers = _texts(parameters.get("Headers"), "Headers")
        query = _query(parameters.get("QueryParameters"))
        given = parameters.get("Transform")
        transform: dict[str, Any] = given if isinstance(given, dict) else {}
        encoding = transform.get("RequestBodyEncoding", "NONE")
        array_format = (transform.get("RequestEncodingOptions") or {}).get("ArrayFormat", "INDICES")
        if encoding not in ("NONE", "URL_ENCODED") or array_format not in ARRAY_FORMATS:
            raise base.TaskError("States.Runtime", "The field 'Transform' has an unsupported value")
        invocation = http_auth.invocation_parameters(connection)
        body = parameters.get("RequestBody")
        if invocation.body:
            if body is None:
                body = {}
            if isinstance(body, dict):  # the connection's body parameters win, as EventBridge merges them
                body = {**body, **invocation.body}
        query = [(k, v) for k, v in query if k not in invocation.query] + list(invocation.query.items())
        lowered = {key.lower() for key in invocation.headers}
        headers = {k: v for k, v in headers.items() if k.lower() not in lowered} | invocation.headers
        content: bytes | None = None
        if body is not None:
            if encoding == "URL_ENCODED":
                if not isinstance(body, dict):
                    raise base.TaskError("States.Runtime", "A URL_ENCODED RequestBody must be an object")
                content = urlencode(form_pairs(body, array_format)).encode()
                _default(headers, "Content-Type", "application/x-www-form-urlencoded")
            else:
                content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
                _default(headers, "Content-Type", "application/json")
        _default(headers, "User-Agent", "Amazon|StepFunctions|HttpInvoke|" + arns.DEFAULT_REGION)
        url = endpoint + (("&" if urlsplit(endpoint).query else "?") + urlencode(query) if query else "")
        sender = http_auth.Sender(call.engine.http_hosts, call.engine.registry.connections,
                                  limit=dataflow.PAYLOAD_LIMIT)
        try:
            response = sender.send(connection_arn, connection, method, url, headers, content, TIMEOUT_SECONDS)
        except Refused as exc:
            raise base.TaskError(SOCKET, str(exc)) from None
        except http_auth.Unauthorized as exc:
            raise base.TaskError(INVALID_STATE, exc.cause) from None
        except http_auth.NoAnswer as exc:
            raise base.TaskError(SOCKET, exc.cause) from None
        except http_auth.TooLarge:
            raise base.TaskError(asl_errors.DATA_LIMIT_EXCEEDED, (
                f"The state/task '{call.command.state_name}' returned a result with a size exceeding the maximum "
                "number of bytes service limit.")) from None
        result = {"Headers": response.headers, "ResponseBody": _body(response), "StatusCode": response.status,
                  "StatusText": response.reason}
        if not 200 <= response.status < 300:
            return base.Done(call.failed(f"States.Http.StatusCode.{response.status}",
                                         json.dumps(result, separators=(",", ":"), ensure_ascii=False)))
        return base.Done(call.succeeded(result))

    # --- what a definition names ------------------------------------------------------------------

    def references(self, state_path: str, state: dict[str, Any]) -> list[Reference]:
        found = []
        for block, payload in base.parameters_of(state):
            authentication = payload.get("Authentication")
            arn = authentication.get("ConnectionArn") if isinstance(authentication, dict) else None
            if isinstance(arn, str) and not base.is_expression(arn):
                name = arn.split(":connection/", 1)[-1].split("/", 1)[0]
                found.append(Reference(KIND, state_path, f"{block}.Authentication.ConnectionArn", arn, arn, arn,
                                       name))
        return found

    def grants(self, references: Sequence[Reference], computed: Sequence[base.Computed],
               patterns: frozenset[str], context: Mapping[str, str]) -> list[dict[str, Any]]:
        """What AWS's HTTP Task asks of the role: invoking HTTP endpoints from this machine, and the
        credentials of each connection named (with the Secrets Manager actions AWS keeps them behind,
        so the role works on AWS as well)."""
        machine = arns.state_machine(context["machine"], region=context["region"], account=context["account"])
        connections = sorted({ref.arn for ref in references}) or ["*"]
        return [
            {"Effect": "Allow", "Action": [INVOKE], "Resource": [machine]},
            {"Effect": "Allow", "Action": [CREDENTIALS], "Resource": connections},
            {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
             "Resource": ["arn:aws:secretsmanager:*:*:secret:events!connection/*"]},
        ]


def form_pairs(value: Any, array_format: str, prefix: str = "") -> list[tuple[str, str]]:
    """An object as URL-encoded form pairs, arrays written as `array_format` says:
    INDICES `a[0]=x&a[1]=y`, REPEAT `a=x&a=y`, COMMAS `a=x,y`, BRACKETS `a[]=x&a[]=y`."""
    pairs: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            pairs.extend(form_pairs(item, array_format, f"{prefix}[{key}]" if prefix else str(key)))
    elif isinstance(value, list):
        if array_format == "COMMAS":
            pairs.append((prefix, ",".join(_scalar(item) for item in value)))
        else:
            for index, item in enumerate(value):
                key = {"INDICES": f"{prefix}[{index}]", "REPEAT": prefix, "BRACKETS": f"{prefix}[]"}[array_format]
                pairs.extend(form_pairs(item, array_format, key))
    else:
        pairs.append((prefix, _scalar(value)))
    return pairs


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _texts(value: Any, field: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise base.TaskError("States.Runtime", f"The field '{field}' must be an object")
    return {str(key): _scalar(item) for key, item in value.items()}


def _query(value: Any) -> list[tuple[str, str]]:
    """QueryParameters as pairs (an array value repeats its key)."""
    if value is None:
        return []
    if not isinstance(value, dict):
        raise base.TaskError("States.Runtime", "The field 'QueryParameters' must be an object")
    pairs: list[tuple[str, str]] = []
    for key, item in value.items():
        for one in item if isinstance(item, list) else [item]:
            pairs.append((str(key), _scalar(one)))
    return pairs


def _default(headers: dict[str, str], name: str, value: str) -> None:
    if name.lower() not in {key.lower() for key in headers}:
        headers[name] = value


def _body(response: http_auth.Response) -> Any:
    """The response body: JSON when it says it is JSON (and parses), else text.

    Raises:
        TaskError: `States.Runtime` for an answer AWS does not support (binary content)."""
    kind = response.content_type.split(";", 1)[0].strip().lower()
    if kind.startswith(BINARY_TYPES):
        raise base.TaskError("States.Runtime", f"The HTTP response's content type {kind} is not supported")
    try:
        text = response.data.decode("utf-8")
    except UnicodeDecodeError:
        raise base.TaskError("States.Runtime", "The HTTP response body cannot be read as text") from None
    if "json" in response.content_type.lower():
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text
