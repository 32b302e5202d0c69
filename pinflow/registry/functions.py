"""Lambda functions as AWS keeps them: a mutable $LATEST, immutable numbered versions, weighted aliases.

Code lives in `blobs` under the hex SHA-256 of the zip bytes, so a version keeps exactly the code it
was published with whatever happens to the sources. Version numbers come from `counters` and are
never handed out twice for one function; a function deleted and created again numbers its versions
from 1, as Lambda does. A version that an
alias routes to, or that a running execution holds (`execution_refs`), cannot be deleted.
"""

from __future__ import annotations

import functools
import json
import random
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pinflow import arns, errors
from pinflow.functions import package
from pinflow.registry import counters, layers, paging, refs
from pinflow.registry import lambda_shapes as shapes
from pinflow.store import Store, Tx
from pinflow.store.kept import Kept
from pinflow.store.repositories import functions as repo

LATEST = shapes.LATEST

_PRECONDITION = ("The Revision Id provided does not match the latest Revision Id. "
                 "Call the GetFunction/GetAlias API to retrieve the latest Revision Id")


@dataclass(frozen=True)
class Resolved:
    """What an invocation runs: the function version (`spec`), as Invoke would report it.

    `requested_arn` is exactly the ARN the caller named, qualified as named: the resource IAM
    authorises against. `executed_version` is "$LATEST" or a version number; `alias` is the alias
    that was named, if any.
    """

    spec: Any
    executed_version: str
    alias: str | None
    requested_arn: str


def version_arn(name: str, version: int | str) -> str:
    """The ARN of a function version (the form the registry checks `execution_refs` against)."""
    return arns.function(name, str(version))


def version_key(configuration: Mapping[str, Any]) -> tuple[int, int]:
    """Where a `FunctionConfiguration` lists among its function's: $LATEST first, then by number."""
    version = str(configuration["Version"])
    return (0, 0) if version == LATEST else (1, int(version))


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _not_found(arn: str) -> errors.ServiceError:
    return errors.ResourceNotFoundException(f"Function not found: {arn}")


def _counter_key(name: str) -> str:
    return f"function:{name}"


