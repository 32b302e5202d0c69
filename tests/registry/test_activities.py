"""Activities: idempotent create by name, describe, list, delete, tags."""

from __future__ import annotations

import pytest

from pinflow import arns, errors
from pinflow.clock import FakeClock
from pinflow.registry.activities import ActivityRegistry
from pinflow.store import Store
from tests.registry.conftest import exactly

WORK = arns.activity("work")


@pytest.fixture
def activities(store: Store, clock: FakeClock) -> ActivityRegistry:
    return ActivityRegistry(store, clock)


def test_create_is_idempotent_by_name(activities: ActivityRegistry, clock: FakeClock) -> None:
    created = activities.create("work", tags=[{"key": "team", "value": "a"}])
    assert created == {"activityArn": WORK, "creationDate": clock.now}
    clock.advance(10)
    assert activities.create("work", tags=[{"key": "team", "value": "b"}]) == created
    assert activities.list_tags(WORK) == [{"key": "team", "value": "a"}]  # AWS ignores the new tags
    assert activities.describe(WORK) == {"activityArn": WORK, "name": "work", "creationDate": created["creationDate"]}
    assert activities.exists(WORK)


def test_errors_use_aws_wording(activities: ActivityRegistry) -> None:
    with pytest.raises(errors.InvalidName, match=exactly("Invalid Name: 'Test Activity$'")):
        activities.create("Test Activity$")
    with pytest.raises(errors.ActivityDoesNotExist, match=exactly(f"Activity Does Not Exist: '{WORK}'")):
        activities.describe(WORK)
    with pytest.raises(errors.InvalidArn, match=exactly("Invalid Arn: 'Invalid ARN prefix: work'")):
        activities.describe("work")
    with pytest.raises(errors.InvalidArn, match="Resource type not valid"):
        activities.describe(arns.state_machine("work"))


def test_list_and_delete(activities: ActivityRegistry) -> None:
    for name in ("c", "a", "b"):
        activities.create(name)
    page = activities.list(max_results=2)
    assert [a["name"] for a in page["activities"]] == ["a", "b"]
    rest = activities.list(next_token=page["nextToken"])
    assert [a["name"] for a in rest["activities"]] == ["c"]
    assert "nextToken" not in rest
    activities.delete(arns.activity("a"))
    activities.delete(arns.activity("a"))  # deleting twice is not an error
    assert [a["name"] for a in activities.list()["activities"]] == ["b", "c"]
    assert not activities.exists(arns.activity("a"))


def test_tags(activities: ActivityRegistry) -> None:
    activities.create("work")
    activities.tag_resource(WORK, [{"key": "b", "value": "2"}, {"key": "a", "value": "1"}])
    activities.untag_resource(WORK, ["b"])
    assert activities.list_tags(WORK) == [{"key": "a", "value": "1"}]
    with pytest.raises(errors.ResourceNotFound):
        activities.tag_resource(arns.activity("missing"), [{"key": "a", "value": "1"}])
    with pytest.raises(errors.TooManyTags):
        activities.create("crowded", tags={f"k{i}": "v" for i in range(51)})
