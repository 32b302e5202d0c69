"""Invoke function versions in warm worker processes, as Lambda's synchronous Invoke does."""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import orjson

from pinflow import arns
from pinflow.functions import errors, package, pool, protocol, runtimes, sandbox
from pinflow.functions.runtimes import provided

# Lambda gives the init phase (importing the handler) up to 10 seconds of its own.
INIT_TIMEOUT_SECONDS = 10.0

# Variables a worker keeps from the engine's environment; everything else comes from the function.
_INHERITED_ENV = ("PATH", "HOME", "TMPDIR", "LD_LIBRARY_PATH", "LC_ALL", "LC_CTYPE", "SYSTEMROOT")


@dataclass(frozen=True)
class FunctionSpec:
    """One immutable function version: what runs, and how.

    `code_sha256` names the code blob, as hex or as Lambda's base64; `layers` name the layers'
    blobs the same way, in the order they are unpacked into /opt; `arn` is the ARN the invocation
    was made with (qualified or not), given to the handler as `context.invoked_function_arn`.
    """

    function_name: str
    version: str
    arn: str
    code_sha256: str
    handler: str
    runtime: str = "python3.11"
    timeout: float = 3.0
    memory_size: int = 128
    environment: Mapping[str, str] = field(default_factory=dict, hash=False)
    layers: tuple[str, ...] = ()
    # The function's reserved concurrency (PutFunctionConcurrency): at most this many of its
    # invocations run at once, whatever the version (on every node sharing the database, through
    # `Invoker.admission`); None: no limit of its own.
    reserved_concurrency: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class InvokeResult:
    """The outcome of one invocation.

    For a function error, `payload` is Lambda's error document (`errorType`, `errorMessage`, and
    from the runtime `requestId` and `stackTrace`) and `function_error` is "Unhandled".
    `duration_ms` is the handler's run time (a cold start's init is not included); `log_tail`
    is the end of the invocation's log, START/END/REPORT lines included, as LogType=Tail gives it.
    """

    payload: Any
    function_error: str | None
    executed_version: str
    duration_ms: float
    log_tail: str = ""


class Throttled(RuntimeError):
    """The function already runs as many invocations as its reserved concurrency allows (Lambda:
    TooManyRequestsException, reason ReservedFunctionConcurrentInvocationLimitExceeded)."""


class Admission(Protocol):
    """Reserved concurrency counted beyond this process (over the nodes sharing a database)."""

    def admit(self, function: str, limit: int) -> bool | None:
        """Whether one more invocation of `function` may run; if so it is counted until `finished`.
        None: the count beyond this process could not be asked, and this process's count decides."""

    def finished(self, function: str) -> None:
        """An invocation `admit` counted has ended. Never raises: an end it cannot count now, it counts
        later."""


class CodeIntegrityError(RuntimeError):
    """The code does not have the SHA-256 the function version names: the bytes loaded for it, or the
    folder it was unpacked to, which changed on disk."""


@dataclass(frozen=True)
class _Version:
    """What the invoker keeps for one function version: its warm workers and how to start one.

    `start` is None when no worker can start (a custom runtime without a bootstrap); `entry_error`
    then says why, and every invocation fails with it.
    """

    pool: pool.Pool
    code_dir: Path
    tree_digest: str
    env: dict[str, str]
    start: runtimes.Start | None
    opt_dir: Path | None = None
    opt_tree: str = ""
    entry_error: str = ""


