"""Lambda layers: immutable numbered versions of a zip, unpacked under /opt for the functions that name them.

A version's content is a blob (by SHA-256, like function code). Numbers are never handed out twice for
a layer name, even once every version was deleted (as on Lambda). DeleteLayerVersion removes the
version from the listings and from new function configurations; function versions that already use
it keep it, because a function version stores each layer's ARN, size and SHA-256 and the blob stays.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pinflow import arns, errors
from pinflow.functions import package
from pinflow.registry import counters, paging
from pinflow.registry import lambda_shapes as shapes
from pinflow.store import Store, Tx
from pinflow.store.repositories import functions as repo

# Lambda's limit on the layers of one function.
MAX_LAYERS = 5
_VERSION_ARN = re.compile(r"arn:([a-zA-Z0-9-]+):lambda:([a-zA-Z0-9-]+):(\d{12}):layer:([a-zA-Z0-9-_]+):([0-9]+)")


@functools.cache
def pattern(shape: str) -> str:
    """Lambda's pattern for a shape (`LayerName`, `LayerVersionArn`), from botocore's model of its API."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("lambda")
    return str(model.shape_for(shape).metadata["pattern"])


@dataclass(frozen=True)
class LayerRef:
    """A layer version named by its ARN."""

    name: str
    version: int
    region: str
    account: str

    @property
    def arn(self) -> str:
        return version_arn(self.name, self.version, region=self.region, account=self.account)


def layer_arn(name: str, *, region: str = arns.DEFAULT_REGION, account: str = arns.DEFAULT_ACCOUNT) -> str:
    return f"arn:aws:lambda:{region}:{account}:layer:{name}"


def version_arn(name: str, version: int | str, *, region: str = arns.DEFAULT_REGION,
                account: str = arns.DEFAULT_ACCOUNT) -> str:
    return f"{layer_arn(name, region=region, account=account)}:{version}"


