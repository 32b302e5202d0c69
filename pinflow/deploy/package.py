"""Packaging a project's functions: the same sources always give the same zip, so the same SHA-256.

A function with `pinflow.source` is its folder, zipped by `pinflow.functions.package.package_folder`.
Otherwise it is the project folder filtered by Serverless's `package.patterns` (in order; `!` excludes;
a later pattern overrides an earlier one), leaving out what is never code: the project file itself,
version-control and tool folders, and Python byte code. Every entry has a fixed time and mode
either way, so file times never change a function's digest.
"""

from __future__ import annotations

import io
import os
import re
import stat
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pinflow.deploy.project import PROJECT_FILES, Function
from pinflow.deploy.yamlfile import ProjectError
from pinflow.functions import package as function_package

# Never part of a function, whatever the patterns say.
ALWAYS_SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", ".serverless", ".pinflow", ".venv", "venv",
                                 "node_modules", "__pycache__", ".pytest_cache", ".mypy_cache",
                                 ".ruff_cache"})
ALWAYS_SKIPPED_FILES = frozenset({*PROJECT_FILES, ".DS_Store", ".gitignore"})
_PYTHON_SUFFIXES = (".pyc", ".pyo")


@dataclass(frozen=True)
class Package:
    """A function's zip and its digest as Lambda reports it (`CodeSha256`, base64)."""

    zip_bytes: bytes
    sha256: str
    files: tuple[str, ...]


def package_function(function: Function, root: Path) -> Package:
    """Zip a function's code deterministically (with `node_modules` for a Node.js function, as Serverless
    packages its dependencies).

    Args:
        function: the project's function.
        root: the project folder (what `package.patterns` select from).

    Raises:
        ProjectError: nothing to package, or (Python, Node.js) no file for the handler's module.
    """
    if function.source is not None:
        zip_bytes = function_package.package_folder(function.source)
        with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
            names = tuple(archive.namelist())
    else:
        selected = select(root, function.patterns, node_modules=function.runtime.startswith("nodejs"))
        zip_bytes = zip_files(root, selected)
        names = tuple(selected)
    if not names:
        raise ProjectError("nothing to package (no files selected)", path=f"functions.{function.key}")
    _check_handler(function, names)
    return Package(zip_bytes, function_package.sha256_b64(zip_bytes), names)


def _check_handler(function: Function, names: tuple[str, ...]) -> None:
    where = f"functions.{function.key}.handler"
    if function.runtime.startswith("nodejs"):
        module = function.handler.rsplit("/", 1)[-1].split(".", 1)[0]
        base = function.handler[: len(function.handler) - len(function.handler.rsplit("/", 1)[-1])] + module
        if not any(f"{base}{suffix}" in names for suffix in (".js", ".mjs", ".cjs")):
            raise ProjectError(f"no {base}.js (or .mjs, .cjs) in the function's package", path=where)
        return
    if not function.runtime.startswith("python"):
        return
    module, _, attribute = function.handler.rpartition(".")
    if not module or not attribute:
        raise ProjectError(f"{function.handler!r} is not module.function", path=where)
    base = module.replace(".", "/")
    if f"{base}.py" not in names and f"{base}/__init__.py" not in names:
        raise ProjectError(f"no {base}.py in the function's package", path=where)


def select(root: Path, patterns: tuple[str, ...] = (), *, node_modules: bool = False) -> list[str]:
    """The files of `root` a function's package holds, as sorted POSIX paths relative to `root`
    (`node_modules` too when asked, for a Node.js function)."""
    candidates: list[str] = []
    skipped = ALWAYS_SKIPPED_DIRS - {"node_modules"} if node_modules else ALWAYS_SKIPPED_DIRS
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in skipped)
        for filename in filenames:
            if filename in ALWAYS_SKIPPED_FILES or filename.endswith(_PYTHON_SUFFIXES):
                continue
            full = Path(dirpath, filename)
            if full.is_file():
                candidates.append(full.relative_to(root).as_posix())
    chosen = set(candidates)
    for pattern in patterns:
        exclude = pattern.startswith("!")
        matcher = _glob(pattern[1:] if exclude else pattern)
        hits = {name for name in candidates if matcher.fullmatch(name)}
        chosen = chosen - hits if exclude else chosen | hits
    return sorted(chosen)


def zip_files(root: Path, names: list[str]) -> bytes:
    """Zip `names` (relative to `root`) with the fixed times and modes of `package_folder`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(names):
            source = root / name
            info = zipfile.ZipInfo(name, date_time=function_package.FIXED_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so that external_attr is read as a mode
            executable = os.stat(source).st_mode & stat.S_IXUSR
            mode = function_package.EXEC_MODE if executable else function_package.FILE_MODE
            info.external_attr = (stat.S_IFREG | mode) << 16
            archive.writestr(info, source.read_bytes(), compresslevel=6)
    return buffer.getvalue()


@lru_cache(maxsize=256)
def _glob(pattern: str) -> re.Pattern[str]:
    """A glob as Serverless reads it: `**` spans folders, `*` and `?` stay within one, a folder
    pattern (`src/` or `src`) also takes what is inside it."""
    pattern = pattern.removeprefix("./")
    parts: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            parts.append("(?:.*/)?")
            index += 3
            continue
        if pattern.startswith("**", index):
            parts.append(".*")
            index += 2
            continue
        if char == "*":
            parts.append("[^/]*")
        elif char == "?":
            parts.append("[^/]")
        else:
            parts.append(re.escape(char))
        index += 1
    body = "".join(parts).rstrip("/")
    return re.compile(f"{body}(?:/.*)?")
