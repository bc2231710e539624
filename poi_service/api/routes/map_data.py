"""The maps' data routes: compact place, opening-state and membership data, the offline basemap
layers and the self-hosted front-end assets; and the payload warm-up the pages' lifespan starts."""

from __future__ import annotations

import gzip
import logging
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse

from poi_service import params
from poi_service.api import schemas
from poi_service.api.contract import NOT_MODIFIED
from poi_service.api.deps import Services, ServicesDep
from poi_service.api.exports import child_url, store_identity
from poi_service.api.routes.places import Category, Text
from poi_service.boundaries import Boundaries, Level
from poi_service.errors import NotFound
from poi_service.maps import assets, basemap
from poi_service.maps.cache import PayloadCache, Prepared, gunzip_chunks, prepare_bytes
from poi_service.maps.data import members_payload, places_payload, select_places
from poi_service.maps.open_state import OpenStates
from poi_service.maps.persist import PLACES_KEY
from poi_service.maps.shared_build import build_once
from poi_service.memory import settle
from poi_service.models import Point
from poi_service.store import Near, PlaceFilter

CenterQ = Annotated[str | None, Query(description="Map centre as lat,lon (WGS84), e.g. 54.7925,9.4096.")]
RadiusQ = Annotated[
    float | None, Query(description="Only places within this many metres of center.", allow_inf_nan=False)
]
YEAR = "public, max-age=31536000, immutable"

router = APIRouter(tags=["maps"])
log = logging.getLogger("poi_service.maps")


def all_places(s: Services) -> object:
    return places_payload(select_places(s.store, PlaceFilter()), s.vocabulary)


def build_later(cache_: PayloadCache, s: Services, token: int, open_states: OpenStates) -> None:
    """Takes the kept places payload, else has it built once for all workers in a child process
    (maps/shared_build.py; in this thread when the store cannot be reopened there), then its opening
    state and the basemap."""
    try:
        if not cache_.restore(PLACES_KEY, token):
            url = child_url(s.store, s.settings)
            if url is not None:
                build_once(
                    url, s.settings, store_identity(s.store), lambda: cache_.restore(PLACES_KEY, token)
                )
        open_states.body(cache_.get(PLACES_KEY, token, lambda: all_places(s)))
    except Exception:  # the first request builds it then
        log.warning("map payload warm-up failed", exc_info=True)
    basemap.warm(s.settings.data_dir, (Level.STATE,))
    settle(s.server)  # what building the payload and the basemap parsed and dropped; the rest frozen


def payload_cache(app: Any) -> PayloadCache:
    services: Services = app.state.services
    return services.maps


