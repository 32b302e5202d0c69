"""The invoker against real worker processes: results, Lambda's error documents, timeouts, crashes."""

from __future__ import annotations

import json
import re
import stat
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pinflow.functions import errors, invoker, package, sandbox
from tests.functions.conftest import eventually, host_processes

ARN = "arn:aws:lambda:eu-west-1:123456789012:function:hello"

APP = """
import os, signal, sys, time, uuid

# One value per worker process: inside a sandbox every worker is pid 2 of its own namespace.
INSTANCE = uuid.uuid4().hex

def handler(event, context):
    action = event.get("do")
    if action == "context":
        return {
            "event": event,
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "aws_request_id": context.aws_request_id,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining": context.get_remaining_time_in_millis(),
        }
    if action == "env":
        return dict(os.environ)
    if action == "instance":
        return INSTANCE
    if action == "raise":
        raise ValueError("bad " + event["what"])
    if action == "sleep":
        time.sleep(event["seconds"])
        return "woke up"
    if action == "exit":
        os._exit(event["status"])
    if action == "sys.exit":
        sys.exit(0)
    if action == "signal":
        os.kill(os.getpid(), signal.SIGKILL)
    if action == "print":
        for i in range(2000):
            print("noise", i, "R" * 40)
        os.write(1, b"\\x00\\x00\\x00\\x05raw bytes to fd 1\\n")
        sys.stderr.write("to stderr\\n")
        print("the last line")
        return {"fine": True}
    if action == "set":
        return {1, 2}
    if action == "spawn":
        import subprocess
        return subprocess.Popen(["sleep", "60"]).pid
    if action == "spawn-and-exit":
        # os.system's shell passes on every inheritable descriptor to the background sleep.
        os.system("sleep 60 &")
        os._exit(1)
    return event
"""


class Functions:
    """Packages folders of sources into a store, and makes specs pointing at them."""

    def __init__(self, tmp_path: Path) -> None:
        self.store: dict[str, bytes] = {}
        self.loads: list[str] = []
        self._tmp = tmp_path
        self._count = 0

    def load(self, sha: str) -> bytes:
        self.loads.append(sha)
        return self.store[package.normalize_sha256(sha)]

    def publish(
        self, files: dict[str, str | bytes], *, version: str = "1", handler: str = "app.handler", **config: Any
    ):
        """A spec for `files` (a file named `bootstrap` is executable, as a custom runtime's must be); its
        environment holds a marker naming its worker processes on the host."""
        self._count += 1
        config["environment"] = {**config.get("environment", {}), "TEST_MARKER": f"marker-{uuid.uuid4().hex}"}
        source = self._tmp / f"src{self._count}"
        for name, text in files.items():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            if isinstance(text, bytes):
                (source / name).write_bytes(text)
            else:
                (source / name).write_text(text)
            if Path(name).name == "bootstrap":
                (source / name).chmod(0o755)
        code = package.package_folder(source)
        digest = package.sha256_hex(code)
        self.store[digest] = code
        return invoker.FunctionSpec(
            function_name="hello",
            version=version,
            arn=f"{ARN}:{version}",
            code_sha256=digest,
            handler=handler,
            **config,
        )


@pytest.fixture
def functions(tmp_path: Path) -> Functions:
    return Functions(tmp_path)


@pytest.fixture
def inv(tmp_path: Path, functions: Functions, isolation: sandbox.Isolation) -> Iterator[invoker.Invoker]:
    with invoker.Invoker(tmp_path / "code", functions.load, max_workers_per_version=2,
                         isolation=isolation) as running:
        yield running


def marker(spec: invoker.FunctionSpec) -> str:
    return f"TEST_MARKER={spec.environment['TEST_MARKER']}"


def test_event_and_context_reach_the_handler(inv: invoker.Invoker, functions: Functions) -> None:
    spec = functions.publish({"app.py": APP}, version="7", timeout=2.0, memory_size=256)
    result = inv.invoke(spec, {"do": "context", "n": [1, 2.5, None, "é"]}, request_id="req-1")
    assert result.function_error is None
    assert result.executed_version == "7"
    out = result.payload
    assert out["event"] == {"do": "context", "n": [1, 2.5, None, "é"]}
    assert out["function_name"] == "hello"
    assert out["function_version"] == "7"
    assert out["invoked_function_arn"] == f"{ARN}:7"
    assert out["memory_limit_in_mb"] == "256"  # a string, as in Lambda's Python runtime
    assert out["aws_request_id"] == "req-1"
    assert out["log_group_name"] == "/aws/lambda/hello"
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[7\][0-9a-f]{32}", out["log_stream_name"])
    assert 0 < out["remaining"] <= 2000


