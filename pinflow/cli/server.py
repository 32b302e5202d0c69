"""`pinflow server`: the API, the engine's workers and its timers in one process."""

from __future__ import annotations

import gc
import ipaddress
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from pinflow.engine.integrations import mock

log = logging.getLogger("pinflow.server")

LOG_LEVELS = ("debug", "info", "warning", "error")
ISOLATION_MODES = ("sandbox", "none", "auto")
FUNCTION_NETWORKS = ("shared", "none")
# How long a stopping server lets requests in flight finish (a GetActivityTask long poll would
# otherwise hold it for a minute).
GRACEFUL_SECONDS = 3


def is_loopback(host: str) -> bool:
    """Whether `host` names only this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _auth(auth_file: str | None) -> Any:
    from pinflow.api import auth

    try:
        keys = auth.load_keys(auth_file)
    except (OSError, ValueError) as exc:
        raise click.UsageError(f"cannot read the access keys: {exc}") from None
    if auth_file is not None and not keys:
        raise click.UsageError(f"{auth_file}: no access keys")
    return auth.Auth(keys) if keys else None


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; a non-loopback one needs authentication (--auth).")
@click.option("--port", default=8083, show_default=True, type=click.IntRange(0, 65535))
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Where the embedded SQLite database and unpacked code live (default .pinflow).")
@click.option("--db", metavar="URL", default=None, help="A PostgreSQL URL (postgresql://...) instead.")
@click.option("--auth", "auth_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help='Verify SigV4 signatures against a JSON file {"ACCESS_KEY_ID": "SECRET"} '
                   "(or set PINFLOW_ACCESS_KEYS=id:secret,...).")
@click.option("--log-level", type=click.Choice(LOG_LEVELS), default="info", show_default=True,
              help="debug logs one line per request.")
@click.option("--permissive-iam", is_flag=True,
              help="Accept state machine roles this server does not have, and run their executions without "
                   "IAM checks (roles it has are still enforced). Deploy plans print that the server runs so.")
@click.option("--isolation", type=click.Choice(ISOLATION_MODES), default="sandbox", show_default=True,
              envvar="PINFLOW_ISOLATION",
              help="What function workers run under: sandbox (bubblewrap namespaces; the server refuses to "
                   "start without them), none (the server's own user and files), or auto (the sandbox when "
                   "this machine can give it). Also PINFLOW_ISOLATION. See docs/isolation.md.")
@click.option("--function-network", type=click.Choice(FUNCTION_NETWORKS), default="shared", show_default=True,
              envvar="PINFLOW_FUNCTION_NETWORK",
              help="shared: sandboxed functions reach what this host reaches (the internet, services on this "
                   "host, a PostgreSQL store); none: each worker gets a network of its own with only "
                   "loopback (no outbound calls at all). Needs the sandbox. Also PINFLOW_FUNCTION_NETWORK.")
@click.option("--http-task-hosts", metavar="PATTERNS", default="public", show_default=True,
              help="Hosts HTTP Tasks may call, comma-separated: `public` (any host whose addresses are all "
                   "public: not this machine, not a private, link-local or reserved network), host names "
                   "(`*.example.com`), addresses or networks (`10.0.0.0/8`), each with an optional :port, "
                   "or `*` for anything.")
@click.option("--aws-endpoint", "aws_endpoints", multiple=True, metavar="SERVICE=URL",
              help="Send one AWS service's calls to URL (an emulator), e.g. sqs=http://127.0.0.1:9324; `*` for "
                   "every service. Repeatable. Without it, calls go to AWS with botocore's credentials.")
@click.option("--aws-config", type=click.Path(exists=True, dir_okay=False), default=None, envvar="PINFLOW_AWS_CONFIG",
              help="A TOML file with region, profile and [endpoints] SERVICE = URL (also PINFLOW_AWS_CONFIG); "
                   "--aws-endpoint wins over it. See docs/integrations.md.")
@click.option("--mock-config", type=click.Path(exists=True, dir_okay=False), default=None, envvar=mock.ENV,
              help="Step Functions Local's mock configuration file (also SFN_MOCK_CONFIG): StartExecution with "
                   "`<state machine ARN>#<test case>` answers that test case's states with its mocked responses.")
@click.option("--node-id", default=None, metavar="ID",
              help="This server's name among the servers sharing one PostgreSQL database (default: host, process "
                   "id and a random part). A server started again under the same id takes over its earlier "
                   "process's work at once; never give two running servers the same id.")
@click.option("--lease-seconds", type=click.FloatRange(1, 3600), default=20.0, show_default=True,
              help="How long a server's hold on a unit of work lasts without renewal: when a server dies, the "
                   "others take over its executions' work within this time and a few seconds (docs/cluster.md).")
def server(host: str, port: int, data_dir: str | None, db: str | None, auth_file: str | None,
           log_level: str, permissive_iam: bool, isolation: str, function_network: str, http_task_hosts: str,
           aws_endpoints: tuple[str, ...], aws_config: str | None, mock_config: str | None, node_id: str | None,
           lease_seconds: float) -> None:
    """Serve the Step Functions, Lambda and IAM APIs, and run executions."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    if data_dir is not None and db is not None:
        raise click.UsageError("--data-dir and --db are alternatives; give one")
    authenticator = _auth(auth_file)
    from pinflow.engine.integrations.hosts import HostPolicy

    try:
        HostPolicy.from_text(http_task_hosts)
    except ValueError as exc:
        raise click.UsageError(f"--http-task-hosts: {exc}") from None
    if not is_loopback(host) and authenticator is None:
        raise click.UsageError(
            f"refusing to listen on {host} without authentication: anyone who can reach it could run "
            "code through it. Give --auth FILE (or PINFLOW_ACCESS_KEYS), or listen on 127.0.0.1.")
    aws = aws_settings(aws_endpoints, aws_config)
    mocks = _mocks(mock_config)
    folder = data_dir or ".pinflow"
    if function_network == "none" and isolation == "none":
        raise click.UsageError("--function-network none needs the sandbox: without it functions share this "
                               "server's network")
    workers = _isolation(isolation, [folder, *([auth_file] if auth_file else [])],
                         network=function_network == "shared")
    run(host, port, data_dir=folder, db=db, auth=authenticator, log_level=log_level, isolation=workers,
        permissive_iam=permissive_iam, http_task_hosts=http_task_hosts, aws=aws, mock_config=mocks,
        node_id=node_id, lease_seconds=lease_seconds)


