"""The integrations table: every integration serves what validation accepts for it and nothing more, one
resource has one integration, and the rules each one states on its own (hosts HTTP Tasks may reach,
URL-encoded forms) hold."""

from __future__ import annotations

import pytest

from pinflow import asl
from pinflow.asl.validation import resources
from pinflow.engine.integrations import base, hosts, http_task, table

SERVED = {  # a resource of each optimized integration the table carries out, without its pattern suffix
    "lambda": "arn:aws:states:::lambda:invoke",
    "states": "arn:aws:states:::states:startExecution",
    "http": "arn:aws:states:::http:invoke",
}


@pytest.mark.parametrize("name", sorted(SERVED))
def test_an_integration_serves_exactly_the_patterns_validation_accepts(name: str) -> None:
    integration = table.by_name(name)
    assert integration is not None
    service, action = SERVED[name].rsplit(":", 2)[-2:]
    for suffix, pattern in base.SUFFIXES.items():
        resource = SERVED[name] + suffix
        machine = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, "End": True}}}
        accepted = not [d for d in asl.validate(machine) if d.code == "SCHEMA_VALIDATION_FAILED"
                        and "is not recognized" in d.message]
        assert accepted == (suffix in resources.patterns(service, action)), resource
        assert (pattern in integration.patterns) == accepted, resource
        assert table.for_resource(resource) is integration


def test_one_resource_one_integration() -> None:
    resources_seen = ["arn:aws:lambda:us-east-1:123456789012:function:f", "arn:aws:states:::lambda:invoke",
                      "arn:aws:states:us-east-1:123456789012:activity:a", "arn:aws:states:::states:startExecution.sync",
                      "arn:aws:states:::http:invoke", "arn:aws:states:::sns:publish"]
    for resource in resources_seen:
        serving = [i.name for i in table.INTEGRATIONS if i.serves(resource)]
        assert len(serving) <= 1, (resource, serving)
    assert table.for_resource("arn:aws:states:::sns:publish") is None  # not carried out by this server yet


def test_the_default_host_policy_allows_public_addresses_only() -> None:
    policy = hosts.HostPolicy()
    policy.check("93.184.215.14", 443)
    for host in ("127.0.0.1", "10.1.2.3", "169.254.169.254", "192.168.0.1", "::1", "localhost"):
        with pytest.raises(hosts.Refused):
            policy.check(host, 80)


def test_host_patterns_names_networks_and_ports() -> None:
    policy = hosts.HostPolicy.from_text("*.example.com,10.0.0.0/8,127.0.0.1:8080")
    policy.check("api.example.com", 443)
    policy.check("10.9.9.9", 1)
    policy.check("127.0.0.1", 8080)
    with pytest.raises(hosts.Refused):
        policy.check("127.0.0.1", 8081)
    with pytest.raises(hosts.Refused):
        policy.check("93.184.215.14", 443)  # `public` is not in this list
    hosts.HostPolicy.from_text("*").check("127.0.0.1", 1)
    with pytest.raises(ValueError):
        hosts.HostPolicy.from_text("127.0.0.1:notaport")


def test_url_encoded_nested_objects_use_brackets() -> None:
    assert http_task.form_pairs({"a": {"b": 1, "c": [True, "x"]}}, "INDICES") == [
        ("a[b]", "1"), ("a[c][0]", "true"), ("a[c][1]", "x")]
