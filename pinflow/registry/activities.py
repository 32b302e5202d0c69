"""Step Functions activities: named task queues that workers poll with GetActivityTask."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pinflow import arns, errors
from pinflow.registry import paging
from pinflow.registry import tags as tagging
from pinflow.store import Store, Tx
from pinflow.store.repositories import state_machines as repo

# The registry has a `list` method; this keeps the builtin usable in annotations inside the class.
_Tags = list[dict[str, str]]


def _does_not_exist(arn: str) -> errors.ServiceError:
    return errors.ActivityDoesNotExist(f"Activity Does Not Exist: '{arn}'")


def _check_arn(arn: str) -> None:
    parsed = arns.parse(arn) if isinstance(arn, str) else None
    if parsed is None:
        raise errors.InvalidArn(f"Invalid Arn: 'Invalid ARN prefix: {arn}'")
    if parsed.service != "states" or parsed.parts[0] != "activity" or len(parsed.parts) != 2:
        raise errors.InvalidArn(f"Invalid Arn: 'Resource type not valid in this context: {arn}'")


class ActivityRegistry:
    """Activities in the store."""

    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock

    def create(self, name: str, tags: Sequence[Mapping[str, Any]] | Mapping[str, str] | None = None,
               encryption: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """CreateActivity; idempotent by name (different tags are ignored, as on AWS).

        Returns:
            {"activityArn", "creationDate"}.

        Raises:
            InvalidName: not a valid activity name.
            TooManyTags: more than 50 tags.
        """
        if not arns.valid_name(name):
            raise errors.InvalidName(f"Invalid Name: '{name}'")
        arn = arns.activity(name)
        tag_map = tagging.from_list(tags)
        tagging.check_count(tag_map, arn)
        now = self._clock()
        with self._store.transaction() as tx:
            row = repo.activity_named(tx, name=name)
            if row is not None:
                return {"activityArn": row.arn, "creationDate": row.created_at}
            repo.insert_activity(tx, arn=arn, name=name, created_at=now, tags=json.dumps(tag_map, sort_keys=True))
        return {"activityArn": arn, "creationDate": now}

    def describe(self, arn: str) -> dict[str, Any]:
        """DescribeActivity: {"activityArn", "name", "creationDate"}.

        Raises:
            InvalidArn: not an activity ARN.
            ActivityDoesNotExist: no such activity.
        """
        _check_arn(arn)
        with self._store.transaction(write=False) as tx:
            row = repo.activity(tx, arn=arn)
        if row is None:
            raise _does_not_exist(arn)
        return {"activityArn": row.arn, "name": row.name, "creationDate": row.created_at}

    def exists(self, arn: str) -> bool:
        """Whether the activity exists (for GetActivityTask and activity Task states)."""
        with self._store.transaction(write=False) as tx:
            return repo.activity(tx, arn=arn) is not None

    def list(self, next_token: str | None = None, max_results: int | None = None) -> dict[str, Any]:
        """ListActivities, by name: {"activities": [...], "nextToken"?}."""
        start, size = paging.offset(next_token), paging.page_size(max_results)
        with self._store.transaction(write=False) as tx:
            rows = repo.activities(tx, limit=size + 1, offset=start)
        answer: dict[str, Any] = {"activities": [
            {"activityArn": row.arn, "name": row.name, "creationDate": row.created_at}
            for row in rows[:size]]}
        if len(rows) > size:
            answer["nextToken"] = paging.encode(start + size)
        return answer

    def delete(self, arn: str) -> None:
        """DeleteActivity; a missing activity is not an error.

        Raises:
            InvalidArn: not an activity ARN.
        """
        _check_arn(arn)
        with self._store.transaction() as tx:
            repo.delete_activity(tx, arn=arn)

    def list_tags(self, arn: str) -> _Tags:
        """ListTagsForResource of an activity: [{"key", "value"}]."""
        with self._store.transaction(write=False) as tx:
            return tagging.to_list(tagging.load(self._row(tx, arn).tags))

    def tag_resource(self, arn: str, tags: Sequence[Mapping[str, Any]] | Mapping[str, str]) -> None:
        """TagResource: add or overwrite tags.

        Raises:
            ResourceNotFound: no such activity.
            TooManyTags: more than 50 tags would result.
        """
        with self._store.transaction() as tx:
            current = tagging.load(self._row(tx, arn).tags)
            merged = tagging.merged(current, tagging.from_list(tags), arn)
            repo.set_activity_tags(tx, arn=arn, tags=json.dumps(merged, sort_keys=True))

    def untag_resource(self, arn: str, keys: Iterable[str]) -> None:
        """UntagResource.

        Raises:
            ResourceNotFound: no such activity.
        """
        with self._store.transaction() as tx:
            kept = tagging.without(tagging.load(self._row(tx, arn).tags), keys)
            repo.set_activity_tags(tx, arn=arn, tags=json.dumps(kept, sort_keys=True))

    def _row(self, tx: Tx, arn: str) -> repo.Activity:
        row = repo.activity(tx, arn=arn)
        if row is None:
            raise errors.ResourceNotFound(f"Resource not found: '{arn}'", resourceName=arn)
        return row
