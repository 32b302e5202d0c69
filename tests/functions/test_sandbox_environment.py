"""A function's environment reaches its own process only, never bubblewrap or setpriv before the drop.

Lambda lets a function set LD_PRELOAD, LD_LIBRARY_PATH and most other variables (only the ones
listed as reserved in "Defined runtime environment variables" of the Lambda developer guide are
refused), and they apply to the function's own runtime process. In the sandbox the programs that run
before that process (bubblewrap on the host, as root or the server's user; setpriv inside, as root
with CAP_SETUID) must see none of them: each variable the dynamic loader, glibc or a shell reads
would otherwise run the function's code with their rights. Each test tries every such vector and
looks for its effect where an escape would leave it: on the host, and in the sandbox's /tmp written
by a process that is not the function's.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pinflow.functions import invoker, package, sandbox
from tests.functions.conftest import REQUIRE_SANDBOX

ARN = "arn:aws:lambda:us-east-1:123456789012:function:probe"

# A library that records each process it is loaded into: as LD_PRELOAD (its constructor) and as
# LD_AUDIT (la_version, which the loader calls first). Each record names the program, its user and
# its effective capabilities, and goes to every path in RECORDS that the process can open.
PROBE_C = r"""
#include <stdio.h>
#include <unistd.h>
static void record(const char *how) {
    char exe[512] = "", line[256], caps[64] = "?";
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    FILE *status = fopen("/proc/self/status", "r");
    while (status && fgets(line, sizeof line, status))
        if (sscanf(line, "CapEff: %63s", caps) == 1) break;
    if (status) fclose(status);
    const char *paths[] = {RECORDS};
    for (unsigned i = 0; i < sizeof paths / sizeof *paths; i++) {
        FILE *out = fopen(paths[i], "a");
        if (out) { fprintf(out, "%s %d %s %s\n", how, (int)getuid(), caps, exe); fclose(out); }
    }
}
__attribute__((constructor)) static void loaded(void) { record("preload"); }
unsigned int la_version(unsigned int version) { record("audit"); return version; }
"""

# What the function reports of its sandbox: itself, the probe's records and the loader's debug files.
HANDLER = r"""
import glob, os

def handler(event, context):
    status = dict(line.split(":", 1) for line in open("/proc/self/status"))
    records = open(event["records"]).read().splitlines() if os.path.exists(event["records"]) else []
    debug = []
    for path in sorted(glob.glob(event["debug"] + ".*")):
        text = open(path, errors="replace").read()
        programs = [line.split("initialize program:")[1].strip() for line in text.splitlines()
                    if "initialize program:" in line]
        debug.append({"owner": os.stat(path).st_uid, "programs": programs,
                      "library_path": "/var/task/lib" in text and "(LD_LIBRARY_PATH)" in text})
    return {"uid": os.getuid(), "caps": status["CapEff"].strip(), "exe": os.path.realpath("/proc/self/exe"),
            "records": records, "debug": debug, "env": {name: os.environ.get(name) for name in event["names"]}}
"""

# Libraries bubblewrap and setpriv load: a copy of the probe under each name, where LD_LIBRARY_PATH
# points, would be loaded in place of the real one (and, lacking its symbols, stop the program).
DECOYS = ("libcap.so.2", "libcap-ng.so.0", "libselinux.so.1", "libpcre2-8.so.0")


def sandbox_or_skip(isolation: str) -> sandbox.Sandbox:
    try:
        found = sandbox.create_sandbox()
    except sandbox.Unavailable as exc:
        if os.environ.get(REQUIRE_SANDBOX):
            pytest.fail(f"{REQUIRE_SANDBOX} is set and the sandbox is unavailable: {exc}")
        pytest.skip(f"the sandbox is unavailable here: {exc}")
    if isolation == "user-namespace":
        return sandbox.Sandbox(found.bwrap, None, uid=None)
    if found.uid is None:
        pytest.skip("this server is not root: setpriv is not used")
    return found


def compile_probe(tmp_path: Path, records: list[str]) -> Path:
    """The probe library, built with this machine's C compiler."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build the LD_PRELOAD/LD_AUDIT probe with")
    source = tmp_path / "probe.c"
    source.write_text(PROBE_C)
    built = tmp_path / "probe.so"
    listed = ",".join('"' + path + '"' for path in records)
    subprocess.run([compiler, "-shared", "-fPIC", "-O", f"-DRECORDS={listed}", "-o", str(built), str(source)],
                   check=True, capture_output=True)
    built.chmod(0o755)
    return built


