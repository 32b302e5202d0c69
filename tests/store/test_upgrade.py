"""A store created at schema 0001 (the first schema stores were made with) opens with the current code:
the later migrations apply, and the rows the first version wrote read back and still run.

A store a newer version migrated past what the code knows is refused, rather than written wrongly.

The rows are those the first version wrote for a role with an inline policy, a function with a
published version, a state machine calling that version and a finished execution with its history,
and a second machine whose execution was waiting in a one-hour Wait when that version stopped.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sqlite3
import zipfile
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from pinflow import errors
from pinflow.api import shapes
from pinflow.cli import main
from pinflow.clock import FakeClock
from pinflow.service import Pinflow
from pinflow.store import open_store
from pinflow.store.base import SchemaAhead
from tests.backends import BACKENDS, postgres_schema

ACCOUNT = "123456789012"
T = 1_706_702_400.0  # 2024-01-31T12:00:00Z
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/greeter-role"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:greet"
MACHINE_ARN = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:greeter"
EXECUTION_ARN = f"arn:aws:states:us-east-1:{ACCOUNT}:execution:greeter:first"
REVISION = "73884ef0-e392-43a2-bf8b-b88cb51eabb5"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
INVOKE = {"Version": "2012-10-17",
          "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"}]}
DEFINITION = json.dumps({"StartAt": "Greet", "States": {"Greet": {
    "Type": "Task", "Resource": f"{FUNCTION_ARN}:1", "End": True}}})
WAITER_ARN = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:waiter"
PAUSED_ARN = f"arn:aws:states:us-east-1:{ACCOUNT}:execution:waiter:paused"
WAITER_REVISION = "93136ec4-6231-4716-a661-bcade7112932"
WAITER = json.dumps({"StartAt": "Pause", "States": {
    "Pause": {"Type": "Wait", "Seconds": 3600, "Next": "Greet"},
    "Greet": {"Type": "Task", "Resource": f"{FUNCTION_ARN}:1", "End": True}}})
# The SHA-256 of each dialect's 0001 as the first stores were created with it. A migration that has been
# applied somewhere is never edited: stores made before the edit would differ from new ones for good.
RELEASED_0001 = {
    "sqlite": "1700aa9e38ddba44abae1f3c9a18707665bd8698b0e065e1b42f7e4e8c32e424",
    "postgres": "867b34dbfb551efde62e302bb5da15eac4cd756e0f1fc2bb273f667a85d05033",
}


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("app.py", date_time=(1980, 1, 1, 0, 0, 0)),
                         "def handler(event, context):\n    return {'greeting': 'hello ' + event['who']}\n")
    return buffer.getvalue()


def _rows() -> list[tuple[str, tuple[Any, ...]]]:
    """INSERTs into the 0001 tables, with values shaped as the first version wrote them."""
    code = _code()
    sha = hashlib.sha256(code).hexdigest()
    settings = {"CodeSha256": sha, "Description": "", "Environment": {}, "Handler": "app.handler",
                "MemorySize": 128, "Role": None, "Runtime": "python3.11", "Timeout": 3}
    latest = {**settings, "CodeSize": len(code), "LastModified": T}
    version = {**latest, "Fingerprint": _compact(settings), "RevisionId": "e7a55bf8-24eb-4e25-bb35-6ddf83388dfb",
               "Version": "1"}
    role = {"Path": "/", "RoleName": "greeter-role", "RoleId": "AROABEAECCD6N00204HFH", "Arn": ROLE_ARN,
            "CreateDate": T, "AssumeRolePolicyDocument": TRUST, "MaxSessionDuration": 3600}
    revision_config = {"encryptionConfiguration": None, "initial": True,
                       "loggingConfiguration": {"includeExecutionData": False, "level": "OFF"},
                       "tracingConfiguration": {"enabled": False}}
    output = {"greeting": "hello world"}
    state = {"schema": 1, "status": "SUCCEEDED", "type": "STANDARD", "seed": 4057640461431893256, "draws": 0,
             "counter": 1, "last_id": 7,
             "execution": {"Id": EXECUTION_ARN, "Name": "first", "RoleArn": ROLE_ARN,
                           "StartTime": "2024-01-31T12:00:01.000Z", "Input": {"who": "world"}, "RedriveCount": 0},
             "state_machine": {"Id": MACHINE_ARN, "Name": "greeter"},
             "frames": {"root": {"id": "root", "parent": None, "block": "", "state": "Greet",
                                 "input": {"who": "world"}, "vars": {}, "isolated": False, "slot": 0, "retries": {},
                                 "retry_count": 0, "wait": None, "last": 7, "entered_id": 2, "entered_at": T + 1}},
             "tasks": {}, "timers": {}, "output": output, "error": None, "cause": None, "var_bytes": 0}
    pins = {"aliases": {}, "refs": [f"{FUNCTION_ARN}:1"], "policies": [INVOKE]}
    no_truncation = {"truncated": False}
    events = [
        ("ExecutionStarted", T + 1, {"executionStartedEventDetails": {
            "input": {"who": "world"}, "inputDetails": no_truncation, "roleArn": ROLE_ARN}}),
        ("TaskStateEntered", T + 1, {"stateEnteredEventDetails": {
            "name": "Greet", "input": {"who": "world"}, "inputDetails": no_truncation}}),
        ("LambdaFunctionScheduled", T + 1, {"lambdaFunctionScheduledEventDetails": {
            "resource": f"{FUNCTION_ARN}:1", "input": {"who": "world"}, "inputDetails": no_truncation}}),
        ("LambdaFunctionStarted", T + 1, {}),
        ("LambdaFunctionSucceeded", T + 2, {"lambdaFunctionSucceededEventDetails": {
            "output": output, "outputDetails": no_truncation}}),
        ("TaskStateExited", T + 2, {"stateExitedEventDetails": {
            "name": "Greet", "output": output, "outputDetails": no_truncation}}),
        ("ExecutionSucceeded", T + 2, {"executionSucceededEventDetails": {
            "output": output, "outputDetails": no_truncation}}),
    ]
    rows: list[tuple[str, tuple[Any, ...]]] = [
        ("INSERT INTO blobs (sha256, data, created_at) VALUES (?, ?, ?)", (sha, code, T)),
        ("INSERT INTO counters (key, value) VALUES (?, ?)", ("function:greet", 1)),
        ("INSERT INTO functions (name, created_at, next_version, latest, revision_id, tags) VALUES (?, ?, ?, ?, ?, ?)",
         ("greet", T, 2, _compact(latest), "a68ec8a7-4619-4822-9e9f-ee0e2e093899", "{}")),
        ("INSERT INTO function_versions (name, version, config, created_at) VALUES (?, ?, ?, ?)",
         ("greet", 1, _compact(version), T)),
        ("INSERT INTO roles (name, config, created_at) VALUES (?, ?, ?)", ("greeter-role", json.dumps(role), T)),
        ("INSERT INTO role_policies (role, name, document) VALUES (?, ?, ?)",
         ("greeter-role", "invoke", json.dumps(INVOKE))),
        ("INSERT INTO state_machines (name, arn, type, status, revision_id, created_at, config, tags)"
         " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
         ("greeter", MACHINE_ARN, "STANDARD", "ACTIVE", REVISION, T,
          _compact({"create": {"publish": False, "versionDescription": None}}), "{}")),
        ("INSERT INTO revisions (revision_id, machine, definition, role_arn, config, created_at)"
         " VALUES (?, ?, ?, ?, ?, ?)", (REVISION, "greeter", DEFINITION, ROLE_ARN, _compact(revision_config), T)),
        ("INSERT INTO executions (arn, seq, machine, name, type, status, revision_id, version_arn, alias_arn,"
         " role_arn, input, output, error, cause, started_at, stopped_at, redrive_count, redrive_date, state, pins,"
         " trace_header) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
         (EXECUTION_ARN, int((T + 1) * 1_000_000), "greeter", "first", "STANDARD", "SUCCEEDED", REVISION, None, None,
          ROLE_ARN, json.dumps({"who": "world"}), _compact(output), None, None, T + 1, T + 2, 0, None,
          _compact(state), _compact(pins), None)),
    ]
    # The waiting execution: RUNNING in `Pause`, its timer due an hour after it started, and the
    # function version it will call held by it.
    later = {"who": "later"}
    paused = {**state, "status": "RUNNING", "seed": 7726942387913467067, "last_id": 2, "output": None,
              "execution": {**state["execution"], "Id": PAUSED_ARN, "Name": "paused",
                            "StartTime": "2024-01-31T12:00:00.000Z", "Input": later},
              "state_machine": {"Id": WAITER_ARN, "Name": "waiter"},
              "frames": {"root": {**state["frames"]["root"], "state": "Pause", "input": later,
                                  "wait": {"kind": "timer", "timer": "w1"}, "last": 2, "entered_at": T,
                                  "pending_output": later, "pending_next": "Greet"}},
              "timers": {"w1": {"frame": "root", "kind": "wait", "task": None}}}
    rows += [
        ("INSERT INTO state_machines (name, arn, type, status, revision_id, created_at, config, tags)"
         " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
         ("waiter", WAITER_ARN, "STANDARD", "ACTIVE", WAITER_REVISION, T,
          _compact({"create": {"publish": False, "versionDescription": None}}), "{}")),
        ("INSERT INTO revisions (revision_id, machine, definition, role_arn, config, created_at)"
         " VALUES (?, ?, ?, ?, ?, ?)", (WAITER_REVISION, "waiter", WAITER, ROLE_ARN, _compact(revision_config), T)),
        ("INSERT INTO executions (arn, seq, machine, name, type, status, revision_id, version_arn, alias_arn,"
         " role_arn, input, output, error, cause, started_at, stopped_at, redrive_count, redrive_date, state, pins,"
         " trace_header) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
         (PAUSED_ARN, int(T * 1_000_000), "waiter", "paused", "STANDARD", "RUNNING", WAITER_REVISION, None, None,
          ROLE_ARN, json.dumps(later), None, None, None, T, None, 0, None, _compact(paused), _compact(pins), None)),
        ("INSERT INTO history (execution, id, event) VALUES (?, ?, ?)", (PAUSED_ARN, 1, _compact({
            "id": 1, "previousEventId": 0, "timestamp": T, "type": "ExecutionStarted",
            "executionStartedEventDetails": {"input": later, "inputDetails": no_truncation, "roleArn": ROLE_ARN}}))),
        ("INSERT INTO history (execution, id, event) VALUES (?, ?, ?)", (PAUSED_ARN, 2, _compact({
            "id": 2, "previousEventId": 1, "timestamp": T, "type": "WaitStateEntered",
            "stateEnteredEventDetails": {"name": "Pause", "input": later, "inputDetails": no_truncation}}))),
        ("INSERT INTO timers (execution, timer_id, due_at) VALUES (?, ?, ?)", (PAUSED_ARN, "w1", T + 3600)),
        ("INSERT INTO execution_refs (execution, ref) VALUES (?, ?)", (PAUSED_ARN, f"{FUNCTION_ARN}:1")),
    ]
    previous = 0
    for number, (kind, when, details) in enumerate(events, start=1):
        event = {"id": number, "previousEventId": previous, "timestamp": when, "type": kind, **details}
        rows.append(("INSERT INTO history (execution, id, event) VALUES (?, ?, ?)",
                     (EXECUTION_ARN, number, _compact(event))))
        previous = number
    return rows


def _first_migration(dialect: str) -> str:
    folder = resources.files("pinflow.store").joinpath("sql", dialect)
    return folder.joinpath("0001_initial.sql").read_text(encoding="utf-8")


# What the first version's Store.migrate created and recorded besides the migration itself.
VERSIONS_TABLE = "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY)"


def _sqlite_at_0001(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        connection.executescript(_first_migration("sqlite"))
        connection.execute(VERSIONS_TABLE)
        connection.execute("INSERT INTO schema_migrations (version) VALUES (1)")
        for sql, params in _rows():
            connection.execute(sql, params)
        connection.commit()
    finally:
        connection.close()
    return f"sqlite:///{path}"


def _postgres_at_0001(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as connection:
        connection.execute(_first_migration("postgres"))
        connection.execute(VERSIONS_TABLE)
        connection.execute("INSERT INTO schema_migrations (version) VALUES (1)")
        for sql, params in _rows():
            connection.execute(sql.replace("?", "%s"), params)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_at_0001(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database created at schema 0001 holding the first version's rows."""
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_database")
        yield _postgres_at_0001(url)
    else:
        yield _sqlite_at_0001(tmp_path / "pinflow.db")


