"""Custom runtimes (`provided*`): the function's `bootstrap` executable, or a layer's, started with Lambda's
environment and `AWS_LAMBDA_RUNTIME_API` naming the Runtime API served for its worker."""

from __future__ import annotations

from pathlib import Path

BOOTSTRAP = "bootstrap"


class InvalidEntrypoint(ValueError):
    """Neither the package nor a layer holds a `bootstrap` (Lambda's `Runtime.InvalidEntrypoint`)."""


def argv(task_root: str, opt_root: str | None, code_dir: Path, opt_dir: Path | None) -> list[str]:
    """The bootstrap to run: the package's, else the layers' (as Lambda looks for it).

    Raises:
        InvalidEntrypoint: neither holds a `bootstrap` (answered as Runtime.InvalidEntrypoint).
    """
    if (code_dir / BOOTSTRAP).is_file():
        return [f"{task_root}/{BOOTSTRAP}"]
    if opt_dir is not None and opt_root is not None and (opt_dir / BOOTSTRAP).is_file():
        return [f"{opt_root}/{BOOTSTRAP}"]
    raise InvalidEntrypoint("Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]")