class FunctionRegistry:
    """Functions, versions, aliases and code blobs in the store. Thread-safe (the store is)."""

    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock
        # What invoking a version or $LATEST runs, while the registry is unchanged (`pinflow.store.kept`).
        self._resolved: Kept[Resolved] = Kept(store)

    # --- functions ----------------------------------------------------------------------------------

    def create_function(self, name: str, zip_bytes: bytes, handler: str, runtime: str = "python3.11",
                        timeout: int = 3, memory_size: int = 128,
                        environment: Mapping[str, str] | None = None, description: str = "",
                        role: str | None = None, publish: bool = False,
                        tags: Mapping[str, str] | None = None,
                        layer_arns: Sequence[str] | None = None) -> dict[str, Any]:
        """CreateFunction from zip bytes; `layer_arns` are the versions of its `Layers`, in order.

        Returns:
            The `FunctionConfiguration` of $LATEST, or of version 1.. when `publish` is set.

        Raises:
            ResourceConflictException: a function of that name exists.
            ValidationException / InvalidParameterValueException: a bad name or setting, or a layer
                version that does not exist.
        """
        shapes.check_function_name(name)
        shapes.check_runtime(runtime)
        shapes.check_limits(timeout, memory_size)
        tags = shapes.check_tags(tags or {})
        now = self._clock()
        digest = package.sha256_hex(zip_bytes)
        config = {
            "Runtime": runtime, "Handler": handler, "Timeout": timeout, "MemorySize": memory_size,
            "Environment": shapes.check_environment(environment), "Description": description or "",
            "Role": role, "CodeSha256": digest, "CodeSize": len(zip_bytes),
            "LastModified": now,
        }
        with self._store.transaction() as tx:
            if repo.function(tx, name=name) is not None:
                raise errors.ResourceConflictException(f"Function already exist: {name}")
            if layer_arns:
                config["Layers"] = layers.resolve(tx, layer_arns)
            self._put_blob(tx, digest, zip_bytes, now)
            revision_id = str(uuid.uuid4())
            next_version = counters.current(tx, _counter_key(name)) + 1
            repo.insert_function(tx, name=name, created_at=now, next_version=next_version, latest=_dumps(config),
                                 revision_id=revision_id, tags=_dumps(tags))
            if publish:
                return self._publish(tx, name, config, None)
        return shapes.configuration(name, config, version=LATEST, revision_id=revision_id,
                                    arn=arns.function(name))

    def update_function_code(self, name: str, zip_bytes: bytes, publish: bool = False,
                             revision_id: str | None = None) -> dict[str, Any]:
        """UpdateFunctionCode: new code for $LATEST, optionally published at once.

        Raises:
            ResourceNotFoundException: no such function.
            PreconditionFailedException: `revision_id` is not $LATEST's current RevisionId.
        """
        fn_name = shapes.function_ref(name).name
        now = self._clock()
        digest = package.sha256_hex(zip_bytes)
        with self._store.transaction() as tx:
            row = self._lock(tx, fn_name)
            if revision_id is not None and revision_id != row.revision_id:
                raise errors.PreconditionFailedException(_PRECONDITION)
            self._put_blob(tx, digest, zip_bytes, now)
            config = {**json.loads(row.latest), "CodeSha256": digest, "CodeSize": len(zip_bytes),
                      "LastModified": now}
            new_revision = str(uuid.uuid4())
            repo.set_latest(tx, name=fn_name, latest=_dumps(config), revision_id=new_revision)
            if publish:
                return self._publish(tx, fn_name, config, None)
        return shapes.configuration(fn_name, config, version=LATEST, revision_id=new_revision,
                                    arn=arns.function(fn_name))

    def update_function_configuration(self, name: str, *, handler: str | None = None,
                                      runtime: str | None = None, timeout: int | None = None,
                                      memory_size: int | None = None,
                                      environment: Mapping[str, str] | None = None,
                                      description: str | None = None, role: str | None = None,
                                      revision_id: str | None = None,
                                      layer_arns: Sequence[str] | None = None) -> dict[str, Any]:
        """UpdateFunctionConfiguration of $LATEST; fields left as None keep their value (an empty
        `layer_arns` removes the layers).

        Raises:
            ResourceNotFoundException: no such function.
            PreconditionFailedException: `revision_id` is not $LATEST's current RevisionId.
        """
        fn_name = shapes.function_ref(name).name
        if runtime is not None:
            shapes.check_runtime(runtime)
        shapes.check_limits(timeout, memory_size)
        changes: dict[str, Any] = {"Handler": handler, "Runtime": runtime, "Timeout": timeout,
                                   "MemorySize": memory_size, "Description": description, "Role": role}
        changes = {key: value for key, value in changes.items() if value is not None}
        if environment is not None:
            changes["Environment"] = shapes.check_environment(environment)
        with self._store.transaction() as tx:
            row = self._lock(tx, fn_name)
            if revision_id is not None and revision_id != row.revision_id:
                raise errors.PreconditionFailedException(_PRECONDITION)
            if layer_arns is not None:
                changes["Layers"] = layers.resolve(tx, layer_arns)
            config = {**json.loads(row.latest), **changes, "LastModified": self._clock()}
            new_revision = str(uuid.uuid4())
            repo.set_latest(tx, name=fn_name, latest=_dumps(config), revision_id=new_revision)
        return shapes.configuration(fn_name, config, version=LATEST, revision_id=new_revision,
                                    arn=arns.function(fn_name))

    def get_function(self, name_or_arn: str, qualifier: str | None = None) -> dict[str, Any]:
        """GetFunction: `{"Configuration", "Code", "Tags"?}` for $LATEST, a version or an alias's version."""
        ref = shapes.function_ref(name_or_arn, qualifier)
        with self._store.transaction(write=False) as tx:
            configuration, row = self._configuration(tx, ref)
        answer: dict[str, Any] = {"Configuration": configuration,
                                  "Code": {"RepositoryType": "S3", "Location": ""}}
        tags = json.loads(row.tags or "{}")
        if tags:
            answer["Tags"] = tags
        if row.reserved_concurrency is not None:
            answer["Concurrency"] = {"ReservedConcurrentExecutions": int(row.reserved_concurrency)}
        return answer

    def get_configuration(self, name_or_arn: str, qualifier: str | None = None) -> dict[str, Any]:
        """GetFunctionConfiguration. A qualified name answers with the qualified FunctionArn.

        Raises:
            ResourceNotFoundException: no such function, version or alias.
        """
        ref = shapes.function_ref(name_or_arn, qualifier)
        with self._store.transaction(write=False) as tx:
            return self._configuration(tx, ref)[0]

    def list_functions(self, marker: str | None = None,
                       max_items: int = 50) -> tuple[list[dict[str, Any]], str | None]:
        """ListFunctions: the $LATEST configuration of each function, by name.

        Returns:
            (configurations, NextMarker or None).
        """
        after = paging.decode(marker, errors.InvalidParameterValueException) or ""
        size = max(1, int(max_items))
        with self._store.transaction(write=False) as tx:
            rows = repo.functions_after(tx, after=str(after), size=size + 1)
        page = [shapes.configuration(row.name, json.loads(row.latest), version=LATEST,
                                     revision_id=row.revision_id, arn=arns.function(row.name))
                for row in rows[:size]]
        return page, (paging.encode(rows[size - 1].name) if len(rows) > size else None)

    def delete_function(self, name_or_arn: str, qualifier: str | None = None) -> None:
        """DeleteFunction: the whole function, or one version (`qualifier` or a qualified name).

        Raises:
            ResourceNotFoundException: no such function or version.
            InvalidParameterValueException: the qualifier is $LATEST or an alias.
            ResourceConflictException: an alias routes to the version, or a running execution holds
                it (for the whole function: any of its versions).
        """
        ref = shapes.function_ref(name_or_arn, qualifier)
        if ref.qualifier == LATEST:
            raise errors.InvalidParameterValueException(
                "$LATEST version cannot be deleted without deleting the function.")
        with self._store.transaction() as tx:
            self._lock(tx, ref.name)
            if ref.qualifier is None:
                held = _holders(tx, ref.name)
                if held:
                    raise errors.ResourceConflictException(
                        f"Cannot delete function {arns.function(ref.name)}: running executions hold its "
                        f"versions (or failed ones that can still be redriven): {refs.describe(held)}")
                repo.delete_function(tx, name=ref.name)
                # Created again, the function numbers its versions from 1, as on Lambda.
                counters.forget(tx, _counter_key(ref.name))
                return
            if not arns.is_number(ref.qualifier):
                raise errors.InvalidParameterValueException("Deletion of aliases is not supported.")
            version = counters.number(ref.qualifier)
            if version is None or _version_row(tx, ref.name, version) is None:
                raise _not_found(ref.arn)
            using = [alias for alias, stored in self._aliases(tx, ref.name)
                     if str(version) in _alias_versions(stored)]
            if using:
                raise errors.ResourceConflictException(
                    "Unable to delete version because the following aliases reference it: "
                    f"[{', '.join(using)}]")
            held = _holders(tx, ref.name, str(version))
            if held:
                raise errors.ResourceConflictException(
                    f"Unable to delete version {version_arn(ref.name, version)} because running executions "
                    f"(or failed ones that can still be redriven) reference it: {refs.describe(held)}")
            repo.delete_version(tx, name=ref.name, version=version)

    def holders(self, name: str) -> dict[str, list[str]]:
        """Which executions hold each version of a function (running ones, and failed ones that can still
        be redriven): what keeps a version from being deleted. Version -> execution ARNs.

        Raises:
            ResourceNotFoundException: no such function.
        """
        fn_name = shapes.function_ref(name).name
        tail = refs.like_literal(f":function:{fn_name}")

        def keep(ref: str) -> bool:
            parsed = arns.split_function(ref)
            return parsed is not None and parsed.name == fn_name and bool(parsed.qualifier)

        with self._store.transaction(write=False) as tx:
            self._function(tx, fn_name)
            by_ref = refs.holders_by_ref(tx, f"%{tail}:%", keep)
        held: dict[str, set[str]] = {}
        for ref, executions in by_ref.items():
            parsed = arns.split_function(ref)
            assert parsed is not None and parsed.qualifier is not None
            held.setdefault(parsed.qualifier, set()).update(executions)
        return {version: sorted(executions) for version, executions in held.items()}

    def held_versions(self) -> dict[str, dict[str, list[str]]]:
        """Every function's versions that executions hold, in one read: name -> version -> executions."""
        with self._store.transaction(write=False) as tx:
            return refs.function_holders(tx)

    # --- versions ----------------------------------------------------------------------------------

    def publish_version(self, name: str, code_sha256: str | None = None, revision_id: str | None = None,
                        description: str | None = None) -> dict[str, Any]:
        """PublishVersion: snapshot $LATEST as the next version, unless nothing changed since the last.

        Args:
            code_sha256: if given, $LATEST's code must have this SHA-256 (Lambda's base64, or hex).
            revision_id: if given, $LATEST's RevisionId must be this one.
            description: the version's description (the function's when empty).

        Returns:
            The version's `FunctionConfiguration` (the existing one when nothing changed).

        Raises:
            InvalidParameterValueException: `code_sha256` does not match.
            PreconditionFailedException: `revision_id` does not match.
        """
        fn_name = shapes.function_ref(name).name
        with self._store.transaction() as tx:
            row = self._lock(tx, fn_name)
            if revision_id is not None and revision_id != row.revision_id:
                raise errors.PreconditionFailedException(_PRECONDITION)
            config = json.loads(row.latest)
            if code_sha256 is not None and _normalized(code_sha256) != config["CodeSha256"]:
                raise errors.InvalidParameterValueException(
                    f"CodeSHA256 ({code_sha256}) is different from current CodeSHA256 in $LATEST "
                    f"({shapes.b64_of_hex(config['CodeSha256'])}). "
                    "Please try again with the CodeSHA256 in $LATEST.")
            return self._publish(tx, fn_name, config, description)

    def list_versions_by_function(self, name: str, marker: str | None = None,
                                  max_items: int = 50) -> tuple[list[dict[str, Any]], str | None]:
        """ListVersionsByFunction: $LATEST first, then the versions in ascending order.

        Raises:
            ResourceNotFoundException: no such function.
        """
        fn_name = shapes.function_ref(name).name
        size = max(1, int(max_items))
        with self._store.transaction(write=False) as tx:
            row = self._function(tx, fn_name)
            everything = [shapes.configuration(fn_name, json.loads(row.latest), version=LATEST,
                                               revision_id=row.revision_id,
                                               arn=arns.function(fn_name, LATEST))]
            for version in repo.versions(tx, name=fn_name):
                config = json.loads(version.config)
                everything.append(shapes.configuration(fn_name, config, version=config["Version"],
                                                       revision_id=config["RevisionId"],
                                                       arn=version_arn(fn_name, config["Version"])))
        return paging.keyset_page(everything, version_key, marker, size, errors.InvalidParameterValueException)

    # --- aliases -----------------------------------------------------------------------------------

    def create_alias(self, name: str, alias: str, function_version: str, description: str = "",
                     routing_config: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """CreateAlias: a named pointer to a version, optionally sending a share to one more version.

        Raises:
            ResourceNotFoundException: no such function or version.
            ResourceConflictException: the alias exists.
            InvalidParameterValueException / ValidationException: a bad name or routing.
        """
        fn_name = shapes.function_ref(name).name
        shapes.check_alias_name(alias)
        shapes.check_version_text(function_version)
        with self._store.transaction() as tx:
            self._lock(tx, fn_name)
            self._check_version_exists(tx, fn_name, function_version)
            if repo.alias(tx, name=fn_name, alias=alias) is not None:
                raise errors.ResourceConflictException(
                    f"Alias already exists: {arns.function(fn_name, alias)}")
            stored = {"FunctionVersion": function_version, "Description": description or "",
                      "RevisionId": str(uuid.uuid4())}
            self._apply_routing(tx, fn_name, stored, routing_config)
            repo.insert_alias(tx, name=fn_name, alias=alias, config=_dumps(stored))
        return shapes.alias_configuration(fn_name, alias, stored)

    def get_alias(self, name: str, alias: str) -> dict[str, Any]:
        """GetAlias.

        Raises:
            ResourceNotFoundException: no such function or alias.
        """
        fn_name = shapes.function_ref(name).name
        with self._store.transaction(write=False) as tx:
            self._function(tx, fn_name)
            return shapes.alias_configuration(fn_name, alias, self._alias(tx, fn_name, alias))

    def update_alias(self, name: str, alias: str, function_version: str | None = None,
                     description: str | None = None, routing_config: Mapping[str, Any] | None = None,
                     revision_id: str | None = None) -> dict[str, Any]:
        """UpdateAlias; arguments left as None keep their value (an empty RoutingConfig clears it).

        Raises:
            ResourceNotFoundException: no such function, alias or version.
            PreconditionFailedException: `revision_id` is not the alias's RevisionId.
        """
        fn_name = shapes.function_ref(name).name
        if function_version is not None:
            shapes.check_version_text(function_version)
        with self._store.transaction() as tx:
            self._lock(tx, fn_name)
            stored = dict(self._alias(tx, fn_name, alias))
            if revision_id is not None and revision_id != stored["RevisionId"]:
                raise errors.PreconditionFailedException(_PRECONDITION)
            if function_version is not None:
                self._check_version_exists(tx, fn_name, function_version)
                stored["FunctionVersion"] = function_version
            if description is not None:
                stored["Description"] = description
            if routing_config is not None:
                stored.pop("RoutingConfig", None)
                self._apply_routing(tx, fn_name, stored, routing_config)
            elif function_version is not None and stored.get("RoutingConfig"):
                # The kept routing must still make sense with the new primary version.
                self._apply_routing(tx, fn_name, stored, stored.pop("RoutingConfig"))
            stored["RevisionId"] = str(uuid.uuid4())
            repo.update_alias(tx, name=fn_name, alias=alias, config=_dumps(stored))
        return shapes.alias_configuration(fn_name, alias, stored)

    def delete_alias(self, name: str, alias: str) -> None:
        """DeleteAlias; the versions it pointed to stay.

        Raises:
            ResourceNotFoundException: no such function or alias.
        """
        fn_name = shapes.function_ref(name).name
        with self._store.transaction() as tx:
            self._lock(tx, fn_name)
            self._alias(tx, fn_name, alias)
            repo.delete_alias(tx, name=fn_name, alias=alias)

    def list_aliases(self, name: str, function_version: str | None = None, marker: str | None = None,
                     max_items: int = 50) -> tuple[list[dict[str, Any]], str | None]:
        """ListAliases, by alias name; `function_version` keeps the aliases whose primary version it is."""
        fn_name = shapes.function_ref(name).name
        size = max(1, int(max_items))
        with self._store.transaction(write=False) as tx:
            self._function(tx, fn_name)
            everything = [shapes.alias_configuration(fn_name, alias, stored)
                          for alias, stored in self._aliases(tx, fn_name)
                          if function_version is None or stored["FunctionVersion"] == function_version]
        return paging.keyset_page(everything, lambda alias: (str(alias["Name"]),), marker, size,
                                  errors.InvalidParameterValueException)

    # --- tags --------------------------------------------------------------------------------------

    def list_tags(self, arn: str) -> dict[str, str]:
        """ListTags of a function (by its ARN or name)."""
        fn_name = shapes.function_ref(arn).name
        with self._store.transaction(write=False) as tx:
            return dict(json.loads(self._function(tx, fn_name).tags or "{}"))

    def tag_resource(self, arn: str, tags: Mapping[str, str]) -> None:
        """TagResource: add or overwrite tags, checked and counted against the function's own in one
        transaction (so that concurrent calls cannot pass 50 together; see `shapes.check_tags`)."""
        fn_name = shapes.function_ref(arn).name
        with self._store.transaction() as tx:
            current = json.loads(self._lock(tx, fn_name).tags or "{}")
            repo.set_tags(tx, name=fn_name, tags=_dumps(shapes.check_tags(tags, current)))

    def untag_resource(self, arn: str, keys: Iterable[str]) -> None:
        fn_name = shapes.function_ref(arn).name
        removed = set(keys)
        with self._store.transaction() as tx:
            current = json.loads(self._lock(tx, fn_name).tags or "{}")
            kept = {key: value for key, value in current.items() if key not in removed}
            repo.set_tags(tx, name=fn_name, tags=_dumps(kept))

    # --- code and invocation -----------------------------------------------------------------------

    def load_code(self, sha256: str) -> bytes:
        """The zip bytes stored under a SHA-256 (hex, or Lambda's base64).

        Raises:
            KeyError: no such blob.
        """
        digest = _normalized(sha256)
        with self._store.transaction(write=False) as tx:
            data = repo.blob(tx, sha256=digest)
        if data is None:
            raise KeyError(f"no code stored under sha256 {digest}")
        return data

    def resolve(self, name_or_arn: str, qualifier: str | None = None, *, rng: random.Random) -> Resolved:
        """What an invocation of `name_or_arn` runs now.

        Unqualified and `$LATEST` give the current $LATEST; a number gives that version; an alias its
        version, or its additional version with the alias's weight (drawn with `rng`).

        Raises:
            ResourceNotFoundException: no such function, version or alias ("Function not found: <arn>").
        """
        ref = shapes.function_ref(name_or_arn, qualifier)
        if ref.qualifier is None or ref.qualifier == LATEST or arns.is_number(ref.qualifier):
            # No draw goes into it: kept until the registry changes (a version deleted, $LATEST updated).
            return self._resolved.get_or(ref.arn, lambda: self._resolve(ref, rng))
        return self._resolve(ref, rng)

    def _resolve(self, ref: arns.FunctionRef, rng: random.Random) -> Resolved:
        requested = ref.arn
        alias: str | None = None
        with self._store.transaction(write=False) as tx:
            row = repo.function(tx, name=ref.name)
            if row is None:
                raise _not_found(requested)
            version = ref.qualifier or LATEST
            if version != LATEST and not arns.is_number(version):
                alias = version
                stored = repo.alias(tx, name=ref.name, alias=alias)
                if stored is None:
                    raise _not_found(requested)
                version = _draw(_parsed_config(stored.config), rng)
            if version == LATEST:
                config = _parsed_config(row.latest)
            else:
                found = _version_row(tx, ref.name, version)
                if found is None:
                    raise _not_found(requested)
                config = _parsed_config(found.config)
                version = config["Version"]
        from pinflow.functions.invoker import FunctionSpec

        spec = FunctionSpec(function_name=ref.name, version=version, arn=requested,
                            code_sha256=config["CodeSha256"], handler=config["Handler"],
                            runtime=config["Runtime"], timeout=float(config["Timeout"]),
                            memory_size=int(config["MemorySize"]),
                            environment=dict(config["Environment"] or {}),
                            layers=tuple(layer["CodeSha256"] for layer in config.get("Layers") or ()),
                            reserved_concurrency=row.reserved_concurrency)
        return Resolved(spec=spec, executed_version=version, alias=alias, requested_arn=requested)

    # --- inside a transaction ----------------------------------------------------------------------

    def _function(self, tx: Tx, name: str) -> repo.Function:
        row = repo.function(tx, name=name)
        if row is None:
            raise _not_found(arns.function(name))
        return row

    def _lock(self, tx: Tx, name: str) -> repo.Function:
        """The function's row, locked for this transaction."""
        repo.lock_function(tx, name=name)
        return self._function(tx, name)

    def _configuration(self, tx: Tx, ref: arns.FunctionRef) -> tuple[dict[str, Any], repo.Function]:
        row = repo.function(tx, name=ref.name)
        if row is None:
            raise _not_found(ref.arn)
        version = ref.qualifier or LATEST
        if version != LATEST and not arns.is_number(version):
            stored = repo.alias(tx, name=ref.name, alias=version)
            if stored is None:
                raise _not_found(ref.arn)
            version = json.loads(stored.config)["FunctionVersion"]
        if version == LATEST:
            shaped = shapes.configuration(ref.name, json.loads(row.latest), version=LATEST,
                                          revision_id=row.revision_id, arn=ref.arn)
            return shaped, row
        found = _version_row(tx, ref.name, version)
        if found is None:
            raise _not_found(ref.arn)
        config = json.loads(found.config)
        shaped = shapes.configuration(ref.name, config, version=config["Version"],
                                      revision_id=config["RevisionId"], arn=ref.arn)
        return shaped, row

    def _publish(self, tx: Tx, name: str, config: dict[str, Any], description: str | None) -> dict[str, Any]:
        """Publish `config` ($LATEST, already locked) unless the last version handed out has it already."""
        key = _counter_key(name)
        mark = shapes.fingerprint(config)
        last = counters.current(tx, key)
        if last:
            previous = repo.version(tx, name=name, version=last)
            if previous is not None:
                stored = json.loads(previous.config)
                if stored["Fingerprint"] == mark:
                    return shapes.configuration(name, stored, version=stored["Version"],
                                                revision_id=stored["RevisionId"], arn=version_arn(name, last))
        number = counters.next_number(tx, key)
        now = self._clock()
        stored = {**config, "Version": str(number), "RevisionId": str(uuid.uuid4()), "Fingerprint": mark,
                  "LastModified": now, "Description": description or config.get("Description", "")}
        repo.insert_version(tx, name=name, version=number, config=_dumps(stored), created_at=now)
        repo.set_next_version(tx, name=name, next_version=number + 1)
        # Publishing changes $LATEST's RevisionId too, as on Lambda.
        repo.set_latest(tx, name=name, latest=_dumps(config), revision_id=str(uuid.uuid4()))
        return shapes.configuration(name, stored, version=str(number), revision_id=stored["RevisionId"],
                                    arn=version_arn(name, number))

    def _put_blob(self, tx: Tx, digest: str, data: bytes, now: float) -> None:
        repo.put_blob(tx, sha256=digest, data=data, created_at=now)

    def _alias(self, tx: Tx, name: str, alias: str) -> dict[str, Any]:
        row = repo.alias(tx, name=name, alias=alias)
        if row is None:
            raise errors.ResourceNotFoundException(f"Cannot find alias arn: {arns.function(name, alias)}")
        return dict(json.loads(row.config))

    def _aliases(self, tx: Tx, name: str) -> list[tuple[str, dict[str, Any]]]:
        return [(row.alias, json.loads(row.config)) for row in repo.aliases(tx, name=name)]

    def _check_version_exists(self, tx: Tx, name: str, version: str) -> None:
        if version != LATEST and _version_row(tx, name, version) is None:
            raise _not_found(version_arn(name, version))

    def _apply_routing(self, tx: Tx, name: str, stored: dict[str, Any],
                       routing_config: Mapping[str, Any] | None) -> None:
        extra = shapes.routing(routing_config, stored["FunctionVersion"])
        if extra is not None:
            self._check_version_exists(tx, name, extra[0])
            stored["RoutingConfig"] = {"AdditionalVersionWeights": {extra[0]: extra[1]}}


@functools.lru_cache(maxsize=512)
def _parsed_config(text: str) -> Mapping[str, Any]:
    """A stored function or alias configuration parsed, kept by its text (what another node changes is
    other text, read afresh). Shared between calls: read it, never change it."""
    parsed: Mapping[str, Any] = json.loads(text)
    return parsed


def _version_row(tx: Tx, name: str, version: str | int) -> repo.FunctionVersion | None:
    """A published version's row; None for a number never handed out (as any too large for the store)."""
    number = counters.number(str(version))
    return None if number is None else repo.version(tx, name=name, version=number)


def _alias_versions(stored: Mapping[str, Any]) -> set[str]:
    """Every version an alias routes to: its primary and its additional version."""
    extra = (stored.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return {stored["FunctionVersion"], *extra}


def _draw(stored: Mapping[str, Any], rng: random.Random) -> str:
    """The version an alias sends this invocation to."""
    extra = (stored.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    for version, weight in extra.items():
        if rng.random() < float(weight):
            return str(version)
    return str(stored["FunctionVersion"])


def _holders(tx: Tx, name: str, version: str | None = None) -> list[str]:
    """Executions holding a version of `name` (one version, or any), whatever region/account the ARN names."""
    tail = refs.like_literal(f":function:{name}")
    pattern = f"%{tail}:{version}" if version is not None else f"%{tail}%"

    def keep(ref: str) -> bool:
        parsed = arns.split_function(ref)
        if parsed is None or parsed.name != name:
            return False
        return version is None or parsed.qualifier == version

    return refs.holders_matching(tx, pattern, keep)


def _normalized(sha256: str) -> str:
    try:
        return package.normalize_sha256(sha256)
    except ValueError:
        return sha256
