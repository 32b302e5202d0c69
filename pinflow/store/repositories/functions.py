"""Functions repository: Lambda functions, their versions and aliases, code blobs, layer versions,
resource policies and reserved concurrency, and the version counters; the only module that runs their
queries (`queries/functions.sql`).

Configurations, tags and policy statements are JSON text; the registry reads and writes that JSON.
"""

from __future__ import annotations

from dataclasses import dataclass

from pinflow.store.base import Tx

# --- rows: each class's fields are the columns its queries select ---------------------------------


@dataclass(frozen=True, slots=True)
class Function:
    """A function: its $LATEST configuration (`latest`, JSON) and what goes with it."""

    name: str
    created_at: float
    next_version: int
    latest: str
    revision_id: str
    tags: str  # JSON object
    reserved_concurrency: int | None


@dataclass(frozen=True, slots=True)
class FunctionLatest:
    """A function as ListFunctions pages it: its name and $LATEST."""

    name: str
    latest: str
    revision_id: str


@dataclass(frozen=True, slots=True)
class FunctionVersion:
    """A published version (`config`: its immutable configuration, JSON)."""

    version: int
    config: str
    created_at: float


@dataclass(frozen=True, slots=True)
class FunctionAlias:
    """An alias (`config`: FunctionVersion, RoutingConfig, Description, RevisionId as JSON)."""

    alias: str
    config: str


@dataclass(frozen=True, slots=True)
class Permission:
    """A statement of a resource-based policy (`statement`: JSON, as GetPolicy shows it)."""

    sid: str
    statement: str


@dataclass(frozen=True, slots=True)
class CodeConfig:
    """A configuration that holds code: $LATEST of a function, or one of its versions (JSON)."""

    name: str
    config: str


@dataclass(frozen=True, slots=True)
class LayerVersion:
    """A layer version (`config`: Description, CodeSha256, CodeSize, compatibility as JSON)."""

    name: str
    version: int
    config: str
    created_at: float


# --- functions --------------------------------------------------------------------------------------


def function(tx: Tx, *, name: str) -> Function | None:
    """The function `name`, or None."""
    return tx.row("function_get", Function, name=name)


def lock_function(tx: Tx, *, name: str) -> bool:
    """Take the function's row lock for this transaction (PostgreSQL); whether the function exists."""
    return tx.run("function_lock", name=name) > 0


def insert_function(tx: Tx, *, name: str, created_at: float, next_version: int, latest: str, revision_id: str,
                    tags: str) -> None:
    tx.run("function_insert", name=name, created_at=created_at, next_version=next_version, latest=latest,
           revision_id=revision_id, tags=tags)


def set_latest(tx: Tx, *, name: str, latest: str, revision_id: str) -> None:
    """A new $LATEST configuration and RevisionId."""
    tx.run("function_set_latest", name=name, latest=latest, revision_id=revision_id)


def set_next_version(tx: Tx, *, name: str, next_version: int) -> None:
    tx.run("function_set_next_version", name=name, next_version=next_version)


def set_tags(tx: Tx, *, name: str, tags: str) -> None:
    tx.run("function_set_tags", name=name, tags=tags)


def functions_after(tx: Tx, *, after: str, size: int) -> list[FunctionLatest]:
    """At most `size` functions named after `after`, by name."""
    return tx.rows("function_page", FunctionLatest, after=after, size=size)


def delete_function(tx: Tx, *, name: str) -> None:
    """The function with its aliases, versions and resource policies (its version counter stays)."""
    for query in ("function_aliases_delete", "function_versions_delete", "function_permissions_delete",
                  "function_delete"):
        tx.run(query, name=name)


# --- versions ---------------------------------------------------------------------------------------


def version(tx: Tx, *, name: str, version: int) -> FunctionVersion | None:
    """The version `version` of function `name`, or None."""
    return tx.row("function_version_get", FunctionVersion, name=name, version=version)


def versions(tx: Tx, *, name: str) -> list[FunctionVersion]:
    """The published versions of function `name`, in ascending order."""
    return tx.rows("function_versions", FunctionVersion, name=name)


def insert_version(tx: Tx, *, name: str, version: int, config: str, created_at: float) -> None:
    tx.run("function_version_insert", name=name, version=version, config=config, created_at=created_at)


def delete_version(tx: Tx, *, name: str, version: int) -> None:
    """The version with the resource policy that belongs to it."""
    tx.run("function_version_delete", name=name, version=version)
    tx.run("function_permissions_delete_qualifier", name=name, qualifier=str(version))


# --- aliases ----------------------------------------------------------------------------------------


def alias(tx: Tx, *, name: str, alias: str) -> FunctionAlias | None:
    """The alias `alias` of function `name`, or None."""
    return tx.row("function_alias_get", FunctionAlias, name=name, alias=alias)


