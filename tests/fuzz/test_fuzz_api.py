"""Hypothesis over every operation of the Step Functions, Lambda and IAM APIs, through a real server.

Each example is one request, built from botocore's model of a random operation with members drawn
to break things (see `strategies`), sometimes with a member of the wrong JSON type. Every answer
must be below 500, every refusal an error in its protocol's AWS shape that boto3 reads, and the
server must answer afterwards with every resource made before the run unchanged. A request that
would change one of those resources carries a value the server must refuse (a lone surrogate, or a
control character for IAM), so the check is that refusals lose nothing.

The number of examples is fixed (PINFLOW_FUZZ_EXAMPLES per API, 250 by default) and the draw is
derandomized, so the run is bounded and repeatable; set PINFLOW_FUZZ_RANDOM=1 to explore anew.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from starlette.routing import Match

from pinflow.api import iam_api, lambda_api, stepfunctions
from tests.fuzz import strategies, wire
from tests.fuzz.conftest import KEEP, playground

EXAMPLES = int(os.environ.get("PINFLOW_FUZZ_EXAMPLES", "250"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=not os.environ.get("PINFLOW_FUZZ_RANDOM"),
                    database=None, suppress_health_check=list(HealthCheck))
# Operations that change nothing they name (or only start executions, which the checks do not read).
_READS = ("Describe", "Get", "List", "Validate", "Test")
_HARMLESS = frozenset({"Invoke", "StartExecution", "StartSyncExecution", "SendTaskSuccess", "SendTaskFailure",
                       "SendTaskHeartbeat"})
# Always refused by a poisoned member: it would wait a minute for a task on any existing activity.
_ALWAYS_POISONED = frozenset({"GetActivityTask"})
POISON_MEMBER = "pinflowFuzzPoison"
# Members that name what an operation acts on (an alias's routes name the versions it is added to).
_TARGETS = frozenset({"FunctionName", "Name", "name", "RoleName", "PolicyName", "stateMachineArn",
                      "stateMachineAliasArn", "stateMachineVersionArn", "resourceArn", "executionArn",
                      "activityArn", "mapRunArn", "PolicyArn", "Resource"})


def served(service: str) -> list[str]:
    """The operations of the service that the server serves (the rest answer UnknownOperation)."""
    model = wire.model(service)
    if service == "stepfunctions":
        return sorted(set(stepfunctions.OPERATIONS) & set(model.operation_names))
    if service == "iam":
        return sorted(set(iam_api.OPERATIONS) & set(model.operation_names))
    found = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        path = http["requestUri"].split("?")[0].replace("{FunctionName}", "f").replace("{Name}", "n")
        scope = {"type": "http", "method": http["method"], "path": path.replace("{", "").replace("}", "")}
        if any(route.matches(scope)[0] == Match.FULL for route in lambda_api.ROUTES):
            found.append(name)
    return sorted(found)


def _changes_things(name: str) -> bool:
    return not (name.startswith(_READS) or name in _HARMLESS) or name in _ALWAYS_POISONED


def _tamper(body: bytes, member: str, wrong: Any) -> bytes:
    """A JSON body with one member replaced by a value of another type."""
    document = json.loads(body) if body.strip() else {}
    if not isinstance(document, dict):
        return body
    document[member] = wrong
    return json.dumps(document).encode("ascii")


def _poison(request: wire.Request, protocol: str) -> bool:
    """Add a value the server must refuse; False when the request has no body to carry it."""
    if protocol == "query":
        request.body += b"&" + POISON_MEMBER.encode() + b"=%01"
        return True
    if not request.body.strip() and request.method in ("GET", "DELETE", "HEAD"):
        return False
    try:
        document = json.loads(request.body) if request.body.strip() else {}
    except ValueError:
        return False  # an Invoke payload: not a document of members
    if not isinstance(document, dict):
        return False
    document[POISON_MEMBER] = "\ud800"
    request.body = json.dumps(document).encode("ascii")
    return True


def _targets_protected(params: Any) -> bool:
    """Whether a member that names what the operation acts on names a resource made before the run
    (naming one elsewhere, say as a role to act with or in a description, changes nothing about it)."""
    pending = [params]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key in _TARGETS and KEEP in json.dumps(value):
                    return True
                pending.append(value)
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _dangling_defaults(iam: Any) -> list[str]:
    """Managed policies whose default version cannot be read: IAM never deletes a default version
    (DeletePolicyVersion answers DeleteConflict), so whatever requests came, there are none."""
    dangling = []
    for policy in iam.list_policies(Scope="Local")["Policies"]:
        default = policy["DefaultVersionId"]
        listed = {v["VersionId"]: v["IsDefaultVersion"] for v in iam.list_policy_versions(
            PolicyArn=policy["Arn"])["Versions"]}
        try:
            read = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=default)["PolicyVersion"]
        except iam.exceptions.NoSuchEntityException:
            read = {}
        if listed.get(default) is not True or read.get("IsDefaultVersion") is not True:
            dangling.append(f"{policy['Arn']} {default} {listed}")
    return dangling


@pytest.mark.parametrize("service", wire.SERVICES)
def test_no_request_breaks_the_server_or_changes_what_it_refused(service: str, fuzz_server: Any) -> None:
    server, protected = fuzz_server
    pool = strategies.Pool(protected.ids)
    model = wire.model(service)
    mine = served(service)
    assert mine, f"no {service} operation is served?"
    operations = st.one_of(st.sampled_from(mine), st.sampled_from(sorted(model.operation_names)))
    seen: dict[str, int] = {}

    @SETTINGS
    @given(data=st.data())
    def one_request(data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(mine) if data.draw(st.integers(0, 9)) else operations, label="operation")
        operation = model.operation_model(name)
        shape = operation.input_shape
        params = data.draw(strategies.value(shape, pool), label="params") if shape is not None else {}
        if model.protocol == "json":
            request = wire.json_body(operation, params)
        else:
            try:
                request = wire.serialize(operation, params)
            except Exception:  # noqa: BLE001 - botocore cannot write some drawn values at all: not a request
                assume(False)
        tamper = data.draw(st.integers(0, 2), label="tamper") == 0
        if model.protocol != "query" and request.body.strip().startswith(b"{") and tamper:
            members = sorted(operation.input_shape.members) or ["x"]
            request.body = _tamper(request.body, data.draw(st.sampled_from(members)), data.draw(strategies.WRONG_TYPES))
        poisoned = False
        if _changes_things(name) and (_targets_protected(params) or name in _ALWAYS_POISONED):
            poisoned = _poison(request, model.protocol)
            assume(poisoned)
        try:
            status, headers, body = wire.send(server.port, request)
        except wire.NotHttp:
            assume(False)  # not a request that reaches any API
        answer = wire.check(operation, status, headers, body)
        if poisoned:
            assert 400 <= status < 500, (name, status, body[:300])
        seen[answer.error_code or str(status)] = seen.get(answer.error_code or str(status), 0) + 1

    one_request()
    # The server still answers, and what existed before reads back exactly as it was.
    assert protected.read() == protected.before
    assert _dangling_defaults(protected.clients["iam"]) == []
    assert len(seen) > 3, seen  # the run reached more than one kind of answer


# Examples per operation when every member is a good value or a small change of one.
MUTATED_EXAMPLES = max(4, EXAMPLES // 10)


def _send_mutated(port: int, model: Any, name: str, pool: strategies.Pool) -> None:
    """MUTATED_EXAMPLES requests to one operation: every member a good value but one, changed a little."""
    operation = model.operation_model(name)
    shape = operation.input_shape

    @settings(SETTINGS, max_examples=MUTATED_EXAMPLES)
    @given(params=strategies.value(shape, pool, only_good=True).flatmap(strategies.one_mutated)
           if shape is not None else st.just({}))
    def one_request(params: Any) -> None:
        if model.protocol == "json":
            request = wire.json_body(operation, params)
        else:
            try:
                request = wire.serialize(operation, params)
            except Exception:  # noqa: BLE001 - botocore cannot write some drawn values at all
                assume(False)
        if _changes_things(name) and (_targets_protected(params) or name in _ALWAYS_POISONED):
            assume(_poison(request, model.protocol))
        try:
            status, headers, body = wire.send(port, request)
        except wire.NotHttp:
            assume(False)
        wire.check(operation, status, headers, body)

    one_request()


@pytest.mark.parametrize("service", wire.SERVICES)
def test_values_that_pass_a_first_look_never_break_the_server(service: str, fuzz_server: Any) -> None:
    """Each served operation with members that look right (`v1` as `v01`, `v²`, `v` and thirty nines; a
    version number past the store's integers...), so that they reach the code that parses and looks them
    up, where a random string would have been refused at the door: never a 5xx, and nothing made before
    the run changes (a request naming such a resource for a change carries a value it must refuse)."""
    server, protected = fuzz_server
    playground(server)  # what the random run deleted, made again for these requests to reach
    pool = strategies.Pool(protected.ids)
    model = wire.model(service)
    for name in served(service):
        _send_mutated(server.port, model, name, pool)
    assert protected.read() == protected.before
    assert _dangling_defaults(protected.clients["iam"]) == []
