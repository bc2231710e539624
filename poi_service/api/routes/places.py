"""Read endpoints for places: nearby, nearest, bbox/area listing, polygon, by id."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.concurrency import run_in_threadpool

from poi_service.api import params
from poi_service.api.deps import ServicesDep
from poi_service.api.editing import etag
from poi_service.api.geojson import place_feature, place_features
from poi_service.api.links import collection, unpaged
from poi_service.api.responses import GeoJSONResponse, JSONResponse
from poi_service.store import Near, PlaceFilter
from poi_service.store import Query as StoreQuery

router = APIRouter(tags=["places"])

Lat = Annotated[float, Query(description="Latitude in degrees (WGS84), -90..90.", allow_inf_nan=False)]
Lon = Annotated[float, Query(description="Longitude in degrees (WGS84), -180..180.", allow_inf_nan=False)]
Category = Annotated[
    list[str] | None, Query(description="Category slug(s), repeated or comma-separated; see /categories.")
]
Text = Annotated[str | None, Query(description="Words that must occur in name, address or description.")]
Limit = Annotated[int | None, Query(description="Page size, 1..POI_MAX_PAGE_SIZE (default 1000).")]
Offset = Annotated[int, Query(description="Records to skip.")]
GEOJSON = "application/geo+json"


@router.get("/places/nearby", summary="Places within a radius, nearest first")
async def nearby(
    services: ServicesDep, request: Request, lat: Lat, lon: Lon,
    radius_m: Annotated[float, Query(description="Radius in metres, > 0 and ≤ POI_MAX_RADIUS_M (default 50 km).",
                                     allow_inf_nan=False)] = 1000.0,
    category: Category = None, q: Text = None, limit: Limit = None, offset: Offset = 0,
) -> JSONResponse:  # fmt: skip
    """GeoJSON features sorted by geodesic distance, each with properties.distance_m."""
    s = services.settings
    near = Near(params.point(lat, lon), params.radius(radius_m, s))
    size, offset = params.page(limit, offset, s)
    flt = PlaceFilter(params.categories(category, services.vocabulary), params.text(q))
    result = services.store.places.search(StoreQuery(flt, near=near, limit=size, offset=offset))
    body = collection(request, place_features(result.hits, services.vocabulary), result.total, size, offset)
    return GeoJSONResponse(body)


@router.get("/places/nearest", summary="The k nearest places")
async def nearest(
    services: ServicesDep, request: Request, lat: Lat, lon: Lon,
    k: Annotated[int, Query(description="How many, 1..POI_MAX_K (default 100).")] = 10,
    category: Category = None, q: Text = None,
) -> JSONResponse:  # fmt: skip
    """The k places closest to the point, nearest first, with distance_m."""
    s = services.settings
    flt = PlaceFilter(params.categories(category, services.vocabulary), params.text(q))
    hits = services.store.places.nearest(params.point(lat, lon), params.k_nearest(k, s), flt)
    return GeoJSONResponse(unpaged(request, place_features(hits, services.vocabulary)))


@router.get("/places", summary="Places in a bounding box and/or a named area")
async def list_places(
    services: ServicesDep, request: Request,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy in lon/lat degrees.")] = None,
    area: Annotated[str | None, Query(description="AGS or name of a state, district or municipality.")] = None,
    category: Category = None, q: Text = None, limit: Limit = None, offset: Offset = 0,
) -> JSONResponse:  # fmt: skip
    """Places matching every given condition, in storage order, with exact numberMatched."""
    s = services.settings
    size, offset = params.page(limit, offset, s)
    flt = PlaceFilter(params.categories(category, services.vocabulary), params.text(q))
    query = StoreQuery(flt, bbox=params.bbox(bbox), area=area, limit=size, offset=offset)
    result = await run_in_threadpool(services.store.places.search, query)
    body = collection(request, place_features(result.hits, services.vocabulary), result.total, size, offset)
    return GeoJSONResponse(body)


@router.post("/places/within", summary="Places inside a GeoJSON Polygon or MultiPolygon")
async def within(
    services: ServicesDep, request: Request,
    geometry: Annotated[dict[str, Any], Body(description="GeoJSON Polygon or MultiPolygon (lon/lat), or a Feature.")],
    category: Category = None, q: Text = None, limit: Limit = None, offset: Offset = 0,
) -> JSONResponse:  # fmt: skip
    """Places covered by the polygon (boundary included)."""
    s = services.settings
    size, offset = params.page(limit, offset, s)
    flt = PlaceFilter(params.categories(category, services.vocabulary), params.text(q))
    query = StoreQuery(flt, polygon=params.polygon(geometry, s), limit=size, offset=offset)
    result = await run_in_threadpool(services.store.places.search, query)
    body = collection(request, place_features(result.hits, services.vocabulary), result.total, size, offset)
    return GeoJSONResponse(body)


@router.get("/places/{place_id}", summary="One place")
async def get_place(services: ServicesDep, place_id: str) -> JSONResponse:
    """A place as a GeoJSON Feature with its ETag (for If-Match on writes); 404 problem if unknown."""
    place = services.store.places.get(place_id)
    return GeoJSONResponse(place_feature(place, services.vocabulary), headers={"ETag": etag(place)})


@router.get("/categories", summary="The category vocabulary")
async def categories(services: ServicesDep) -> JSONResponse:
    """Slugs with German and English labels."""
    items = [
        {"slug": c.slug, "label_de": c.label_de, "label_en": c.label_en}
        for c in services.vocabulary.categories
    ]
    return JSONResponse({"categories": items})