def aliases(tx: Tx, *, name: str) -> list[FunctionAlias]:
    """The aliases of function `name`, by alias name."""
    return tx.rows("function_aliases", FunctionAlias, name=name)


def insert_alias(tx: Tx, *, name: str, alias: str, config: str) -> None:
    tx.run("function_alias_insert", name=name, alias=alias, config=config)


def update_alias(tx: Tx, *, name: str, alias: str, config: str) -> None:
    tx.run("function_alias_update", name=name, alias=alias, config=config)


def delete_alias(tx: Tx, *, name: str, alias: str) -> None:
    tx.run("function_alias_delete", name=name, alias=alias)


# --- resource policies and concurrency -------------------------------------------------------------


def permissions(tx: Tx, *, name: str, qualifier: str) -> list[Permission]:
    """The statements of a policy (`qualifier` "" for the unqualified function's), in the order added."""
    return tx.rows("function_permissions", Permission, name=name, qualifier=qualifier)


def permission(tx: Tx, *, name: str, qualifier: str, sid: str) -> Permission | None:
    return tx.row("function_permission_get", Permission, name=name, qualifier=qualifier, sid=sid)


def add_permission(tx: Tx, *, name: str, qualifier: str, sid: str, statement: str) -> None:
    """One statement more, after every statement the function's policies have."""
    seq = tx.value("function_permission_next_seq", name=name)
    tx.run("function_permission_insert", name=name, qualifier=qualifier, sid=sid, statement=statement, seq=seq)


def delete_permission(tx: Tx, *, name: str, qualifier: str, sid: str) -> int:
    """Remove a statement; the number of statements removed (0 or 1)."""
    return tx.run("function_permission_delete", name=name, qualifier=qualifier, sid=sid)


def reserved_concurrency(tx: Tx, *, name: str) -> int | None:
    """The concurrency function `name` reserves; None when it reserves none (or does not exist)."""
    value = tx.value("function_concurrency_get", name=name)
    return None if value is None else int(value)


def set_reserved_concurrency(tx: Tx, *, name: str, reserved: int | None) -> None:
    tx.run("function_concurrency_set", name=name, reserved=reserved)


def reserved_by_others(tx: Tx, *, name: str) -> int:
    """The concurrency the functions other than `name` reserve together ("" for every function's)."""
    return int(tx.value("function_concurrency_others", name=name) or 0)


def code_configs(tx: Tx) -> list[CodeConfig]:
    """Every configuration that holds code: each function's $LATEST and each published version."""
    return tx.rows("function_code_configs", CodeConfig)


# --- layers -----------------------------------------------------------------------------------------


def layer_version(tx: Tx, *, name: str, version: int) -> LayerVersion | None:
    return tx.row("layer_get", LayerVersion, name=name, version=version)


def layer_versions(tx: Tx, *, name: str) -> list[LayerVersion]:
    """The versions of layer `name`, newest first."""
    return tx.rows("layer_versions", LayerVersion, name=name)


def all_layer_versions(tx: Tx) -> list[LayerVersion]:
    """Every layer version, by layer name, newest version first."""
    return tx.rows("layer_all", LayerVersion)


def insert_layer_version(tx: Tx, *, name: str, version: int, config: str, created_at: float) -> None:
    tx.run("layer_insert", name=name, version=version, config=config, created_at=created_at)


def delete_layer_version(tx: Tx, *, name: str, version: int) -> None:
    tx.run("layer_delete", name=name, version=version)


# --- code blobs -------------------------------------------------------------------------------------


def put_blob(tx: Tx, *, sha256: str, data: bytes, created_at: float) -> None:
    """Keep `data` under its SHA-256 (hex); a blob already kept stays as it is."""
    tx.run("blob_put", sha256=sha256, data=data, created_at=created_at)


def blob(tx: Tx, *, sha256: str) -> bytes | None:
    """The bytes kept under `sha256`, or None."""
    data = tx.value("blob_get", sha256=sha256)
    return None if data is None else bytes(data)


# --- counters ---------------------------------------------------------------------------------------


def counter(tx: Tx, *, key: str) -> int:
    """The last number handed out under `key` (0 for none)."""
    return int(tx.value("counter_get", key=key) or 0)


def bump_counter(tx: Tx, *, key: str) -> int:
    """Hand out the next number under `key`.

    The UPDATE takes the counter's row lock on PostgreSQL, so two writers never get the same number.
    """
    tx.run("counter_ensure", key=key)
    tx.run("counter_bump", key=key)
    return int(tx.value("counter_get", key=key))


def delete_counter(tx: Tx, *, key: str) -> None:
    """Forget `key`: its numbers start again from 1."""
    tx.run("counter_delete", key=key)


def version_exists(tx: Tx, *, name: str, version: int) -> bool:
    """Whether version `version` of function `name` exists (what an execution starting checks)."""
    return tx.value("function_version_exists", name=name, version=version) is not None