def test_environment_variables_are_the_functions_not_the_engines(
    inv: invoker.Invoker, functions: Functions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PINFLOW_ENGINE_SECRET", "do-not-leak")
    spec = functions.publish({"app.py": APP}, environment={"GREETING": "hola", "EMPTY": ""})
    env = inv.invoke(spec, {"do": "env"}, request_id="r").payload
    assert env["GREETING"] == "hola"
    assert env["EMPTY"] == ""
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "hello"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "1"
    assert env["AWS_REGION"] == "eu-west-1"
    assert env["_HANDLER"] == "app.handler"
    assert "PINFLOW_ENGINE_SECRET" not in env
    assert not any(name.startswith("_PINFLOW") for name in env)


def test_two_versions_of_the_same_module_run_side_by_side(inv: invoker.Invoker, functions: Functions) -> None:
    v1 = functions.publish({"app.py": "def handler(e, c):\n    return 'one'\n"}, version="1")
    v2 = functions.publish({"app.py": "def handler(e, c):\n    return 'two'\n"}, version="2")
    outcomes = [inv.invoke(spec, {}, request_id=f"r{i}") for i in range(3) for spec in (v1, v2)]
    assert [(r.payload, r.executed_version) for r in outcomes] == [("one", "1"), ("two", "2")] * 3


def test_warm_workers_are_reused(inv: invoker.Invoker, functions: Functions) -> None:
    spec = functions.publish({"app.py": APP})
    instances = {inv.invoke(spec, {"do": "instance"}, request_id=f"r{i}").payload for i in range(5)}
    assert len(instances) == 1


def test_a_handler_exception_comes_back_as_lambda_reports_it(
    inv: invoker.Invoker, functions: Functions
) -> None:
    spec = functions.publish({"app.py": APP})
    first = inv.invoke(spec, {"do": "instance"}, request_id="r0").payload
    result = inv.invoke(spec, {"do": "raise", "what": "input"}, request_id="req-9")
    assert result.function_error == "Unhandled"
    payload = result.payload
    assert list(payload) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert payload["errorType"] == "ValueError"
    assert payload["errorMessage"] == "bad input"
    assert payload["requestId"] == "req-9"
    assert len(payload["stackTrace"]) == 1  # the runtime's own frames are left out
    frame = payload["stackTrace"][0]
    # The function's files are shown under /var/task, as on Lambda (sandboxed or not).
    assert re.fullmatch(
        r'  File "/var/task/app\.py", line \d+, in handler\n    raise ValueError\("bad " \+ .*\)\n', frame
    )
    assert "[ERROR] ValueError: bad input" in result.log_tail
    assert '  File "/var/task/app.py", line' in result.log_tail
    # An exception does not cost the warm worker.
    assert inv.invoke(spec, {"do": "instance"}, request_id="r1").payload == first


def test_a_handler_past_its_timeout_is_killed_and_replaced(
    inv: invoker.Invoker, functions: Functions
) -> None:
    spec = functions.publish({"app.py": APP}, timeout=0.5)
    first = inv.invoke(spec, {"do": "instance"}, request_id="r0").payload
    assert host_processes(marker(spec))
    started = time.monotonic()
    result = inv.invoke(spec, {"do": "sleep", "seconds": 30}, request_id="req-slow")
    assert time.monotonic() - started < 5
    assert result.function_error == "Unhandled"
    assert result.payload == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "RequestId: req-slow Error: Task timed out after 0.50 seconds",
    }
    assert eventually(lambda: not host_processes(marker(spec)))
    after = inv.invoke(spec, {"do": "instance"}, request_id="r2")
    assert after.function_error is None
    assert after.payload != first