@pytest.fixture
def upgraded(store_at_0001: str, tmp_path: Path) -> Iterator[Callable[..., Pinflow]]:
    opened: list[Pinflow] = []

    def open_(**options: Any) -> Pinflow:
        # isolation "none": the sandbox has tests of its own; here the function's code matters.
        pf = Pinflow.open(tmp_path / "data", db=store_at_0001, isolation="none", **options)
        opened.append(pf)
        return pf

    yield open_
    for pf in opened:
        pf.close()


def test_released_first_migration_is_unchanged() -> None:
    for dialect, digest in RELEASED_0001.items():
        assert hashlib.sha256(_first_migration(dialect).encode()).hexdigest() == digest, dialect


def test_the_later_migrations_apply(store_at_0001: str) -> None:
    store = open_store(store_at_0001)
    try:
        with store.transaction(write=False) as tx:
            versions = [r["version"] for r in tx.all("SELECT version FROM schema_migrations ORDER BY version")]
    finally:
        store.close()
    assert versions == sorted(v for v, _ in store.dialect.migrations())


def test_rows_of_the_first_version_read_back(upgraded: Callable[..., Pinflow]) -> None:
    pf = upgraded(start=False)

    role = pf.roles.get_role("greeter-role")
    assert (role["Arn"], role["RoleName"], role["Path"]) == (ROLE_ARN, "greeter-role", "/")
    assert json.loads(pf.roles.get_role_policy("greeter-role", "invoke")["PolicyDocument"]) == INVOKE

    function = pf.functions.get_configuration("greet", "1")
    assert (function["FunctionArn"], function["Version"], function["Handler"]) == (
        f"{FUNCTION_ARN}:1", "1", "app.handler")
    assert function["CodeSha256"] == base64.b64encode(hashlib.sha256(_code()).digest()).decode()
    versions, _ = pf.functions.list_versions_by_function("greet")
    assert [v["Version"] for v in versions] == ["$LATEST", "1"]

    machine = pf.machines.describe(MACHINE_ARN)
    assert (machine["name"], machine["status"], machine["type"], machine["roleArn"]) == (
        "greeter", "ACTIVE", "STANDARD", ROLE_ARN)
    assert json.loads(machine["definition"]) == json.loads(DEFINITION)

    described = shapes.describe_execution(pf.engine.execution_row(EXECUTION_ARN))
    assert (described["status"], described["startDate"], described["stopDate"]) == ("SUCCEEDED", T + 1, T + 2)
    assert json.loads(described["output"]) == {"greeting": "hello world"}
    history = shapes.history_events(pf.engine.history(EXECUTION_ARN))
    assert [(e["id"], e["previousEventId"], e["type"]) for e in history] == [
        (1, 0, "ExecutionStarted"), (2, 1, "TaskStateEntered"), (3, 2, "LambdaFunctionScheduled"),
        (4, 3, "LambdaFunctionStarted"), (5, 4, "LambdaFunctionSucceeded"), (6, 5, "TaskStateExited"),
        (7, 6, "ExecutionSucceeded")]
    assert json.loads(history[-1]["executionSucceededEventDetails"]["output"]) == {"greeting": "hello world"}


