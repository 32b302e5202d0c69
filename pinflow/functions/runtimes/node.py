"""Node.js workers: pinflow's bootstrap script (`node_worker.cjs`, package data) on the machine's `node`.

A function declares a version (`nodejs8.10`, `nodejs20.x`); it runs on whatever `node` this machine
has, and GetFunction and the deploy plan say which (`version`).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

# The script, as the worker sees it under the runtime root.
SCRIPT = "pinflow/functions/runtimes/node_worker.cjs"
# Folders the sandbox shows whole; a node installed elsewhere gets its installation folder bound.
_SYSTEM_DIRS = (Path("/usr"), Path("/bin"), Path("/lib"), Path("/lib64"))


@functools.cache
def find() -> str | None:
    """The absolute path of the machine's `node` (on the server's PATH, then the usual folders), or None."""
    found = shutil.which("node") or shutil.which("node", path="/usr/local/bin:/usr/bin:/bin")
    return str(Path(found).resolve()) if found else None


@functools.cache
def version() -> str | None:
    """What `node --version` says ("v20.11.1"), None when there is no node or it does not answer."""
    executable = find()
    if executable is None:
        return None
    try:
        done = subprocess.run([executable, "--version"], capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = done.stdout.decode("ascii", "replace").strip()
    return text if done.returncode == 0 and text.startswith("v") else None


def major() -> str:
    """The major version of the machine's node ("20"), "" when unknown."""
    found = version() or ""
    return found[1:].split(".", 1)[0] if found.startswith("v") else ""


def argv(executable: str, runtime_root: str) -> list[str]:
    """The worker's command line."""
    return [executable, f"{runtime_root}/{SCRIPT}"]


def binds(executable: str) -> tuple[Path, ...]:
    """The installation folder of a node outside the system folders, which the sandbox must show."""
    path = Path(executable)
    if any(path.is_relative_to(folder) for folder in _SYSTEM_DIRS):
        return ()
    return (path.parent.parent,)


def environment(runtime: str, runtime_root: str, task_root: str, opt_root: str | None) -> dict[str, str]:
    """NODE_PATH in Lambda's order: the layers' `nodejs/nodeNN/node_modules` and `nodejs/node_modules`, the
    runtime, then the function's folder."""
    entries = []
    if opt_root is not None:
        wanted = major() or runtime.removeprefix("nodejs").split(".", 1)[0]
        entries += [f"{opt_root}/nodejs/node{wanted}/node_modules", f"{opt_root}/nodejs/node_modules"]
    entries += [f"{runtime_root}/node_modules", runtime_root, task_root]
    return {"NODE_PATH": os.pathsep.join(entries)}
