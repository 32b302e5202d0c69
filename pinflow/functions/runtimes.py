"""Which of Lambda's runtimes this server's workers can run (one place for a new runtime to be added)."""

from __future__ import annotations

# What the workers run, for messages.
DESCRIPTION = "Python (python3.x)"


def runnable(runtime: str) -> bool:
    """Whether a function with this Lambda runtime can be invoked here."""
    return runtime.startswith("python3.")