def test_the_first_version_s_machine_runs_its_function_after_the_upgrade(upgraded: Callable[..., Pinflow]) -> None:
    pf = upgraded()
    started = pf.engine.start_execution(MACHINE_ARN, name="second", input=json.dumps({"who": "again"}))
    row = pf.engine.wait_for(started["executionArn"])
    assert row["status"] == "SUCCEEDED", row
    assert json.loads(row["output"]) == {"greeting": "hello again"}
    rows, _ = pf.engine.list_executions("greeter", limit=10)
    assert [r["name"] for r in rows] == ["second", "first"]


def test_an_execution_waiting_across_the_upgrade_resumes_when_its_timer_is_due(
        upgraded: Callable[..., Pinflow]) -> None:
    clock = FakeClock(start=T + 60)
    pf = upgraded(clock=clock)
    assert pf.engine.execution_row(PAUSED_ARN)["status"] == "RUNNING"
    with pytest.raises(errors.ResourceConflictException):
        pf.functions.delete_function("greet", "1")  # still held by the waiting execution

    clock.advance(3600)
    row = pf.engine.wait_for(PAUSED_ARN)
    assert row["status"] == "SUCCEEDED", row
    assert json.loads(row["output"]) == {"greeting": "hello later"}
    history = pf.engine.history(PAUSED_ARN)
    assert [(e["id"], e["previousEventId"], e["type"]) for e in history] == [
        (1, 0, "ExecutionStarted"), (2, 1, "WaitStateEntered"), (3, 2, "WaitStateExited"),
        (4, 3, "TaskStateEntered"), (5, 4, "LambdaFunctionScheduled"), (6, 5, "LambdaFunctionStarted"),
        (7, 6, "LambdaFunctionSucceeded"), (8, 7, "TaskStateExited"), (9, 8, "ExecutionSucceeded")]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_node_older_than_the_database_s_schema_refuses_to_start(backend: str, tmp_path: Path) -> None:
    # A newer pinflow migrated the database: an older one would write tables whose shape it does not
    # know (a history kept one row per event, say), so it stops at once and says why.
    with postgres_schema("pf_ahead") if backend == "postgres" else nullcontext() as url:
        store = open_store(url, data_dir=tmp_path)
        newest = max(version for version, _ in store.dialect.migrations())
        with store.transaction() as tx:
            tx.run("INSERT INTO schema_migrations (version) VALUES (:version)", version=newest + 1)
        store.close()
        with pytest.raises(SchemaAhead, match=f"schema is at version {newest + 1}, past this pinflow's last"):
            open_store(url, data_dir=tmp_path)
        if backend == "sqlite":
            result = CliRunner().invoke(main, ["server", "--data-dir", str(tmp_path), "--isolation", "none",
                                               "--port", "0"])
            assert result.exit_code == 1
            assert f"Error: the database's schema is at version {newest + 1}" in result.output


