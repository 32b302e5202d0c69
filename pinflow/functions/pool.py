"""Worker processes and the pool of warm workers kept for one function version."""

from __future__ import annotations

import collections
import contextlib
import math
import os
import select
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from pinflow.functions import protocol, runtimes, sandbox, spawner
from pinflow.functions.runtimes import runtime_api

# Lambda returns the last 4 KB of the log with LogType=Tail.
LOG_TAIL_BYTES = 4096
# Past this size a worker's log file is emptied between invocations.
_LOG_TRUNCATE_BYTES = 1 << 20
# A worker whose calls pass over their log (`skip_log`) has its log's size looked at after this many.
_LOG_CHECK_CALLS = 64
_STOP_GRACE_SECONDS = 2.0


@dataclass(frozen=True)
class Reply:
    """What came back for one request: a frame, a timeout, or the process ending."""

    tag: bytes = b""
    body: bytes = b""
    timed_out: bool = False
    exited: bool = False
    returncode: int = 0


class Worker:
    """One worker process, its channel (two pipes, or a Runtime API) and its log file. Used by one
    invocation at a time."""

    def __init__(
        self, process: subprocess.Popen[bytes], request_fd: int, reply_fd: int, log_path: Path,
        isolation: sandbox.Isolation, api: runtime_api.RuntimeApi | None = None,
    ) -> None:
        self.process = process
        self._isolation = isolation
        self.last_used = time.monotonic()
        self._request_fd = request_fd
        self._reply_fd = reply_fd
        self._api = api
        self._log_path = log_path
        self._log_fd = os.open(log_path, os.O_RDONLY)
        self._log_offset = 0
        self._log_skipped = 0  # calls since the log's end was last found (see `skip_log`)
        self._poll = select.poll()
        self._poll.register(reply_fd, select.POLLIN)
        # A Runtime API worker's reply pipe is written by the server, so it never closes when the worker
        # dies: the process's own descriptor tells instead.
        self._exit_fd = os.pidfd_open(process.pid) if api is not None else -1
        if self._exit_fd >= 0:
            self._poll.register(self._exit_fd, select.POLLIN)
        self._buffer = bytearray()
        self._disposed = False

    @classmethod
    def start(cls, how: runtimes.Start, code_dir: Path, env: dict[str, str], log_path: Path,
              isolation: sandbox.Isolation, opt_dir: Path | None = None) -> Worker:
        """Start a worker process for the code in `code_dir` (and the layers in `opt_dir`) under
        `isolation`; it loads the handler straight away."""
        log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_TRUNC, 0o600)
        child_env = {**env, **how.env}
        api: runtime_api.RuntimeApi | None = None
        if how.runtime_api:
            api = runtime_api.RuntimeApi()
            child_env["AWS_LAMBDA_RUNTIME_API"] = api.address
            child_fds: tuple[int, ...] = ()
            request_write, reply_read = -1, api.reply_fd
        else:
            request_read, request_write = os.pipe()
            reply_read, reply_write = os.pipe()
            child_env[protocol.REQUEST_FD_ENV] = str(request_read)
            child_env[protocol.REPLY_FD_ENV] = str(reply_write)
            child_fds = (request_read, reply_write)
        launch = isolation.command(how.argv, code_dir=code_dir, env=child_env, opt_dir=opt_dir, binds=how.binds)
        try:
            process = spawner.spawn(
                launch.argv,
                cwd=launch.cwd,
                env=launch.env,
                stdin=subprocess.DEVNULL,
                stdout=log_fd,
                stderr=log_fd,
                pass_fds=(*child_fds, *launch.pass_fds),
                # Its own process group, so a timeout also ends whatever the handler started.
                start_new_session=True,
            )
        except BaseException:
            if api is not None:
                api.close()
            for fd in (request_write, reply_read):
                if fd >= 0:
                    os.close(fd)
            raise
        finally:
            launch.close()
            for fd in (*child_fds, log_fd):
                os.close(fd)
        if api is not None:
            api.attach(process.pid)
        return cls(process, request_write, reply_read, log_path, isolation, api)

    def alive(self) -> bool:
        """Whether the process is still running."""
        return not self._has_exited()

    def wait_ready(self, deadline: float) -> Reply:
        """Wait for the worker's first frame: READY, or INIT_ERROR with the error document."""
        return self._read_reply(deadline)

    def call(self, request: protocol.Request, deadline: float) -> Reply:
        """Send one request and wait for its reply until `deadline` (a `time.monotonic()` value)."""
        if self._api is not None:
            self._api.deliver(runtime_api.Invocation(request.request_id, request.deadline_ms, request.invoked_arn,
                                                     request.event, _text(request.client_context)))
            return self._read_reply(deadline)
        try:
            protocol.write_all(self._request_fd, protocol.request_frame(request.encode()))
        except BrokenPipeError:
            return self._exited()
        return self._read_reply(deadline)

    def _read_reply(self, deadline: float) -> Reply:
        buffer = self._buffer
        header = protocol.REPLY_HEADER
        while True:
            if len(buffer) >= header.size:
                tag, length = header.unpack_from(buffer)
                end = header.size + length
                if len(buffer) >= end:
                    body = bytes(buffer[header.size : end])
                    del buffer[:end]
                    return Reply(tag=tag, body=body)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return Reply(timed_out=True)
            ready = self._poll.poll(math.ceil(remaining * 1000))
            if not ready:
                continue
            if not any(fd == self._reply_fd for fd, _ in ready):
                return self._exited()  # only the process's descriptor: it ended without a reply
            chunk = os.read(self._reply_fd, 1 << 16)
            if not chunk:
                return self._exited()
            buffer += chunk

    def _exited(self) -> Reply:
        # The reply pipe closed: the process is ending. One that lingers is treated as crashed.
        self._await_exit(_STOP_GRACE_SECONDS)
        self.kill()
        return Reply(exited=True, returncode=self._isolation.exit_status(self.process.returncode))

    def _has_exited(self) -> bool:
        """Whether the process has ended, without reaping it (its pid stays reserved while unreaped)."""
        if self.process.returncode is not None:
            return True
        try:
            flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
            return os.waitid(os.P_PID, self.process.pid, flags) is not None
        except ChildProcessError:
            return True

    def _await_exit(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self._has_exited():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.002)
        return True

    def skip_log(self) -> None:
        """Pass over the log of the call just made, unread (nobody asked for it): a file size looked up
        less. Every `_LOG_CHECK_CALLS` such calls the log's end is found, and the file emptied when it
        has grown past `_LOG_TRUNCATE_BYTES`, as `read_log` does."""
        self._log_skipped += 1
        if self._log_skipped >= _LOG_CHECK_CALLS:
            self.start_log()

    def start_log(self) -> None:
        """Make the next `read_log` give only what is written from now on (nothing of the calls that
        passed over their log); no system call when none did."""
        if self._log_skipped:
            self._log_skipped = 0
            self.read_log()

    def read_log(self) -> str:
        """The log written since the last call, at most its last LOG_TAIL_BYTES bytes."""
        size = os.fstat(self._log_fd).st_size
        if size < self._log_offset:  # emptied by us
            self._log_offset = 0
        if size == self._log_offset:
            return ""
        start = max(self._log_offset, size - LOG_TAIL_BYTES)
        data = os.pread(self._log_fd, size - start, start)
        self._log_offset = size
        if size > _LOG_TRUNCATE_BYTES:
            os.truncate(self._log_path, 0)
            self._log_offset = 0
        return data.decode("utf-8", errors="replace")

    def kill(self) -> None:
        """End the worker and what its handler started (its process group), then reap it.

        Safe from any thread. The group is signalled only while the worker is unreaped: until then
        its pid, which is the group's id, cannot have been given to another process.
        """
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """Ask the worker to finish (by closing its request pipe), kill what remains, then dispose.

        A Runtime API worker has no pipe to close: it is killed, as Lambda ends an environment."""
        if not self._disposed and self._request_fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._request_fd)
            self._request_fd = -1
            self._await_exit(_STOP_GRACE_SECONDS)
        self.kill()
        self.dispose()

    def dispose(self) -> None:
        """Close the pipes and remove the log file; only the thread that holds the worker may call it."""
        if self._disposed:
            return
        self._disposed = True
        self._poll.unregister(self._reply_fd)
        if self._api is not None:
            self._api.close()
        for fd in (self._request_fd, self._reply_fd, self._log_fd, self._exit_fd):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            self._log_path.unlink()


