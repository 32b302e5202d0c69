"""pinflow.asl stays a pure interpreter: no I/O, no clock, no threads, no unseeded randomness and no
imports from the rest of pinflow. Checked on the source with `ast`, so a forbidden call fails here
even on a path no other test runs."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ASL = Path(__file__).resolve().parents[2] / "pinflow" / "asl"

# Modules that do I/O, read a clock, start threads or processes, or draw unseeded random numbers.
FORBIDDEN_MODULES = frozenset({
    "time", "os", "sys", "io", "socket", "threading", "subprocess", "asyncio", "pathlib", "multiprocessing",
    "concurrent", "signal", "shutil", "tempfile", "urllib", "http", "select", "selectors", "sqlite3", "ssl",
    "secrets", "importlib", "builtins", "ctypes",
})
# Calls (by their fully qualified name) that read the clock or draw from an unseeded generator.
FORBIDDEN_CALLS = frozenset({
    "datetime.datetime.now", "datetime.datetime.utcnow", "datetime.datetime.today", "datetime.date.today",
    "uuid.uuid1", "uuid.uuid4",
})
FORBIDDEN_BUILTINS = frozenset({"open", "print", "input", "breakpoint", "__import__"})
# `random.Random(seed)` is how the interpreter draws; everything else on the module uses its hidden state.
ALLOWED_RANDOM = frozenset({"Random"})


class _Checker(ast.NodeVisitor):
    """Collects violations in one module; `package` is its dotted package (for relative imports)."""

    def __init__(self, package: str) -> None:
        self.package = package
        self.aliases: dict[str, str] = {}
        self.problems: list[str] = []

    def problem(self, node: ast.AST, why: str) -> None:
        self.problems.append(f"line {getattr(node, 'lineno', '?')}: {why}")

    def check_module(self, node: ast.AST, name: str) -> None:
        root = name.split(".")[0]
        if root in FORBIDDEN_MODULES:
            self.problem(node, f"imports {name}")
        if root == "pinflow" and name != "pinflow.asl" and not name.startswith("pinflow.asl."):
            self.problem(node, f"imports {name}, outside pinflow.asl")
        if name == "pinflow":
            self.problem(node, "imports the pinflow package itself")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.check_module(node, alias.name)
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:
                self.aliases[alias.name.split(".")[0]] = alias.name.split(".")[0]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            parts = self.package.split(".")
            if node.level - 1 >= len(parts):
                self.problem(node, "relative import above the top package")
                return
            base = ".".join(parts[: len(parts) - (node.level - 1)])
            module = f"{base}.{node.module}" if node.module else base
        else:
            module = node.module or ""
        self.check_module(node, module)
        for alias in node.names:
            full = f"{module}.{alias.name}"
            if module == "pinflow":
                self.check_module(node, full)
            if module == "random" and alias.name not in ALLOWED_RANDOM:
                self.problem(node, f"imports random.{alias.name} (use a seeded random.Random)")
            if full in FORBIDDEN_CALLS:
                self.problem(node, f"imports {full}")
            self.aliases[alias.asname or alias.name] = full

    def qualified(self, node: ast.expr) -> str | None:
        """The dotted name of `node`, its head resolved through the imports (datetime.datetime.now)."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        head = self.aliases.get(node.id)
        if head is None:
            return node.id if not parts else None
        return ".".join([head, *reversed(parts)])

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in FORBIDDEN_BUILTINS and func.id not in self.aliases:
            self.problem(node, f"calls {func.id}()")
        name = self.qualified(node.func)
        if name is not None:
            if name in FORBIDDEN_CALLS:
                self.problem(node, f"calls {name}()")
            if name.startswith("random."):
                function = name.split(".")[1]
                if function not in ALLOWED_RANDOM:
                    self.problem(node, f"calls {name}() (module-level random state)")
                elif not node.args and not node.keywords:
                    self.problem(node, "calls random.Random() without a seed")
        self.generic_visit(node)


def violations(source: str, package: str = "pinflow.asl") -> list[str]:
    """The purity violations in one module's source."""
    checker = _Checker(package)
    checker.visit(ast.parse(source))
    return checker.problems


def modules() -> list[Path]:
    return sorted(ASL.rglob("*.py"))


def test_the_package_is_found() -> None:
    names = {path.name for path in modules()}
    assert {"interpreter.py", "paths.py", "driver.py"} <= names


@pytest.mark.parametrize("path", modules(), ids=lambda path: str(path.relative_to(ASL)))
def test_module_is_pure(path: Path) -> None:
    package = ".".join(("pinflow", "asl", *path.relative_to(ASL).parent.parts))
    assert violations(path.read_text(encoding="utf-8"), package) == []


# --- the checker catches what it should ------------------------------------------------------------------


@pytest.mark.parametrize("source", [
    "import time",
    "import os.path",
    "from os import path",
    "import threading as t",
    "from asyncio import sleep",
    "import pathlib",
    "import subprocess",
    "import socket",
    "import sys",
    "from io import StringIO",
    "from pinflow import engine",
    "from pinflow.store import base",
    "import pinflow.api",
    "from ... import engine",
    "import random\nrandom.random()",
    "import random\nrandom.randint(1, 2)",
    "import random as r\nr.uniform(0, 1)",
    "import random\nrandom.Random()",
    "from random import choice",
    "from random import Random\nRandom()",
    "import datetime\ndatetime.datetime.now()",
    "from datetime import datetime\ndatetime.utcnow()",
    "from datetime import date\ndate.today()",
    "import datetime as dt\ndt.datetime.now(dt.UTC)",
    "import uuid\nuuid.uuid4()",
    "open('x')",
    "print('x')",
])
def test_checker_flags(source: str) -> None:
    assert violations(source, "pinflow.asl.intrinsics") != []


@pytest.mark.parametrize("source", [
    "import random\nrandom.Random(7).random()",
    "import random\nrng = random.Random('seed/1')\nrng.randint(1, 2)",
    "from random import Random\nRandom(1)",
    "from datetime import UTC, datetime\ndatetime.fromtimestamp(0, tz=UTC)",
    "import datetime\ndatetime.date(2024, 1, 1)",
    "import uuid\nuuid.UUID(int=1, version=4)",
    "from pinflow.asl import errors",
    "import pinflow.asl.paths",
    "from . import values",
    "from .. import errors",
    "import json, re, math, hashlib, base64",
    "scope.now",
    "def f(open):\n    return open",
])
def test_checker_allows(source: str) -> None:
    assert violations(source, "pinflow.asl.intrinsics") == []