def test_a_handler_within_its_timeout_finishes(inv: invoker.Invoker, functions: Functions) -> None:
    spec = functions.publish({"app.py": APP}, timeout=2.0)
    assert inv.invoke(spec, {"do": "sleep", "seconds": 0.2}, request_id="r").payload == "woke up"


def test_a_timeout_also_ends_what_the_handler_started(inv: invoker.Invoker, functions: Functions) -> None:
    spec = functions.publish({"app.py": APP}, timeout=0.5)
    inv.invoke(spec, {"do": "echo"}, request_id="r0")
    before = set(host_processes(marker(spec)))
    assert isinstance(inv.invoke(spec, {"do": "spawn"}, request_id="r1").payload, int)
    # the sleep it started, looked for until it shows (a single look missed it once on a loaded host)
    assert eventually(lambda: len(set(host_processes(marker(spec))) - before) == 1)
    assert inv.invoke(spec, {"do": "sleep", "seconds": 30}, request_id="r2").payload["errorType"] == (
        "Sandbox.Timedout"
    )
    assert eventually(lambda: not host_processes(marker(spec)))


def test_a_crash_is_seen_at_once_even_when_a_child_lives_on(
    inv: invoker.Invoker, functions: Functions
) -> None:
    spec = functions.publish({"app.py": APP}, timeout=20)
    started = time.monotonic()
    result = inv.invoke(spec, {"do": "spawn-and-exit"}, request_id="r")
    assert result.payload["errorType"] == "Runtime.ExitError"
    assert time.monotonic() - started < 10


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ({"do": "exit", "status": 3}, "Runtime exited with error: exit status 3"),
        ({"do": "signal"}, "Runtime exited with error: signal: killed"),
        ({"do": "sys.exit"}, "Runtime exited without providing a reason"),
    ],
)
def test_a_crashing_worker_gives_runtime_exit_error_and_a_new_worker(
    inv: invoker.Invoker, functions: Functions, event: dict[str, Any], reason: str
) -> None:
    spec = functions.publish({"app.py": APP})
    result = inv.invoke(spec, event, request_id="req-x")
    assert result.function_error == "Unhandled"
    assert result.payload == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: req-x Error: {reason}",
    }
    assert inv.invoke(spec, {"do": "echo"}, request_id="r2").payload == {"do": "echo"}


@pytest.mark.parametrize(
    ("files", "handler", "error_type", "message"),
    [
        (
            {"app.py": APP},
            "missing.handler",
            "Runtime.ImportModuleError",
            "Unable to import module 'missing': No module named 'missing'",
        ),
        (
            {"app.py": "import not_installed_anywhere\n"},
            "app.handler",
            "Runtime.ImportModuleError",
            "Unable to import module 'app': No module named 'not_installed_anywhere'",
        ),
        (
            {"app.py": APP},
            "app.nothing",
            "Runtime.HandlerNotFound",
            "Handler 'nothing' missing on module 'app'",
        ),
        (
            {"app.py": APP},
            "app",
            "Runtime.MalformedHandlerName",
            "Bad handler 'app': not enough values to unpack (expected 2, got 1)",
        ),
        (
            {"app.py": APP},
            "sys.handler",
            "Runtime.BuiltInModuleConflict",
            "Cannot use built-in module sys as a handler module",
        ),
        ({"app.py": "raise KeyError('setting')\n"}, "app.handler", "KeyError", "'setting'"),
    ],
)
def test_init_failures_are_mapped_like_lambdas_python_runtime(
    inv: invoker.Invoker,
    functions: Functions,
    files: dict[str, str],
    handler: str,
    error_type: str,
    message: str,
) -> None:
    spec = functions.publish(files, handler=handler)
    for attempt in range(2):  # Lambda tries the init again on the next invocation
        result = inv.invoke(spec, {}, request_id=f"r{attempt}")
        assert result.function_error == "Unhandled"
        assert result.payload["errorType"] == error_type
        assert result.payload["errorMessage"] == message


def test_a_syntax_error_is_a_user_code_syntax_error(inv: invoker.Invoker, functions: Functions) -> None:
    spec = functions.publish({"app.py": "def handler(event, context)\n    return 1\n"})
    payload = inv.invoke(spec, {}, request_id="r").payload
    assert payload["errorType"] == "Runtime.UserCodeSyntaxError"
    assert payload["errorMessage"].startswith("Syntax error in module 'app': ")
    assert payload["stackTrace"][0].startswith('  File "')


