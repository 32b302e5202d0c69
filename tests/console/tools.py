"""The tools the console's tests need besides Python (Node.js and npm to rebuild the front end, chromium
to drive it): missing, a test fails where they are required (CI, or PINFLOW_REQUIRE_CONSOLE_TOOLS, which
`.ci/run` sets) and is skipped elsewhere, saying why."""

from __future__ import annotations

import os

import pytest

REQUIRE = "PINFLOW_REQUIRE_CONSOLE_TOOLS"


def required() -> bool:
    """Whether a missing tool fails the tests (rather than skipping them)."""
    return bool(os.environ.get(REQUIRE) or os.environ.get("CI"))


def missing(reason: str) -> None:
    """Fail (where the tools are required) or skip, with `reason`."""
    if required():
        pytest.fail(f"{reason} ({REQUIRE} or CI is set, so the console's tests require it)")
    pytest.skip(reason)