def aws_settings(endpoints: tuple[str, ...], config_file: str | None) -> Any:
    """The AWS settings the options give, or a usage error naming the bad one."""
    from pinflow.engine.integrations import aws_settings as settings

    try:
        found = settings.read(config_file) if config_file else settings.AwsSettings()
    except ValueError as exc:
        raise click.UsageError(f"--aws-config: {exc}") from None
    try:
        return found.with_endpoints(settings.parse_endpoints(endpoints))
    except ValueError as exc:
        raise click.UsageError(f"--aws-endpoint: {exc}") from None


def _mocks(path: str | None) -> str | None:
    """The mock configuration's path, once it is known to parse (a usage error says where it does not)."""
    if path is not None:
        try:
            mock.MockConfig.load(path)
        except ValueError as exc:
            raise click.UsageError(f"--mock-config: {exc}") from None
    return path


def _isolation(mode: str, protect: list[str], *, network: bool = True) -> Any:
    """The isolation asked for, or a clear refusal when the sandbox was asked for and cannot be had."""
    from pinflow.functions import sandbox

    try:
        chosen = sandbox.create(sandbox.NONE if mode == sandbox.NONE else sandbox.SANDBOX, protect=protect,
                                network=network)
    except sandbox.Unavailable as exc:
        if mode == sandbox.AUTO:
            return sandbox.Isolation(f"the sandbox is unavailable: {exc}")
        raise click.ClickException(
            f"function isolation is not available on this machine: {exc}.\n"
            "Functions would run as this server's user, able to read its store, its files and its "
            "environment. Install bubblewrap, or choose explicitly: --isolation none (or auto, which "
            "takes the sandbox where it works).") from None
    return chosen