def _named(url: str) -> str:
    """How `pinflow db migrate` names the database of a test URL (no password in either)."""
    if url.startswith("sqlite:///"):
        return url[len("sqlite:///"):]
    parts = urlsplit(url)
    return f"{parts.username}@{parts.hostname}:{parts.port}{parts.path}"


def test_pinflow_db_migrate_upgrades_the_store_once_and_says_from_which_version(store_at_0001: str) -> None:
    first = CliRunner().invoke(main, ["db", "migrate", "--db", store_at_0001])
    again = CliRunner().invoke(main, ["db", "migrate", "--db", store_at_0001])
    store = open_store(store_at_0001)
    try:
        found = (store.found_version, store.version, store.applied)
        with store.transaction(write=False) as tx:
            recorded = [r["version"] for r in tx.all("SELECT version FROM schema_migrations ORDER BY version")]
    finally:
        store.close()
    versions = sorted(version for version, _ in store.dialect.migrations())
    newest = versions[-1]
    assert first.exit_code == 0, first.output
    assert first.output == (f"{_named(store_at_0001)}: schema version 1 -> {newest} "
                            f"({len(versions) - 1} migrations applied)\n")
    assert again.exit_code == 0, again.output
    assert again.output == f"{_named(store_at_0001)}: schema version {newest}, up to date\n"
    assert found == (newest, newest, [])  # a node starting afterwards finds nothing to do
    assert recorded == versions


