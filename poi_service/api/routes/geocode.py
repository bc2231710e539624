"""Forward and reverse geocoding over HTTP (offline gazetteer unless an online provider is configured)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from poi_service import params
from poi_service.api import schemas
from poi_service.api.contract import answers
from poi_service.api.deps import ServicesDep
from poi_service.api.links import unpaged
from poi_service.api.responses import GeoJSONResponse, JSONResponse
from poi_service.api.routes.places import Lat, Lon
from poi_service.errors import NotFound, invalid
from poi_service.features.geojson import result_feature
from poi_service.geocode.base import GeocodeQuery

router = APIRouter(tags=["geocoding"])
Field = Annotated[str | None, Query(max_length=200)]


@router.get(
    "/geocode",
    summary="Address or place name to coordinates",
    response_class=GeoJSONResponse,
    response_model=schemas.GeocodeCollection,
    responses=answers(404, 503),
)
async def geocode(
    services: ServicesDep,
    request: Request,
    q: Field = None,
    street: Field = None,
    housenumber: Field = None,
    postcode: Field = None,
    locality: Field = None,
    state: Field = None,
    country: Annotated[str | None, Query(min_length=2, max_length=2)] = None,
) -> JSONResponse:
    """The best match first; `ambiguous` is true when several places fit and none was chosen."""
    query = GeocodeQuery(
        q, street, housenumber, postcode, locality, state, country.upper() if country else None
    )
    if query.is_empty():
        raise invalid("q", "give q or at least one of street, postcode, locality")
    answer = await run_in_threadpool(services.geocoder.geocode, query)
    results = ([answer.best] if answer.best else []) + [c for c in answer.candidates if c != answer.best]
    if not results:
        raise NotFound("no place matches the query")
    body = unpaged(request, [result_feature(r) for r in results])
    return GeoJSONResponse({**body, "ambiguous": answer.ambiguous, "geocoder": services.geocoder.name})


@router.get(
    "/reverse",
    summary="Coordinates to municipality, district, state and the nearest address",
    response_class=GeoJSONResponse,
    response_model=schemas.ReverseFeature,
    responses=answers(404, 503),
)
async def reverse(services: ServicesDep, lat: Lat, lon: Lon) -> JSONResponse:
    """The administrative areas a point lies in (shipped BKG boundaries) and the nearest address within
    50 m (`address`: street, housenumber, postcode, city, distance_m; null without an OSM address index)."""
    point = params.point(lat, lon)
    found = await run_in_threadpool(services.geocoder.reverse, point)
    if found is None:
        raise NotFound("no municipality or known place at this point")
    props = {
        k: getattr(found, k)
        for k in (
            "country",
            "municipality",
            "municipality_ags",
            "district",
            "district_ags",
            "state",
            "state_ags",
            "postcode",
            "source",
        )
    }
    props["address"] = found.address.as_json() if found.address else None  # nearest door within 50 m
    body = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [point.lon, point.lat]},
        "properties": props,
    }
    return GeoJSONResponse(body)