def test_handlers_in_packages_and_folders(inv: invoker.Invoker, functions: Functions) -> None:
    files = {"pkg/__init__.py": "", "pkg/mod.py": "def go(e, c):\n    return 'deep'\n"}
    assert inv.invoke(functions.publish(files, handler="pkg.mod.go"), {}, request_id="r").payload == "deep"
    assert inv.invoke(functions.publish(files, handler="pkg/mod.go"), {}, request_id="r").payload == "deep"


def test_prints_never_corrupt_the_channel(inv: invoker.Invoker, functions: Functions) -> None:
    spec = functions.publish({"app.py": APP})
    result = inv.invoke(spec, {"do": "print"}, request_id="req-p")
    assert result.payload == {"fine": True}
    assert inv.invoke(spec, {"do": "echo"}, request_id="r2").payload == {"do": "echo"}
    tail = result.log_tail
    assert len(tail.encode()) <= 4096
    assert "the last line\n" in tail
    assert "to stderr\n" in tail
    assert tail.endswith("\n") and "END RequestId: req-p\nREPORT RequestId: req-p\tDuration: " in tail


def test_a_tail_holds_only_its_own_call_s_log_after_calls_that_did_not_ask_for_theirs(
    inv: invoker.Invoker, functions: Functions
) -> None:
    spec = functions.publish({"app.py": APP})
    instance = inv.invoke(spec, {"do": "instance"}, request_id="warm").payload
    for i in range(3):
        unread = inv.invoke(spec, {"do": "print"}, request_id=f"quiet-{i}", log=False)
        assert unread.payload == {"fine": True}
        assert unread.log_tail == ""
    result = inv.invoke(spec, {"do": "raise", "what": "input"}, request_id="loud")
    assert inv.invoke(spec, {"do": "instance"}, request_id="same").payload == instance  # one warm worker
    assert "[ERROR] ValueError: bad input" in result.log_tail
    assert "noise" not in result.log_tail and "the last line" not in result.log_tail
    assert result.log_tail.startswith("START RequestId: loud")


def test_a_worker_s_unread_log_is_emptied_as_it_grows(inv: invoker.Invoker, functions: Functions) -> None:
    spec = functions.publish({"app.py": APP})
    for i in range(100):  # about 100 KB of log each
        assert inv.invoke(spec, {"do": "print"}, request_id=f"quiet-{i}", log=False).payload == {"fine": True}
    logs = sum(path.stat().st_size for path in inv._log_dir.iterdir())
    assert logs < 100 * 100_000 / 2


def test_a_result_that_is_not_json_is_a_marshal_error(inv: invoker.Invoker, functions: Functions) -> None:
    spec = functions.publish({"app.py": APP})
    result = inv.invoke(spec, {"do": "set"}, request_id="r")
    assert result.payload["errorType"] == "Runtime.MarshalError"
    assert (
        result.payload["errorMessage"]
        == "Unable to marshal response: Object of type set is not JSON serializable"
    )


def test_an_event_that_is_not_json_is_refused(inv: invoker.Invoker, functions: Functions) -> None:
    spec = functions.publish({"app.py": APP})
    with pytest.raises(TypeError):
        inv.invoke(spec, {"bad": object()}, request_id="r")


def test_concurrent_invocations_from_threads(inv: invoker.Invoker, functions: Functions) -> None:
    spec = functions.publish({"app.py": APP})
    other = functions.publish(
        {"app.py": "import uuid\nI = uuid.uuid4().hex\ndef handler(e, c):\n    return [e, I]\n"}, version="2"
    )
    results: dict[tuple[int, int], Any] = {}

    def work(thread: int) -> None:
        for call in range(10):
            target = spec if call % 2 else other
            results[(thread, call)] = inv.invoke(
                target, {"t": thread, "c": call}, request_id=f"{thread}-{call}"
            )

    workers = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(results) == 60
    instances = set()
    for (thread, call), result in results.items():
        if call % 2:
            assert result.payload == {"t": thread, "c": call}
        else:
            assert result.payload[0] == {"t": thread, "c": call}
            instances.add(result.payload[1])
    assert 1 <= len(instances) <= 2  # max_workers_per_version


