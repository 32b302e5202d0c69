"""Function isolation through a real `pinflow server`: escapes refused, tampered code refused, no orphans.

A function here tries what code run by a server could try against it: rewrite another version's
unpacked code, read the store, read the server's environment (which holds its secrets) and its
access keys file, and signal the server. In the sandbox each attempt fails and the server answers
afterwards with every version unchanged.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from pinflow.functions import invoker, package, sandbox
from tests.backends import postgres_schema
from tests.functions.conftest import eventually, host_processes, sandbox_or_skip

CONFIG = Config(inject_host_prefix=False, retries={"max_attempts": 0}, region_name="us-east-1")
ROLE = "arn:aws:iam::123456789012:role/lambda"
KEY_ID, KEY_SECRET = "AKIDSANDBOXTEST", "sandbox-test-secret"

VICTIM = "def handler(event, context):\n    return 'original'\n"

ATTACKER = '''
import glob, os, signal, subprocess

def handler(event, context):
    outcome = {}

    def attempt(name, action):
        try:
            result = action()
        except Exception as exc:
            outcome[name] = "blocked: " + type(exc).__name__
        else:
            outcome[name] = "done: " + repr(result)[:200]

    def rewrite_other_version():
        folder = event["victim_code"]
        os.chmod(folder, 0o755)
        os.chmod(os.path.join(folder, "app.py"), 0o644)
        with open(os.path.join(folder, "app.py"), "w") as out:
            out.write("def handler(event, context):\\n    return 'tampered'\\n")

    def rewrite_own_code():
        os.chmod(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "app.py"), 0o644)
        with open(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "app.py"), "a") as out:
            out.write("# changed")

    def find_secret():
        for path in glob.glob("/proc/*/environ"):
            try:
                with open(path, "rb") as source:
                    if event["secret"].encode() in source.read():
                        return path
            except OSError:
                continue
        raise LookupError("no process shows the secret")

    def write_store():
        with open(event["store"], "ab") as out:
            out.write(b"garbage")

    attempt("rewrite another version's code", rewrite_other_version)
    attempt("rewrite its own code", rewrite_own_code)
    attempt("read the store", lambda: open(event["store"], "rb").read(16))
    attempt("write the store", write_store)
    attempt("list the data folder", lambda: os.listdir(event["data_dir"]))
    attempt("read the server's environment", lambda: open(f"/proc/{event['server_pid']}/environ", "rb").read())
    attempt("find the server's secret in any process", find_secret)
    attempt("read the access keys file", lambda: open(event["auth_file"]).read())
    def signal_everything():
        child = subprocess.Popen(["sleep", "60"])
        os.kill(-1, signal.SIGKILL)
        return child.wait(timeout=10)

    attempt("signal the server", lambda: os.kill(event["server_pid"], signal.SIGTERM))
    attempt("signal every process it can", signal_everything)
    return outcome
'''

SLEEPER = "import time\ndef handler(event, context):\n    time.sleep(event['seconds'])\n    return 'woke'\n"


def zipped(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`pinflow server --auth` as a child process with a secret in its environment."""

    def __init__(self, tmp_path: Path, isolation: str, *options: str) -> None:
        self.data_dir = tmp_path / "data"
        self.auth_file = tmp_path / "keys.json"
        self.auth_file.write_text(json.dumps({KEY_ID: KEY_SECRET}))
        self.auth_file.chmod(0o600)
        self.secret = f"server-secret-{uuid.uuid4().hex}"
        self.port = _free_port()
        self.log = tmp_path / f"server-{self.port}.log"
        store = list(options) if "--db" in options else ["--data-dir", str(self.data_dir), *options]
        command = [sys.executable, "-c", "from pinflow.cli import main; main()", "server", "--port",
                   str(self.port), "--auth", str(self.auth_file), "--isolation", isolation, *store]
        with self.log.open("w") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                            env={**os.environ, "PINFLOW_TEST_SECRET": self.secret})
        self._clients: list[Any] = []
        deadline = time.monotonic() + 20
        while not self._listening():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the server did not start: {self.log.read_text()}")
            time.sleep(0.02)

    def _listening(self) -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def client(self, service: str) -> Any:
        made = boto3.client(service, endpoint_url=f"http://127.0.0.1:{self.port}", config=CONFIG,
                            aws_access_key_id=KEY_ID, aws_secret_access_key=KEY_SECRET)
        self._clients.append(made)
        return made

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        for made in self._clients:
            made.close()
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def create(lam: Any, name: str, source: str, **options: Any) -> None:
    lam.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": zipped(source)}, Publish=True, **options)


