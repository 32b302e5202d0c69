"""Fixtures for engine tests: a pinflow on real SQLite (and PostgreSQL where marked), a fake clock."""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, suppress
from pathlib import Path

import pytest

from pinflow.clock import FakeClock
from pinflow.functions.package import package_folder
from pinflow.service import Pinflow
from tests.backends import BACKENDS, postgres_schema

ROLE_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=time.time())


@pytest.fixture(params=BACKENDS)
def open_pinflow(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[Callable[[], Pinflow]]:
    """Opens pinflow on one database (SQLite or PostgreSQL); call again after `close()` for a real restart."""
    opened: list[Pinflow] = []
    with ExitStack() as stack:
        url = stack.enter_context(postgres_schema("pinflow_engine")) if request.param == "postgres" else None

        def open_(**options: object) -> Pinflow:
            # Handlers here talk to the test through files in tmp_path, which a sandboxed worker cannot
            # see; the sandbox has tests of its own (tests/functions/test_sandbox.py).
            options.setdefault("isolation", "none")
            pf = Pinflow.open(data_dir=tmp_path / "data", db=url, clock=clock, **options)
            opened.append(pf)
            return pf

        yield open_
        for pf in opened:
            with suppress(Exception):  # already closed by the test
                pf.close()


def function_zip(tmp_path: Path, name: str, body: str) -> bytes:
    """A function's code as a zip: `app.py` holding `body`."""
    folder = tmp_path / f"src-{name}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(textwrap.dedent(body), encoding="utf-8")
    return package_folder(folder)


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)
