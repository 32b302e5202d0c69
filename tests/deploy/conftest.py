"""Fixtures for deploy tests: project folders on disk, a real server (tests/api's) and deploy's clients."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from pinflow.deploy import clients
from tests.api.conftest import RunningServer, pinflow_service, server  # noqa: F401  (fixtures)

HELLO = 'def hello(event, context):\n    return "Approved"\n'


def write_project(folder: Path, project_yaml: str, files: dict[str, str] | None = None,
                  name: str = "serverless.yml") -> Path:
    """A project folder: the project file (dedented) and source files; returns the project file's path."""
    folder.mkdir(parents=True, exist_ok=True)
    for relative, text in (files if files is not None else {"handler.py": HELLO}).items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text), encoding="utf-8")
    path = folder / name
    path.write_text(textwrap.dedent(project_yaml).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Path]:
    def make(project_yaml: str, files: dict[str, str] | None = None, folder: str = "project",
             name: str = "serverless.yml") -> Path:
        return write_project(tmp_path / folder, project_yaml, files, name)

    return make


@pytest.fixture
def cl(server: RunningServer) -> clients.Clients:  # noqa: F811  (the fixture imported above)
    return clients.connect(server.endpoint)
