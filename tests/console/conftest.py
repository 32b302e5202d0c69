"""Browser tests of the console: Debian's chromium driven by Playwright, against a real pinflow server.

Playwright never downloads a browser here: it drives `/usr/bin/chromium` (installed by `.ci/run`), with
the flags this machine's closed network needs and a fresh profile. Without chromium the browser tests
fail where the console's tools are required (CI, `.ci/run`) and are skipped elsewhere, saying why.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pinflow.service import Pinflow
from tests.api.conftest import RunningServer
from tests.console import tools

CHROMIUM = os.environ.get("PINFLOW_CHROMIUM", "/usr/bin/chromium")
# Chromium's background connections (updates, sync, QUIC probes) are refused on a closed network and
# would slow every page: turn them off.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Screenshots for docs/console/ are written when this names a folder (the README's are made with
# PINFLOW_SCREENSHOTS=docs/console); otherwise into the test's temporary folder, so that a test run
# leaves the checkout as it was.
SCREENSHOTS = os.environ.get("PINFLOW_SCREENSHOTS")
VIEWPORT = {"width": 1440, "height": 1000}


def _chromium() -> str:
    found = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if found:
        return found
    tools.missing(f"chromium is not installed at {CHROMIUM}: `apt-get install -y chromium` (.ci/run installs it)")
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One chromium for the session, with a fresh profile."""
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=executable, headless=True,
            args=CHROMIUM_ARGS, viewport=VIEWPORT)
    except Exception:
        playwright.stop()
        raise
    try:
        yield context
    finally:
        context.close()
        playwright.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A new tab; cookies are cleared afterwards so that no session outlives its test."""
    tab = browser.new_page()
    tab.set_default_timeout(10_000)
    try:
        yield tab
    finally:
        tab.close()
        browser.clear_cookies()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where the test saves its screenshots."""
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Pinflow]:
    # The story's handlers are read from tmp_path by the test; the sandbox has tests of its own.
    pf = Pinflow.open(data_dir=tmp_path / "data", isolation="none")
    yield pf
    pf.close()


@pytest.fixture
def console(service: Pinflow) -> Iterator[RunningServer]:
    """A pinflow server (API and console) without sign-in."""
    running = RunningServer(service)
    yield running
    running.stop()
