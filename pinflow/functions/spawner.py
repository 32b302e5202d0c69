"""Start worker processes from one long-lived thread, so that their parent-death signal means the server's death.

Linux sends a process's parent-death signal (PR_SET_PDEATHSIG, which bubblewrap's `--die-with-parent`
and `setpriv --pdeathsig` set) when the *thread* that forked it ends, not the process. Requests are
served from pool threads that come and go, so a worker started from one would be killed when that
thread retires. Every worker is therefore started from this module's thread, which lives as long as
the process does.
"""

from __future__ import annotations

import queue
import subprocess
import threading
from concurrent.futures import Future
from typing import Any

_lock = threading.Lock()
_requests: queue.SimpleQueue[tuple[list[str], dict[str, Any], Future[subprocess.Popen[bytes]]]] = (
    queue.SimpleQueue())
_thread: threading.Thread | None = None


def spawn(argv: list[str], **options: Any) -> subprocess.Popen[bytes]:
    """`subprocess.Popen(argv, **options)`, run on the spawner thread.

    Raises:
        OSError, ValueError: as `subprocess.Popen` raises them.
    """
    if threading.current_thread() is _thread:
        return subprocess.Popen(argv, **options)
    _ensure_thread()
    done: Future[subprocess.Popen[bytes]] = Future()
    _requests.put((argv, options, done))
    return done.result()


def _ensure_thread() -> None:
    global _thread
    with _lock:
        if _thread is None:
            # A daemon: it never ends while the process runs, and must not hold up the interpreter's exit.
            _thread = threading.Thread(target=_serve, name="pinflow-spawner", daemon=True)
            _thread.start()


def _serve() -> None:
    while True:
        argv, options, done = _requests.get()
        if not done.set_running_or_notify_cancel():
            continue
        try:
            done.set_result(subprocess.Popen(argv, **options))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, who raises it
            done.set_exception(exc)
