"""A pinflow server's address as people give it, and one clear line for each way it can be wrong.

`normalize` accepts `127.0.0.1:8083` (http is meant) and refuses what botocore would misuse: another
scheme, a path (botocore would put it before every operation's path, and the server would answer
"Unknown operation"), a query. `explain` turns what botocore raises for an address that is not a
pinflow server (an HTML page, an answer that is not the AWS API, no answer) into one line, and
`server_mode` reads the `x-pinflow-iam` header that every pinflow answer carries.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

IAM_HEADER = "x-pinflow-iam"
ENFORCED = "enforced"
PERMISSIVE = "permissive"


class EndpointError(Exception):
    """The endpoint is malformed or is not a pinflow server; the message is one line."""


def normalize(text: str) -> str:
    """`scheme://host:port` for an endpoint given with or without `http://`.

    Raises:
        EndpointError: another scheme, no host, a bad port, a path, a query or a fragment.
    """
    given = text.strip()
    if not given:
        raise EndpointError("no endpoint given (e.g. --endpoint http://127.0.0.1:8083)")
    candidate = given if "://" in given else f"http://{given}"
    parts = urlsplit(candidate)
    if parts.scheme not in ("http", "https"):
        raise EndpointError(f"endpoint {given}: only http:// and https:// are served (e.g. http://127.0.0.1:8083)")
    try:
        port = parts.port
    except ValueError:
        raise EndpointError(f"endpoint {given}: the port is not a number from 0 to 65535") from None
    if not parts.hostname:
        raise EndpointError(f"endpoint {given}: no host (e.g. http://127.0.0.1:8083)")
    base = f"{parts.scheme}://{parts.netloc}"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise EndpointError(f"endpoint {given}: a pinflow server is addressed without a path; give {base}")
    del port
    return base


def explain(exc: BaseException, endpoint: str) -> str | None:
    """One line for an error that says the endpoint is not a (reachable) pinflow server; None for an
    error a pinflow server answered (the caller reports that one as it is)."""
    from botocore.exceptions import ClientError, ConnectionError, EndpointConnectionError
    from botocore.parsers import ResponseParserError

    if isinstance(exc, EndpointConnectionError | ConnectionError):
        return (f"cannot reach a pinflow server at {endpoint} (start one with `pinflow server`, or give "
                "--endpoint)")
    if isinstance(exc, ResponseParserError):
        return f"{endpoint} answered with something that is not the AWS API: it is not a pinflow server"
    if isinstance(exc, ClientError):
        response: dict[str, Any] = exc.response
        headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        if IAM_HEADER in headers:
            return None
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        message = str(response.get("Error", {}).get("Message", ""))
        kind = "an HTML page" if "<html" in message.lower() or "<!doctype" in message.lower() else "an answer"
        return f"{endpoint} answered HTTP {status} with {kind} that no pinflow server sends: it is not a pinflow server"
    return None


def server_mode(answer: dict[str, Any], endpoint: str) -> str:
    """The IAM mode a pinflow server announced in an answer (`enforced` or `permissive`).

    Raises:
        EndpointError: the answer did not come from a pinflow server.
    """
    headers = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    mode = headers.get(IAM_HEADER)
    if mode not in (ENFORCED, PERMISSIVE):
        raise EndpointError(f"{endpoint} answers the AWS API but is not a pinflow server (no {IAM_HEADER} header)")
    return str(mode)
