"""State machine aliases: names routing StartExecution to one or two versions by weight.

`MachineAliases` is the alias half of `StateMachineRegistry` (which mixes it in); `draw` is the
weighted choice StartExecution makes through an alias.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pinflow import arns, errors
from pinflow.registry import counters, paging
from pinflow.registry import sfn_shapes as shapes
from pinflow.store import Store, Tx
from pinflow.store.repositories import state_machines as repo

DELETING = "DELETING"


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class MachineAliases:
    """CreateStateMachineAlias, DescribeStateMachineAlias, UpdateStateMachineAlias,
    DeleteStateMachineAlias and ListStateMachineAliases over the store."""

    _store: Store
    _clock: Callable[[], float]

    def create_alias(self, name: str, routing: Sequence[Mapping[str, Any]],
                     description: str | None = None) -> dict[str, Any]:
        """CreateStateMachineAlias on the machine whose versions `routing` names; idempotent for the
        same routing and description.

        Returns:
            {"stateMachineAliasArn", "creationDate"}.

        Raises:
            ValidationException: a bad name or routing.
            ResourceNotFound: a routed version does not exist.
            ConflictException: the alias exists with another routing or description.
            StateMachineDeleting: the machine is being deleted.
        """
        shapes.check_alias_name(name)
        routes = shapes.routes(routing)
        machine = routes[0].machine
        now = self._clock()
        with self._store.transaction() as tx:
            repo.lock_machine(tx, name=machine)
            row = repo.machine(tx, name=machine)
            if row is None:
                raise errors.ResourceNotFound(shapes.NO_SUCH_RESOURCE)
            if row.status == DELETING:
                raise shapes.deleting(row.arn)
            wanted = self._routing(tx, row, routes)
            alias_arn = f"{row.arn}:{name}"
            existing = repo.alias(tx, machine=machine, alias=name)
            if existing is not None:
                config = json.loads(existing.config)
                # The same routes in another order are the same routing.
                if (_route_set(config["routingConfiguration"]) != _route_set(wanted)
                        or config.get("description") != description):
                    raise errors.ConflictException(
                        "Failed to create alias because an alias with the same name and a different routing "
                        "configuration already exists.")
                return {"stateMachineAliasArn": alias_arn, "creationDate": config["creationDate"]}
            config = {"routingConfiguration": wanted, "description": description, "creationDate": now,
                      "updateDate": now}
            repo.insert_alias(tx, machine=machine, alias=name, config=_dumps(config))
            return {"stateMachineAliasArn": alias_arn, "creationDate": now}

    def describe_alias(self, alias_arn: str) -> dict[str, Any]:
        """DescribeStateMachineAlias.

        Raises:
            ResourceNotFound: no such alias.
        """
        machine, alias = alias_ref(alias_arn)
        with self._store.transaction(write=False) as tx:
            row = repo.machine(tx, name=machine)
            found = repo.alias(tx, machine=machine, alias=alias) if row is not None else None
        if row is None or found is None:
            raise errors.ResourceNotFound(shapes.NO_SUCH_RESOURCE)
        config = json.loads(found.config)
        shaped: dict[str, Any] = {
            "stateMachineAliasArn": f"{row.arn}:{alias}",
            "name": alias,
            "routingConfiguration": config["routingConfiguration"],
            "creationDate": config["creationDate"],
            "updateDate": config["updateDate"],
        }
        if config.get("description"):
            shaped["description"] = config["description"]
        return shaped

    def update_alias(self, alias_arn: str, description: str | None = None,
                     routing: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
        """UpdateStateMachineAlias: a new description and/or routing (versions of the same machine).

        Returns:
            {"updateDate"}.

        Raises:
            ResourceNotFound: no such alias, or a routed version does not exist.
            ValidationException: a bad routing.
            StateMachineDeleting: the machine is being deleted.
        """
        machine, alias = alias_ref(alias_arn)
        routes = shapes.routes(routing) if routing is not None else None
        now = self._clock()
        with self._store.transaction() as tx:
            repo.lock_machine(tx, name=machine)
            row = repo.machine(tx, name=machine)
            found = repo.alias(tx, machine=machine, alias=alias) if row is not None else None
            if row is None or found is None:
                raise errors.ResourceNotFound(shapes.NO_SUCH_RESOURCE)
            if row.status == DELETING:
                raise shapes.deleting(row.arn)
            config = json.loads(found.config)
            if routes is not None:
                if routes[0].machine != machine:
                    shown = ", ".join(str(item.get("stateMachineVersionArn")) for item in routing or ())
                    raise errors.ValidationException(
                        "Routing configuration must contain state machine version ARNs of the same state "
                        f"machine. Received: [{shown}]")
                config["routingConfiguration"] = self._routing(tx, row, routes)
            if description is not None:
                config["description"] = description
            config["updateDate"] = now
            repo.update_alias(tx, machine=machine, alias=alias, config=_dumps(config))
        return {"updateDate": now}

    def delete_alias(self, alias_arn: str) -> None:
        """DeleteStateMachineAlias; its versions stay. A missing alias is not an error."""
        machine, alias = alias_ref(alias_arn)
        with self._store.transaction() as tx:
            repo.delete_alias(tx, machine=machine, alias=alias)

    def list_aliases(self, arn: str, next_token: str | None = None,
                     max_results: int | None = None) -> dict[str, Any]:
        """ListStateMachineAliases, oldest first: {"stateMachineAliases": [...], "nextToken"?}.

        Raises:
            StateMachineDoesNotExist / StateMachineDeleting: no usable machine.
        """
        ref = shapes.split(arn)
        size = paging.page_size(max_results)
        with self._store.transaction(write=False) as tx:
            row = repo.machine(tx, name=ref.name)
            if row is None:
                raise shapes.does_not_exist(arn)
            if row.status == DELETING:
                raise shapes.deleting(arn)
            aliases = self._aliases(tx, ref.name)
        page, token = paging.keyset_page(aliases, lambda item: (item[1]["creationDate"], item[0]), next_token,
                                         size)
        answer: dict[str, Any] = {"stateMachineAliases": [
            {"stateMachineAliasArn": f"{row.arn}:{alias}", "creationDate": config["creationDate"]}
            for alias, config in page]}
        if token is not None:
            answer["nextToken"] = token
        return answer

    def described_aliases(self, name: str | None = None) -> dict[str, list[dict[str, Any]]]:
        """Every alias (of one machine, or of all), described as DescribeStateMachineAlias describes it, in
        one read: machine name -> aliases by name."""
        with self._store.transaction(write=False) as tx:
            rows = repo.every_alias(tx) if name is None else repo.aliases(tx, machine=name)
        found: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            config = json.loads(row.config)
            shaped: dict[str, Any] = {
                "stateMachineAliasArn": f"{arns.state_machine(row.machine)}:{row.alias}", "name": row.alias,
                "routingConfiguration": config["routingConfiguration"], "creationDate": config["creationDate"],
                "updateDate": config["updateDate"]}
            if config.get("description"):
                shaped["description"] = config["description"]
            found.setdefault(row.machine, []).append(shaped)
        return found

    def _aliases(self, tx: Tx, name: str) -> list[tuple[str, dict[str, Any]]]:
        return [(row.alias, json.loads(row.config)) for row in repo.aliases(tx, machine=name)]

    def _routing(self, tx: Tx, row: repo.Machine, routes: list[shapes.Route]) -> list[dict[str, Any]]:
        """The stored routingConfiguration; every routed version must exist."""
        for route in routes:
            if (not counters.storable(route.version)
                    or repo.version(tx, machine=route.machine, version=route.version) is None):
                raise errors.ResourceNotFound(shapes.NO_SUCH_RESOURCE)
        return [{"stateMachineVersionArn": f"{row.arn}:{route.version}", "weight": route.weight}
                for route in routes]


def _route_set(routing: Sequence[Mapping[str, Any]]) -> frozenset[tuple[str, int]]:
    return frozenset((str(route["stateMachineVersionArn"]), int(route["weight"])) for route in routing)


def alias_ref(alias_arn: str) -> tuple[str, str]:
    """An alias ARN split: (machine name, alias name); InvalidArn for anything else."""
    ref = shapes.split(alias_arn)
    if ref.alias is None:
        raise shapes.invalid_arn(alias_arn)
    return ref.name, ref.alias


def routes_of(config: Mapping[str, Any]) -> list[dict[str, int]]:
    """(version number, weight) of each route of a stored alias."""
    return [{"version": int(str(route["stateMachineVersionArn"]).rsplit(":", 1)[1]),
             "weight": int(route["weight"])} for route in config["routingConfiguration"]]


def draw(routes: list[dict[str, int]], rng: random.Random) -> int:
    """The version a start through the alias runs, drawn by weight (weights sum to 100)."""
    ticket = rng.randrange(100)
    for route in routes:
        if ticket < route["weight"]:
            return route["version"]
        ticket -= route["weight"]
    return routes[-1]["version"]
