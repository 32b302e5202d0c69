"""Threads for blocking requests: one shared pool, and lanes of their own for the requests that wait long,
so that the pool every other request shares is never theirs.

`blocking` runs a request's blocking work (a store read, a start waiting for its commit) on the
shared pool; a request finding every thread of it busy waits for one. Every StartExecution and
DescribeExecution pays the hand-off, so it is the cheapest we know: the call goes on a queue the
pool's threads take from, and its outcome comes back to the event loop in one `call_soon_threadsafe`
(`loop.run_in_executor` costs about twice as much, with a `concurrent.futures.Future` and its
condition variable, an asyncio future chained to it and the executor's bookkeeping; anyio's
`to_thread`, starlette's `run_in_threadpool`, about twice as much again).

A synchronous Invoke waits for its function (up to 15 minutes, and for a free worker first); a
StartSyncExecution for its whole Express execution; a TestState for the task it calls; a
GetActivityTask for a task, up to a minute. On a shared pool (40 threads, ours or starlette's) a few dozen
of them would leave every other request waiting. Each kind runs in a `Lane`: a fixed number of
threads, and when all of them are taken the request is answered at once with the service's own
refusal (Lambda's TooManyRequestsException, Step Functions' ThrottlingException, or
ActivityWorkerLimitExceeded for pollers) rather than queued behind the others.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from pinflow import errors

T = TypeVar("T")
log = logging.getLogger(__name__)


class Lane:
    """A fixed number of threads for one kind of long request; a request finding none free is refused."""

    def __init__(self, name: str, threads: int, refusal: Callable[[], errors.ServiceError]) -> None:
        self.name = name
        self.threads = threads
        self._refusal = refusal
        self._lock = threading.Lock()
        self._busy = 0
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=threads,
                                                               thread_name_prefix=f"pinflow-{name}")

    @property
    def busy(self) -> int:
        """How many of the lane's threads requests hold now."""
        with self._lock:
            return self._busy

    def _take(self) -> bool:
        with self._lock:
            if self._busy >= self.threads:
                return False
            self._busy += 1
            return True

    def _give_back(self, _: object = None) -> None:
        with self._lock:
            self._busy -= 1

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """`function(*args)` on one of the lane's threads.

        The thread is the request's until `function` returns, even when the client has gone: the
        slot is given back then, never earlier, so the lane never runs more than `threads` at once.

        Raises:
            ServiceError: every thread is taken (the lane's refusal); or what `function` raises.
        """
        if not self._take():
            raise self._refusal()
        try:
            future = self._executor.submit(function, *args)
        except BaseException:
            self._give_back()
            raise
        future.add_done_callback(self._give_back)
        return await asyncio.wrap_future(future)


def _too_many_invocations() -> errors.ServiceError:
    # Lambda's wording and reason for an account at its concurrency limit.
    return errors.TooManyRequestsException("Rate Exceeded.", Reason="ConcurrentInvocationLimitExceeded")


def _throttled() -> errors.ServiceError:
    return errors.ThrottlingException("Rate exceeded")


def _too_many_pollers() -> errors.ServiceError:
    return errors.ActivityWorkerLimitExceeded("The maximum number of workers concurrently polling for activity tasks "
                                       "has been reached.")


# The shared pool's size: as many threads as starlette's (anyio's default limiter) gives the requests
# that still go through `run_in_threadpool` (Lambda, IAM, the console).
SHARED_THREADS = 40


class _Pool:
    """Up to `threads` threads, started as they are needed, running jobs from one queue in turn."""

    def __init__(self, threads: int, name: str) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        # Threads done with their job and (about to be) waiting for the next: a job put on the queue
        # while one is idle needs no new thread.
        self._idle = 0
        self._max = threads
        self._name = name

    def submit(self, job: Callable[[], None]) -> None:
        self._jobs.put(job)
        with self._lock:
            if self._idle:
                self._idle -= 1
                return
            if self._threads >= self._max:
                return  # the job waits for the first thread to be done
            self._threads += 1
            name = f"{self._name}_{self._threads}"
        # A daemon, as a shared pool's thread is: the process never waits for an idle one to exit.
        threading.Thread(target=self._work, name=name, daemon=True).start()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                job()
            except BaseException:  # a job hands its outcome over itself: this is a bug; the thread stays
                log.exception("a job of the %s pool failed", self._name)
            with self._lock:
                self._idle += 1


_shared = _Pool(SHARED_THREADS, "pinflow-api")


async def blocking(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` on the shared pool, once one of its threads is free."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def job() -> None:
        try:
            result = function(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the request that waits for it
            _hand_back(loop, _fail, future, exc)
        else:
            _hand_back(loop, _succeed, future, result)

    _shared.submit(job)
    return await future


# How long a request waits for the commit of its work before it is answered as a failure (the writer
# stopping, say), as a thread waiting for it would.
COMMIT_WAIT_SECONDS = 120.0


async def committed(future: concurrent.futures.Future[T]) -> T:
    """The outcome of work another thread finishes (a start the engine's writer commits), without a
    thread of the pool waiting for it: the thread that resolves `future` hands it to the event loop.

    Cancelling the request does not cancel `future`: the work goes on, and its outcome is dropped.

    Raises:
        TimeoutError: no outcome within COMMIT_WAIT_SECONDS; what the work raised; CancelledError if
            the work was cancelled.
    """
    if future.done():
        return future.result()
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[T] = loop.create_future()

    def done(finished: concurrent.futures.Future[T]) -> None:
        if finished.cancelled():
            _hand_back(loop, _fail, waiter, asyncio.CancelledError("the work was cancelled"))
            return
        error = finished.exception()
        if error is None:
            _hand_back(loop, _succeed, waiter, finished.result())
        else:
            _hand_back(loop, _fail, waiter, error)

    future.add_done_callback(done)
    return await asyncio.wait_for(waiter, COMMIT_WAIT_SECONDS)


def _hand_back(loop: asyncio.AbstractEventLoop, setter: Callable[..., None], *args: Any) -> None:
    try:
        loop.call_soon_threadsafe(setter, *args)
    except RuntimeError:
        pass  # the loop has closed: nobody waits for the outcome any more


def _succeed(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():  # a request cancelled meanwhile (the server stopping) wants nothing
        future.set_result(result)


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


# The lanes, looked up when a request comes (tests give them fewer threads).
# Synchronous Lambda invocations (Invoke with RequestResponse).
INVOKE = Lane("invoke", 128, _too_many_invocations)
# Whole Express executions (StartSyncExecution) and TestState, which may call a task.
SYNC = Lane("sync", 128, _throttled)
# GetActivityTask long polls.
POLLS = Lane("poll", 256, _too_many_pollers)