def root_of(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def json_response(request: Request, prepared: Prepared, cache_control: str = "no-cache") -> Response:
    headers = {"ETag": prepared.etag, "Cache-Control": cache_control, "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == prepared.etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(prepared.body_gz, media_type="application/json", headers=headers)
    # Decompressed as it is sent: the whole body is ~40 MB at 1M places.
    return StreamingResponse(gunzip_chunks(prepared.body_gz), media_type="application/json", headers=headers)


def center_of(center: str | None) -> tuple[float, float] | None:
    if center is None or not center.strip():
        return None
    parts = center.split(",")
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError:
        raise params.invalid("center", "must be lat,lon in degrees, e.g. 54.7925,9.4096") from None
    point = params.point(lat, lon)
    return point.lat, point.lon


@router.get(
    "/maps/places/data.json",
    summary="Compact place data of the maps",
    response_model=schemas.PlacesMapData,
    responses={304: NOT_MODIFIED},
)
async def places_data(
    services: ServicesDep,
    request: Request,
    category: Category = None,
    q: Text = None,
    center: CenterQ = None,
    radius_m: RadiusQ = None,
) -> Response:
    """Places as columns (lon, lat, cat, prec, name, addr + sparse phone/web/desc/src/oh/wc), sorted by name."""
    return json_response(request, await _places_prepared(services, request, category, q, center, radius_m))


@router.get(
    "/maps/places/open.json",
    summary="Opening state of the map's places now",
    response_model=schemas.PlacesMapOpen,
)
async def places_open(
    services: ServicesDep,
    request: Request,
    category: Category = None,
    q: Text = None,
    center: CenterQ = None,
    radius_m: RadiusQ = None,
) -> Response:
    """For the rows of data.json (same parameters) with opening hours: open (1/0/null), the next change
    as local HH:MM and its weekday (-1: today or a closing soon), at the current minute."""
    prepared = await _places_prepared(services, request, category, q, center, radius_m)
    body = await run_in_threadpool(open_states(request.app).body, prepared)
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-cache"})


def open_states(app: Any) -> OpenStates:
    services: Services = app.state.services
    return services.maps_open


async def _places_prepared(
    services: Services,
    request: Request,
    category: list[str] | None,
    q: str | None,
    center: str | None,
    radius_m: float | None,
) -> Prepared:
    s = services
    flt = params.place_filter(category, q, s.vocabulary)
    point = center_of(center)
    near = None
    if radius_m is not None:
        if point is None:
            raise params.invalid("radius_m", "needs center")
        near = Near(Point(point[1], point[0]), params.radius(radius_m, s.settings))
    key = ("places", flt.categories, flt.text, near)  # PLACES_KEY without conditions

    def build() -> object:
        return places_payload(select_places(s.store, flt, near), s.vocabulary)

    cache_ = payload_cache(request.app)
    token = await run_in_threadpool(s.store.places.data_version)
    return await run_in_threadpool(cache_.get, key, token, build)


@router.get(
    "/maps/alliance/data.json",
    summary="Compact membership data of the alliance map",
    response_model=schemas.AllianceMapData,
    responses={304: NOT_MODIFIED},
)
async def alliance_data(services: ServicesDep, request: Request) -> Response:
    """Memberships with alliance, role, join date (source precision), state key and source link."""
    s = services

    def build() -> object:
        return members_payload(s.store.memberships.iter_all(), Boundaries.load(s.settings.data_dir))

    token = await run_in_threadpool(s.store.memberships.data_version)
    return json_response(
        request, await run_in_threadpool(payload_cache(request.app).get, ("members",), token, build)
    )


@router.get(
    "/maps/basemap/{level}.json",
    summary="Compact boundaries for the offline basemap",
    response_model=schemas.BasemapLayer,
    responses={304: NOT_MODIFIED},
)
async def basemap_layer(
    services: ServicesDep,
    request: Request,
    level: Level,
    bbox: Annotated[
        str | None, Query(description="minx,miny,maxx,maxy; required for municipalities.")
    ] = None,
) -> Response:
    """Simplified, rounded state/district/municipality outlines (municipalities only by bbox)."""
    data_dir = services.settings.data_dir
    if level != Level.MUNICIPALITY:  # the next level is the next a visitor zooming in asks for
        basemap.warm(data_dir, (Level.DISTRICT if level == Level.STATE else Level.MUNICIPALITY,))
    if level != Level.MUNICIPALITY and bbox is None:
        layer = await run_in_threadpool(basemap.layer, data_dir, level)
        return json_response(
            request,
            Prepared(layer.body_gz, f'"{level.value}-{len(layer.body)}"', 0, 0),
            "public, max-age=86400",
        )
    box = params.bbox(bbox)
    if box is None:
        raise params.invalid("bbox", "is required for municipalities")
    if (box.maxx - box.minx) * (box.maxy - box.miny) > basemap.MAX_MUNICIPALITY_BOX_DEG2:
        raise params.invalid("bbox", f"covers more than {basemap.MAX_MUNICIPALITY_BOX_DEG2:g} square degrees")
    body, _ = await run_in_threadpool(
        basemap.within, data_dir, level, (box.minx, box.miny, box.maxx, box.maxy)
    )
    return json_response(request, prepare_bytes(body), "public, max-age=86400")


@cache
def _asset_bytes(package: str, path: str) -> tuple[bytes, bytes, str]:
    found = assets.find(package, path)
    if found is None:
        raise NotFound(f"no static file {package}/{path}")
    body = found[0].read_bytes()
    return body, gzip.compress(body, 9), found[1]


@router.get(
    "/static/{package}/{version}/{path:path}", summary="Self-hosted map assets", include_in_schema=False
)
async def static_asset(request: Request, package: str, version: str, path: str) -> Response:
    """Leaflet, Leaflet.markercluster and the map scripts; cached for a year under their version."""
    if assets.find(package, path) is None:
        raise NotFound(f"no static file {package}/{path}")
    body, body_gz, media = await run_in_threadpool(_asset_bytes, package, path)
    current = assets.packages()[package].version
    headers = {"Cache-Control": YEAR if version == current else "no-cache", "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", "") and not media.startswith("image/"):
        headers["Content-Encoding"] = "gzip"
        return Response(body_gz, media_type=media, headers=headers)
    return Response(body, media_type=media, headers=headers)