def recording_bwrap(tmp_path: Path, real: str) -> tuple[Path, Path]:
    """A bwrap that first saves the environment it was started with (one file per start)."""
    saved = tmp_path / "bwrap-environ"
    saved.mkdir()
    wrapper = tmp_path / "bwrap"
    wrapper.write_text(f'#!/bin/sh\ncat /proc/$$/environ > "{saved}/$$"\nexec {real} "$@"\n')
    wrapper.chmod(0o755)
    return wrapper, saved


class Probe:
    """Everything a test needs to try the vectors and find their traces."""

    def __init__(self, tmp_path: Path, isolation: str) -> None:
        self.tmp_path = tmp_path
        self.tag = uuid.uuid4().hex
        # Inside the sandbox /tmp is its own; a file appearing under these names on the host means a
        # process outside the namespaces ran with the function's environment.
        self.host_records = tmp_path / "host-records"
        self.tmp_records = f"/tmp/pinflow-probe-{self.tag}"
        self.debug = f"/tmp/pinflow-lddebug-{self.tag}"
        self.library = compile_probe(tmp_path, [str(self.host_records), self.tmp_records])
        found = sandbox_or_skip(isolation)
        wrapper, self.bwrap_environ = recording_bwrap(tmp_path, found.bwrap)
        self.isolation = sandbox.Sandbox(str(wrapper), found.setpriv, uid=found.uid)
        self.host_lib = tmp_path / "hostlib"
        self.host_lib.mkdir()
        for name in DECOYS:
            shutil.copy(self.library, self.host_lib / name)
        (self.host_lib / "gconv-modules").write_text(f"module  INTERNAL  PROBE//  {self.library}  1\n")
        self.rc = tmp_path / "rc.sh"
        self.rc.write_text(f"echo shell >> {self.host_records}\n")
        source = tmp_path / "src"
        (source / "lib").mkdir(parents=True)
        (source / "app.py").write_text(HANDLER)
        shutil.copy(self.library, source / "probe.so")
        for name in DECOYS:
            shutil.copy(self.library, source / "lib" / name)
        self.code = package.package_folder(source)
        self.digest = package.sha256_hex(self.code)
        self.code_root = tmp_path / "code"

    def environment(self) -> dict[str, str]:
        """The function's variables: every loader, glibc and shell vector, at host and sandbox paths.

        The host path of the code is the one /proc/self/mountinfo shows the function.
        """
        host_code = self.code_root / self.digest
        preload = f"{host_code}/probe.so {self.library} /var/task/probe.so"
        return {
            "LD_PRELOAD": preload,
            "LD_AUDIT": preload.replace(" ", ":"),
            "LD_LIBRARY_PATH": f"{self.host_lib}:/var/task/lib",
            "LD_DEBUG": "libs",
            "LD_DEBUG_OUTPUT": self.debug,
            "GCONV_PATH": str(self.host_lib),
            "GLIBC_TUNABLES": "glibc.malloc.check=3",
            "LOCPATH": str(self.host_lib),
            "NLSPATH": f"{self.host_lib}/%N",
            "MALLOC_CHECK_": "3",
            "HOSTALIASES": str(self.rc),
            "RESOLV_HOST_CONF": str(self.rc),
            "TZDIR": str(self.host_lib),
            "BASH_ENV": str(self.rc),
            "ENV": str(self.rc),
            "PYTHONSTARTUP": str(self.rc),
            "PROBE_MARKER": f"marker-{self.tag}",
        }

    def host_traces(self) -> list[str]:
        """What a process outside the namespaces left, having run with the function's environment."""
        traces = glob.glob(f"{self.tmp_records}*") + glob.glob(f"{self.debug}*")
        if self.host_records.exists():
            traces.append(f"{self.host_records}: {self.host_records.read_text()}")
        return traces

    def bwrap_environments(self) -> list[dict[str, str]]:
        found = []
        for saved in sorted(self.bwrap_environ.iterdir()):
            entries = saved.read_bytes().split(b"\0")
            found.append(dict(entry.decode().split("=", 1) for entry in entries if entry))
        return found