def test_pinflow_db_migrate_refuses_a_database_a_newer_pinflow_migrated(store_at_0001: str) -> None:
    store = open_store(store_at_0001)
    newest = max(version for version, _ in store.dialect.migrations())
    with store.transaction() as tx:
        tx.run("INSERT INTO schema_migrations (version) VALUES (:version)", version=newest + 1)
    store.close()
    result = CliRunner().invoke(main, ["db", "migrate", "--db", store_at_0001])
    assert result.exit_code == 1
    assert f"Error: {_named(store_at_0001)}: the database's schema is at version {newest + 1}" in result.output


def test_pinflow_db_migrate_creates_no_database_and_says_which_it_cannot_reach(tmp_path: Path) -> None:
    # A forgotten --db must not look like a migration done: the default folder holds no store here.
    missing = CliRunner().invoke(main, ["db", "migrate", "--data-dir", str(tmp_path / "none")])
    assert missing.exit_code == 1
    assert f"Error: no pinflow database at {tmp_path / 'none' / 'pinflow.db'}" in missing.output
    assert not (tmp_path / "none").exists()
    # A server that is not there: its name without the password, and what went wrong, in one line.
    away = CliRunner().invoke(main, ["db", "migrate", "--db", "postgresql://ops:s3cret@127.0.0.1:1/pinflow"])
    assert away.exit_code == 1
    assert away.output.startswith("Error: ops@127.0.0.1:1/pinflow: ") and "s3cret" not in away.output
