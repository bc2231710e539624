"""Read endpoints for places: nearby, nearest, bbox/area listing, polygon, by id."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from poi_service import opening, params
from poi_service.api import bodies, query, schemas
from poi_service.api.calls import search_call, store_call
from poi_service.api.contract import ETAG, answers, headers
from poi_service.api.deps import Services, ServicesDep, services_of
from poi_service.api.editing import etag
from poi_service.api.query import Param, Reader
from poi_service.api.rendered import collection_json, unpaged_json
from poi_service.api.responses import GeoJSONResponse, JSONResponse, RawGeoJSONResponse
from poi_service.features.geojson import place_feature
from poi_service.features.shared import BUSY
from poi_service.store import Near, PlaceFilter
from poi_service.store import Query as StoreQuery

router = APIRouter(tags=["places"])

LAT = Param("lat", "number", "Latitude in degrees (WGS84), -90..90.", required=True)
LON = Param("lon", "number", "Longitude in degrees (WGS84), -180..180.", required=True)
RADIUS = Param(
    "radius_m", "number", "Radius in metres, > 0 and ≤ POI_MAX_RADIUS_M (default 50 km).", default=1000.0
)
K = Param("k", "integer", "How many, 1..POI_MAX_K (default 100).", default=10)
BBOX = Param("bbox", "string", "minx,miny,maxx,maxy in lon/lat degrees.")
AREA = Param("area", "string", "AGS or name of a state, district or municipality.")
CATEGORY = Param("category", "array", "Category slug(s), repeated or comma-separated; see /categories.")
TEXT = Param("q", "string", "Words that must occur in name, address or description.")
LIMIT = Param("limit", "integer", "Page size, 1..POI_MAX_PAGE_SIZE (default POI_DEFAULT_PAGE_SIZE, 50).")
OFFSET = Param("offset", "integer", "Records to skip.", default=0)
WHEELCHAIR = Param("wheelchair", "array", "Wheelchair access, any of yes, limited, no (comma-separated).")
OPEN_AT = Param(
    "open_at",
    "string",
    "Only places whose opening hours say open at this RFC 3339 date-time (with offset); features then carry "
    "open and next_change.",
)
OPEN_NOW = Param("open_now", "string", "true: as open_at with the current time.")
HOURS = (WHEELCHAIR, OPEN_AT, OPEN_NOW)
# The same parameters for the routes FastAPI parses (POST /places/within, the maps, alliance, ...).
Lat = Annotated[float, LAT.query(allow_inf_nan=False)]
Lon = Annotated[float, LON.query(allow_inf_nan=False)]
Category = Annotated[list[str] | None, CATEGORY.query()]
Text = Annotated[str | None, TEXT.query()]
Limit = Annotated[int | None, LIMIT.query()]
Offset = Annotated[int, OFFSET.query()]
Wheelchair = Annotated[list[str] | None, WHEELCHAIR.query()]
OpenAt = Annotated[str | None, OPEN_AT.query()]
OpenNow = Annotated[str | None, OPEN_NOW.query()]


def _filter(r: Reader, services: Services) -> PlaceFilter:
    flt = params.place_filter(r.texts(CATEGORY), r.text(TEXT), services.vocabulary)
    wheelchair, at = (
        opening.wheelchair(r.texts(WHEELCHAIR)),
        opening.open_at(r.text(OPEN_AT), r.text(OPEN_NOW)),
    )
    return dataclasses.replace(flt, wheelchair=wheelchair, open_at=at)


def _page(r: Reader, services: Services) -> tuple[int, int]:
    limit, offset = r.optional_integer(LIMIT), r.integer(OFFSET)
    r.done()
    return params.page(limit, offset, services.settings)


# Documentation of the collection answers (handlers return the bytes of api.rendered).
PAGE: dict[str, Any] = {"response_class": GeoJSONResponse, "response_model": schemas.PlaceCollection}
WITHIN_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "anyOf": [
                        {"$ref": "#/components/schemas/GeometryIn"},
                        {"$ref": "#/components/schemas/PolygonFeature"},
                    ]
                }
            }
        },
    }
}


# The GET routes read their query string with query.Reader (cheap; same 400 problems as declared
# FastAPI parameters) and document it through openapi_extra.
@router.get(
    "/places/nearby",
    summary="Places within a radius, nearest first",
    **PAGE,
    openapi_extra=query.openapi(LAT, LON, RADIUS, CATEGORY, TEXT, *HOURS, LIMIT, OFFSET),
)
async def nearby(request: Request) -> Response:
    """GeoJSON features sorted by geodesic distance, each with properties.distance_m."""
    services, r = services_of(request), Reader.of(request.scope["query_string"])
    lat, lon, radius_m = r.number(LAT), r.number(LON), r.number(RADIUS)
    size, offset = _page(r, services)
    near = Near(params.point(lat, lon), params.radius(radius_m, services.settings))
    flt = _filter(r, services)
    shared = services.shared
    if shared is not None:  # features rendered once per data version (same bytes as below)
        found = shared.near(near, flt, offset, size)
        if found is BUSY:  # a worker thread may wait for the index (as the plain path would)
            found = await run_in_threadpool(shared.near, near, flt, offset, size, True)
        if isinstance(found, tuple):
            return RawGeoJSONResponse(collection_json(request, found[1], found[0], size, offset))
    places = services.store.places
    result = await search_call(places, StoreQuery(flt, near=near, limit=size, offset=offset))
    features = services.features.places(result.hits, flt.open_at)
    body = collection_json(request, features, result.total, size, offset)
    return RawGeoJSONResponse(body)


@router.get(
    "/places/nearest",
    summary="The k nearest places",
    **PAGE,
    openapi_extra=query.openapi(LAT, LON, K, CATEGORY, TEXT, *HOURS),
)
async def nearest(request: Request) -> Response:
    """The k places closest to the point, nearest first, with distance_m."""
    services, r = services_of(request), Reader.of(request.scope["query_string"])
    lat, lon, k = r.number(LAT), r.number(LON), r.integer(K)
    r.done()
    flt = _filter(r, services)
    places, point, k = services.store.places, params.point(lat, lon), params.k_nearest(k, services.settings)
    shared = services.shared
    if shared is not None:  # features rendered once per data version (same bytes as below)
        features = shared.nearest(point, k, flt)
        if features is BUSY:
            features = await run_in_threadpool(shared.nearest, point, k, flt, True)
        if isinstance(features, list):
            return RawGeoJSONResponse(unpaged_json(request, features))
    hits = await store_call(places, places.nearest, point, k, flt)
    return RawGeoJSONResponse(unpaged_json(request, services.features.places(hits, flt.open_at)))


@router.get(
    "/places",
    summary="Places in a bounding box and/or a named area",
    **PAGE,
    openapi_extra=query.openapi(BBOX, AREA, CATEGORY, TEXT, *HOURS, LIMIT, OFFSET),
)
async def list_places(request: Request) -> Response:
    """Places matching every given condition, in storage order, with exact numberMatched."""
    services, r = services_of(request), Reader.of(request.scope["query_string"])
    bbox, area = r.text(BBOX), r.text(AREA)
    size, offset = _page(r, services)
    query_ = StoreQuery(_filter(r, services), bbox=params.bbox(bbox), area=area, limit=size, offset=offset)
    result = await run_in_threadpool(services.store.places.search, query_)
    features = services.features.places(result.hits, query_.filter.open_at)
    body = collection_json(request, features, result.total, size, offset)
    return RawGeoJSONResponse(body)


# Served by api.hot.HotRoutes on GET without FastAPI's routing (same answers, a fraction of the cost).
HOT = {"/places/nearby": nearby, "/places/nearest": nearest, "/places": list_places}


@router.post(
    "/places/within",
    summary="Places inside a GeoJSON Polygon or MultiPolygon",
    **PAGE,
    openapi_extra=WITHIN_BODY,
)
async def within(
    services: ServicesDep,
    request: Request,
    geometry: bodies.JsonObject,
    category: Category = None,
    q: Text = None,
    limit: Limit = None,
    offset: Offset = 0,
    wheelchair: Wheelchair = None,
    open_at: OpenAt = None,
    open_now: OpenNow = None,
) -> Response:
    """Places covered by the polygon (boundary included)."""
    s = services.settings
    size, offset = params.page(limit, offset, s)
    flt = params.place_filter(category, q, services.vocabulary)
    at = opening.open_at(open_at, open_now)
    flt = dataclasses.replace(flt, wheelchair=opening.wheelchair(wheelchair), open_at=at)
    query = StoreQuery(flt, polygon=params.polygon(geometry, s), limit=size, offset=offset)
    result = await run_in_threadpool(services.store.places.search, query)
    body = collection_json(
        request, services.features.places(result.hits, flt.open_at), result.total, size, offset
    )
    return RawGeoJSONResponse(body)


@router.get(
    "/places/{place_id}",
    summary="One place",
    response_class=GeoJSONResponse,
    response_model=schemas.PlaceFeature,
    responses=answers(404, more=headers(200, ETag=ETAG)),
)
async def get_place(services: ServicesDep, place_id: str) -> JSONResponse:
    """A place as a GeoJSON Feature with its ETag (for If-Match on writes); 404 problem if unknown."""
    place = await store_call(services.store.places, services.store.places.get, place_id)
    return GeoJSONResponse(place_feature(place, services.vocabulary), headers={"ETag": etag(place)})


@router.get("/categories", summary="The category vocabulary", response_model=schemas.Categories)
async def categories(services: ServicesDep) -> JSONResponse:
    """Slugs with German and English labels."""
    items = [
        {"slug": c.slug, "label_de": c.label_de, "label_en": c.label_en}
        for c in services.vocabulary.categories
    ]
    return JSONResponse({"categories": items})
