"""Map Runs on PostgreSQL through boto3 against a real server: limits as large as AWS's members allow
(maxConcurrency an Integer, toleratedFailureCount a Long) are kept, never a server error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pinflow.service import Pinflow
from tests.api.test_sfn_map_runs import ROLE, _activity_machine, create, distributed, map_run_of, wait_status
from tests.backends import postgres_schema
from tests.roles import execution_role

pytestmark = pytest.mark.postgres


@pytest.fixture
def pinflow_service(tmp_path: Path) -> Iterator[Pinflow]:
    with postgres_schema("pinflow_maprun_api") as url:
        pf = Pinflow.open(data_dir=tmp_path / "data", db=url)
        execution_role(pf, ROLE.rsplit("/", 1)[-1])
        yield pf
        pf.close()


def test_update_map_run_keeps_the_largest_limits_aws_allows(sfn) -> None:
    machine, activity = _activity_machine(sfn, "biglimits", MaxConcurrency=1)
    parent = sfn.start_execution(stateMachineArn=machine, input="[1, 2]")["executionArn"]
    task = sfn.get_activity_task(activityArn=activity, workerName="w")
    run_arn = map_run_of(sfn, parent)
    sfn.update_map_run(mapRunArn=run_arn, maxConcurrency=2**31 - 1, toleratedFailureCount=3_000_000_000)
    run = sfn.describe_map_run(mapRunArn=run_arn)
    assert (run["maxConcurrency"], run["toleratedFailureCount"]) == (2**31 - 1, 3_000_000_000)
    sfn.update_map_run(mapRunArn=run_arn, toleratedFailureCount=2**63 - 1)
    assert sfn.describe_map_run(mapRunArn=run_arn)["toleratedFailureCount"] == 2**63 - 1
    sfn.send_task_success(taskToken=task["taskToken"], output="1")
    sfn.send_task_success(taskToken=sfn.get_activity_task(activityArn=activity)["taskToken"], output="2")
    assert wait_status(sfn, parent)["status"] == "SUCCEEDED"


def test_a_tolerated_count_beyond_32_bits_in_the_definition_runs(sfn) -> None:
    states = {"Work": {"Type": "Pass", "End": True}}
    machine = create(sfn, "bigcount", distributed(states, "Work", ToleratedFailureCount=3_000_000_000))
    parent = sfn.start_execution(stateMachineArn=machine, input="[1, 2]")["executionArn"]
    described = wait_status(sfn, parent)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == [1, 2]
    assert sfn.describe_map_run(mapRunArn=map_run_of(sfn, parent))["toleratedFailureCount"] == 3_000_000_000