def invoke(lam: Any, name: str, event: Any = None) -> Any:
    answer = lam.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode())
    return json.loads(answer["Payload"].read())


def code_folder(server: Server, lam: Any, name: str) -> Path:
    digest = base64.b64decode(lam.get_function(FunctionName=name)["Configuration"]["CodeSha256"]).hex()
    return server.data_dir / "code" / digest


def test_a_function_cannot_escape_the_sandbox(tmp_path: Path, servers: list[Server]) -> None:
    sandbox_or_skip()
    server = Server(tmp_path, sandbox.SANDBOX)
    servers.append(server)
    lam = server.client("lambda")
    create(lam, "victim", VICTIM)
    # The loader's debug output, named by the function: a file appearing here on the host would mean a
    # process outside the sandbox (bubblewrap) ran with the function's environment.
    debug_output = tmp_path / "lddebug"
    create(lam, "attacker", ATTACKER, Timeout=30,
           Environment={"Variables": {"LD_DEBUG": "libs", "LD_DEBUG_OUTPUT": str(debug_output),
                                      "LD_LIBRARY_PATH": str(server.data_dir)}})
    marker = f"bystander-{uuid.uuid4().hex}"
    create(lam, "bystander", SLEEPER, Timeout=60, Environment={"Variables": {"MARKER": marker}})
    assert invoke(lam, "victim:1") == "original"  # unpacked, so there is something to rewrite
    lam.invoke(FunctionName="bystander:1", InvocationType="Event", Payload=b'{"seconds": 40}')
    assert eventually(lambda: bool(host_processes(marker)), 20), "the bystander did not start"
    bystander = host_processes(marker)
    event = {"victim_code": str(code_folder(server, lam, "victim")), "store": str(server.data_dir / "pinflow.db"),
             "data_dir": str(server.data_dir), "server_pid": server.process.pid, "secret": server.secret,
             "auth_file": str(server.auth_file)}
    assert Path(event["store"]).is_file() and Path(event["victim_code"], "app.py").is_file()

    outcome = invoke(lam, "attacker:1", event)

    assert outcome == {
        "rewrite another version's code": "blocked: FileNotFoundError",
        "rewrite its own code": "blocked: OSError",  # EROFS: /var/task is a read-only mount
        "read the store": "blocked: FileNotFoundError",
        "write the store": "blocked: FileNotFoundError",
        "list the data folder": "blocked: FileNotFoundError",
        "read the server's environment": "blocked: FileNotFoundError",
        "find the server's secret in any process": "blocked: LookupError",
        "read the access keys file": "blocked: FileNotFoundError",
        "signal the server": "blocked: ProcessLookupError",
        # kill(-1) reaches what the function started (its sleep, killed by SIGKILL), nothing else.
        "signal every process it can": "done: -9",
    }
    assert server.alive()
    assert set(bystander) <= set(host_processes(marker)), "another function's worker was killed"
    assert list(tmp_path.glob("lddebug*")) == []
    assert invoke(lam, "victim:1") == "original"
    assert invoke(lam, "victim") == "original"
    assert lam.list_functions()["Functions"]


def test_the_same_function_without_the_sandbox_escapes(tmp_path: Path, servers: list[Server]) -> None:
    """What `--isolation none` means, shown rather than said (and a check that the attacks are real)."""
    server = Server(tmp_path, sandbox.NONE)
    servers.append(server)
    assert "function isolation: NONE" in server.log.read_text()
    lam = server.client("lambda")
    create(lam, "victim", VICTIM)
    create(lam, "attacker", ATTACKER.replace('attempt("signal', '# attempt("signal'), Timeout=30)
    invoke(lam, "victim:1")
    event = {"victim_code": str(code_folder(server, lam, "victim")), "store": str(server.data_dir / "pinflow.db"),
             "data_dir": str(server.data_dir), "server_pid": server.process.pid, "secret": server.secret,
             "auth_file": str(server.auth_file)}
    outcome = invoke(lam, "attacker:1", event)
    assert outcome["read the server's environment"].startswith("done")
    assert outcome["read the access keys file"] == f"done: {json.dumps({KEY_ID: KEY_SECRET})!r}"
    assert outcome["rewrite another version's code"].startswith("done")
    # The running worker keeps what it imported, but no new worker starts from a changed folder.
    assert invoke(lam, "victim:1") == "original"
    server.stop()
    restarted = Server(tmp_path, sandbox.NONE)
    servers.append(restarted)
    lam = restarted.client("lambda")
    with pytest.raises(lam.exceptions.ServiceException, match="changed on disk"):
        invoke(lam, "victim:1")


