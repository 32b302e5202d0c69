"""The console's views of state machines and functions: lists, a machine's definition, versions, aliases
and executions, and a function's versions with the executions that still hold each one."""

from __future__ import annotations

import json
from typing import Any

from pinflow import arns, errors
from pinflow.console.executions import execution_item

EVERYTHING = 1_000  # registry pages are read whole: a console lists what there is
LAST_POSITION = 2**62  # the largest position in a list of executions (`Engine.list_executions`'s `before`)
STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")


def _all(list_page: Any, key: str, **options: Any) -> list[dict[str, Any]]:
    """Every item of a Step Functions-style paged list (`nextToken`)."""
    found: list[dict[str, Any]] = []
    token = None
    while True:
        page = list_page(next_token=token, max_results=EVERYTHING, **options)
        found.extend(page[key])
        token = page.get("nextToken")
        if not token:
            return found


def _alias(described: dict[str, Any]) -> dict[str, Any]:
    return {"name": described["name"], "arn": described["stateMachineAliasArn"],
            "description": described.get("description", ""),
            "routing": [{"version": int(route["stateMachineVersionArn"].rsplit(":", 1)[1]), "weight": route["weight"]}
                        for route in described["routingConfiguration"]],
            "creationDate": described["creationDate"], "updateDate": described["updateDate"]}


def machines(pf: Any) -> dict[str, Any]:
    """Every state machine: type, versions, aliases with their routing, running executions. A fixed number
    of reads, whatever the number of machines, versions and aliases."""
    listed = _all(pf.machines.list, "stateMachines")
    versions = pf.machines.version_summary()
    aliases = pf.machines.described_aliases()
    running = pf.engine.running_counts()
    items = []
    for machine in listed:
        name = machine["name"]
        count, latest = versions.get(name, (0, None))
        items.append({
            "name": name, "arn": machine["stateMachineArn"], "type": machine["type"],
            "creationDate": machine["creationDate"], "versions": count, "latestVersion": latest,
            "aliases": [_alias(alias) for alias in aliases.get(name, ())],
            "running": running.get(name, 0) if machine["type"] == "STANDARD" else None,
        })
    return {"stateMachines": items}


def machine(pf: Any, name: str, version: int | None) -> dict[str, Any]:
    """A machine (or one of its versions): definition, role, versions with their running executions,
    aliases."""
    arn = arns.state_machine(name)
    described = pf.machines.describe(arns.state_machine(name, str(version)) if version is not None else arn)
    running = pf.engine.running_by_version(name) if described["type"] == "STANDARD" else {}
    versions = [{**facts, "running": running.get(facts["arn"], 0)} for facts in pf.machines.versions_of(name)]
    return {
        "name": name, "arn": arn, "type": described["type"], "status": described.get("status", "ACTIVE"),
        "shown": {"version": version, "arn": described["stateMachineArn"],
                  "revisionId": described.get("revisionId"), "description": described.get("description")},
        "definition": json.loads(described["definition"]), "definitionText": described["definition"],
        "roleArn": described["roleArn"], "creationDate": described["creationDate"],
        "versions": versions,
        "aliases": [_alias(alias) for alias in pf.machines.described_aliases(name).get(name, ())],
    }


def executions(pf: Any, name: str, *, status: str | None, version: int | None, before: int | None,
               limit: int) -> dict[str, Any]:
    """A page of a machine's executions, newest first; `next` continues it."""
    if status is not None and status not in STATUSES:
        raise errors.ValidationException(f"Unknown status {status!r}")
    pf.machines.describe(arns.state_machine(name))  # StateMachineDoesNotExist for a wrong name
    version_arn = arns.state_machine(name, str(version)) if version is not None else None
    rows, following = pf.engine.list_executions(name, status=status, version_arn=version_arn, before=before,
                                                limit=limit)
    return {"executions": [execution_item(row) for row in rows], "next": following}


# --- functions ------------------------------------------------------------------------------------------


def _function_pages(pf: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    marker = None
    while True:
        page, marker = pf.functions.list_functions(marker, max_items=EVERYTHING)
        found.extend(page)
        if not marker:
            return found


def functions(pf: Any) -> dict[str, Any]:
    """Every function: runtime, handler, versions, aliases, and how many versions executions hold."""
    items = []
    held = pf.functions.held_versions()
    for config in _function_pages(pf):
        name = config["FunctionName"]
        versions, _ = pf.functions.list_versions_by_function(name, max_items=EVERYTHING)
        aliases, _ = pf.functions.list_aliases(name, max_items=EVERYTHING)
        items.append({"name": name, "arn": config["FunctionArn"], "runtime": config["Runtime"],
                      "handler": config["Handler"], "lastModified": config["LastModified"],
                      "versions": len(versions) - 1, "aliases": [_function_alias(a) for a in aliases],
                      "heldVersions": len(held.get(name, {}))})
    return {"functions": items}


def _function_alias(alias: dict[str, Any]) -> dict[str, Any]:
    weights = ((alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {})
    extra = sum(float(weight) for weight in weights.values())
    routing = [{"version": alias["FunctionVersion"], "weight": round((1 - extra) * 100, 2)}]
    routing += [{"version": version, "weight": round(float(weight) * 100, 2)} for version, weight in weights.items()]
    return {"name": alias["Name"], "arn": alias["AliasArn"], "description": alias.get("Description", ""),
            "routing": routing}


def function(pf: Any, name: str) -> dict[str, Any]:
    """A function's versions and aliases, and for each version the executions that hold it: whether it
    can be removed yet (no alias routes to it and no execution holds it)."""
    versions, _ = pf.functions.list_versions_by_function(name, max_items=EVERYTHING)
    aliases = [_function_alias(alias) for alias in pf.functions.list_aliases(name, max_items=EVERYTHING)[0]]
    held = pf.functions.held_versions().get(versions[0]["FunctionName"], {})
    shaped_versions = []
    for config in versions:
        version = config["Version"]
        routed = [alias["name"] for alias in aliases if any(r["version"] == version for r in alias["routing"])]
        holders = [_holder(pf, arn) for arn in held.get(version, [])]
        holders = [holder for holder in holders if holder is not None]
        removable = version != "$LATEST" and not routed and not holders
        if version == "$LATEST":
            why = "$LATEST is removed only with the function"
        elif removable:
            why = "nothing holds it: `pinflow gc` may remove it"
        else:
            reasons = [f"alias {', '.join(routed)} routes to it"] if routed else []
            if holders:
                reasons.append(f"{len(holders)} execution(s) hold it")
            why = "; ".join(reasons)
        shaped_versions.append({
            "version": version, "arn": config["FunctionArn"], "codeSha256": config["CodeSha256"],
            "handler": config["Handler"], "runtime": config["Runtime"], "lastModified": config["LastModified"],
            "description": config.get("Description", ""), "aliases": routed, "heldBy": holders,
            "removable": removable, "why": why,
        })
    latest = versions[0]
    return {"name": latest["FunctionName"], "arn": arns.function(latest["FunctionName"]),
            "versions": shaped_versions, "aliases": aliases}


def _holder(pf: Any, arn: str) -> dict[str, Any] | None:
    try:
        row = pf.engine.execution_row(arn)
    except errors.ServiceError:
        return None  # it ended and let go between the two reads
    return execution_item(row)
