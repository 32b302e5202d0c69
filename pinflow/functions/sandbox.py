"""The isolation a function worker runs under: bubblewrap namespaces, and an unprivileged user for a root server.

Any worker command (Python, Node.js, a custom runtime's bootstrap) is started through an `Isolation`:
`command(argv, code_dir=..., env=..., opt_dir=...)` gives the command line, environment and folder to
start it with.

`Sandbox` runs the command under bubblewrap (`bwrap`, the namespace tool Flatpak uses) in new mount,
PID, IPC, UTS and cgroup namespaces. Its file system is built from nothing: the system's `/usr`, a few
files of `/etc`, the Python installation, the worker runtime (read-only at /var/runtime), the version's
own code (read-only at /var/task), its layers (read-only at /opt), and a private tmpfs at /tmp. The
store, the server's files and other versions' code are not there to be read or written; the server's
processes are not in the PID namespace to be signalled or inspected; and the whole namespace dies with
the server (`--die-with-parent`). A server running as root starts its workers as an unprivileged user of
its own (`setpriv`), so that nothing the worker can see is writable through root's rights; a server
running as an ordinary user gives them that user inside a user namespace without capabilities.
bubblewrap and setpriv run with a fixed environment of their own: the worker's (which the function
chooses: LD_PRELOAD, LD_AUDIT, ...) is applied only by the first program that runs after the drop.
The network is shared unless the sandbox is made without it. docs/isolation.md says exactly what holds
and what does not.

`Unisolated` runs the command as it is, only tied to the server's life when `setpriv` can do it.
`create` picks one: "sandbox" (or `Unavailable`), "none", or "auto" (the sandbox when the machine can
give it, otherwise none, with the reason logged).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import pwd
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SANDBOX = "sandbox"
NONE = "none"
AUTO = "auto"
MODES = (SANDBOX, NONE, AUTO)

# Where Lambda puts the function's code and its runtime; tracebacks name them, as on Lambda.
TASK_ROOT = "/var/task"
RUNTIME_ROOT = "/var/runtime"
# Where Lambda unpacks a function's layers.
OPT_ROOT = "/opt"
# Lambda's default ephemeral storage at /tmp.
TMP_BYTES = 512 * 1024 * 1024
# Lambda's sandbox user, named in the sandbox's /etc/passwd.
SANDBOX_USER = "sbx_user1051"
# A root server's workers get a user id from this range that no account on the machine has.
_UID_RANGE = (0x6F000000, 0x6FFFFFFF)

# The folder holding the `pinflow` package, bound at RUNTIME_ROOT so that the worker module imports.
_PACKAGE_DIR = Path(__file__).resolve().parents[1]
# Top-level system folders a program needs (merged-/usr systems have links in place of most).
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# What of /etc a function may need: name resolution, certificates, the linker cache, time zones.
_ETC_ENTRIES = ("resolv.conf", "hosts", "nsswitch.conf", "host.conf", "gai.conf", "protocols", "services",
                "ssl", "ca-certificates", "pki", "crypto-policies", "alternatives", "ld.so.cache",
                "ld.so.conf", "ld.so.conf.d", "localtime", "mime.types")
_PROBE_SECONDS = 20.0
# Variables naming host folders, which mean nothing inside the sandbox.
_HOST_PATHS = frozenset({"HOME", "TMPDIR"})
# The whole environment of bubblewrap and setpriv. They run before the user drop (bubblewrap on the
# host, as root or the server's user), so nothing the function chooses may reach them: the dynamic
# loader alone reads LD_PRELOAD, LD_AUDIT, LD_LIBRARY_PATH, GCONV_PATH, GLIBC_TUNABLES, ...
_LAUNCH_ENV = {"PATH": "/usr/bin:/bin"}
# The first program after the drop: reads the worker's environment (NUL-separated NAME=VALUE) from
# the descriptor in argv[1] and executes argv[2:] with it, and nothing else. Python in isolated mode
# without site, so that no variable or file decides what it runs.
_APPLY_ENV = ("import os, sys\n"
              "fd = int(sys.argv[1])\n"
              "data = b''.join(iter(lambda: os.read(fd, 1 << 16), b''))\n"
              "os.close(fd)\n"
              "env = dict(entry.split(b'=', 1) for entry in data.split(b'\\0') if entry)\n"
              "os.execvpe(sys.argv[2], sys.argv[2:], env)\n")


class Unavailable(RuntimeError):
    """The machine cannot give the sandbox (no bubblewrap, no namespaces, unreadable Python...)."""


@dataclass(frozen=True)
class Launch:
    """How to start one worker: `subprocess.Popen(argv, env=env, cwd=cwd, pass_fds=pass_fds + ...)`.

    The caller closes `pass_fds` once the process has started (or failed to).
    """

    argv: list[str]
    env: dict[str, str]
    cwd: str
    pass_fds: tuple[int, ...] = ()

    def close(self) -> None:
        """Close the descriptors the launch holds for the process."""
        for fd in self.pass_fds:
            with contextlib.suppress(OSError):
                os.close(fd)


class Isolation:
    """No isolation: the worker runs as the server's user, in the server's namespaces."""

    name = NONE

    def __init__(self, reason: str = "") -> None:
        """No isolation, for `reason` (why there is no sandbox, said in the start-up message)."""
        self.reason = reason
        self._pdeathsig = _setpriv_with_pdeathsig()

    @property
    def runtime_root(self) -> str:
        """The folder holding the `pinflow` package, as the worker sees it."""
        return str(_PACKAGE_DIR.parent)

    def task_root(self, code_dir: Path) -> str:
        """Where the worker sees a version's code."""
        return str(code_dir)

    def opt_root(self, opt_dir: Path) -> str:
        """Where the worker sees a version's layers."""
        return str(opt_dir)

    def command(self, argv: Sequence[str], *, code_dir: Path, env: Mapping[str, str], opt_dir: Path | None = None,
                binds: Sequence[Path] = ()) -> Launch:
        """The command line that runs `argv` with `code_dir` as its working folder (the layers in `opt_dir`
        and the folders in `binds` are seen where they are)."""
        prefix = [self._pdeathsig, "--pdeathsig", "KILL", "--"] if self._pdeathsig else []
        return Launch([*prefix, *argv], dict(env), str(code_dir))

    def exit_status(self, returncode: int) -> int:
        """The worker's own exit status (negative for a signal) from the started process's."""
        return returncode

    def describe(self) -> str:
        """One line for the server's start-up message."""
        dies = "die with the server" if self._pdeathsig else "may outlive a killed server (no setpriv)"
        why = f" ({self.reason})" if self.reason else ""
        return (f"function isolation: NONE{why}: functions run as this server's user and can read its "
                f"store, its files and its environment; workers {dies}")