def _text(data: bytes | None) -> str | None:
    return data.decode() if data is not None else None


class PoolClosed(RuntimeError):
    """The invoker was closed while an invocation waited for a worker."""


class _Waiter:
    """An invocation waiting for a worker: blocked on its own lock until `release` hands it one."""

    __slots__ = ("closed", "lock", "worker")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lock.acquire()
        self.worker: Worker | None = None  # None with the lock released: a free slot to start one in
        self.closed = False


class Pool:
    """The warm workers of one function version, at most `max_workers` of them at once.

    A worker (or a free slot) given back while invocations wait goes straight to the one that has
    waited longest: it is woken holding it, rather than every waiter contending for one lock again.
    """

    def __init__(self, max_workers: int) -> None:
        self._max_workers = max_workers
        self._idle: list[Worker] = []
        self._busy: set[Worker] = set()
        self._count = 0  # idle + busy + slots reserved for workers being started (or handed to a waiter)
        self._closed = False
        self._lock = threading.Lock()
        self._waiters: collections.deque[_Waiter] = collections.deque()

    def checkout(self) -> Worker | None:
        """An idle live worker, or None when the caller holds a free slot and must start one.

        Blocks while `max_workers` are busy.

        Raises:
            PoolClosed: the pool was closed.
        """
        dead: list[Worker] = []
        try:
            with self._lock:
                if self._closed:
                    raise PoolClosed("the invoker is closed")
                while self._idle:
                    worker = self._idle.pop()  # the most recently used is the warmest
                    if worker.alive():
                        self._busy.add(worker)
                        return worker
                    dead.append(worker)
                    self._count -= 1
                if self._count < self._max_workers:
                    self._count += 1
                    return None
                waiter = _Waiter()
                self._waiters.append(waiter)
            try:
                waiter.lock.acquire()  # released by `_hand_over` (or `close`)
            except BaseException:
                self._abandon(waiter)
                raise
            if waiter.closed:
                raise PoolClosed("the invoker is closed")
            handed = waiter.worker
            if handed is not None and not handed.alive():
                # It ended between its last call and this one: its slot is the caller's to start one in.
                with self._lock:
                    self._busy.discard(handed)
                dead.append(handed)
                return None
            return handed
        finally:
            for worker in dead:
                worker.stop()

    def _abandon(self, waiter: _Waiter) -> None:
        """A waiter interrupted while it waited: out of the queue, or what it was handed given back."""
        with self._lock:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
                return
        if not waiter.closed:  # handed over already
            self.release(waiter.worker, healthy=waiter.worker is not None)

    def _hand_over(self, worker: Worker | None) -> bool:
        """Give `worker` (busy), or a free slot when None, to the longest waiter; False when none waits.
        Called with the lock held."""
        if not self._waiters:
            return False
        waiter = self._waiters.popleft()
        waiter.worker = worker
        waiter.lock.release()
        return True

    def started(self, worker: Worker) -> None:
        """Record that the caller's slot now holds `worker` (busy)."""
        with self._lock:
            self._busy.add(worker)
            closed = self._closed
        if closed:
            worker.kill()

    def release(self, worker: Worker | None, *, healthy: bool) -> None:
        """Give back a worker (or a slot whose worker never started); an unhealthy one is disposed."""
        with self._lock:
            keep = worker is not None and healthy and not self._closed
            if keep:
                assert worker is not None
                worker.last_used = time.monotonic()
                if not self._hand_over(worker):
                    self._busy.discard(worker)
                    self._idle.append(worker)
            else:
                if worker is not None:
                    self._busy.discard(worker)
                if self._closed or not self._hand_over(None):
                    self._count -= 1
        if worker is not None and not keep:
            worker.stop()

    def take_idle(self, idle_before: float) -> list[Worker]:
        """Remove and return the idle workers last used before `idle_before`, for the caller to stop."""
        with self._lock:
            stale = [w for w in self._idle if w.last_used < idle_before]
            if stale:
                self._idle = [w for w in self._idle if w.last_used >= idle_before]
                self._count -= len(stale)
                # Nobody waits while a worker is idle; should one, it gets a freed slot.
                while self._count < self._max_workers and self._hand_over(None):
                    self._count += 1
        return stale

    def close(self) -> tuple[list[Worker], list[Worker]]:
        """Refuse new checkouts; return (idle workers to stop, busy workers to kill)."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            self._count -= len(idle)
            busy = list(self._busy)
            waiters, self._waiters = list(self._waiters), collections.deque()
        for waiter in waiters:
            waiter.closed = True
            waiter.lock.release()
        return idle, busy
