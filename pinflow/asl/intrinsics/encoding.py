"""States.Base64Encode, States.Base64Decode and States.Hash."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from typing import Any

from pinflow.asl.intrinsics import checks, values
from pinflow.asl.intrinsics.nodes import Env

# AWS's algorithm names and hashlib's names for them.
HASH_ALGORITHMS = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}


def _utf8(text: str) -> bytes:
    # A lone surrogate (possible in JSON text) becomes '?', as Java's String.getBytes does.
    return text.encode("utf-8", errors="replace")


def base64_encode(args: Sequence[Any], env: Env) -> str:
    """States.Base64Encode(text): the Base64 form of the UTF-8 bytes of `text` (at most 10,000 characters)."""
    text = checks.text_limit(env.name, checks.string(env.name, args[0], "the argument"), "the argument")
    return base64.b64encode(_utf8(text)).decode("ascii")


def base64_decode(args: Sequence[Any], env: Env) -> str:
    """States.Base64Decode(text): the UTF-8 text that Base64 `text` (at most 10,000 characters) encodes.

    Padding is optional, as with Java's decoder; bytes that are not UTF-8 decode to U+FFFD.
    """
    text = checks.text_limit(env.name, checks.string(env.name, args[0], "the argument"), "the argument")
    missing = -len(text) % 4
    try:
        if missing == 3:
            raise binascii.Error("truncated input")
        data = base64.b64decode(text + "=" * missing, validate=True)
    except (binascii.Error, ValueError):
        raise checks.failure(env.name, "the argument is not valid Base64") from None
    return data.decode("utf-8", errors="replace")


def hash_(args: Sequence[Any], env: Env) -> str:
    """States.Hash(data, algorithm): the lower-case hex digest of `data`.

    A string is hashed as its UTF-8 bytes; any other value as its compact JSON text. Either must be
    at most 10,000 characters long.
    """
    data = args[0]
    if data is None:
        raise checks.failure(env.name, "the data to hash must not be null")
    text = data if isinstance(data, str) else values.to_json_text(data)
    checks.text_limit(env.name, text, "the data to hash")
    algorithm = args[1]
    if not isinstance(algorithm, str) or algorithm not in HASH_ALGORITHMS:
        choices = ", ".join(HASH_ALGORITHMS)
        raise checks.failure(
            env.name, f"the algorithm must be one of {choices}, but got {values.to_json_text(algorithm)}"
        )
    return hashlib.new(HASH_ALGORITHMS[algorithm], _utf8(text), usedforsecurity=False).hexdigest()