def _waiting_behind(inv: invoker.Invoker, spec: invoker.FunctionSpec, first: dict[str, Any]) -> tuple[
        dict[str, Any], threading.Thread, threading.Thread]:
    """Start `first` on the version's only worker, then an echo that has to wait for it."""
    outcomes: dict[str, Any] = {}

    def run(name: str, event: dict[str, Any]) -> None:
        try:
            outcomes[name] = inv.invoke(spec, event, request_id=name)
        except Exception as exc:  # noqa: BLE001 - the test looks at what came out
            outcomes[name] = exc

    busy = threading.Thread(target=run, args=("first", first))
    busy.start()
    assert eventually(lambda: host_processes(marker(spec)))
    time.sleep(0.2)  # the first call is under way
    waiting = threading.Thread(target=run, args=("second", {"do": "echo"}))
    waiting.start()
    return outcomes, busy, waiting


def test_an_invocation_waiting_for_a_busy_worker_runs_on_it_once_free(
    tmp_path: Path, functions: Functions, isolation: sandbox.Isolation
) -> None:
    spec = functions.publish({"app.py": APP})
    with invoker.Invoker(tmp_path / "code", functions.load, max_workers_per_version=1, isolation=isolation) as inv:
        instance = inv.invoke(spec, {"do": "instance"}, request_id="warm").payload
        outcomes, busy, waiting = _waiting_behind(inv, spec, {"do": "sleep", "seconds": 0.6})
        busy.join()
        waiting.join()
        assert outcomes["first"].payload == "woke up"
        assert outcomes["second"].payload == {"do": "echo"}
        assert inv.invoke(spec, {"do": "instance"}, request_id="again").payload == instance


def test_an_invocation_waiting_for_a_worker_that_crashes_gets_a_new_one(
    tmp_path: Path, functions: Functions, isolation: sandbox.Isolation
) -> None:
    app = APP.replace('    if action == "exit":', '    if action == "sleep-and-exit":\n'
                      '        time.sleep(0.6)\n        os._exit(3)\n    if action == "exit":')
    spec = functions.publish({"app.py": app})
    with invoker.Invoker(tmp_path / "code", functions.load, max_workers_per_version=1, isolation=isolation) as inv:
        instance = inv.invoke(spec, {"do": "instance"}, request_id="warm").payload
        outcomes, busy, waiting = _waiting_behind(inv, spec, {"do": "sleep-and-exit"})
        busy.join()
        waiting.join()
        assert outcomes["first"].payload["errorType"] == "Runtime.ExitError"
        # The slot the crashed worker held goes to the waiting call, which starts a worker of its own.
        assert outcomes["second"].function_error is None
        assert outcomes["second"].payload == {"do": "echo"}
        assert inv.invoke(spec, {"do": "instance"}, request_id="after").payload != instance


def test_closing_the_invoker_ends_invocations_waiting_for_a_worker(
    tmp_path: Path, functions: Functions, isolation: sandbox.Isolation
) -> None:
    spec = functions.publish({"app.py": APP})
    inv = invoker.Invoker(tmp_path / "code", functions.load, max_workers_per_version=1, isolation=isolation)
    outcomes, busy, waiting = _waiting_behind(inv, spec, {"do": "sleep", "seconds": 5})
    inv.close()
    waiting.join(timeout=10)
    busy.join(timeout=10)
    assert isinstance(outcomes["second"], RuntimeError)
    assert outcomes["first"].payload["errorType"] == "Runtime.ExitError"
    assert not host_processes(marker(spec))


