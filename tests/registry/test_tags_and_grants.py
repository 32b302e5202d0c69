"""Tags counted where they are written, role tags without case, policy sizes within IAM's quotas, and what
the IAM check reads per call, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from pinflow import arns, errors
from pinflow.registry import managed_policies
from pinflow.registry.functions import FunctionRegistry
from pinflow.registry.managed_policies import ManagedPolicyRegistry
from pinflow.registry.roles import RoleRegistry
from tests.registry.conftest import code
from tests.roles import STATES_TRUST


@contextmanager
def named_queries(store) -> Iterator[list[str]]:
    """The names of the queries the block runs, in order (each statement's text is looked up by name
    in its transaction)."""
    queries: list[str] = []
    real = store.transaction

    def counting(*args, **kwargs):
        transaction = real(*args, **kwargs)

        class Counted:
            def __enter__(self):
                tx = transaction.__enter__()
                sql = tx._sql

                def named(name):
                    queries.append(name)
                    return sql(name)

                tx._sql = named
                return tx

            def __exit__(self, *exc):
                return transaction.__exit__(*exc)

        return Counted()

    store.transaction = counting
    try:
        yield queries
    finally:
        store.transaction = real


def test_concurrent_tag_resource_calls_never_pass_fifty_together(store, clock) -> None:
    """Lambda allows 50 tags per function: eight callers adding ten each at once leave at most 50, and
    exactly the tags of the calls that were accepted."""
    functions = FunctionRegistry(store, clock)
    functions.create_function("hello", code("def handler(e, c):\n    return 1\n"), "app.handler")
    start = threading.Barrier(8)
    accepted: list[int] = []

    def tag(caller: int) -> None:
        start.wait()
        try:
            functions.tag_resource("hello", {f"t{caller}-{i}": "v" for i in range(10)})
        except errors.InvalidParameterValueException:
            return
        accepted.append(caller)

    threads = [threading.Thread(target=tag, args=(caller,)) for caller in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = functions.list_tags("hello")
    assert len(accepted) == 5
    assert stored == {f"t{caller}-{i}": "v" for caller in accepted for i in range(10)}


def test_role_tag_keys_are_case_insensitive(store, clock) -> None:
    """IAM user guide, "Rules for tagging": a role's tag keys are case insensitive and keep their case;
    tagging `department` after `Department` replaces it."""
    roles = RoleRegistry(store, clock)
    roles.create_role("flow", STATES_TRUST, tags={"Department": "finance", "team": "a"})
    roles.tag_role("flow", {"department": "hr"})
    assert roles.list_role_tags("flow") == [{"Key": "department", "Value": "hr"}, {"Key": "team", "Value": "a"}]
    roles.untag_role("flow", ["TEAM"])
    assert roles.list_role_tags("flow") == [{"Key": "department", "Value": "hr"}]
    roles.tag_role("flow", {f"k{i}": "v" for i in range(49)})
    with pytest.raises(errors.LimitExceeded, match="TagsPerRole: 50"):
        roles.tag_role("flow", {"one-more": "v"})
    roles.tag_role("flow", {"K0": "replaced"})  # a key it has, in another case: still 50
    assert len(roles.list_role_tags("flow")) == 50


def _policy(statements: int, padding: int = 0) -> str:
    body = [{"Effect": "Allow", "Action": "lambda:InvokeFunction",
             "Resource": f"arn:aws:lambda:us-east-1:123456789012:function:f{i:04d}"} for i in range(statements)]
    return json.dumps({"Version": "2012-10-17", "Statement": body}, separators=(",", ":")) + " " * padding


def test_policy_sizes_are_held_to_iams_quotas(store, clock) -> None:
    """IAM's quotas (IAM user guide, "IAM and AWS STS quotas"): a managed policy 6,144 characters, a role's
    inline policies together 10,240, a trust policy 2,048, whitespace not counted."""
    roles = RoleRegistry(store, clock)
    policies = ManagedPolicyRegistry(store, clock)
    roles.create_role("flow", STATES_TRUST)
    fits = _policy(51)
    assert 6000 < len(fits) <= 6144
    arn = policies.create_policy("fits", fits + " " * 5000)["Arn"]  # whitespace is free
    too_big = _policy(52)
    assert len(too_big) > 6144
    for attempt in (lambda: policies.create_policy("big", too_big),
                    lambda: policies.create_policy_version(arn, too_big)):
        with pytest.raises(errors.LimitExceeded, match=r"^Cannot exceed quota for PolicySize: 6144$"):
            attempt()
    roles.put_role_policy("flow", "one", _policy(51))
    with pytest.raises(errors.LimitExceeded, match=r"^Maximum policy size of 10240 bytes exceeded for role flow$"):
        roles.put_role_policy("flow", "two", _policy(40))
    roles.put_role_policy("flow", "one", _policy(30))
    roles.put_role_policy("flow", "two", _policy(40))
    roles.put_role_policy("flow", "one", _policy(45))  # 5,348 + 4,758: the policy replaced is not counted
    trust = json.loads(STATES_TRUST)
    trust["Statement"] = trust["Statement"] * 30
    with pytest.raises(errors.LimitExceeded, match=r"^Cannot exceed quota for ACLSizePerRole: 2048$"):
        roles.update_assume_role_policy("flow", json.dumps(trust))


@pytest.mark.parametrize(("document", "message"), [
    ("[]", "Syntax errors in policy."),
    ("{}", "Syntax errors in policy."),
    ('{"Version": "2012-10-17", "Statement": []}', "Syntax errors in policy."),
    ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}',
     "Missing required field Principal"),
    ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"},'
     ' "Action": "sts:AssumeRole", "Resource": "*"}]}', "Has prohibited field Resource"),
    ("{not json", "This policy contains invalid Json"),
])
def test_trust_policies_are_checked_as_iam_checks_them(store, clock, document: str, message: str) -> None:
    roles = RoleRegistry(store, clock)
    roles.create_role("flow", STATES_TRUST)
    for attempt in (lambda: roles.update_assume_role_policy("flow", document),
                    lambda: roles.create_role("other", document)):
        with pytest.raises(errors.MalformedPolicyDocument, match=f"^{message}$".replace(".", r"\.")):
            attempt()
    assert roles.get_role("flow")["AssumeRolePolicyDocument"] == STATES_TRUST


def test_grants_read_a_role_in_one_query_whatever_it_has_attached(store, clock) -> None:
    """What the IAM check reads before every call: the role, its inline policies, and its attachments with
    their policies' configs, in one query; each attached version has a key that a later version, or a policy made again
    under the same name, never shares."""
    roles = RoleRegistry(store, clock)
    policies = ManagedPolicyRegistry(store, clock)
    roles.create_role("flow", STATES_TRUST)
    roles.put_role_policy("flow", "inline", _policy(2))
    arns_made = [policies.create_policy(f"p{i}", _policy(3))["Arn"] for i in range(9)]
    for arn in arns_made:
        policies.attach_role_policy("flow", arn)
    policies.attach_role_policy("flow", "arn:aws:iam::aws:policy/service-role/AWSLambdaRole")
    with named_queries(store) as queries:
        grants = roles.grants(arns.role("flow"))
    assert grants is not None and grants.assumable
    assert queries == ["role_grants"], queries
    assert grants.inline == (_policy(2),)
    assert [policy.arn for policy in grants.attached] == [*arns_made,
                                                          "arn:aws:iam::aws:policy/service-role/AWSLambdaRole"]
    first = grants.attached[0]
    assert roles.attached_document(first) == json.loads(_policy(3))
    policies.create_policy_version(arns_made[0], _policy(4), set_as_default=True)
    policies.detach_role_policy("flow", arns_made[0])
    policies.delete_policy_version(arns_made[0], "v1")
    policies.delete_policy(arns_made[0])
    policies.create_policy("p0", _policy(5))
    policies.attach_role_policy("flow", arns_made[0])
    again = roles.grants(arns.role("flow"))
    assert again is not None
    renewed = next(policy for policy in again.attached if policy.arn == arns_made[0])
    assert renewed.key != first.key and renewed.version == 1
    assert isinstance(renewed, managed_policies.Attached)


def test_a_role_that_no_longer_trusts_step_functions_is_not_assumable(store, clock) -> None:
    roles = RoleRegistry(store, clock)
    roles.create_role("flow", STATES_TRUST)
    assert roles.grants(arns.role("flow")).assumable
    roles.update_assume_role_policy("flow", STATES_TRUST.replace("states.amazonaws.com", "lambda.amazonaws.com"))
    assert not roles.grants(arns.role("flow")).assumable
    assert roles.grants(arns.role("nobody")) is None


def test_a_start_snapshot_reads_what_another_node_changed_the_moment_after(store, clock) -> None:
    """What an execution pins at start: the role's grants and documents now. A node that read the role
    before sees every change another node makes to it (inline policies, attachments, a managed policy's
    default version, the trust policy, the role going) at its next read."""
    node_a, node_b = RoleRegistry(store, clock), RoleRegistry(store, clock)
    policies_b = ManagedPolicyRegistry(store, clock)
    node_b.create_role("flow", STATES_TRUST)
    node_b.put_role_policy("flow", "inline", _policy(1))
    managed = policies_b.create_policy("p", _policy(2))["Arn"]
    policies_b.attach_role_policy("flow", managed)
    role = arns.role("flow")

    def documents() -> list[object]:
        found = node_a.snapshot(role)
        assert found is not None and found.grants.assumable
        return list(found.documents)

    assert documents() == [json.loads(_policy(1)), json.loads(_policy(2))]
    node_b.put_role_policy("flow", "inline", _policy(3))
    assert documents() == [json.loads(_policy(3)), json.loads(_policy(2))]
    policies_b.create_policy_version(managed, _policy(4), set_as_default=True)
    assert documents() == [json.loads(_policy(3)), json.loads(_policy(4))]
    policies_b.set_default_policy_version(managed, "v1")
    assert documents() == [json.loads(_policy(3)), json.loads(_policy(2))]
    policies_b.attach_role_policy("flow", "arn:aws:iam::aws:policy/service-role/AWSLambdaRole")
    policies_b.detach_role_policy("flow", managed)
    assert documents() == [json.loads(_policy(3)), {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["lambda:InvokeFunction"], "Resource": ["*"]}]}]
    node_b.update_assume_role_policy("flow", STATES_TRUST.replace("states.amazonaws.com", "lambda.amazonaws.com"))
    untrusted = node_a.snapshot(role)
    assert untrusted is not None and not untrusted.grants.assumable
    node_b.delete_role_policy("flow", "inline")
    policies_b.detach_role_policy("flow", "arn:aws:iam::aws:policy/service-role/AWSLambdaRole")
    node_b.delete_role("flow")
    assert node_a.snapshot(role) is None
    node_b.create_role("flow", STATES_TRUST, path="/other/")
    assert node_a.snapshot(role) is None  # the same name at another path is another role
    assert node_a.snapshot(arns.role("flow", path="/other/")) is not None


def test_a_start_snapshot_is_one_query_once_its_policy_versions_were_read(store, clock) -> None:
    """A managed policy version never changes: read once, its document is not read again."""
    roles = RoleRegistry(store, clock)
    policies = ManagedPolicyRegistry(store, clock)
    roles.create_role("flow", STATES_TRUST)
    for i in range(3):
        policies.attach_role_policy("flow", policies.create_policy(f"p{i}", _policy(i + 1))["Arn"])
    with named_queries(store) as queries:
        first = roles.snapshot(arns.role("flow"))
        read_first = list(queries)
        queries.clear()
        again = roles.snapshot(arns.role("flow"))
    assert read_first == ["role_grants"] + ["policy_version_get"] * 3
    assert queries == ["role_grants"]
    assert first is not None and again is not None
    assert list(again.documents) == [json.loads(_policy(i + 1)) for i in range(3)]
