"""Values that the checks at the door now refuse, but that a store may already hold, still read back.

Before the checks, a lone surrogate in a Lambda description or a control character in a role's
description was stored, and from then on every caller's GetFunction, ListFunctions, ListAliases,
DescribeStateMachineAlias, ListTagsForResource or ListRoles failed. Here such values are written
straight into the registries (as an earlier version would have left them) and read through boto3.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pinflow.service import Pinflow
from pinflow.store.repositories import functions as functions_repo
from tests.api.conftest import RunningServer
from tests.fuzz import strategies

S = "\ud800"
ROLE = f"{strategies.ROLE_ARN}old"


@pytest.fixture
def old_store(tmp_path: Path) -> Iterator[RunningServer]:
    pf = Pinflow.open(data_dir=tmp_path / "data")
    pf.roles.create_role("old", strategies.TRUST, description="a\x00b", tags={"team": "\x01"})
    pf.functions.create_function("old", strategies.ECHO_ZIP, handler="app.handler", description=f"a{S}",
                                 environment={"MOOD": S}, role=ROLE, publish=True)
    with pf.store.transaction() as tx:  # the registry checks tags now: written as an earlier version did
        functions_repo.set_tags(tx, name="old", tags=json.dumps({"team": S}))
    pf.functions.create_alias("old", "live", "1", description=S)
    machine = pf.machines.create("old", strategies.PASS_DEFINITION, ROLE)["stateMachineArn"]
    version = pf.machines.publish_version(machine)["stateMachineVersionArn"]
    pf.machines.create_alias("live", [{"stateMachineVersionArn": version, "weight": 100}], description=S)
    pf.machines.tag_resource(machine, {"team": S})
    server = RunningServer(pf)
    yield server
    server.stop()
    pf.close()


def test_stored_lone_surrogates_and_control_characters_read_back(old_store: RunningServer) -> None:
    sfn, lam, iam = (old_store.client(name) for name in ("stepfunctions", "lambda", "iam"))
    try:
        machine = f"{strategies.MACHINE_ARN}old"
        # JSON carries a lone surrogate as an escape, which botocore reads back as it was stored.
        function = lam.get_function(FunctionName="old")
        assert function["Configuration"]["Description"] == f"a{S}"
        assert function["Configuration"]["Environment"]["Variables"] == {"MOOD": S}
        assert function["Tags"] == {"team": S}
        assert [f["Description"] for f in lam.list_functions()["Functions"]] == [f"a{S}"]
        assert [a["Description"] for a in lam.list_aliases(FunctionName="old")["Aliases"]] == [S]
        assert sfn.describe_state_machine_alias(stateMachineAliasArn=f"{machine}:live")["description"] == S
        assert sfn.list_tags_for_resource(resourceArn=machine)["tags"] == [{"key": "team", "value": S}]
        # XML cannot carry \x00 or \x01 at all: they read back as U+FFFD, and the answer parses.
        roles = iam.list_roles()["Roles"]
        assert [(r["RoleName"], r["Description"]) for r in roles] == [("old", "a\ufffdb")]
        assert iam.get_role(RoleName="old")["Role"]["Tags"] == [{"Key": "team", "Value": "\ufffd"}]
        assert json.loads(json.dumps(iam.get_role(RoleName="old")["Role"]["AssumeRolePolicyDocument"]))
    finally:
        for client in (sfn, lam, iam):
            client.close()
