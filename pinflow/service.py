"""The library facade: open a store and get registries, the engine and the invoker, wired together.

The CLI, the API server and tests all go through `Pinflow`:

    with Pinflow.open(data_dir=".pinflow") as pf:
        pf.functions.create_function("hello", zip_bytes, handler="app.handler", publish=True)
        pf.roles.create_role(...); pf.roles.put_role_policy(...)
        machine = pf.machines.create("story", definition_text, role_arn)
        started = pf.engine.start_execution(machine["stateMachineArn"], input='{"n": 1}')
        pf.engine.wait_for(started["executionArn"])
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from pinflow.store import Store, open_store


class Pinflow:
    """A running pinflow: store, registries, invoker and engine."""

    def __init__(self, store: Store, *, clock: Callable[[], float] = time.time, code_root: Path | None = None,
                 start: bool = True, workers: int = 16, permissive_iam: bool = False,
                 isolation: Any = None, http_hosts: str | None = None, aws: Any = None,
                 mock_config: str | Path | None = None, node_id: str | None = None,
                 lease_seconds: float | None = None) -> None:
        """Wire the registries, the invoker and the engine over `store`.

        Args:
            permissive_iam: accept state machine roles that name no role here and run their
                executions unchecked (`pinflow server --permissive-iam`); off, such a role is refused
                as Step Functions refuses it, and roles are always enforced.
            isolation: what function workers run under (a `pinflow.functions.sandbox.Isolation`, or
                None for the sandbox when this machine can give it; see `sandbox.create`).
            http_hosts: the hosts HTTP Tasks may reach, comma-separated (`pinflow server
                --http-task-hosts`); None allows public addresses only.
            aws: where AWS service integrations send their calls (an `AwsSettings`: region, profile,
                endpoint overrides); None for botocore's own chain.
            mock_config: a Step Functions Local mock configuration file, whose test cases executions
                may be started with (`pinflow server --mock-config`).
            node_id: this process's name among the nodes sharing the database (`pinflow server
                --node-id`); None for one of its own.
            lease_seconds: how soon other nodes take over this one's work when it dies (`pinflow
                server --lease-seconds`; `engine.leases`).

        Raises:
            ValueError: the mock configuration cannot be read (the message names the file and place).
        """
        from pinflow.engine.integrations.aws_client import AwsClients
        from pinflow.engine.integrations.aws_settings import AwsSettings
        from pinflow.engine.integrations.hosts import HostPolicy
        from pinflow.engine.integrations.mock import MockConfig
        from pinflow.engine.runner import Engine
        from pinflow.functions.invoker import Invoker
        from pinflow.registry.activities import ActivityRegistry
        from pinflow.registry.connections import ConnectionRegistry
        from pinflow.registry.function_policy import FunctionPolicies
        from pinflow.registry.functions import FunctionRegistry
        from pinflow.registry.layers import LayerRegistry
        from pinflow.registry.managed_policies import ManagedPolicyRegistry
        from pinflow.registry.roles import RoleRegistry
        from pinflow.registry.state_machines import StateMachineRegistry

        mocks = MockConfig.load(mock_config) if mock_config is not None else None
        self.store = store
        self.clock = clock
        self.functions = FunctionRegistry(store, clock)
        self.function_policies = FunctionPolicies(store, clock)
        self.layers = LayerRegistry(store, clock)
        self.roles = RoleRegistry(store, clock, permissive=permissive_iam)
        self.policies = ManagedPolicyRegistry(store, clock)
        self.machines = StateMachineRegistry(store, clock, validate=_definition_errors,
                                             role_check=self.roles.check_execution_role)
        self.activities = ActivityRegistry(store, clock)
        self.connections = ConnectionRegistry(store, clock)
        self.registry = SimpleNamespace(functions=self.functions, machines=self.machines, roles=self.roles,
                                        activities=self.activities, connections=self.connections)
        root = code_root or _default_code_root(store)
        self.invoker = Invoker(root, self.functions.load_code, isolation=isolation)
        self.engine = Engine(store, self.registry, self.invoker, clock=clock, workers=workers,
                             http_hosts=HostPolicy.from_text(http_hosts), aws=AwsClients(aws or AwsSettings()),
                             mocks=mocks, node_id=node_id,
                             **({"lease_seconds": lease_seconds} if lease_seconds is not None else {}))
        if start:
            self.engine.start()

    @classmethod
    def open(cls, data_dir: str | Path = ".pinflow", db: str | None = None, **options: Any) -> Pinflow:
        """Open (creating if needed) the store in `data_dir`, or the database at URL `db`.

        `isolation` may be a mode ("sandbox", "none", "auto"): the sandbox is then made to never show
        `data_dir` to a worker.
        """
        from pinflow.functions import sandbox

        synchronous = options.pop("synchronous", "FULL")
        if isinstance(options.get("isolation"), str):
            options["isolation"] = sandbox.create(options["isolation"], protect=[data_dir])
        store = open_store(db, data_dir=data_dir, synchronous=synchronous)
        options.setdefault("code_root", Path(data_dir) / "code")
        return cls(store, **options)

    def close(self) -> None:
        """Stop the engine and the function workers, close the store."""
        self.engine.stop()
        self.invoker.close()
        self.store.close()

    def __enter__(self) -> Pinflow:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _default_code_root(store: Store) -> Path:
    import tempfile

    return Path(tempfile.mkdtemp(prefix="pinflow-code-"))


def _definition_errors(definition: str) -> list[str]:
    """AWS-worded problems of a definition, for CreateStateMachine/UpdateStateMachine."""
    from pinflow import asl

    try:
        diagnostics = asl.validate(definition)
    except ValueError as exc:
        return [f"INVALID_JSON_DESCRIPTION: {exc}"]
    return [f"{d.code}: {d.message}" + (f" at {d.location}" if d.location else "")
            for d in diagnostics if d.severity == "ERROR"]
