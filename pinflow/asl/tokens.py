"""Task tokens: what a callback task's receiver or an activity worker hands back to answer the task.

A token names the execution and the task it answers, then a secret: the service can tell a token it
issued for a task that has since closed (AWS answers TaskTimedOut) from text that was never a token
(InvalidToken), and nobody can answer a task without having been given its token.
"""

from __future__ import annotations

import base64
import binascii

_SEPARATOR = "\n"


def make(execution_id: str, task_id: str, secret: int) -> str:
    """The token for task `task_id` of execution `execution_id`; `secret` is 128 random bits."""
    raw = _SEPARATOR.join((execution_id, task_id, f"{secret:032x}")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read(token: object) -> tuple[str, str] | None:
    """(execution id, task id) that `token` names, or None when it is not a token this module made."""
    if not isinstance(token, str) or not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    parts = raw.split(_SEPARATOR)
    if len(parts) != 3 or not all(parts) or len(parts[2]) != 32:
        return None
    return parts[0], parts[1]
