"""Signing in to the console with an access key: verified on the server, remembered by a session cookie.

The secret is compared on the server with the keys `pinflow server --auth` was given, and is never
stored: the cookie holds the access key id, an expiry, a random session id and an HMAC under a key
this process drew at random, over those and a hash of the key's secret, so nothing derived from the
secret reaches the browser. The cookie is HttpOnly (no script reads it) and SameSite=Strict (another
site's page cannot send it). A session ends when it expires, when its access key is no longer
configured or its secret changes (the HMAC no longer matches), at sign-out (its id is refused until
it would have expired), or when the server restarts (a new HMAC key).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

COOKIE = "pinflow_console_session"
LIFETIME_SECONDS = 12 * 3600


class SignInFailed(Exception):
    """The access key id is unknown or the secret does not match it."""


@dataclass
class Sessions:
    """Issues, checks and ends session tokens for the access keys in `keys` (id -> secret); `keys` is read
    at every check, so a key removed or given a new secret ends its sessions."""

    keys: Mapping[str, str]
    clock: Callable[[], float] = time.time
    lifetime: int = LIFETIME_SECONDS
    _key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    # Session ids signed out, with when they would have expired (dropped once they have).
    _ended: dict[str, int] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def sign_in(self, key_id: str, secret: str) -> str:
        """A session token for a valid access key.

        Raises:
            SignInFailed: unknown key id or wrong secret (the same error for both, so that a wrong
                guess does not tell which key ids exist).
        """
        expected = self.keys.get(key_id)
        # Compare against something of the same kind even for an unknown id: the time taken says nothing.
        matches = hmac.compare_digest(_bytes(expected or "\0" + secret), _bytes(secret))
        if expected is None or not matches:
            raise SignInFailed("The access key id or secret access key is not valid.")
        expires = int(self.clock()) + self.lifetime
        payload = f"{_b64(_bytes(key_id))}.{expires}.{secrets.token_urlsafe(16)}"
        return f"{payload}.{self._mac(payload, expected)}"

    def check(self, token: str | None) -> str | None:
        """The access key id of a valid, unexpired session token not signed out; None otherwise."""
        parts = _parts(token)
        if parts is None:
            return None
        encoded, expires, session_id, mac = parts
        try:
            key_id = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")
        except ValueError:
            return None
        secret = self.keys.get(key_id)
        if secret is None or not hmac.compare_digest(self._mac(f"{encoded}.{expires}.{session_id}", secret), mac):
            return None
        if int(expires) < self.clock():
            return None
        with self._lock:
            if session_id in self._ended:
                return None
        return key_id

    def sign_out(self, token: str | None) -> None:
        """End the session `token` holds (a token that is not valid ends nothing)."""
        if self.check(token) is None:
            return
        parts = _parts(token)
        assert parts is not None
        now = self.clock()
        with self._lock:
            for ended, expires in list(self._ended.items()):
                if expires < now:
                    del self._ended[ended]
            self._ended[parts[2]] = int(parts[1])

    def _mac(self, payload: str, secret: str) -> str:
        # The secret's hash is signed with the payload: a new secret for the same key id ends its sessions.
        signed = f"{payload}.{hashlib.sha256(_bytes(secret)).hexdigest()}"
        return _b64(hmac.new(self._key, _bytes(signed), hashlib.sha256).digest())


def _parts(token: str | None) -> tuple[str, str, str, str] | None:
    """A token's four parts (key id, expiry, session id, MAC), or None when it has not that shape."""
    if not token or token.count(".") != 3:
        return None
    encoded, expires, session_id, mac = token.split(".")
    if not (expires.isascii() and expires.isdigit() and len(expires) < 20):
        return None
    return encoded, expires, session_id, mac


def _bytes(text: str) -> bytes:
    # surrogatepass: text from outside that is not Unicode (a lone surrogate) compares as bytes, never raises.
    return text.encode("utf-8", "surrogatepass")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")