class Sandbox(Isolation):
    """Workers in bubblewrap namespaces; an unprivileged user of their own when the server is root."""

    name = SANDBOX

    def __init__(self, bwrap: str, setpriv: str | None, *, uid: int | None,
                 protect: Iterable[str | os.PathLike[str]] = (), network: bool = True) -> None:
        """Prefer `create`, which finds the tools and checks that the sandbox works.

        Args:
            bwrap: the bubblewrap executable.
            setpriv: the setpriv executable (under /usr), needed when `uid` is given.
            uid: the user (and group) id workers run as; None keeps the server's user, inside a user
                namespace (an unprivileged server).
            protect: paths no bind mount may contain (the data folder, the access keys file).
            network: share the host's network; False gives each worker a network namespace of its own
                with nothing but loopback.

        Raises:
            Unavailable: a folder the worker needs would expose a protected path.
        """
        super().__init__()
        self.bwrap = bwrap
        self.setpriv = setpriv
        self.uid = uid
        self.network = network
        self._fixed = self._fixed_arguments([Path(p).resolve() for p in protect])

    @property
    def runtime_root(self) -> str:
        return RUNTIME_ROOT

    def task_root(self, code_dir: Path) -> str:
        return TASK_ROOT

    def opt_root(self, opt_dir: Path) -> str:
        return OPT_ROOT

    def command(self, argv: Sequence[str], *, code_dir: Path | None, env: Mapping[str, str],
                opt_dir: Path | None = None, binds: Sequence[Path] = ()) -> Launch:
        """Run `argv` in the sandbox, `code_dir` read-only at /var/task (None: an empty /var/task), the
        layers' `opt_dir` read-only at /opt, and each of `binds` read-only where it is on the host.

        The environment's PATH is replaced by one the sandbox has (the function's layers' `bin` last, as
        on Lambda), and HOME and TMPDIR are dropped (Lambda sets neither): they would name host folders
        the worker cannot see. `env` reaches `argv` only, through a descriptor read after the user drop;
        bubblewrap and setpriv get `_LAUNCH_ENV`, and `argv` runs under `_APPLY_ENV` (one Python start
        more per worker).
        """
        task = ["--ro-bind", str(code_dir), TASK_ROOT] if code_dir is not None else []
        if opt_dir is not None:
            task += ["--ro-bind", str(opt_dir), OPT_ROOT]
        made: set[str] = set()
        for folder in binds:
            # Its parents world-readable, so that the worker's user can reach it (see `_parent_dirs`).
            task += [*_parent_dirs(f"{folder}/x", made, []), "--ro-bind", str(folder), str(folder)]
        arguments = [self.bwrap, *self._fixed, *task, "--chdir", TASK_ROOT]
        # /etc/passwd and /etc/group are written by bwrap from pipes: no file is left behind.
        fds = []
        for name, text in self._accounts().items():
            read, write = os.pipe()
            os.write(write, text.encode())  # a few bytes: the pipe holds them without a reader
            os.close(write)
            fds.append(read)
            arguments += ["--perms", "0444", "--ro-bind-data", str(read), f"/etc/{name}"]
        if self.uid is not None:
            assert self.setpriv is not None
            # bwrap runs as root without a user namespace (so that another user id exists inside);
            # setpriv drops to the worker's user with no capabilities left to regain.
            arguments += [self.setpriv, f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups",
                          "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
        worker_env = {name: value for name, value in env.items() if name not in _HOST_PATHS}
        worker_env["PATH"] = f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin" + (
            f":{OPT_ROOT}/bin" if opt_dir is not None else "")
        # A memory file rather than a pipe: no size limit, and nothing on disk or in a command line
        # (which any local user may read) holds the function's variables.
        env_fd = os.memfd_create("pinflow-worker-env")
        fds.append(env_fd)
        entries = b"".join(os.fsencode(name) + b"=" + os.fsencode(value) + b"\0"
                           for name, value in worker_env.items())
        os.write(env_fd, entries)
        os.lseek(env_fd, 0, os.SEEK_SET)
        apply_env = [sys.executable, "-I", "-S", "-c", _APPLY_ENV, str(env_fd)]
        # bwrap's own folder must exist for it to start; the worker's is set with --chdir.
        return Launch([*arguments, *apply_env, *argv], dict(_LAUNCH_ENV), "/", tuple(fds))

    def exit_status(self, returncode: int) -> int:
        # bwrap exits with 128 + N when the command was killed by signal N.
        return -(returncode - 128) if 128 < returncode < 128 + 65 else returncode

    def describe(self) -> str:
        who = (f"as unprivileged user {self.uid}" if self.uid is not None
               else "in a user namespace without capabilities")
        network = ("the network is shared (a function reaches what this host reaches)" if self.network
                   else "it has no network")
        return (f"function isolation: sandbox (bubblewrap {self.bwrap}): each worker runs {who}, in its own "
                "mount, PID and IPC namespaces, sees only the system, its runtime and its version's code and "
                f"layers (read-only), and dies with the server; {network}")

    def probe(self) -> None:
        """Start a worker interpreter in the sandbox and import the worker module.

        Raises:
            Unavailable: it did not work, with what bubblewrap or Python said.
        """
        launch = self.command([sys.executable, "-c", "import pinflow.functions.worker_main"], code_dir=None,
                              env={"PYTHONPATH": RUNTIME_ROOT, "LANG": "C.UTF-8"})
        try:
            done = subprocess.run(launch.argv, env=launch.env, cwd=launch.cwd, capture_output=True,
                                  timeout=_PROBE_SECONDS, check=False, pass_fds=launch.pass_fds)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise Unavailable(f"bubblewrap could not start: {exc}") from None
        finally:
            launch.close()
        if done.returncode != 0:
            said = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise Unavailable(f"a sandboxed Python did not start: {said[-1] if said else done.returncode}")

    # --- the fixed part of the command line -------------------------------------------------------

    def _fixed_arguments(self, protect: list[Path]) -> list[str]:
        arguments = ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                     "--die-with-parent", "--new-session", *([] if self.network else ["--unshare-net"])]
        if self.uid is None:
            # No further namespaces from inside: less kernel for a function to reach.
            arguments += ["--unshare-user", "--disable-userns", "--cap-drop", "ALL"]
        else:
            arguments += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
                          "--cap-add", "CAP_SETPCAP"]
        binds: list[tuple[Path, str]] = []
        for name in _SYSTEM_DIRS:
            path = Path(name)
            if path.is_symlink():
                arguments += ["--symlink", os.readlink(path), name]
            elif path.is_dir():
                binds.append((path, name))
        for entry in _ETC_ENTRIES:
            source = Path("/etc", entry)
            if source.exists():
                binds.append((source.resolve(), str(source)))
        for folder in _python_folders():
            binds.append((folder, str(folder)))
        binds.append((_PACKAGE_DIR, f"{RUNTIME_ROOT}/pinflow"))
        for source, _ in binds:
            for secret in protect:
                if secret == source or secret.is_relative_to(source):
                    raise Unavailable(f"the sandbox would have to show {source}, which holds {secret}")
        # The new file systems first: a Python installation under /tmp is then bound over the private
        # /tmp, rather than hidden by it.
        arguments += ["--proc", "/proc", "--dev", "/dev",
                      "--perms", "1777", "--tmpfs", "/dev/shm",
                      "--perms", "1777", "--size", str(TMP_BYTES), "--tmpfs", "/tmp"]
        made: set[str] = set()
        targets = [target for _, target in binds]
        for target in [*targets, f"{TASK_ROOT}/x", f"{OPT_ROOT}/x", "/etc/passwd"]:
            arguments += _parent_dirs(target, made, targets)
        for source, target in binds:
            arguments += ["--ro-bind", str(source), target]
        return arguments

    def _accounts(self) -> dict[str, str]:
        """/etc/passwd and /etc/group naming only root and the worker's user, as Lambda's do."""
        uid = os.getuid() if self.uid is None else self.uid
        gid = os.getgid() if self.uid is None else self.uid
        return {"passwd": f"root:x:0:0:root:/root:/sbin/nologin\n{SANDBOX_USER}:x:{uid}:{gid}::/tmp:/sbin/nologin\n",
                "group": f"root:x:0:\n{SANDBOX_USER}:x:{gid}:\n"}


