"""Request authentication: AWS Signature Version 4, verified against a table of access keys.

Verification follows the SigV4 specification: the canonical request (method, the path with dot
segments removed and URI-encoded again, the sorted query, the signed headers, the payload hash), the
string to sign over the credential scope, and the HMAC chain from `AWS4<secret>` through date,
region, service and `aws4_request`. What went wrong is raised as the AWS error a client expects;
the app renders it in the protocol's error shape.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import hmac
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote

from pinflow import arns, errors

ALGORITHM = "AWS4-HMAC-SHA256"
ENV_KEYS = "PINFLOW_ACCESS_KEYS"
# AWS refuses a request signed more than 15 minutes before or after its own clock.
MAX_SKEW_SECONDS = 15 * 60
_STAMP = "%Y%m%dT%H%M%SZ"
_UNSIGNED = ("UNSIGNED-PAYLOAD", "STREAMING-")
# IAM is a global service: requests to it are signed for us-east-1 in the aws partition.
IAM_REGION = "us-east-1"

INVALID_TOKEN = "The security token included in the request is invalid."
SIGNATURE_MISMATCH = ("The request signature we calculated does not match the signature you provided. "
                      "Check your AWS Secret Access Key and signing method. Consult the service "
                      "documentation for details.")


class MissingAuthenticationToken(errors.ServiceError):
    code = "MissingAuthenticationTokenException"
    status = 403


class IncompleteSignature(errors.ServiceError):
    code = "IncompleteSignatureException"
    status = 400


# The Query protocol (IAM) names the same failures differently.
QUERY_CODES: dict[str, tuple[str, int]] = {
    "MissingAuthenticationTokenException": ("MissingAuthenticationToken", 403),
    "IncompleteSignatureException": ("IncompleteSignature", 400),
    "UnrecognizedClientException": ("InvalidClientTokenId", 403),
    "InvalidSignatureException": ("SignatureDoesNotMatch", 403),
}


def parse_keys(text: str) -> dict[str, str]:
    """`id:secret,id2:secret2` (the PINFLOW_ACCESS_KEYS format) as a table.

    Raises:
        ValueError: an entry without a secret.
    """
    keys: dict[str, str] = {}
    for entry in text.split(","):
        entry = entry.strip()
        if not entry:
            continue
        key_id, sep, secret = entry.partition(":")
        if not sep or not key_id or not secret:
            raise ValueError(f"{ENV_KEYS}: expected 'ACCESS_KEY_ID:SECRET', got {entry!r}")
        keys[key_id] = secret
    return keys


def load_keys(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The access keys from a JSON file (`{"ACCESS_KEY_ID": "SECRET"}`) and/or PINFLOW_ACCESS_KEYS.

    Raises:
        ValueError: the file is not such an object, or the variable is malformed.
    """
    environ = os.environ if environ is None else environ
    keys = parse_keys(environ.get(ENV_KEYS, ""))
    if path is not None:
        loaded = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(loaded, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                   for k, v in loaded.items()):
            raise ValueError(f"{path}: expected a JSON object of access key id -> secret")
        keys.update(loaded)
    return keys


def remove_dot_segments(path: str) -> str:
    """RFC 3986 dot-segment removal; AWS also collapses repeated slashes."""
    if not path:
        return "/"
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment and segment != ".":
            kept.append(segment)
    lead = "/" if path.startswith("/") else ""
    trail = "/" if path.endswith("/") and kept else ""
    return lead + "/".join(kept) + trail