@pytest.fixture(params=["root", "user-namespace"])
def probe(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Probe]:
    made = Probe(tmp_path, request.param)
    yield made
    for trace in glob.glob(f"{made.tmp_records}*") + glob.glob(f"{made.debug}*"):
        os.unlink(trace)  # left on the host by an escape the test has reported


def test_no_process_before_the_drop_sees_the_functions_environment(probe: Probe) -> None:
    env = probe.environment()
    spec = invoker.FunctionSpec("probe", "1", f"{ARN}:1", probe.digest, "app.handler", timeout=20.0,
                                environment=env)
    with invoker.Invoker(probe.code_root, {probe.digest: probe.code}.__getitem__,
                         isolation=probe.isolation) as running:
        result = running.invoke(spec, {"records": probe.tmp_records, "debug": probe.debug, "names": sorted(env)},
                                request_id="r")
    assert result.function_error is None, result.payload
    seen = result.payload
    worker = (seen["uid"], seen["caps"], seen["exe"])

    # Nothing ran on the host with the function's variables.
    assert probe.host_traces() == []
    started = probe.bwrap_environments()
    assert started, "the recording bwrap did not run"
    for environ in started:
        assert not set(environ) & set(env), environ
        assert not any(probe.tag in value for value in environ.values()), environ

    # Every process in the sandbox that loaded the probe, or wrote the loader's debug output, is the
    # function's own: its user, no capability, its interpreter. setpriv (root, CAP_SETUID) is not one.
    assert seen["caps"] == "0000000000000000"
    assert seen["exe"] == os.path.realpath(sys.executable)
    if probe.isolation.uid is not None:
        assert seen["uid"] == probe.isolation.uid
    loaded = {tuple(line.split(" ", 3)) for line in seen["records"]}
    assert loaded == {("preload", *map(str, worker)), ("audit", *map(str, worker))}
    assert seen["debug"], "LD_DEBUG_OUTPUT was not applied to the function"
    for written in seen["debug"]:
        assert written["owner"] == seen["uid"], written
        assert set(written["programs"]) <= {seen["exe"], sys.executable}, written  # as started, or resolved
    assert any(written["library_path"] for written in seen["debug"])

    # As on Lambda, the function's own process has every variable it set.
    assert seen["env"] == env


def test_a_launch_holds_the_environment_in_no_command_line_and_no_variable_of_its_own() -> None:
    """bubblewrap's command line is world-readable in /proc; its environment is what the loader reads."""
    secret = f"secret-{uuid.uuid4().hex}"
    env = {"LD_PRELOAD": f"/var/task/{secret}.so", "DB_PASSWORD": secret}
    for uid in (None, 1_870_000_000):
        made = sandbox.Sandbox("/usr/bin/bwrap", "/usr/bin/setpriv" if uid else None, uid=uid)
        launch = made.command([sys.executable, "-c", "pass"], code_dir=None, env=env)
        try:
            assert not any(secret in argument for argument in launch.argv)
            assert not set(launch.env) & set(env)
            assert not any(secret in value for value in launch.env.values())
        finally:
            launch.close()


def test_the_reviewed_escape_through_the_host_path_of_the_code(tmp_path: Path) -> None:
    """A function reads its code's host path in /proc/self/mountinfo and preloads a library from it."""
    found = sandbox_or_skip("root")
    records = tmp_path / "records"
    library = compile_probe(tmp_path, [str(records)])
    source = tmp_path / "src"
    source.mkdir()
    (source / "app.py").write_text(
        "def handler(event, context):\n"
        "    return [line.split()[3] for line in open('/proc/self/mountinfo') if line.split()[4] == '/var/task']\n")
    shutil.copy(library, source / "probe.so")
    code = package.package_folder(source)
    digest = package.sha256_hex(code)
    with invoker.Invoker(tmp_path / "code", {digest: code}.__getitem__, isolation=found) as running:
        first = invoker.FunctionSpec("probe", "1", f"{ARN}:1", digest, "app.handler")
        (host_folder,) = running.invoke(first, {}, request_id="r1").payload
        assert Path(host_folder, "probe.so").is_file()
        second = invoker.FunctionSpec("probe", "2", f"{ARN}:2", digest, "app.handler",
                                      environment={"LD_PRELOAD": f"{host_folder}/probe.so"})
        assert running.invoke(second, {}, request_id="r2").function_error is None
    assert not records.exists(), records.read_text()
