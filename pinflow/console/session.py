"""Signing in to the console with an access key: verified on the server, remembered by a session cookie.

The secret is compared on the server with the keys `pinflow server --auth` was given, and is never
stored: the cookie holds the access key id, an expiry and an HMAC of both under a key this process drew
at random, so nothing derived from the secret reaches the browser. The cookie is HttpOnly (no script
reads it) and SameSite=Strict (another site's page cannot send it). A session ends when it expires, when
its access key is no longer configured, or when the server restarts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

COOKIE = "pinflow_console_session"
LIFETIME_SECONDS = 12 * 3600


class SignInFailed(Exception):
    """The access key id is unknown or the secret does not match it."""


@dataclass
class Sessions:
    """Issues and checks session tokens for the access keys in `keys` (id -> secret)."""

    keys: Mapping[str, str]
    clock: Callable[[], float] = time.time
    lifetime: int = LIFETIME_SECONDS
    _key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)

    def sign_in(self, key_id: str, secret: str) -> str:
        """A session token for a valid access key.

        Raises:
            SignInFailed: unknown key id or wrong secret (the same error for both, so that a wrong
                guess does not tell which key ids exist).
        """
        expected = self.keys.get(key_id)
        # Compare against something of the same kind even for an unknown id: the time taken says nothing.
        matches = hmac.compare_digest((expected or "\0" + secret).encode("utf-8"), secret.encode("utf-8"))
        if expected is None or not matches:
            raise SignInFailed("The access key id or secret access key is not valid.")
        expires = int(self.clock()) + self.lifetime
        payload = f"{_b64(key_id.encode('utf-8'))}.{expires}"
        return f"{payload}.{self._mac(payload)}"

    def check(self, token: str | None) -> str | None:
        """The access key id of a valid, unexpired session token; None otherwise."""
        if not token or token.count(".") != 2:
            return None
        encoded, expires, mac = token.split(".")
        payload = f"{encoded}.{expires}"
        if not hmac.compare_digest(self._mac(payload), mac):
            return None
        if not expires.isdigit() or int(expires) < self.clock():
            return None
        try:
            key_id = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")
        except ValueError:
            return None
        return key_id if key_id in self.keys else None

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode("utf-8"), hashlib.sha256).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")
