"""The front end shipped in the package (pinflow/console/static) is exactly what its source builds: the
test type-checks the source, builds it into a temporary folder with the locked packages, and compares
every file byte for byte. Without Node.js it fails where the console's tools are required (CI,
`.ci/run`) and is skipped elsewhere (`tests/console/tools.py`)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.console import tools

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "console"
STATIC = ROOT / "pinflow" / "console" / "static"
REBUILD = "cd console && npm ci && npm run build"


def _run(command: list[str], cwd: Path) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"


@pytest.mark.slow
def test_the_committed_build_is_what_the_source_builds(tmp_path: Path) -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        tools.missing("Node.js and npm are needed to rebuild the console's front end")
    if tools.required() or not (SOURCE / "node_modules").is_dir():
        _run(["npm", "ci", "--no-audit", "--no-fund"], SOURCE)
    _run(["npm", "run", "--silent", "typecheck"], SOURCE)
    _run(["node", "build.mjs", "--outdir", str(tmp_path)], SOURCE)
    built = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    committed = {path.name: path.read_bytes() for path in STATIC.iterdir() if path.is_file()}
    assert sorted(built) == sorted(committed), f"the files differ; rebuild: {REBUILD}"
    stale = sorted(name for name in built if built[name] != committed[name])
    assert not stale, f"{', '.join(stale)} differ from what the source builds; rebuild: {REBUILD}"


def test_the_package_ships_the_built_front_end() -> None:
    # `pip install .` needs no Node.js: the build output is package data (pyproject's package-data).
    import tomllib

    from pinflow.console import app

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "static/*" in config["tool"]["setuptools"]["package-data"]["pinflow.console"]
    for asset in (*app.ASSETS, "index.html"):
        assert (app.STATIC / asset).is_file(), asset


def _build_check_without_node(require: bool) -> str:
    """The build check's outcome ("failed", "skipped", ...) in a pytest run that finds no Node.js."""
    import sys

    env = {key: value for key, value in os.environ.items() if key not in ("CI", tools.REQUIRE)}
    env["PATH"] = str(Path(sys.executable).parent)  # the virtualenv's tools only: no node, no npm
    if require:
        env[tools.REQUIRE] = "1"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"{Path(__file__)}::test_the_committed_build_is_what_the_source_builds"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    for outcome in ("failed", "skipped", "passed"):
        if f"1 {outcome}" in done.stdout:
            return outcome
    raise AssertionError(done.stdout + done.stderr)


def test_without_node_the_build_check_fails_where_the_tools_are_required() -> None:
    assert _build_check_without_node(require=True) == "failed"
    assert _build_check_without_node(require=False) == "skipped"
    # CI runs .ci/run, which requires them.
    assert f"export {tools.REQUIRE}=1" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