@pytest.mark.parametrize("isolation", [sandbox.SANDBOX, sandbox.NONE])
def test_a_version_whose_unpacked_code_changed_on_disk_refuses_to_run(
    tmp_path: Path, servers: list[Server], isolation: str
) -> None:
    if isolation == sandbox.SANDBOX:
        sandbox_or_skip()
    server = Server(tmp_path, isolation)
    servers.append(server)
    lam = server.client("lambda")
    create(lam, "victim", VICTIM)
    assert invoke(lam, "victim:1") == "original"
    folder = code_folder(server, lam, "victim")
    server.stop()
    # What the issue saw a function do: make the sealed copy writable again and rewrite it.
    folder.chmod(0o755)
    (folder / "app.py").chmod(0o644)
    (folder / "app.py").write_text("def handler(event, context):\n    return 'tampered'\n")

    restarted = Server(tmp_path, isolation)
    servers.append(restarted)
    lam = restarted.client("lambda")
    with pytest.raises(lam.exceptions.ServiceException, match="changed on disk"):
        invoke(lam, "victim:1")
    # Removing the folder has the code unpacked again from the store, as published.
    for path in (folder / "app.py", folder):
        path.chmod(0o700)
    (folder / "app.py").unlink()
    folder.rmdir()
    assert invoke(lam, "victim:1") == "original"


@pytest.mark.parametrize("isolation", [sandbox.SANDBOX, sandbox.NONE])
def test_workers_die_with_a_killed_server(tmp_path: Path, servers: list[Server], isolation: str) -> None:
    if isolation == sandbox.SANDBOX:
        sandbox_or_skip()
    server = Server(tmp_path, isolation)
    servers.append(server)
    lam = server.client("lambda")
    marker = f"orphan-marker-{uuid.uuid4().hex}"
    create(lam, "sleeper", SLEEPER, Timeout=120, Environment={"Variables": {"MARKER": marker}})
    lam.invoke(FunctionName="sleeper:1", InvocationType="Event", Payload=b'{"seconds": 100}')
    assert eventually(lambda: bool(host_processes(marker)), 20), "the worker did not start"

    server.process.kill()
    server.process.wait()

    assert eventually(lambda: not host_processes(marker), 10), host_processes(marker)


