"""The console's lists of state machines and functions: what they show agrees with the API's own answers,
counts are counted (never capped by a page size), and a list costs a fixed number of reads however
many machines, versions and aliases there are."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest

from pinflow import arns
from pinflow.console import inventory
from pinflow.service import Pinflow
from tests.backends import BACKENDS, postgres_schema
from tests.roles import execution_role

WAITING = json.dumps({"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 600, "End": True}}})


@pytest.fixture(params=BACKENDS)
def pf(request: pytest.FixtureRequest, tmp_path) -> Iterator[Pinflow]:
    """pinflow on SQLite and on PostgreSQL (the count reads are SQL of their own)."""
    with ExitStack() as stack:
        url = stack.enter_context(postgres_schema("pinflow_console")) if request.param == "postgres" else None
        service = Pinflow.open(data_dir=tmp_path / "data", db=url, isolation="none")
        yield service
        service.close()


def _machine(pf: Pinflow, name: str, versions: int, aliases: int) -> None:
    arn = pf.machines.create(name, WAITING, execution_role(pf, f"{name}-role"), publish=True)["stateMachineArn"]
    for number in range(2, versions + 1):
        changed = WAITING.replace("600", str(600 + number))  # a new revision: a new version
        pf.machines.update(arn, definition=changed, publish=True, version_description=f"v{number}")
    for index in range(aliases):
        pf.machines.create_alias(f"live{index}", [{"stateMachineVersionArn": f"{arn}:1", "weight": 100}])


@contextmanager
def counted_reads(pf: Pinflow) -> Iterator[list[int]]:
    """How many store transactions the block itself runs (not the engine's threads: its heartbeat or
    timers may open one meanwhile)."""
    store = pf.engine.store
    opened = [0]
    original = store.transaction
    reader = threading.get_ident()

    @contextmanager
    def counting(*args: Any, **kwargs: Any) -> Iterator[Any]:
        if threading.get_ident() == reader:
            opened[0] += 1
        with original(*args, **kwargs) as tx:
            yield tx

    store.transaction = counting  # type: ignore[method-assign]
    try:
        yield opened
    finally:
        store.transaction = original  # type: ignore[method-assign]


def test_the_machine_list_agrees_with_the_api_and_reads_a_fixed_number_of_times(pf: Pinflow) -> None:
    _machine(pf, "first", versions=1, aliases=1)
    with counted_reads(pf) as few:
        listed = inventory.machines(pf)["stateMachines"]
    for index in range(4):
        _machine(pf, f"more{index}", versions=3, aliases=2)
    pf.engine.start_execution(arns.state_machine("more0", "2"), name="one")
    with counted_reads(pf) as many:
        listed = inventory.machines(pf)["stateMachines"]
    assert many[0] == few[0]
    shown = {item["name"]: item for item in listed}
    assert (shown["more0"]["versions"], shown["more0"]["latestVersion"], shown["more0"]["running"]) == (3, 3, 1)
    # Each alias as DescribeStateMachineAlias describes it.
    for item in shown["more1"]["aliases"]:
        described = pf.machines.describe_alias(item["arn"])
        assert item["name"] == described["name"]
        assert item["routing"] == [{"version": 1, "weight": 100}]
        assert item["creationDate"] == described["creationDate"]


def test_a_machine_page_shows_each_version_as_describe_does_and_counts_past_a_page(pf: Pinflow) -> None:
    _machine(pf, "busy", versions=2, aliases=0)
    for index in range(1001):  # more than one page of ListExecutions (and than the console's old cap)
        pf.engine.start_execution(arns.state_machine("busy", "1"), name=f"run-{index}")
    shown = inventory.machine(pf, "busy", None)
    running = {version["version"]: version["running"] for version in shown["versions"]}
    assert running == {2: 0, 1: 1001}
    assert inventory.machines(pf)["stateMachines"][0]["running"] == 1001
    for version in shown["versions"]:
        described = pf.machines.describe(version["arn"])
        assert version["creationDate"] == described["creationDate"]
        assert version["description"] == described.get("description", "")
        assert version["revisionId"] == described.get("revisionId")
