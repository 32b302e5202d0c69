"""Which of Lambda's runtimes this server's workers run, and how a worker of each is started.

Three families: Python (`python3.x`, pinflow's own worker on the server's Python), Node.js (`nodejs*`,
pinflow's bootstrap script on the machine's `node`, whatever version the runtime declares) and the
Lambda Runtime API (`provided`, `provided.al2`, `provided.al2023`: the package's `bootstrap`, or a
layer's, talking HTTP to a Runtime API served for each worker). Other runtimes (Java, .NET, Ruby,
`go1.x`) are refused at CreateFunction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pinflow.functions.runtimes import node, provided, python

PYTHON = "python"
NODE = "node"
RUNTIME_API = "runtime-api"

# What the workers run, for messages.
DESCRIPTION = "Python (python3.x), Node.js (nodejs*, when node is installed) and custom (provided*)"


def family(runtime: str) -> str | None:
    """The family of workers that runs a Lambda runtime; None for one this server never runs."""
    if runtime.startswith("python3."):
        return PYTHON
    if runtime.startswith("nodejs"):
        return NODE
    if runtime == "provided" or runtime.startswith("provided."):
        return RUNTIME_API
    return None


def runnable(runtime: str) -> bool:
    """Whether a function with this Lambda runtime can be invoked here (Node.js needs a `node`)."""
    kind = family(runtime)
    if kind == NODE:
        return node.find() is not None
    return kind is not None


def refusal(runtime: str) -> str:
    """Why a runtime cannot run here, in a sentence (for a runtime `runnable` refuses)."""
    if family(runtime) == NODE:
        return (f"The runtime parameter of {runtime} is not supported by this server: no node executable is "
                "installed (install Node.js, then restart the server).")
    return f"The runtime parameter of {runtime} is not supported by this server: it runs {DESCRIPTION} functions."


def runs_on(runtime: str) -> str | None:
    """What actually runs a function of this runtime here ("Node.js v20.11.1", "Python 3.11.9", "bootstrap"),
    None when nothing does."""
    kind = family(runtime)
    if kind == PYTHON:
        return python.runs_on()
    if kind == NODE:
        version = node.version()
        return f"Node.js {version}" if version else None
    if kind == RUNTIME_API:
        return "its bootstrap, through the Lambda Runtime API"
    return None


def runtime_version(runtime: str) -> str | None:
    """A short name of what runs the runtime here, for a runtime version ARN: "nodejs-v20.11.1",
    "python-3.11.9", "provided"; None when nothing does."""
    kind = family(runtime)
    if kind == PYTHON:
        return "python-" + python.runs_on().split()[-1]
    if kind == NODE:
        found = node.version()
        return f"nodejs-{found}" if found else None
    return "provided" if kind == RUNTIME_API else None


@dataclass(frozen=True)
class Start:
    """How to start one worker of a function version.

    `argv` runs inside the worker's view (the sandbox's paths, or the host's without it); `env` is added
    to the function's environment; `binds` are host folders (outside the system folders) the sandbox
    must show read-only at the same path; `runtime_api` says the worker talks to a Runtime API rather
    than to pinflow's pipes.
    """

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    binds: tuple[Path, ...] = ()
    runtime_api: bool = False


def start(runtime: str, *, runtime_root: str, task_root: str, opt_root: str | None, code_dir: Path,
          opt_dir: Path | None) -> Start:
    """How to start a worker for `runtime`.

    Args:
        runtime: the function's Lambda runtime.
        runtime_root: the folder holding the `pinflow` package, as the worker sees it.
        task_root: the function's code folder as the worker sees it (/var/task in the sandbox).
        opt_root: the layers' folder as the worker sees it (/opt in the sandbox), None without layers.
        code_dir: the code folder on the host (to look for a `bootstrap`).
        opt_dir: the layers' folder on the host, None without layers.

    Raises:
        ValueError: a runtime this server does not run.
    """
    kind = family(runtime)
    if kind == PYTHON:
        return Start(python.argv(), python.environment(runtime_root, opt_root))
    if kind == NODE:
        executable = node.find()
        if executable is None:
            raise ValueError(refusal(runtime))
        return Start(node.argv(executable, runtime_root), node.environment(runtime, runtime_root, task_root, opt_root),
                     node.binds(executable))
    if kind == RUNTIME_API:
        return Start(provided.argv(task_root, opt_root, code_dir, opt_dir), runtime_api=True)
    raise ValueError(refusal(runtime))
