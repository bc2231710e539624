"""OGC API – Features under /ogc: landing page, conformance, OpenAPI 3.0, collections, items, queryables.

JSON (GeoJSON for features) by default, HTML with f=html or for browsers. Everything is computed by
poi_service.ogc; this module only negotiates the format and renders."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.datastructures import QueryParams
from starlette.responses import Response

from poi_service.api import schemas
from poi_service.api.contract import media
from poi_service.api.deps import ServicesDep
from poi_service.api.responses import GeoJSONResponse, JSONResponse
from poi_service.errors import NotFound
from poi_service.ogc import CRS84, OPENAPI_JSON, SCHEMA_JSON, documents, engine, html, openapi
from poi_service.ogc.request import Format, check_known, output_format, parse_items
from poi_service.ogc.sources import Source

router = APIRouter(prefix="/ogc", tags=["ogc"])
STATIC = {"ogc-map.js": "text/javascript; charset=utf-8", "ogc.css": "text/css; charset=utf-8"}
CONTENT_CRS = {"Content-Crs": f"<{CRS84}>"}


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def _format(request: Request, allowed: tuple[str, ...] = ("f",)) -> Format:
    check_known(request.query_params, allowed)
    return output_format(request.query_params, request.headers.get("accept"))


def _json(
    body: dict[str, Any], media: str = "application/json", headers: dict[str, str] | None = None
) -> Response:
    return JSONResponse(body, media_type=media, headers=headers)


def _sources() -> list[Source]:
    return list(engine.CATALOG.values())


@router.get(
    "",
    summary="OGC API – Features landing page (the API is described at /ogc/api)",
    response_model=schemas.OgcLanding,
    responses={200: media("text/html")},
)
def landing(request: Request) -> Response:
    """Links to the API definition and documentation, the conformance classes and the collections."""
    fmt = _format(request)
    body = documents.landing(_base(request), request.url)
    return html.landing(request, body) if fmt == "html" else _json(body)


@router.get("/", include_in_schema=False)
def landing_slash(request: Request) -> Response:
    return landing(request)


@router.get("/conformance", include_in_schema=False)
def conformance(request: Request) -> Response:
    fmt = _format(request)
    body = documents.conformance(request.url)
    return html.conformance(request, body) if fmt == "html" else _json(body)


@router.get("/api", include_in_schema=False)
def api_definition(request: Request, services: ServicesDep) -> Response:
    fmt = _format(request)
    body = openapi.document(_base(request), _sources(), services)
    return html.api(request, body) if fmt == "html" else _json(body, OPENAPI_JSON)


@router.get("/collections", include_in_schema=False)
def collections(request: Request, services: ServicesDep) -> Response:
    fmt = _format(request)
    body = documents.collections(_base(request), _sources(), services, request.url)
    return html.collections(request, body) if fmt == "html" else _json(body)


@router.get("/collections/{collection_id}", include_in_schema=False)
def collection(request: Request, services: ServicesDep, collection_id: str) -> Response:
    src = engine.source(collection_id)
    fmt = _format(request)
    body = documents.collection(_base(request), src, services, request.url)
    return html.collection(request, body, src, services) if fmt == "html" else _json(body)


@router.get("/collections/{collection_id}/queryables", include_in_schema=False)
def queryables(request: Request, services: ServicesDep, collection_id: str) -> Response:
    src = engine.source(collection_id)
    fmt = _format(request)
    body = documents.queryables(_base(request), src, services)
    return html.queryables(request, body, src) if fmt == "html" else _json(body, SCHEMA_JSON)


def _form_query(query: QueryParams) -> QueryParams:
    """An HTML form sends empty fields: they count as not given (properties= excepted)."""
    return QueryParams([(k, v) for k, v in query.multi_items() if v.strip() or k == "properties"])


@router.get("/collections/{collection_id}/items", include_in_schema=False)
def items(request: Request, services: ServicesDep, collection_id: str) -> Response:
    src = engine.source(collection_id)
    query = request.query_params
    fmt = output_format(query, request.headers.get("accept"))
    url = request.url
    if fmt == "html":
        query = _form_query(query)
        url = url.replace(query=urlencode(query.multi_items()))
    req = parse_items(
        query,
        services.settings,
        src.queryables(services),
        src.properties,
        src.repeatable,
        src.text_search,
        src.hours,
    )
    found, matched = engine.run(src, services, req)
    features = [engine.render(i, req) for i in found]
    body = documents.items(_base(request), src, url, features, matched, req.limit, req.offset)
    if fmt == "html":
        return html.items(request, body, src, services, url, req)
    return GeoJSONResponse(body, headers=CONTENT_CRS)


@router.get("/collections/{collection_id}/items/{feature_id}", include_in_schema=False)
def item(request: Request, services: ServicesDep, collection_id: str, feature_id: str) -> Response:
    src = engine.source(collection_id)
    fmt = _format(request)
    body = documents.item(_base(request), src, engine.render(src.get(services, feature_id)), request.url)
    if fmt == "html":
        return html.item(request, body, src)
    return GeoJSONResponse(body, headers=CONTENT_CRS)


@cache
def _static(name: str) -> bytes:
    return resources.files("poi_service.ogc").joinpath("static", name).read_bytes()


@router.get("/static/{name}", include_in_schema=False)
def static(name: str) -> Response:
    """The HTML pages' own script and stylesheet (Leaflet itself comes from /static/leaflet/...)."""
    if name not in STATIC:
        raise NotFound(f"no static file {name!r}")
    return Response(_static(name), media_type=STATIC[name], headers={"Cache-Control": "public, max-age=3600"})