def run(host: str, port: int, *, data_dir: str | Path, db: str | None, auth: Any, log_level: str,
        isolation: Any = None, permissive_iam: bool = False, http_task_hosts: str | None = None,
        aws: Any = None, mock_config: str | None = None, node_id: str | None = None,
        lease_seconds: float | None = None) -> None:
    """Open the service, serve until SIGINT/SIGTERM, then stop the engine and the function workers."""
    import uvicorn

    from pinflow.api.app import create_app
    from pinflow.service import Pinflow
    from pinflow.store.base import SchemaAhead

    try:
        pf = Pinflow.open(data_dir=data_dir, db=db, isolation=isolation, permissive_iam=permissive_iam,
                          http_hosts=http_task_hosts, aws=aws, mock_config=mock_config, node_id=node_id,
                          lease_seconds=lease_seconds)
    except SchemaAhead as exc:
        raise click.ClickException(str(exc)) from None
    # What functions can reach is said before anything runs; without a sandbox, loudly.
    isolated = pf.invoker.isolation.name == "sandbox"
    log.log(logging.INFO if isolated else logging.WARNING, "%s", pf.invoker.isolation.describe())
    _announce_aws(pf)
    if isolated and _store_open_to_functions(pf):
        log.warning("the PostgreSQL store let this server in without a password, and sandboxed functions share "
                    "this host's network: a function can connect to it the same way and read or change "
                    "everything in it. Require a password for the store (scram-sha-256 in pg_hba.conf; the "
                    "password stays out of the sandbox), or run with --function-network none. See "
                    "docs/isolation.md.")
    mode = "SigV4 signatures verified" if auth is not None else "any credentials accepted"
    if permissive_iam:
        mode += "; IAM permissive: roles this server does not have are accepted and not enforced"
    # uvicorn shuts down gracefully on SIGINT/SIGTERM and then raises the signal again; these
    # handlers turn that into an exception, so that the engine and the workers are closed too.
    previous = {sig: signal.signal(sig, _stopped) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        # The app applies proxy headers itself (uvicorn's defaults: the trusted proxies from
        # FORWARDED_ALLOW_IPS, or this host), to the requests whose handlers read the client's address.
        app = create_app(pf, auth=auth, forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1"))
        config = uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False, lifespan="off",
                                proxy_headers=False, http=_http_protocol(),
                                timeout_graceful_shutdown=GRACEFUL_SECONDS)
        # What is loaded by now lives as long as the server: keep it out of the garbage collector's
        # full passes, which would otherwise scan it every time (a pause of ~15 ms each).
        gc.collect()
        gc.freeze()
        _serve(config, lambda: log.info("pinflow listening on http://%s:%d (%s); web console at http://%s:%d/console/",
                                        host, port, mode, host, port))
    except _Stopped as stop:
        log.info("stopping on %s", signal.Signals(stop.signum).name)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        pf.close()
        log.info("stopped")


def _announce_aws(pf: Any) -> None:
    """Say where AWS service integrations' calls go, and which mock configuration is loaded."""
    settings = pf.engine.aws.settings
    for service, url in sorted(settings.endpoints.items()):
        log.info("AWS calls to %s go to %s", "every other service" if service == "*" else service, url)
    if pf.engine.aws.credentials() is None and not settings.endpoints:
        log.info("no AWS credentials: AWS service integrations need --aws-endpoint, or credentials")
    if pf.engine.mocks is not None:
        log.info("mock configuration %s: %d test case(s)", pf.engine.mocks.path, len(pf.engine.mocks))


def _store_open_to_functions(pf: Any) -> bool:
    """Whether functions sharing this host's network could connect to the store as the server did."""
    if not getattr(pf.invoker.isolation, "network", False):
        return False
    check = getattr(pf.store.dialect, "lets_in_without_password", None)
    return bool(check is not None and check())


class _Stopped(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stopped(signum: int, frame: object) -> None:
    raise _Stopped(signum)


def _serve(config: Any, announce: Callable[[], None]) -> None:
    """uvicorn's server (it handles SIGINT and SIGTERM), announcing once it listens."""
    import uvicorn

    class Announcing(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                announce()

    Announcing(config).run()


def _http_protocol() -> Any:
    """uvicorn's `http` setting: httptools' protocol writing each answer once (`api.wire`), or uvicorn's
    own choice where httptools is missing (a platform without its wheel)."""
    try:
        from pinflow.api import wire
    except ImportError:
        return "auto"
    return wire.CoalescingHttpTools
