"""Python workers: pinflow's worker module on the server's own interpreter, whatever python3.x is declared."""

from __future__ import annotations

import os
import platform
import sys


def argv() -> list[str]:
    """The worker's command line."""
    return [sys.executable, "-m", "pinflow.functions.worker_main"]


def runs_on() -> str:
    """The Python that runs every python3.x function here."""
    return f"Python {platform.python_version()}"


def environment(runtime_root: str, opt_root: str | None) -> dict[str, str]:
    """PYTHONPATH as Lambda orders it: the layers' `python/lib/pythonX.Y/site-packages` and `python/`, then
    the runtime (the worker takes pinflow's own entry off again before the handler is imported)."""
    entries = []
    if opt_root is not None:
        version = f"python{sys.version_info.major}.{sys.version_info.minor}"
        entries += [f"{opt_root}/python/lib/{version}/site-packages", f"{opt_root}/python"]
    entries.append(runtime_root)
    return {"PYTHONPATH": os.pathsep.join(entries)}
