"""Lambda's layer operations (REST-JSON under /2018-10-31/layers): PublishLayerVersion, GetLayerVersion,
GetLayerVersionByArn, ListLayers, ListLayerVersions and DeleteLayerVersion, with Lambda's paths and status codes."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pinflow import errors
from pinflow.api import restjson
from pinflow.api.restjson import member

BASE = "/2018-10-31/layers"
PUBLISH_PATH = BASE + "/{LayerName}/versions"
# ListLayers and ListLayerVersions answer at most 50 items.
PAGE_LIMIT = 50


def _layers(request: Request) -> Any:
    return request.app.state.pinflow.layers


def _version(request: Request) -> int:
    text = str(request.path_params["VersionNumber"])
    if not (text.isascii() and text.isdigit()):
        raise errors.ValidationException(
            f"1 validation error detected: Value '{text}' at 'versionNumber' failed to satisfy constraint: "
            "Member must be a number")
    return int(text)


def _page_size(request: Request) -> int:
    size = restjson.query_int(request, "MaxItems", "maxItems", low=1, high=50)
    return size or PAGE_LIMIT


def _strings(body: dict[str, Any], name: str) -> list[str]:
    values = member(body, name, list, [])
    if not all(isinstance(value, str) for value in values):
        raise errors.InvalidRequestContentException(
            f"Could not parse request body into json: member '{name}' must be a list of strings")
    return list(values)


@restjson.endpoint
async def publish_layer_version(request: Request) -> Response:
    """PublishLayerVersion (201): the next version of a layer, from a base64 zip."""
    from pinflow.api import lambda_api  # which lists these routes among its own

    body = await restjson.read_json(request)
    content = member(body, "Content", dict)
    if content is None:
        raise errors.ValidationException(
            "1 validation error detected: Value null at 'content' failed to satisfy constraint: Member must not be "
            "null")
    zip_bytes = await run_in_threadpool(lambda_api.code_zip, content)
    description = member(body, "Description", str, "")
    if len(description) > 256:
        raise errors.ValidationException(
            f"1 validation error detected: Value '{description}' at 'description' failed to satisfy constraint: "
            "Member must have length less than or equal to 256")
    answer = await run_in_threadpool(
        _layers(request).publish, str(request.path_params["LayerName"]), zip_bytes, description=description,
        compatible_runtimes=_strings(body, "CompatibleRuntimes"), license_info=member(body, "LicenseInfo", str),
        compatible_architectures=_strings(body, "CompatibleArchitectures"))
    return restjson.json_response(answer, 201)


@restjson.endpoint
async def get_layer_version(request: Request) -> Response:
    """GetLayerVersion."""
    answer = await run_in_threadpool(_layers(request).get, str(request.path_params["LayerName"]), _version(request))
    return restjson.json_response(answer)


@restjson.endpoint
async def delete_layer_version(request: Request) -> Response:
    """DeleteLayerVersion (204); function versions that use it keep it."""
    await run_in_threadpool(_layers(request).delete, str(request.path_params["LayerName"]), _version(request))
    return restjson.empty_response(204)


@restjson.endpoint
async def list_layer_versions(request: Request) -> Response:
    """ListLayerVersions, newest first."""
    page, marker = await run_in_threadpool(
        _layers(request).list_versions, str(request.path_params["LayerName"]),
        runtime=request.query_params.get("CompatibleRuntime"),
        architecture=request.query_params.get("CompatibleArchitecture"),
        marker=request.query_params.get("Marker") or None, max_items=_page_size(request))
    return _listing("LayerVersions", page, marker)


@restjson.endpoint
async def list_layers(request: Request) -> Response:
    """ListLayers, or GetLayerVersionByArn (the same path with `find=LayerVersion&Arn=...`)."""
    if request.query_params.get("find") == "LayerVersion":
        arn = request.query_params.get("Arn") or ""
        return restjson.json_response(await run_in_threadpool(_layers(request).get_by_arn, arn))
    page, marker = await run_in_threadpool(
        _layers(request).list_layers, runtime=request.query_params.get("CompatibleRuntime"),
        architecture=request.query_params.get("CompatibleArchitecture"),
        marker=request.query_params.get("Marker") or None, max_items=_page_size(request))
    return _listing("Layers", page, marker)


def _listing(key: str, items: list[dict[str, Any]], marker: str | None) -> Response:
    answer: dict[str, Any] = {key: items}
    if marker is not None:
        answer["NextMarker"] = marker
    return restjson.json_response(answer)


ROUTES = [
    Route(BASE, list_layers, methods=["GET"]),
    Route(PUBLISH_PATH, publish_layer_version, methods=["POST"]),
    Route(PUBLISH_PATH, list_layer_versions, methods=["GET"]),
    Route(PUBLISH_PATH + "/{VersionNumber}", get_layer_version, methods=["GET"]),
    Route(PUBLISH_PATH + "/{VersionNumber}", delete_layer_version, methods=["DELETE"]),
]