def test_code_is_loaded_and_unpacked_once(tmp_path: Path, functions: Functions) -> None:
    spec = functions.publish({"app.py": APP})
    by_base64 = invoker.FunctionSpec(
        "hello", "2", f"{ARN}:2", package.sha256_b64(functions.store[spec.code_sha256]), "app.handler"
    )
    with invoker.Invoker(tmp_path / "code", functions.load) as inv:
        threads = [
            threading.Thread(target=inv.invoke, args=(s, {}), kwargs={"request_id": "r"})
            for s in (spec, by_base64, spec, by_base64)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert inv.invoke(by_base64, {"do": "echo"}, request_id="r").payload == {"do": "echo"}
    assert len(functions.loads) == 1
    assert [p.name for p in (tmp_path / "code").iterdir()] == [spec.code_sha256]


def test_code_that_does_not_match_its_digest_is_refused(tmp_path: Path, functions: Functions) -> None:
    spec = functions.publish({"app.py": APP})
    tampered = functions.store[spec.code_sha256] + b"x"
    refused = pytest.raises(invoker.CodeIntegrityError)
    with invoker.Invoker(tmp_path / "code", lambda sha: tampered) as inv, refused:
        inv.invoke(spec, {}, request_id="r")
    assert not (tmp_path / "code" / spec.code_sha256).exists()


def test_idle_workers_are_stopped(tmp_path: Path, functions: Functions, isolation: sandbox.Isolation) -> None:
    spec = functions.publish({"app.py": APP})
    with invoker.Invoker(tmp_path / "code", functions.load, idle_seconds=0.2, isolation=isolation) as inv:
        first = inv.invoke(spec, {"do": "instance"}, request_id="r").payload
        assert host_processes(marker(spec))
        assert eventually(lambda: not host_processes(marker(spec))), "the idle worker was not stopped"
        assert inv.invoke(spec, {"do": "instance"}, request_id="r").payload != first


def test_close_stops_every_worker(tmp_path: Path, functions: Functions, isolation: sandbox.Isolation) -> None:
    spec = functions.publish({"app.py": APP})
    inv = invoker.Invoker(tmp_path / "code", functions.load, isolation=isolation)
    inv.invoke(spec, {"do": "instance"}, request_id="r")
    assert host_processes(marker(spec))
    inv.close()
    assert not host_processes(marker(spec))
    with pytest.raises(RuntimeError):
        inv.invoke(spec, {}, request_id="r")


def test_asl_error_from_a_handler_exception(inv: invoker.Invoker, functions: Functions) -> None:
    spec = functions.publish({"app.py": APP})
    result = inv.invoke(spec, {"do": "raise", "what": "x"}, request_id="req-1")
    error, cause = errors.asl_error_from(result)
    assert error == "ValueError"
    assert json.loads(cause) == result.payload
    # The Python runtime writes its documents with spaces after separators.
    assert cause.startswith('{"errorMessage": "bad x", "errorType": "ValueError", "requestId": "req-1", ')


def test_asl_error_from_a_timeout(inv: invoker.Invoker, functions: Functions) -> None:
    spec = functions.publish({"app.py": APP}, timeout=0.3)
    result = inv.invoke(spec, {"do": "sleep", "seconds": 10}, request_id="abc")
    assert errors.asl_error_from(result) == (
        "Sandbox.Timedout",
        '{"errorType":"Sandbox.Timedout",'
        '"errorMessage":"RequestId: abc Error: Task timed out after 0.30 seconds"}',
    )


def test_asl_error_from_a_document_without_an_error_type() -> None:
    result = invoker.InvokeResult({"errorMessage": "odd"}, "Unhandled", "1", 1.0)
    assert errors.asl_error_from(result) == (
        "Lambda.Unknown",
        "The cause could not be determined because Lambda did not return an error type. "
        'Returned payload: {"errorMessage": "odd"}',
    )


def test_asl_error_from_a_success_is_a_mistake() -> None:
    with pytest.raises(ValueError):
        errors.asl_error_from(invoker.InvokeResult({"ok": 1}, None, "1", 1.0))


def test_unpacked_code_is_read_only(tmp_path: Path, functions: Functions) -> None:
    spec = functions.publish({"app.py": APP, "lib/helpers.py": "VALUE = 1\n"})
    with invoker.Invoker(tmp_path / "code", functions.load) as inv:
        assert inv.invoke(spec, {"do": "echo"}, request_id="r").payload == {"do": "echo"}
    folder = tmp_path / "code" / spec.code_sha256
    modes = {path.relative_to(folder).as_posix(): stat.S_IMODE(path.stat().st_mode)
             for path in [folder, *folder.rglob("*")]}
    assert modes == {".": 0o555, "app.py": 0o444, "lib": 0o555, "lib/helpers.py": 0o444}
    # Nothing was left behind in the code root but the sealed folder.
    assert [p.name for p in (tmp_path / "code").iterdir()] == [spec.code_sha256]