def _parent_dirs(target: str, made: set[str], bound: list[str]) -> list[str]:
    """`--dir` operations for the folders above a mount point, world-readable (bwrap makes them 0700
    otherwise, which an unprivileged worker could not pass through)."""
    arguments: list[str] = []
    parts = Path(target).parts[1:-1]
    for depth in range(1, len(parts) + 1):
        folder = "/" + "/".join(parts[:depth])
        inside_bind = any(folder == b or folder.startswith(b.rstrip("/") + "/") for b in bound)
        if folder in made or inside_bind:
            continue
        made.add(folder)
        arguments += ["--perms", "0755", "--dir", folder]
    return arguments


def _python_folders() -> list[Path]:
    """The Python installation and virtual environment the worker's interpreter needs, outside /usr."""
    found: list[Path] = []
    executable = Path(sys.executable)
    candidates = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix), Path(sys.base_exec_prefix),
                  executable.resolve().parent.parent}
    for candidate in candidates:
        folder = candidate.resolve()
        if folder == Path("/") or any(folder.is_relative_to(d) for d in _SYSTEM_DIRS):
            continue
        found.append(folder)
    # The interpreter may be reached through a link in the environment's bin folder.
    found.sort()
    return [f for i, f in enumerate(found) if not any(f.is_relative_to(g) for g in found[:i])]