def test_a_python_installation_under_tmp_is_not_hidden_by_the_private_tmp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clone (and its virtual environment) under /tmp, as CI may make it, must still be seen."""
    sandbox_or_skip()
    site = tmp_path / "site-packages"
    site.mkdir()
    site.chmod(0o755)
    (site / "from_tmp.py").write_text("VALUE = 'seen'\n")
    (site / "from_tmp.py").chmod(0o644)
    found = sandbox._python_folders()
    monkeypatch.setattr(sandbox, "_python_folders", lambda: [*found, site])
    isolation = sandbox.create_sandbox()
    source = tmp_path / "src"
    source.mkdir()
    (source / "app.py").write_text(
        f"import getpass, os, sys\nsys.path.append({str(site)!r})\nimport from_tmp\n"
        "def handler(event, context):\n"
        "    open('/tmp/scratch', 'w').write('x')\n"
        "    return [from_tmp.VALUE, os.path.exists('/tmp/scratch'), getpass.getuser()]\n")
    code = package.package_folder(source)
    digest = package.sha256_hex(code)
    spec = invoker.FunctionSpec("f", "1", "arn:aws:lambda:us-east-1:123456789012:function:f:1", digest,
                                "app.handler")
    with invoker.Invoker(tmp_path / "code", {digest: code}.__getitem__, isolation=isolation) as running:
        # The sandbox's own /etc/passwd names the worker's user as Lambda's does.
        assert running.invoke(spec, {}, request_id="r").payload == ["seen", True, "sbx_user1051"]


NODE_ATTACKER = r"""
const fs = require('fs');
exports.handler = async (event) => {
  const outcome = {};
  const attempt = (name, action) => {
    try {
      outcome[name] = 'done: ' + String(action()).slice(0, 200);
    } catch (e) {
      outcome[name] = 'blocked: ' + e.code;
    }
  };
  attempt("rewrite another version's code", () => fs.writeFileSync(event.victim_code + '/app.py', 'x'));
  attempt('rewrite its own code', () => fs.appendFileSync(process.env.LAMBDA_TASK_ROOT + '/app.js', '// changed'));
  attempt('read the store', () => fs.readFileSync(event.store).length);
  attempt('list the data folder', () => fs.readdirSync(event.data_dir));
  attempt("read the server's environment", () => fs.readFileSync(`/proc/${event.server_pid}/environ`).length);
  attempt('read the access keys file', () => fs.readFileSync(event.auth_file, 'utf8'));
  attempt('signal the server', () => process.kill(event.server_pid, 'SIGTERM'));
  return outcome;
};
"""


def _zip_files(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100755 if name == "bootstrap" else 0o100644) << 16
            archive.writestr(info, text)
    return buffer.getvalue()


@pytest.mark.parametrize("runtime", ["nodejs20.x", "provided.al2023"])
def test_node_and_custom_runtimes_get_the_same_sandbox(tmp_path: Path, servers: list[Server], runtime: str) -> None:
    """A Node.js function, and a custom runtime's bootstrap (awslambdaric running the Python attacker), try
    the same escapes and fail the same way."""
    sandbox_or_skip()
    if runtime.startswith("nodejs"):
        if shutil.which("node") is None:
            pytest.skip("Node.js is not installed")
        files, handler = {"app.js": NODE_ATTACKER}, "app.handler"
    else:
        pytest.importorskip("awslambdaric")
        files = {"app.py": ATTACKER, "bootstrap": "#!/bin/sh\nexec python3 -m awslambdaric \"$_HANDLER\"\n"}
        handler = "app.handler"
    server = Server(tmp_path, sandbox.SANDBOX)
    servers.append(server)
    lam = server.client("lambda")
    create(lam, "victim", VICTIM)
    lam.create_function(FunctionName="attacker", Runtime=runtime, Role=ROLE, Handler=handler, Timeout=30,
                        Code={"ZipFile": _zip_files(files)}, Publish=True)
    assert invoke(lam, "victim:1") == "original"
    event = {"victim_code": str(code_folder(server, lam, "victim")), "store": str(server.data_dir / "pinflow.db"),
             "data_dir": str(server.data_dir), "server_pid": server.process.pid, "secret": server.secret,
             "auth_file": str(server.auth_file)}
    outcome = invoke(lam, "attacker:1", event)
    outcome.pop("signal every process it can", None)
    outcome.pop("find the server's secret in any process", None)
    blocked = {name: verdict for name, verdict in outcome.items() if verdict.startswith("blocked")}
    assert blocked == outcome, outcome  # every attempt failed
    assert len(outcome) >= 7
    assert server.alive()
    assert invoke(lam, "victim:1") == "original"


STORE_PROBE = """
import psycopg

def handler(event, context):
    try:
        with psycopg.connect(event["url"], connect_timeout=5) as connection:
            return "connected as " + connection.execute("select current_user").fetchone()[0]
    except psycopg.OperationalError as exc:
        return "refused: " + str(exc).splitlines()[0]
"""


@pytest.mark.postgres
@pytest.mark.parametrize("network", ["shared", "none"])
def test_a_postgresql_store_open_without_a_password_and_the_functions_network(
        tmp_path: Path, servers: list[Server], network: str) -> None:
    """docs/isolation.md: with a shared network a function reaches what the host reaches, a PostgreSQL store
    that lets in without a password included, and the server warns at start; without a network it
    reaches nothing."""
    sandbox_or_skip()
    with postgres_schema("pinflow_sandbox") as url:
        server = Server(tmp_path, sandbox.SANDBOX, "--db", url, "--function-network", network)
        servers.append(server)
        lam = server.client("lambda")
        create(lam, "probe", STORE_PROBE, Timeout=30)
        outcome = invoke(lam, "probe:1", {"url": url})
        log = server.log.read_text()
        server.stop()
    warned = "the PostgreSQL store let this server in without a password" in log
    if network == "shared":
        assert warned and "the network is shared" in log
        assert outcome == "connected as postgres"
    else:
        assert not warned and "it has no network" in log
        assert outcome.startswith("refused: connection failed"), outcome


def test_no_function_network_needs_the_sandbox(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", "from pinflow.cli import main; main()", "server", "--data-dir",
                           str(tmp_path), "--isolation", "none", "--function-network", "none"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "--function-network none needs the sandbox" in done.stderr
