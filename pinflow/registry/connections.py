"""EventBridge connections: how HTTP Tasks authenticate (API key, basic, OAuth client credentials).

A connection is stored as EventBridge describes it (`config`) and, apart, the values it never shows
(`secrets`: a password, an API key's value, a client secret, parameters marked `IsValueSecret`).
DescribeConnection and ListConnections read `config` only; `credentials` (for the engine) joins both.
"""

from __future__ import annotations

import copy
import json
import secrets as random_text
import uuid
from collections.abc import Callable
from typing import Any

from pinflow import arns, errors
from pinflow.store import Store
from pinflow.store.repositories import state_machines as repo

AUTHORIZATION_TYPES = ("BASIC", "OAUTH_CLIENT_CREDENTIALS", "API_KEY")
# Where each authorization type keeps its parameters, and which of them are secret.
_AUTH_MEMBER = {"BASIC": "BasicAuthParameters", "OAUTH_CLIENT_CREDENTIALS": "OAuthParameters",
                "API_KEY": "ApiKeyAuthParameters"}
_HTTP_LISTS = ("HeaderParameters", "QueryStringParameters", "BodyParameters")


def connection_arn(name: str, region: str = arns.DEFAULT_REGION, account: str = arns.DEFAULT_ACCOUNT) -> str:
    return f"arn:aws:events:{region}:{account}:connection/{name}/{uuid.uuid4()}"


class ConnectionRegistry:
    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock

    def create(self, name: str, authorization_type: str, auth: dict[str, Any],
               description: str | None = None) -> dict[str, Any]:
        """CreateConnection. Raises ResourceAlreadyExistsException for a name in use."""
        now = self._clock()
        arn = connection_arn(name)
        public, hidden = split_secrets(authorization_type, auth)
        config: dict[str, Any] = {
            "ConnectionArn": arn, "Name": name, "AuthorizationType": authorization_type,
            "AuthParameters": public, "ConnectionState": _initial_state(authorization_type),
            "SecretArn": _secret_arn(arn), "CreationTime": now, "LastModifiedTime": now,
        }
        if config["ConnectionState"] == "AUTHORIZED":
            config["LastAuthorizedTime"] = now
        if description is not None:
            config["Description"] = description
        with self._store.transaction() as tx:
            if repo.connection(tx, name=name) is not None:
                raise errors.ResourceAlreadyExistsException(f"Connection {name} already exists.")
            repo.insert_connection(tx, name=name, arn=arn, config=json.dumps(config), secrets=json.dumps(hidden),
                                   created_at=now)
        return config

    def describe(self, name: str, *, verb: str = "describe") -> dict[str, Any]:
        """DescribeConnection's answer (no secret in it)."""
        with self._store.transaction(write=False) as tx:
            row = repo.connection(tx, name=name)
        if row is None:
            raise _missing(name, verb)
        config: dict[str, Any] = json.loads(row.config)
        return config

    def update(self, name: str, *, authorization_type: str | None, auth: dict[str, Any] | None,
               description: str | None) -> dict[str, Any]:
        """UpdateConnection: the members given replace the stored ones (secrets given replace secrets)."""
        now = self._clock()
        with self._store.transaction() as tx:
            row = repo.connection(tx, name=name)
            if row is None:
                raise _missing(name, "update")
            config = json.loads(row.config)
            hidden = json.loads(row.secrets)
            kind = authorization_type or config["AuthorizationType"]
            if auth is not None or kind != config["AuthorizationType"]:
                merged = _merge(_joined(config["AuthParameters"], hidden) if kind == config["AuthorizationType"]
                                else {}, auth or {})
                config["AuthParameters"], hidden = split_secrets(kind, merged)
                config["ConnectionState"] = _initial_state(kind)
            config["AuthorizationType"] = kind
            if description is not None:
                config["Description"] = description
            config["LastModifiedTime"] = now
            if config["ConnectionState"] == "AUTHORIZED":
                config["LastAuthorizedTime"] = now
            repo.update_connection(tx, name=name, config=json.dumps(config), secrets=json.dumps(hidden))
        return config

    def delete(self, name: str) -> dict[str, Any]:
        with self._store.transaction() as tx:
            row = repo.connection(tx, name=name)
            if row is None:
                raise _missing(name, "delete")
            repo.delete_connection(tx, name=name)
        config: dict[str, Any] = json.loads(row.config)
        config["ConnectionState"] = "DELETING"
        return config

    def list(self, prefix: str | None = None, state: str | None = None) -> list[dict[str, Any]]:
        """Every connection's config, by name."""
        with self._store.transaction(write=False) as tx:
            rows = repo.connections(tx)
        found = [json.loads(row.config) for row in rows]
        return [c for c in found if (prefix is None or c["Name"].startswith(prefix))
                and (state is None or c["ConnectionState"] == state)]

    def credentials(self, arn: str) -> dict[str, Any] | None:
        """A connection's authorization type and parameters with their secrets, by ARN (None: no such)."""
        with self._store.transaction(write=False) as tx:
            row = repo.connection_by_arn(tx, arn=arn)
        if row is None:
            return None
        config = json.loads(row.config)
        return {"Name": config["Name"], "AuthorizationType": config["AuthorizationType"],
                "AuthParameters": _joined(config["AuthParameters"], json.loads(row.secrets))}

    def set_state(self, arn: str, state: str, reason: str | None = None) -> None:
        """Record what the last authorization of an OAuth connection came to."""
        now = self._clock()
        with self._store.transaction() as tx:
            row = repo.connection_by_arn(tx, arn=arn)
            if row is None:
                return
            config = json.loads(row.config)
            if config["ConnectionState"] == state and config.get("StateReason") == reason:
                return
            config["ConnectionState"] = state
            if reason is None:
                config.pop("StateReason", None)
            else:
                config["StateReason"] = reason
            if state == "AUTHORIZED":
                config["LastAuthorizedTime"] = now
            repo.update_connection(tx, name=config["Name"], config=json.dumps(config), secrets=row.secrets)


