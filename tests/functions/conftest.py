"""Isolations to run workers under, and a way to find a worker's processes from the host."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pinflow.functions import sandbox

# Set by CI, where bubblewrap is installed: a missing sandbox is then a failure, not a skip.
REQUIRE_SANDBOX = "PINFLOW_REQUIRE_SANDBOX"


def sandbox_or_skip(protect: list[Path] | None = None) -> sandbox.Sandbox:
    """A working sandbox, or skip the test (fail it where the sandbox is required)."""
    try:
        return sandbox.create_sandbox(protect or [])
    except sandbox.Unavailable as exc:
        if os.environ.get(REQUIRE_SANDBOX):
            pytest.fail(f"{REQUIRE_SANDBOX} is set and the sandbox is unavailable: {exc}")
        pytest.skip(f"the sandbox is unavailable here: {exc}")


# The sandbox as an ordinary user's server makes it (in a user namespace), tried here under root too.
USER_NAMESPACE = "sandbox-userns"


@pytest.fixture(params=[sandbox.SANDBOX, USER_NAMESPACE, sandbox.NONE])
def isolation(request: pytest.FixtureRequest) -> sandbox.Isolation:
    """Each isolation a worker can run under: the tests that take it run once under each."""
    if request.param == sandbox.NONE:
        return sandbox.create(sandbox.NONE)
    chosen = sandbox_or_skip()
    if request.param == USER_NAMESPACE:
        if chosen.uid is None:
            pytest.skip("this server is not root: its sandbox is the user-namespace one already")
        return sandbox.Sandbox(chosen.bwrap, None, uid=None)
    return chosen


def host_processes(marker: str) -> list[int]:
    """The host pids of live processes whose environment holds `marker` (a worker and its children:
    inside the sandbox a worker's own pid means nothing out here)."""
    needle = marker.encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in environ and state != "Z":
            found.append(int(entry.name))
    return found


def eventually(check: Callable[[], bool], seconds: float = 5.0) -> bool:
    """Whether `check()` becomes true within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False