@functools.cache
def _setpriv_with_pdeathsig() -> str | None:
    """The setpriv executable when it can set a parent-death signal (util-linux 2.33 and later)."""
    setpriv = shutil.which("setpriv")
    if setpriv is None or not sys.platform.startswith("linux"):
        return None
    try:
        usage = subprocess.run([setpriv, "--help"], capture_output=True, timeout=10, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    return setpriv if b"--pdeathsig" in usage else None


def _free_uid() -> int:
    """A user id in the workers' range that no account on this machine has."""
    while True:
        uid = _UID_RANGE[0] + secrets.randbelow(_UID_RANGE[1] - _UID_RANGE[0])
        try:
            pwd.getpwuid(uid)
        except KeyError:
            return uid


@functools.cache
def _probed(bwrap: str, setpriv: str | None, root: bool, network: bool = True) -> str:
    """The reason the sandbox does not work here, or "" when it does (asked once per process)."""
    sandbox = Sandbox(bwrap, setpriv, uid=_free_uid() if root else None, network=network)
    try:
        sandbox.probe()
    except Unavailable as exc:
        return str(exc)
    return ""


def create_sandbox(protect: Iterable[str | os.PathLike[str]] = (), *, network: bool = True) -> Sandbox:
    """A working sandbox for this server, with a user id of its own when the server runs as root.

    Raises:
        Unavailable: not Linux, no bubblewrap, no setpriv (for a root server), or a sandboxed worker
            cannot start (namespaces refused, a Python installation its user cannot read).
    """
    if not sys.platform.startswith("linux"):
        raise Unavailable(f"namespaces need Linux, and this is {sys.platform}")
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise Unavailable("bubblewrap is not installed (the bwrap command; on Debian: apt install bubblewrap)")
    root = os.geteuid() == 0
    setpriv = shutil.which("setpriv", path="/usr/bin:/usr/sbin:/bin:/sbin") if root else None
    if root and setpriv is None:
        raise Unavailable("setpriv (util-linux) is needed to start workers of a root server as another user")
    reason = _probed(bwrap, setpriv, root, network)
    if reason:
        raise Unavailable(reason)
    return Sandbox(bwrap, setpriv, uid=_free_uid() if root else None, protect=protect, network=network)


def create(mode: str, *, protect: Iterable[str | os.PathLike[str]] = (), network: bool = True) -> Isolation:
    """The isolation `mode` asks for.

    Args:
        mode: "sandbox" (refuse to go without), "none", or "auto" (the sandbox when this machine can
            give it, otherwise none, with a warning saying why).
        protect: paths the sandbox must never show a worker (the data folder, the access keys file).
        network: whether a sandboxed worker shares the host's network (see `Sandbox`).

    Raises:
        Unavailable: "sandbox" was asked for and the machine cannot give it.
        ValueError: an unknown mode.
    """
    if mode not in MODES:
        raise ValueError(f"unknown isolation {mode!r}: expected one of {', '.join(MODES)}")
    if mode == NONE:
        return Isolation("chosen with --isolation none")
    try:
        return create_sandbox(protect, network=network)
    except Unavailable as exc:
        if mode == SANDBOX:
            raise
        unisolated = Isolation(f"the sandbox is unavailable: {exc}")
        log.warning("%s", unisolated.describe())
        return unisolated