def check_name(name_or_arn: str, field: str = "layerName") -> str:
    """The layer's name from a LayerName (a name, or the layer's ARN).

    Raises:
        ValidationException: neither, with Lambda's pattern.
    """
    wanted = pattern("LayerName")
    if not isinstance(name_or_arn, str) or not 1 <= len(name_or_arn) <= 140 or not re.fullmatch(wanted, name_or_arn):
        raise errors.ValidationException(
            f"1 validation error detected: Value '{name_or_arn}' at '{field}' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: {wanted}")
    return name_or_arn.rsplit(":", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn


def parse_version_arn(text: str) -> LayerRef | None:
    """A layer version ARN split; None when `text` is not one."""
    match = _VERSION_ARN.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return None
    _, region, account, name, version = match.groups()
    return LayerRef(name, int(version), region, account)


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _counter_key(name: str) -> str:
    return f"layer:{name}"


def _shape(row: repo.LayerVersion, *, full: bool) -> dict[str, Any]:
    """GetLayerVersion's answer (`full`), or a LayerVersionsListItem."""
    config = json.loads(row.config)
    shaped: dict[str, Any] = {
        "LayerVersionArn": version_arn(row.name, row.version),
        "Version": int(row.version),
        "Description": config.get("Description", ""),
        "CreatedDate": shapes.lambda_time(float(row.created_at)),
    }
    for key in ("CompatibleRuntimes", "LicenseInfo", "CompatibleArchitectures"):
        if config.get(key):
            shaped[key] = config[key]
    if full:
        shaped["LayerArn"] = layer_arn(row.name)
        shaped["Content"] = {"Location": "", "CodeSha256": shapes.b64_of_hex(config["CodeSha256"]),
                             "CodeSize": config["CodeSize"]}
    return shaped


def _matches(config: Mapping[str, Any], runtime: str | None, architecture: str | None) -> bool:
    if runtime is not None and runtime not in (config.get("CompatibleRuntimes") or []):
        return False
    return architecture is None or architecture in (config.get("CompatibleArchitectures") or [])


class LayerRegistry:
    """Layer versions in the store. Thread-safe (the store is)."""

    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock

    def publish(self, name_or_arn: str, zip_bytes: bytes, *, description: str = "",
                compatible_runtimes: Sequence[str] = (), license_info: str | None = None,
                compatible_architectures: Sequence[str] = ()) -> dict[str, Any]:
        """PublishLayerVersion: the next version of the layer, holding `zip_bytes`.

        Raises:
            ValidationException: a bad name, runtime or architecture.
        """
        name = check_name(name_or_arn)
        for runtime in compatible_runtimes:
            if runtime not in shapes.lambda_runtimes():
                raise errors.ValidationException(
                    f"1 validation error detected: Value '[{', '.join(compatible_runtimes)}]' at "
                    "'compatibleRuntimes' failed to satisfy constraint: Member must satisfy constraint: "
                    f"[Member must satisfy enum value set: [{', '.join(shapes.lambda_runtimes())}]]")
        for architecture in compatible_architectures:
            if architecture not in ("x86_64", "arm64"):
                raise errors.ValidationException(
                    f"1 validation error detected: Value '[{', '.join(compatible_architectures)}]' at "
                    "'compatibleArchitectures' failed to satisfy constraint: Member must satisfy constraint: "
                    "[Member must satisfy enum value set: [x86_64, arm64]]")
        now = self._clock()
        digest = package.sha256_hex(zip_bytes)
        config: dict[str, Any] = {"Description": description or "", "CodeSha256": digest, "CodeSize": len(zip_bytes),
                                  "CompatibleRuntimes": list(compatible_runtimes),
                                  "CompatibleArchitectures": list(compatible_architectures)}
        if license_info:
            config["LicenseInfo"] = license_info
        with self._store.transaction() as tx:
            repo.put_blob(tx, sha256=digest, data=zip_bytes, created_at=now)
            number = counters.next_number(tx, _counter_key(name))
            repo.insert_layer_version(tx, name=name, version=number, config=_dumps(config), created_at=now)
            row = repo.layer_version(tx, name=name, version=number)
        assert row is not None
        return _shape(row, full=True)

    def get(self, name_or_arn: str, version: int) -> dict[str, Any]:
        """GetLayerVersion.

        Raises:
            ResourceNotFoundException: no such layer version (or it was deleted).
        """
        name = check_name(name_or_arn)
        with self._store.transaction(write=False) as tx:
            return _shape(self._row(tx, name, version), full=True)

    def get_by_arn(self, arn: str) -> dict[str, Any]:
        """GetLayerVersionByArn.

        Raises:
            ValidationException: not a layer version ARN.
            ResourceNotFoundException: no such layer version.
        """
        ref = parse_version_arn(arn)
        if ref is None:
            raise errors.ValidationException(
                f"1 validation error detected: Value '{arn}' at 'arn' failed to satisfy constraint: Member must "
                f"satisfy regular expression pattern: {pattern('LayerVersionArn')}")
        return self.get(ref.name, ref.version)

    def list_versions(self, name_or_arn: str, *, runtime: str | None = None, architecture: str | None = None,
                      marker: str | None = None, max_items: int = 50) -> tuple[list[dict[str, Any]], str | None]:
        """ListLayerVersions: newest first, those compatible with `runtime`/`architecture` when given."""
        name = check_name(name_or_arn)
        with self._store.transaction(write=False) as tx:
            rows = repo.layer_versions(tx, name=name)
        found = [_shape(row, full=False) for row in rows
                 if _matches(json.loads(row.config), runtime, architecture)]
        return paging.keyset_page(found, lambda item: (-int(item["Version"]),), marker, max(1, max_items),
                                  errors.InvalidParameterValueException)

    def list_layers(self, *, runtime: str | None = None, architecture: str | None = None, marker: str | None = None,
                    max_items: int = 50) -> tuple[list[dict[str, Any]], str | None]:
        """ListLayers: each layer with its newest version compatible with `runtime`/`architecture`."""
        with self._store.transaction(write=False) as tx:
            rows = repo.all_layer_versions(tx)
        newest: dict[str, repo.LayerVersion] = {}
        for row in rows:  # by name, newest version first
            if row.name not in newest and _matches(json.loads(row.config), runtime, architecture):
                newest[row.name] = row
        found = [{"LayerName": name, "LayerArn": layer_arn(name), "LatestMatchingVersion": _shape(row, full=False)}
                 for name, row in newest.items()]
        return paging.keyset_page(found, lambda item: (str(item["LayerName"]),), marker, max(1, max_items),
                                  errors.InvalidParameterValueException)

    def delete(self, name_or_arn: str, version: int) -> None:
        """DeleteLayerVersion; deleting a version that does not exist does nothing, as on Lambda."""
        name = check_name(name_or_arn)
        with self._store.transaction() as tx:
            if counters.storable(version):
                repo.delete_layer_version(tx, name=name, version=version)

    def _row(self, tx: Tx, name: str, version: int) -> repo.LayerVersion:
        row = repo.layer_version(tx, name=name, version=version) if counters.storable(version) else None
        if row is None:
            raise errors.ResourceNotFoundException("The resource you requested does not exist.")
        return row


def resolve(tx: Tx, layer_arns: Sequence[str]) -> list[dict[str, Any]]:
    """What a function configuration keeps of its `Layers`: each version's ARN, size and SHA-256 (hex).

    Raises:
        ValidationException: not a list of layer version ARNs.
        InvalidParameterValueException: more than five, two versions of one layer, or a version that does
            not exist (deleted ones included), with Lambda's wording.
    """
    if len(layer_arns) > MAX_LAYERS:
        raise errors.InvalidParameterValueException(f"Cannot reference more than {MAX_LAYERS} layers.")
    found: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for text in layer_arns:
        ref = parse_version_arn(text)
        if ref is None or not re.fullmatch(pattern("LayerVersionArn"), text) or len(text) > 2048:
            # Lambda's wording, as it answers such a list.
            raise errors.ValidationException(
                f"1 validation error detected: Value '[{', '.join(map(str, layer_arns))}]' at 'layers' failed to "
                "satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal "
                "to 2048, Member must have length greater than or equal to 1, Member must satisfy regular expression "
                f"pattern: {pattern('LayerVersionArn')}, Member must not be null]")
        if ref.name in seen:
            raise errors.InvalidParameterValueException(
                f"Two different versions of the same layer are not allowed to be referenced in the same function. "
                f"{seen[ref.name]} and {text} are versions of the same layer.")
        seen[ref.name] = text
        row = repo.layer_version(tx, name=ref.name, version=ref.version) if counters.storable(ref.version) else None
        if row is None or (ref.region, ref.account) != (arns.DEFAULT_REGION, arns.DEFAULT_ACCOUNT):
            raise errors.InvalidParameterValueException(f"Layer version {text} does not exist.")
        config = json.loads(row.config)
        found.append({"Arn": text, "CodeSize": config["CodeSize"], "CodeSha256": config["CodeSha256"]})
    return found