class Invoker:
    """Runs handlers in warm worker processes, one pool per function version. Thread-safe."""

    def __init__(
        self,
        code_root: Path,
        load_code: Callable[[str], bytes],
        *,
        max_workers_per_version: int = 4,
        idle_seconds: float = 300,
        isolation: sandbox.Isolation | None = None,
    ) -> None:
        """Create an invoker; no process starts until the first invocation.

        Args:
            code_root: where code is unpacked, one folder per SHA-256 (hex).
            load_code: returns a code blob's zip bytes given the spec's `code_sha256`; called once per
                code in this invoker's life, to check its SHA-256 (and unpack it when needed).
            max_workers_per_version: the most concurrent invocations of one version; more wait.
            idle_seconds: a worker unused this long is stopped.
            isolation: what workers run under; None takes the sandbox when this machine can give it
                (see `sandbox.create`, mode "auto").
        """
        # Absolute, because workers run with their code folder as the working directory.
        self._code_root = Path(code_root).resolve()
        self._code_root.mkdir(parents=True, exist_ok=True)
        self._load_code = load_code
        self._max_workers = max_workers_per_version
        self._idle_seconds = idle_seconds
        self.isolation = isolation if isolation is not None else sandbox.create(sandbox.AUTO)
        self._pools: dict[tuple[Any, ...], _Version] = {}
        self._lock = threading.Lock()
        self._unpack_locks: dict[str, threading.Lock] = {}
        # The tree digest of each code folder as unpacked, from its verified zip; see `_code_dir`.
        self._trees: dict[str, str] = {}
        self._log_dir = Path(tempfile.mkdtemp(prefix="pinflow-logs-"))
        self._closed = False
        self._stop_reaper = threading.Event()
        self._reaper: threading.Thread | None = None
        # Invocations in progress per function (all its versions), for reserved concurrency.
        self._in_flight: dict[str, int] = {}
        self._in_flight_lock = threading.Lock()
        # Where several nodes share the database, the engine counts reserved concurrency there, over
        # every node (`engine.leases.Leases.admit`); None: this process's count is the whole count.
        self.admission: Admission | None = None

    @contextmanager
    def _admitted(self, spec: FunctionSpec) -> Iterator[None]:
        """Hold one of the function's reserved slots while an invocation runs (no limit without one),
        or raise `Throttled` at once, as Lambda refuses a synchronous invocation over the limit."""
        limit = spec.reserved_concurrency
        if limit is None:
            yield
            return
        name = spec.function_name
        admission = self.admission
        with self._in_flight_lock:
            if self._in_flight.get(name, 0) >= limit:
                raise Throttled("Rate Exceeded.")
            self._in_flight[name] = self._in_flight.get(name, 0) + 1
        admitted = False
        try:
            if admission is not None:
                verdict = admission.admit(name, limit)
                if verdict is False:
                    raise Throttled("Rate Exceeded.")
                admitted = verdict is True
            yield
        finally:
            with self._in_flight_lock:
                left_running = self._in_flight[name] - 1
                if left_running:
                    self._in_flight[name] = left_running
                else:
                    del self._in_flight[name]
            if admitted:
                admission.finished(name)  # type: ignore[union-attr]

    def invoke(self, spec: FunctionSpec, event: Any, *, request_id: str,
               client_context: Mapping[str, Any] | None = None, log: bool = True) -> InvokeResult:
        """Run the version's handler on `event` and wait for its result.

        Args:
            spec: the function version to run.
            event: the JSON-serialisable event given to the handler.
            request_id: the invocation's id (`context.aws_request_id`).
            client_context: the caller's client context (Invoke's `X-Amz-Client-Context`, decoded).
            log: whether the result carries the log's tail; a caller that never reads it (a Task)
                passes False, and `log_tail` is then "".

        Returns:
            The handler's JSON result, or Lambda's error document for a handler exception, a
            timeout (`Sandbox.Timedout`, the worker is replaced), a crash (`Runtime.ExitError`) or
            an import failure (`Runtime.ImportModuleError`, `Runtime.HandlerNotFound`, ...).

        Raises:
            TypeError, ValueError: `event` is not JSON-serialisable.
            ValueError: a runtime this server does not run (see `runtimes.runnable`).
            CodeIntegrityError: the code blob does not match `spec.code_sha256`, or its unpacked folder
                was changed on disk (it is checked each time a worker starts).
            Throttled: the function's reserved concurrency is taken (or is 0).
            RuntimeError: the invoker is closed.
        """
        event_json = json.dumps(event, separators=(",", ":"), allow_nan=False).encode()
        with self._admitted(spec):
            return self._invoke(spec, event_json, request_id, client_context, log)

    def _invoke(self, spec: FunctionSpec, event_json: bytes, request_id: str,
                client_context: Mapping[str, Any] | None, want_log: bool) -> InvokeResult:
        version = self._pool_for(spec)
        worker_pool = version.pool
        try:
            worker = worker_pool.checkout()
        except pool.PoolClosed:
            raise RuntimeError("the invoker is closed") from None
        init_ms: float | None = None
        if worker is None:
            worker, failure, init_ms = self._start_worker(version, spec, request_id)
            if failure is not None:
                return failure
            assert worker is not None
        if want_log:
            worker.start_log()
        timeout = spec.timeout
        deadline_ms = int((time.time() + timeout) * 1000)
        context_json = json.dumps(client_context).encode() if client_context is not None else None
        request = protocol.Request(request_id, deadline_ms, spec.arn, event_json, context_json)
        started = time.perf_counter()
        try:
            reply = worker.call(request, time.monotonic() + timeout)
        except BaseException:
            worker_pool.release(worker, healthy=False)  # the slot must not leak
            raise
        duration_ms = (time.perf_counter() - started) * 1000
        if reply.tag == protocol.RESULT or reply.tag == protocol.ERROR:
            if want_log:
                log = worker.read_log()
            else:
                worker.skip_log()
            worker_pool.release(worker, healthy=True)
            payload = _payload(reply.body)
            function_error = None if reply.tag == protocol.RESULT else errors.UNHANDLED
            if not want_log:
                return InvokeResult(payload, function_error, spec.version, duration_ms)
            return self._result(spec, request_id, payload, function_error, duration_ms, init_ms, log)
        if reply.timed_out:
            worker.kill()
            payload = errors.timeout_error(request_id, timeout)
            duration_ms = timeout * 1000
        else:
            payload = errors.exit_error(request_id, reply.returncode)
        log = worker.read_log() + payload["errorMessage"] + "\n"
        worker_pool.release(worker, healthy=False)
        return self._result(spec, request_id, payload, errors.UNHANDLED, duration_ms, init_ms, log)

    def _start_worker(
        self, version: _Version, spec: FunctionSpec, request_id: str
    ) -> tuple[pool.Worker | None, InvokeResult | None, float]:
        """Start a worker in the caller's slot, once its code checks; an init failure becomes this
        invocation's result."""
        self._ensure_reaper()
        worker_pool = version.pool
        started = time.perf_counter()
        log_path = self._log_dir / f"{uuid.uuid4().hex}.log"
        if version.start is None:
            worker_pool.release(None, healthy=False)
            payload = errors.entrypoint_error(request_id, version.entry_error)
            return None, self._result(spec, request_id, payload, errors.UNHANDLED, 0.0, 0.0, ""), 0.0
        try:
            self._code_dir(spec.code_sha256)  # unpacked again if the folder was removed
            if spec.layers:
                self._opt_dir(spec.layers)
            self._verify(spec, version)
            worker = pool.Worker.start(version.start, version.code_dir, version.env, log_path, self.isolation,
                                       version.opt_dir)
        except BaseException:
            worker_pool.release(None, healthy=False)
            raise
        worker_pool.started(worker)
        limit = max(INIT_TIMEOUT_SECONDS, spec.timeout)
        try:
            reply = worker.wait_ready(time.monotonic() + limit)
        except BaseException:
            worker_pool.release(worker, healthy=False)
            raise
        init_ms = (time.perf_counter() - started) * 1000
        if reply.tag == protocol.READY:
            return worker, None, init_ms
        if reply.tag == protocol.INIT_ERROR:
            payload = _payload(reply.body)
        elif reply.timed_out:
            worker.kill()
            payload = errors.timeout_error(request_id, limit)
        else:
            payload = errors.exit_error(request_id, reply.returncode)
        log = worker.read_log()
        worker_pool.release(worker, healthy=False)
        failure = self._result(spec, request_id, payload, errors.UNHANDLED, 0.0, init_ms, log)
        return None, failure, init_ms

    @staticmethod
    def _result(
        spec: FunctionSpec,
        request_id: str,
        payload: Any,
        function_error: str | None,
        duration_ms: float,
        init_ms: float | None,
        log: str,
    ) -> InvokeResult:
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {math.ceil(duration_ms)} ms\tMemory Size: {spec.memory_size} MB\t"
        )
        if init_ms is not None:
            report += f"Init Duration: {init_ms:.2f} ms\t"
        text = (
            f"START RequestId: {request_id} Version: {spec.version}\n{log}"
            f"END RequestId: {request_id}\n{report}\n"
        )
        tail = text.encode()[-pool.LOG_TAIL_BYTES :].decode("utf-8", errors="ignore")
        return InvokeResult(payload, function_error, spec.version, duration_ms, tail)

    def _pool_for(self, spec: FunctionSpec) -> _Version:
        """The pool of this exact version, unpacking its code on first use."""
        key = (
            spec.code_sha256,
            spec.handler,
            spec.runtime,
            spec.timeout,
            spec.memory_size,
            spec.function_name,
            spec.version,
            frozenset(spec.environment.items()),
            spec.layers,
        )
        found = self._pools.get(key)
        if found is not None:
            return found
        if not runtimes.runnable(spec.runtime):
            raise ValueError(runtimes.refusal(spec.runtime))
        if self._closed:
            raise RuntimeError("the invoker is closed")
        code_dir, tree = self._code_dir(spec.code_sha256)
        opt_dir, opt_tree = self._opt_dir(spec.layers) if spec.layers else (None, "")
        opt_root = self.isolation.opt_root(opt_dir) if opt_dir is not None else None
        task_root = self.isolation.task_root(code_dir)
        entry_error = ""
        try:
            start: runtimes.Start | None = runtimes.start(
                spec.runtime, runtime_root=self.isolation.runtime_root, task_root=task_root, opt_root=opt_root,
                code_dir=code_dir, opt_dir=opt_dir)
        except provided.InvalidEntrypoint as exc:
            start, entry_error = None, str(exc)
        if start is not None and start.runtime_api and not getattr(self.isolation, "network", True):
            # The Runtime API is served on this host's loopback, which a worker without a network cannot
            # reach: say so at each call rather than let the bootstrap time out.
            start, entry_error = None, ("a custom runtime reaches the Runtime API over the network, and this "
                                        "server runs functions with --function-network none")
        env = self._environment(spec, task_root, opt_root, start)
        with self._lock:
            found = self._pools.get(key)
            if found is None:
                found = _Version(pool.Pool(self._max_workers), code_dir, tree, env, start, opt_dir, opt_tree,
                                 entry_error)
                self._pools[key] = found
            return found

    def _opt_dir(self, layers: tuple[str, ...]) -> tuple[Path, str]:
        """The folder holding a version's layers merged in order (what /opt shows), and its tree digest.

        Like `_code_dir`: each layer's zip is loaded and checked against its SHA-256 once in this
        process, the merged folder is unpacked (and sealed) when absent, and checked before each
        worker starts.
        """
        digests = [package.normalize_sha256(layer) for layer in layers]
        name = "opt-" + package.sha256_hex("\n".join(digests).encode())
        final = self._code_root / name
        tree = self._trees.get(name)
        if tree is not None and final.is_dir():
            return final, tree
        with self._lock:
            lock = self._unpack_locks.setdefault(name, threading.Lock())
        with lock:
            tree = self._trees.get(name)
            if tree is not None and final.is_dir():
                return final, tree
            archives = []
            for layer, digest in zip(layers, digests, strict=True):
                data = self._load_code(layer)
                if package.sha256_hex(data) != digest:
                    raise CodeIntegrityError(f"the layer loaded for {layer} has another SHA-256")
                archives.append(data)
            tree = package.layered_digest(archives)
            if not final.is_dir():
                self._unpack(archives, final)
            self._trees[name] = tree
        return final, tree

    def _code_dir(self, code_sha256: str) -> tuple[Path, str]:
        """The folder holding the unpacked code and the tree digest it must have.

        The first time in this process, the zip is loaded and checked against its SHA-256, and the
        digest of the folder it unpacks to is computed from it; the folder is unpacked (temp folder,
        sealed read-only, renamed into place) when absent, now or later. A folder left by an earlier run
        is kept, and checked against that digest like any other before a worker starts.
        """
        digest = package.normalize_sha256(code_sha256)
        final = self._code_root / digest
        tree = self._trees.get(digest)
        if tree is not None and final.is_dir():
            return final, tree
        with self._lock:
            lock = self._unpack_locks.setdefault(digest, threading.Lock())
        with lock:
            tree = self._trees.get(digest)
            if tree is not None and final.is_dir():
                return final, tree
            data = self._load_code(code_sha256)
            if package.sha256_hex(data) != digest:
                raise CodeIntegrityError(f"the code loaded for {code_sha256} has another SHA-256")
            tree = package.archive_digest(data)
            if not final.is_dir():
                self._unpack([data], final)
            self._trees[digest] = tree
        return final, tree

    def _unpack(self, archives: list[bytes], final: Path) -> None:
        staging = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=self._code_root))
        try:
            for data in archives:
                package.unpack(data, staging)
            # Every version with this code shares the folder: no handler may rewrite it.
            package.seal(staging)
            os.rename(staging, final)
        except OSError:
            # Another process may have renamed its copy into place first; that one will do.
            package.remove(staging)
            if not final.is_dir():
                raise
        except BaseException:
            package.remove(staging)
            raise

    @staticmethod
    def _verify(spec: FunctionSpec, version: _Version) -> None:
        """Check the unpacked folders (code, layers) against the digests their zips give, before a worker
        runs from them."""
        checks = [(version.code_dir, version.tree_digest, f"code of {spec.function_name}:{spec.version}",
                   f"CodeSha256 {spec.code_sha256}")]
        if version.opt_dir is not None:
            checks.append((version.opt_dir, version.opt_tree, f"layers of {spec.function_name}:{spec.version}",
                           "layers' CodeSha256"))
        for folder, expected, what, digest in checks:
            try:
                found = package.tree_digest(folder)
            except OSError as exc:
                found = f"unreadable ({exc})"
            if found != expected:
                raise CodeIntegrityError(
                    f"the unpacked {what} at {folder} no longer matches its {digest}: it was changed on disk, "
                    "and will not run. Remove the folder to have it unpacked again from the store.")

    def _environment(self, spec: FunctionSpec, task_root: str, opt_root: str | None,
                     start: runtimes.Start | None) -> dict[str, str]:
        """A worker's environment: the function's variables, then the ones Lambda reserves, then the
        runtime's own (PYTHONPATH, NODE_PATH)."""
        env = {name: os.environ[name] for name in _INHERITED_ENV if name in os.environ}
        user_path = spec.environment.get("PYTHONPATH")
        env.update(spec.environment)
        parsed_arn = arns.parse(spec.arn)
        region = parsed_arn.region if parsed_arn and parsed_arn.region else arns.DEFAULT_REGION
        stream_date = time.strftime("%Y/%m/%d", time.gmtime())
        env.update(
            {
                "_HANDLER": spec.handler,
                "LAMBDA_TASK_ROOT": task_root,
                "LAMBDA_RUNTIME_DIR": self.isolation.runtime_root,
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
                "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
                "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.function_name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": f"{stream_date}/[{spec.version}]{uuid.uuid4().hex}",
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                "AWS_REGION": region,
                "AWS_DEFAULT_REGION": region,
                "TZ": ":UTC",
                "LANG": "en_US.UTF-8",
                # The code folder is shared by workers and must stay as unpacked.
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )
        if "LD_LIBRARY_PATH" not in spec.environment:
            # Lambda's default search path ends with the code and the layers; a function that sets its
            # own LD_LIBRARY_PATH gets exactly that, as on Lambda.
            libraries = [env["LD_LIBRARY_PATH"]] if env.get("LD_LIBRARY_PATH") else []
            libraries += [task_root, f"{task_root}/lib"] + ([f"{opt_root}/lib"] if opt_root is not None else [])
            env["LD_LIBRARY_PATH"] = os.pathsep.join(libraries)
        if start is not None:
            env.update(start.env)
        if start is not None and "PYTHONPATH" in start.env:
            # pinflow itself must be importable by the Python worker, which takes this entry off again.
            env["_PINFLOW_SOURCE_ROOT"] = self.isolation.runtime_root
            if user_path:
                env["PYTHONPATH"] = f"{user_path}{os.pathsep}{start.env['PYTHONPATH']}"
        # The server's Python first, as in the sandbox: a bootstrap's `python3` is the one pinflow runs on.
        inherited = env.get("PATH")
        env["PATH"] = os.path.dirname(sys.executable) + (f"{os.pathsep}{inherited}" if inherited else "")
        return env

    def _ensure_reaper(self) -> None:
        with self._lock:
            if self._reaper is None and not self._closed:
                self._reaper = threading.Thread(target=self._reap, name="pinflow-worker-reaper", daemon=True)
                self._reaper.start()

    def _reap(self) -> None:
        """Stop workers idle for longer than `idle_seconds`, until the invoker closes."""
        interval = min(max(self._idle_seconds / 4, 0.05), 30.0)
        while not self._stop_reaper.wait(interval):
            cutoff = time.monotonic() - self._idle_seconds
            with self._lock:
                pools = [entry.pool for entry in self._pools.values()]
            for worker_pool in pools:
                for worker in worker_pool.take_idle(cutoff):
                    worker.stop()

    def close(self) -> None:
        """Stop every worker; invocations still running end with `Runtime.ExitError`."""
        with self._lock:
            self._closed = True
            pools = [entry.pool for entry in self._pools.values()]
            reaper = self._reaper
        self._stop_reaper.set()
        if reaper is not None:
            reaper.join()
        for worker_pool in pools:
            idle, busy = worker_pool.close()
            for worker in busy:
                worker.kill()
            for worker in idle:
                worker.stop()
        shutil.rmtree(self._log_dir, ignore_errors=True)

    def __enter__(self) -> Invoker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _payload(body: bytes) -> Any:
    """A worker's answer as JSON; a custom runtime may post text that is not JSON, passed on as a string."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    try:
        # What orjson refuses and Python's json reads: NaN and Infinity, integers past 64 bits.
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")
