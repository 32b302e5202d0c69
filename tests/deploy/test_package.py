"""Deterministic packaging of a project's functions: the same sources give the same SHA-256."""

from __future__ import annotations

import os
import zipfile
from io import BytesIO
from pathlib import Path

import pytest

from pinflow.deploy import package, project
from pinflow.deploy.yamlfile import ProjectError


def _function(**changes: object) -> project.Function:
    base = {"key": "hello", "name": "svc-dev-hello", "handler": "handler.hello", "runtime": "python3.11",
            "timeout": 6, "memory_size": 1024, "environment": {}}
    return project.Function(**{**base, **changes})  # type: ignore[arg-type]


def _tree(root: Path) -> None:
    (root / "lib").mkdir(parents=True)
    (root / "handler.py").write_text("def hello(event, context):\n    return 1\n")
    (root / "lib" / "util.py").write_text("X = 1\n")
    (root / "serverless.yml").write_text("service: svc\n")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"\x00")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_x.py").write_text("")


def test_the_same_sources_give_the_same_digest_whatever_the_file_times(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    _tree(first)
    _tree(second)
    for index, path in enumerate(sorted(second.rglob("*"))):
        os.utime(path, (1_000_000 + index, 2_000_000 + index))
    one = package.package_function(_function(), first)
    two = package.package_function(_function(), second)
    assert one.zip_bytes == two.zip_bytes and one.sha256 == two.sha256
    # The project file, byte code and tool folders are never part of a function.
    assert one.files == ("handler.py", "lib/util.py", "tests/test_x.py")


def test_a_changed_source_changes_the_digest(tmp_path: Path) -> None:
    _tree(tmp_path)
    before = package.package_function(_function(), tmp_path).sha256
    (tmp_path / "lib" / "util.py").write_text("X = 2\n")
    assert package.package_function(_function(), tmp_path).sha256 != before


def test_patterns_apply_in_order(tmp_path: Path) -> None:
    _tree(tmp_path)
    patterns = ("!tests/**", "!lib/**", "lib/util.py")
    selected = package.package_function(_function(patterns=patterns), tmp_path)
    assert selected.files == ("handler.py", "lib/util.py")
    only_python = package.select(tmp_path, ("!**", "**/*.py", "!tests"))
    assert only_python == ["handler.py", "lib/util.py"]


def test_a_source_folder_is_packaged_whole(tmp_path: Path) -> None:
    _tree(tmp_path)
    packaged = package.package_function(_function(handler="util.main", source=tmp_path / "lib"), tmp_path)
    with zipfile.ZipFile(BytesIO(packaged.zip_bytes)) as archive:
        assert archive.namelist() == ["util.py"]
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


@pytest.mark.parametrize("handler", ["missing.hello", "nodot"])
def test_a_handler_with_no_module_in_the_package_is_refused(tmp_path: Path, handler: str) -> None:
    _tree(tmp_path)
    with pytest.raises(ProjectError, match=r"functions\.hello\.handler"):
        package.package_function(_function(handler=handler), tmp_path)