def canonical_query(query: str) -> str:
    """Query parameters URI-encoded, sorted by name then value."""
    if not query:
        return ""
    pairs = []
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((quote(unquote(name), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """SigV4's signing key: HMAC-SHA256 from `AWS4<secret>` through date, region, service, aws4_request."""
    key = hmac.digest(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256)
    for part in (region, service, "aws4_request"):
        key = hmac.digest(key, part.encode(), hashlib.sha256)
    return key


@dataclass
class _Authorization:
    key_id: str
    scope: str  # date/region/service/aws4_request
    signed_headers: list[str]
    signature: str


def _parse_authorization(header: str) -> _Authorization:
    algorithm, _, rest = header.strip().partition(" ")
    fields: dict[str, str] = {}
    if algorithm == ALGORITHM:
        for item in rest.split(","):
            name, sep, value = item.strip().partition("=")
            if sep:
                fields[name] = value
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if not fields.get(name)]
    if missing:
        wanted = " ".join(f"Authorization header requires '{name}' parameter." for name in missing)
        raise IncompleteSignature(f"{wanted} Authorization={header}")
    key_id, _, scope = fields["Credential"].partition("/")
    if scope.count("/") != 3 or not scope.endswith("/aws4_request"):
        raise IncompleteSignature(
            f"Credential should be scoped to a valid region. Credential={fields['Credential']}")
    return _Authorization(key_id, scope, fields["SignedHeaders"].lower().split(";"), fields["Signature"])


@dataclass(frozen=True)
class Signed:
    """A request's signature details, once its headers passed `Auth.check_headers`."""

    authorization: _Authorization
    secret: str = field(repr=False)
    stamp: str
    received: Mapping[str, list[str]] = field(repr=False)


@dataclass(frozen=True)
class Service:
    """Who a request is for, as its credential scope must name it.

    Attributes:
        name: the signing name (`states`, `lambda`, `iam`).
        region: the region the signature must be scoped to.
        payload_signed: whether the signature must cover the payload's SHA-256 (AWS JSON and Query
            services refuse `UNSIGNED-PAYLOAD` and streaming payloads).
    """

    name: str
    region: str
    payload_signed: bool = True


@dataclass
class Auth:
    """Verifies SigV4 signatures against `keys` (access key id -> secret access key).

    Args:
        keys: the accepted access keys.
        clock: seconds since the epoch (a test may move it).
        region: the server's region, which regional services' signatures must be scoped to.
    """

    keys: Mapping[str, str]
    clock: Callable[[], float] = time.time
    region: str = arns.DEFAULT_REGION
    _signing_keys: dict[tuple[str, str], bytes] = field(default_factory=dict, repr=False)

    def verify(self, method: str, raw_path: str, query: str, headers: Iterable[tuple[str, str]],
               body: bytes, service: Service | None = None) -> str:
        """Check one request's signature: `check_headers`, then `check_signature`.

        Args:
            method: the HTTP method.
            raw_path: the path exactly as sent (still percent-encoded).
            query: the query string as sent.
            headers: (name, value) pairs as received; names in any case.
            body: the request body.
            service: the service the request is for; None checks neither scope nor payload hash.

        Returns:
            The access key id that signed the request.

        Raises:
            MissingAuthenticationToken: no Authorization header.
            IncompleteSignature: a malformed Authorization header.
            UnrecognizedClientException: an unknown access key.
            InvalidSignatureException: the signature does not match, its date is too far off, its
                scope names another region or service, the payload is not signed where it must be,
                or a header that must be signed is not.
        """
        signed = self.check_headers(headers, service)
        return self.check_signature(signed, method, raw_path, query, body, service)

    def check_headers(self, headers: Iterable[tuple[str, str]], service: Service | None = None) -> Signed:
        """Everything that can be checked before the body is read: the Authorization header, the
        access key, the date, the credential scope, and which headers are signed.

        Raises:
            MissingAuthenticationToken, IncompleteSignature, UnrecognizedClientException,
            InvalidSignatureException: as `verify`.
        """
        received: dict[str, list[str]] = {}
        for name, value in headers:
            received.setdefault(name.lower(), []).append(value)
        header = (received.get("authorization") or [""])[0]
        if not header:
            raise MissingAuthenticationToken("Missing Authentication Token")
        authorization = _parse_authorization(header)
        secret = self.keys.get(authorization.key_id)
        if secret is None:
            raise errors.UnrecognizedClientException(INVALID_TOKEN)
        stamp = (received.get("x-amz-date") or [""])[0] or _from_http_date((received.get("date") or [""])[0])
        signed_at = _parse_stamp(stamp)
        if signed_at is None:
            raise IncompleteSignature(
                f"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
                f"Authorization={header}")
        self._check_time(stamp, signed_at)
        date, region, service_name, _ = authorization.scope.split("/")
        if service is not None and region != service.region:
            raise errors.InvalidSignatureException(f"Credential should be scoped to a valid region, not '{region}'. ")
        if service is not None and service_name != service.name:
            raise errors.InvalidSignatureException(
                f"Credential should be scoped to correct service: '{service.name}'. ")
        if date != stamp[:8]:
            raise errors.InvalidSignatureException(
                f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                f"'{date}' != '{stamp[:8]}', from 'X-Amz-Date'.")
        if "host" not in authorization.signed_headers:
            raise errors.InvalidSignatureException("'Host' or ':authority' must be a 'SignedHeader' in the "
                                                   "AWS Authorization.")
        # SigV4 wants every x-amz-* header in the signature (botocore signs them all). Unsigned, the
        # operation's name (X-Amz-Target) or Lambda's invocation type could be swapped on a signed request.
        unsigned = sorted(name for name in received
                          if name.startswith("x-amz-") and name not in authorization.signed_headers)
        if unsigned:
            raise errors.InvalidSignatureException(
                f"There were headers present in the request which were not signed: {', '.join(unsigned)}")
        return Signed(authorization, secret, stamp, received)

    def check_signature(self, signed: Signed, method: str, raw_path: str, query: str, body: bytes,
                        service: Service | None = None) -> str:
        """Check the signature of a request whose headers passed `check_headers`.

        Returns:
            The access key id that signed the request.

        Raises:
            InvalidSignatureException: the body's hash or the signature does not match, or the payload
                is not signed and `service` wants it signed.
        """
        authorization, received = signed.authorization, signed.received
        digest = hashlib.sha256(body).hexdigest()
        claimed = received["x-amz-content-sha256"][0] if "x-amz-content-sha256" in received else None
        if claimed is not None and claimed.startswith(_UNSIGNED) and service is not None and service.payload_signed:
            raise errors.InvalidSignatureException(
                f"{SIGNATURE_MISMATCH} This service signs the payload itself: x-amz-content-sha256 must be "
                f"the SHA-256 of the body, not '{claimed}'.")
        if claimed is not None and not claimed.startswith(_UNSIGNED) and claimed != digest:
            raise errors.InvalidSignatureException(
                "The provided 'x-amz-content-sha256' header does not match what was computed.")
        canonical = "\n".join([
            method.upper(),
            quote(remove_dot_segments(raw_path), safe="/~"),
            canonical_query(query),
            "".join(f"{name}:{','.join(' '.join(v.split()) for v in received.get(name, []))}\n"
                    for name in authorization.signed_headers),
            ";".join(authorization.signed_headers),
            claimed if claimed is not None else digest,
        ])
        to_sign = "\n".join([ALGORITHM, signed.stamp, authorization.scope,
                             hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
        date, region, service_name, _ = authorization.scope.split("/")
        key = self._key(signed.secret, date, region, service_name)
        expected = hmac.digest(key, to_sign.encode("utf-8"), hashlib.sha256).hex()
        if not hmac.compare_digest(expected, authorization.signature):
            raise errors.InvalidSignatureException(SIGNATURE_MISMATCH)
        return authorization.key_id

    def _check_time(self, stamp: str, signed_at: float) -> None:
        now = self.clock()
        if signed_at < now - MAX_SKEW_SECONDS:
            raise errors.InvalidSignatureException(
                f"Signature expired: {stamp} is now earlier than {_format(now - MAX_SKEW_SECONDS)} "
                f"({_format(now)} - 15 min.)")
        if signed_at > now + MAX_SKEW_SECONDS:
            raise errors.InvalidSignatureException(
                f"Signature not yet current: {stamp} is still later than {_format(now + MAX_SKEW_SECONDS)} "
                f"({_format(now)} + 15 min.)")

    def _key(self, secret: str, date: str, region: str, service: str) -> bytes:
        # One derivation per key and scope per day, not per request.
        cache_key = (secret, f"{date}/{region}/{service}")
        key = self._signing_keys.get(cache_key)
        if key is None:
            if len(self._signing_keys) > 256:
                self._signing_keys.clear()
            key = self._signing_keys[cache_key] = signing_key(secret, date, region, service)
        return key


def _parse_stamp(stamp: str) -> float | None:
    """Seconds since the epoch of a `YYYYMMDDTHHMMSSZ` stamp; None when it is not one.

    Read by position (strptime costs more than the rest of the header checks together); the datetime
    built from the fields still refuses a day or an hour that does not exist."""
    if len(stamp) != 16 or stamp[8] != "T" or stamp[15] != "Z" or not (stamp[:8] + stamp[9:15]).isdigit() \
            or not stamp.isascii():
        return None
    try:
        return dt.datetime(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:8]), int(stamp[9:11]), int(stamp[11:13]),
                           int(stamp[13:15]), tzinfo=dt.UTC).timestamp()
    except ValueError:
        return None


def _from_http_date(text: str) -> str:
    """An RFC 7231 `Date` header as a SigV4 stamp ("" when absent or unreadable)."""
    if not text:
        return ""
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return ""
    return when.astimezone(dt.UTC).strftime(_STAMP)


def _format(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).strftime(_STAMP)
