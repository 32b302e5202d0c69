"""A real server for the fuzz suite, with resources made before the run and read back after it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from pinflow.service import Pinflow
from tests.api.conftest import RunningServer
from tests.fuzz import strategies

# Every resource made before the run is named so: a request naming one is easy to tell.
KEEP = "keep-"


class Protected:
    """Resources of each kind made through boto3 before the fuzzing, and how to read them all back."""

    def __init__(self, server: RunningServer) -> None:
        self.clients = {name: server.client(name) for name in ("stepfunctions", "lambda", "iam")}
        sfn, lam, iam = (self.clients[name] for name in ("stepfunctions", "lambda", "iam"))
        role = iam.create_role(RoleName=f"{KEEP}role", AssumeRolePolicyDocument=strategies.TRUST,
                               Description="kept", Tags=[{"Key": "team", "Value": "core"}])["Role"]["Arn"]
        iam.put_role_policy(RoleName=f"{KEEP}role", PolicyName=f"{KEEP}policy", PolicyDocument=strategies.POLICY)
        managed = iam.create_policy(PolicyName=f"{KEEP}managed", PolicyDocument=strategies.POLICY)["Policy"]["Arn"]
        iam.create_policy_version(PolicyArn=managed, PolicyDocument=strategies.POLICY)
        iam.attach_role_policy(RoleName=f"{KEEP}role", PolicyArn=managed)
        function = lam.create_function(
            FunctionName=f"{KEEP}function", Runtime="python3.11", Role=role, Handler="app.handler",
            Code={"ZipFile": strategies.ECHO_ZIP}, Description="kept", Publish=True,
            Environment={"Variables": {"MOOD": "calm"}}, Tags={"team": "core"})["FunctionArn"]
        lam.create_alias(FunctionName=f"{KEEP}function", Name="live", FunctionVersion="1", Description="kept")
        lam.add_permission(FunctionName=f"{KEEP}function", Qualifier="1", StatementId="kept",
                           Action="lambda:InvokeFunction", Principal="events.amazonaws.com")
        machine = sfn.create_state_machine(name=f"{KEEP}machine", roleArn=role,
                                           definition=strategies.task_definition(f"{KEEP}function:1"),
                                           tags=[{"key": "team", "value": "core"}])["stateMachineArn"]
        version = sfn.publish_state_machine_version(stateMachineArn=machine, description="kept")
        alias = sfn.create_state_machine_alias(name="live", description="kept", routingConfiguration=[
            {"stateMachineVersionArn": version["stateMachineVersionArn"], "weight": 100}])["stateMachineAliasArn"]
        execution = sfn.start_execution(stateMachineArn=machine, name=f"{KEEP}run", input='{"n": 1}')
        deadline = time.monotonic() + 30
        while sfn.describe_execution(executionArn=execution["executionArn"])["status"] == "RUNNING":
            assert time.monotonic() < deadline, "the protected execution did not finish"
            time.sleep(0.02)
        activity = sfn.create_activity(name=f"{KEEP}activity")["activityArn"]
        self.ids = {
            "role": [f"{KEEP}role", role, f"{KEEP}policy"],
            "policy": [f"{KEEP}managed", managed],
            "function": [f"{KEEP}function", function, f"{KEEP}function:1", f"{KEEP}function:live"],
            "machine": [f"{KEEP}machine", machine, version["stateMachineVersionArn"], alias],
            "execution": [execution["executionArn"]],
            "activity": [f"{KEEP}activity", activity],
        }
        self._arns = {"machine": machine, "version": version["stateMachineVersionArn"], "alias": alias,
                      "execution": execution["executionArn"], "activity": activity, "policy": managed}
        self.before = self.read()

    def read(self) -> dict[str, Any]:
        """Everything about the protected resources the APIs show."""
        sfn, lam, iam = (self.clients[name] for name in ("stepfunctions", "lambda", "iam"))
        arns, fn = self._arns, f"{KEEP}function"
        seen = {
            "machine": sfn.describe_state_machine(stateMachineArn=arns["machine"]),
            "version": sfn.describe_state_machine(stateMachineArn=arns["version"]),
            "versions": sfn.list_state_machine_versions(stateMachineArn=arns["machine"]),
            "alias": sfn.describe_state_machine_alias(stateMachineAliasArn=arns["alias"]),
            "machine tags": sfn.list_tags_for_resource(resourceArn=arns["machine"]),
            "execution": sfn.describe_execution(executionArn=arns["execution"]),
            "history": sfn.get_execution_history(executionArn=arns["execution"]),
            "activity": sfn.describe_activity(activityArn=arns["activity"]),
            "function": lam.get_function(FunctionName=fn),
            "function version": lam.get_function(FunctionName=fn, Qualifier="1"),
            "function versions": lam.list_versions_by_function(FunctionName=fn),
            "function alias": lam.get_alias(FunctionName=fn, Name="live"),
            "function aliases": lam.list_aliases(FunctionName=fn),
            "role": iam.get_role(RoleName=f"{KEEP}role"),
            "role policy": iam.get_role_policy(RoleName=f"{KEEP}role", PolicyName=f"{KEEP}policy"),
            "role policies": iam.list_role_policies(RoleName=f"{KEEP}role"),
            "role attachments": iam.list_attached_role_policies(RoleName=f"{KEEP}role"),
            "managed policy": iam.get_policy(PolicyArn=arns["policy"]),
            "managed policy versions": iam.list_policy_versions(PolicyArn=arns["policy"]),
            "managed policy default": iam.get_policy_version(PolicyArn=arns["policy"], VersionId="v1"),
            "function policy": lam.get_policy(FunctionName=fn, Qualifier="1"),
            "function tags": lam.list_tags(Resource=f"{strategies.FUNCTION_ARN}{fn}"),
        }
        for answer in seen.values():
            answer.pop("ResponseMetadata", None)
        return json.loads(json.dumps(seen, default=str))

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


def playground(server: RunningServer) -> None:
    """Resources the fuzzer may change and delete as it likes (`fuzz-a`), so that its requests reach
    versions, aliases and executions rather than only not-found answers; made again where a run before
    deleted them (each step on its own: what exists already stays as it is)."""
    sfn, lam, iam = (server.client(name) for name in ("stepfunctions", "lambda", "iam"))
    role = f"{strategies.ROLE_ARN}fuzz-a"
    machine = f"{strategies.MACHINE_ARN}fuzz-a"
    steps = (
        lambda: iam.create_role(RoleName="fuzz-a", AssumeRolePolicyDocument=strategies.TRUST),
        lambda: iam.put_role_policy(RoleName="fuzz-a", PolicyName="p1", PolicyDocument=strategies.POLICY),
        lambda: iam.create_policy(PolicyName="fuzz-a", PolicyDocument=strategies.POLICY),
        lambda: iam.create_policy_version(PolicyArn=strategies.POLICY_ARN, PolicyDocument=strategies.POLICY),
        lambda: iam.create_policy_version(PolicyArn=strategies.POLICY_ARN, PolicyDocument=strategies.POLICY),
        lambda: iam.attach_role_policy(RoleName="fuzz-a", PolicyArn=strategies.POLICY_ARN),
        lambda: lam.create_function(FunctionName="fuzz-a", Runtime="python3.11", Role=role, Handler="app.handler",
                                    Code={"ZipFile": strategies.ECHO_ZIP}, Publish=True),
        lambda: lam.create_alias(FunctionName="fuzz-a", Name="live", FunctionVersion="1"),
        lambda: lam.add_permission(FunctionName="fuzz-a", Qualifier="1", StatementId="s",
                                   Action="lambda:InvokeFunction", Principal="events.amazonaws.com"),
        lambda: sfn.create_state_machine(name="fuzz-a", roleArn=role, definition=strategies.task_definition("fuzz-a"),
                                         publish=True),
        lambda: sfn.create_state_machine_alias(name="live", routingConfiguration=[
            {"stateMachineVersionArn": f"{machine}:1", "weight": 100}]),
        lambda: sfn.start_execution(stateMachineArn=machine, name="x", input='{"n": 1}'),
        lambda: sfn.create_activity(name="fuzz-a"),
    )
    try:
        for step in steps:
            try:
                step()
            except ClientError:
                continue  # there already, or what it needs is gone: the rest still helps
    finally:
        for client in (sfn, lam, iam):
            client.close()


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, Protected]]:
    data: Path = tmp_path_factory.mktemp("fuzz") / "data"
    pf = Pinflow.open(data_dir=data)
    server = RunningServer(pf)
    protected = Protected(server)
    playground(server)
    yield server, protected
    protected.close()
    server.stop()
    pf.close()
