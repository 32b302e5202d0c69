"""A project's layers in a deploy: packaged deterministically, published only when they changed, shown in the plan.

Each layer is compared with its newest version on the server (content, description, compatible runtimes
and architectures, license); a new version is published only when one differs. A function names the
versions it uses, so a new layer version reaches a function through a new function version: the layer is
pinned with it like its code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.table import Table
from rich.text import Text

from pinflow.deploy import clients, plan
from pinflow.deploy.project import Layer, Project
from pinflow.functions import package as function_package

NOT_FOUND = ("ResourceNotFoundException",)


@dataclass(frozen=True)
class LayerChange:
    """What a deploy does to one layer: `new_version` is NEXT_VERSION when it publishes one."""

    key: str
    name: str
    arn: str  # the layer's ARN, without a version
    old_version: int | None
    new_version: int | str
    reasons: tuple[str, ...]

    @property
    def publishes(self) -> bool:
        return bool(self.reasons)

    def version_arn(self, version: int | str | None = None) -> str:
        return f"{self.arn}:{self.new_version if version is None else version}"


def package_layer(layer: Layer) -> bytes:
    """The layer's folder as a zip, the same bytes for the same files."""
    return function_package.package_folder(layer.path)


def desired(layer: Layer, zip_bytes: bytes) -> dict[str, Any]:
    """What a deploy compares and publishes for a layer."""
    return {"CodeSha256": function_package.sha256_b64(zip_bytes), "Description": layer.description,
            "CompatibleRuntimes": sorted(layer.compatible_runtimes),
            "CompatibleArchitectures": sorted(layer.compatible_architectures), "LicenseInfo": layer.license_info}


def newest(lam: Any, name: str) -> dict[str, Any] | None:
    """The newest version of a layer on the server (GetLayerVersion's answer), None when it has none."""
    try:
        versions = lam.list_layer_versions(LayerName=name, MaxItems=1)["LayerVersions"]
    except Exception as exc:
        if clients.error_code(exc) in NOT_FOUND:
            return None
        raise
    if not versions:
        return None
    return dict(lam.get_layer_version(LayerName=name, VersionNumber=versions[0]["Version"]))


def change(layer: Layer, zip_bytes: bytes, server: dict[str, Any] | None, layer_arn: str) -> LayerChange:
    """Compare a layer with its newest version on the server."""
    wanted = desired(layer, zip_bytes)
    if server is None:
        return LayerChange(layer.key, layer.name, layer_arn, None, plan.NEXT_VERSION, ("new",))
    have = {"CodeSha256": server["Content"]["CodeSha256"], "Description": server.get("Description", ""),
            "CompatibleRuntimes": sorted(server.get("CompatibleRuntimes") or []),
            "CompatibleArchitectures": sorted(server.get("CompatibleArchitectures") or []),
            "LicenseInfo": server.get("LicenseInfo")}
    words = {"CodeSha256": "content", "Description": "description", "CompatibleRuntimes": "runtimes",
             "CompatibleArchitectures": "architectures", "LicenseInfo": "license"}
    reasons = tuple(word for key, word in words.items() if have[key] != wanted[key])
    version = int(server["Version"])
    return LayerChange(layer.key, layer.name, server["LayerArn"], version, plan.NEXT_VERSION if reasons else version,
                       reasons)


def publish(lam: Any, layer: Layer, zip_bytes: bytes) -> str:
    """Publish a layer version; its ARN."""
    options: dict[str, Any] = {"Description": layer.description}
    if layer.compatible_runtimes:
        options["CompatibleRuntimes"] = list(layer.compatible_runtimes)
    if layer.compatible_architectures:
        options["CompatibleArchitectures"] = list(layer.compatible_architectures)
    if layer.license_info:
        options["LicenseInfo"] = layer.license_info
    answer = lam.publish_layer_version(LayerName=layer.name, Content={"ZipFile": zip_bytes}, **options)
    return str(answer["LayerVersionArn"])


def function_layers(project: Project, key: str, changes: dict[str, LayerChange],
                    published: dict[str, str] | None = None) -> list[str]:
    """The layer version ARNs a function names: its project layers' (published now, or the version a deploy
    publishes, `<arn>:$NEXT` in a plan) and the ARNs it gives."""
    found = []
    for use in project.functions[key].layers:
        if use.startswith("arn:"):
            found.append(use)
        elif published is not None and use in published:
            found.append(published[use])
        else:
            found.append(changes[use].version_arn())
    return found


def shown(layer_arns: list[str] | tuple[str, ...]) -> str:
    """Layer version ARNs as the plan names them: `greeter:3`, `greeter:next version`."""
    return ", ".join(arn.split(":layer:", 1)[-1].replace(f":{plan.NEXT_VERSION}", ":next version")
                     for arn in layer_arns)


def table(changes: list[LayerChange]) -> Table:
    """The plan's Layers table."""
    made = Table(title="Layers", title_justify="left", header_style="bold")
    for column in ("layer", "now", "after deploy", "what changed"):
        made.add_column(column, overflow="fold")
    for item in changes:
        now = f"version {item.old_version}" if item.old_version is not None else "(none)"
        if item.publishes:
            after = Text(f"{plan.version_label(item.new_version)} (new)", style="bold yellow")
        else:
            after = Text(f"{plan.version_label(item.new_version)} (unchanged)", style="green")
        made.add_row(Text(item.name), now, after, Text(", ".join(item.reasons) or "-"))
    return made