def split_secrets(authorization_type: str, auth: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what DescribeConnection shows, the secret values) of AuthParameters, for one authorization type.

    Secret: BasicAuthParameters.Password, ApiKeyAuthParameters.ApiKeyValue, OAuthParameters'
    ClientParameters.ClientSecret, and the Value of every HTTP parameter with IsValueSecret."""
    public: dict[str, Any] = {}
    hidden: dict[str, Any] = {}
    member = _AUTH_MEMBER[authorization_type]
    given = copy.deepcopy(auth.get(member) or {})
    if authorization_type == "BASIC":
        hidden["Password"] = given.pop("Password", None)
    elif authorization_type == "API_KEY":
        hidden["ApiKeyValue"] = given.pop("ApiKeyValue", None)
    else:
        client = given.get("ClientParameters") or {}
        hidden["ClientSecret"] = client.pop("ClientSecret", None)
        if "OAuthHttpParameters" in given:
            given["OAuthHttpParameters"], hidden["OAuthHttpParameters"] = _split_http(given["OAuthHttpParameters"])
    public[member] = given
    if "InvocationHttpParameters" in auth:
        public["InvocationHttpParameters"], hidden["InvocationHttpParameters"] = _split_http(
            copy.deepcopy(auth["InvocationHttpParameters"]))
    return public, hidden


def _split_http(parameters: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """HTTP parameters without the values marked secret (EventBridge leaves them out of its answers),
    and those values by list and position."""
    hidden: dict[str, list[Any]] = {}
    for key in _HTTP_LISTS:
        values: list[Any] = []
        for item in parameters.get(key) or []:
            if item.get("IsValueSecret"):
                values.append(item.pop("Value", None))
            else:
                values.append(None)
        hidden[key] = values
    return parameters, hidden


def _joined(public: dict[str, Any], hidden: dict[str, Any]) -> dict[str, Any]:
    """AuthParameters with the secrets put back."""
    joined = copy.deepcopy(public)
    if "BasicAuthParameters" in joined:
        joined["BasicAuthParameters"]["Password"] = hidden.get("Password")
    if "ApiKeyAuthParameters" in joined:
        joined["ApiKeyAuthParameters"]["ApiKeyValue"] = hidden.get("ApiKeyValue")
    if "OAuthParameters" in joined:
        oauth = joined["OAuthParameters"]
        oauth.setdefault("ClientParameters", {})["ClientSecret"] = hidden.get("ClientSecret")
        if "OAuthHttpParameters" in oauth:
            _join_http(oauth["OAuthHttpParameters"], hidden.get("OAuthHttpParameters") or {})
    if "InvocationHttpParameters" in joined:
        _join_http(joined["InvocationHttpParameters"], hidden.get("InvocationHttpParameters") or {})
    return joined


def _join_http(parameters: dict[str, Any], hidden: dict[str, list[Any]]) -> None:
    for key in _HTTP_LISTS:
        for item, value in zip(parameters.get(key) or [], hidden.get(key) or [], strict=False):
            if item.get("IsValueSecret"):
                item["Value"] = value


def _merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """UpdateConnection's AuthParameters over the stored ones: objects merge, anything else replaces."""
    merged = copy.deepcopy(old)
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _initial_state(authorization_type: str) -> str:
    # Basic and API key connections are usable at once; an OAuth one authorizes on its first use.
    return "AUTHORIZING" if authorization_type == "OAUTH_CLIENT_CREDENTIALS" else "AUTHORIZED"


def _secret_arn(connection: str) -> str:
    """Where EventBridge would keep the connection's secret (its ARN is shown; nothing lives there)."""
    name, suffix = connection.split(":connection/", 1)[1].split("/", 1)
    return (f"arn:aws:secretsmanager:{arns.DEFAULT_REGION}:{arns.DEFAULT_ACCOUNT}:secret:events!connection/"
            f"{name}/{suffix}-{random_text.token_hex(3)}")


def _missing(name: str, verb: str) -> errors.ServiceError:
    return errors.ResourceNotFoundException(f"Failed to {verb} the connection(s). Connection '{name}' does not exist.")
