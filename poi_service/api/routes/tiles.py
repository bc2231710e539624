"""The self-hosted street basemap: vector tiles from the MBTiles file built by `poi-service osm tiles`, and
their TileJSON. Tiles inside the grid that the file does not hold answer 204 (nothing to draw there)."""

from __future__ import annotations

import gzip
import logging
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import Field

from poi_service.api.contract import NOT_MODIFIED, answers
from poi_service.api.deps import ServicesDep
from poi_service.api.schemas import Doc
from poi_service.config import Settings
from poi_service.maps import assets
from poi_service.maps.mbtiles import MBTiles, TilesMissing, TilesUnavailable, tilejson
from poi_service.maps.pages import Target

TILE_CACHE = "public, max-age=86400, stale-while-revalidate=604800"  # a rebuild shows within a day
EMPTY_CACHE = "public, max-age=3600"  # no tile there: shorter, so a wider rebuild shows soon
MVT = "application/vnd.mapbox-vector-tile"
TILES_PATH = "/tiles/{z}/{x}/{y}.pbf"

STREETS_MINZOOM = 12  # below, the boundary basemap says more than a town's streets
log = logging.getLogger("poi_service.maps")
router = APIRouter(tags=["maps"])


def tiles_of(app: Any, settings: Settings) -> MBTiles:
    """The app's MBTiles reader (one per app, so per-thread connections are reused)."""
    reader: MBTiles | None = getattr(app.state, "street_tiles", None)
    if reader is None or reader.path != settings.tiles_path():
        reader = MBTiles(settings.tiles_path())
        app.state.street_tiles = reader
    return reader


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def tiles_url(request: Request) -> str:
    """Absolute tile URL template under the request's base URL and root path (with POI_PUBLIC_BASE_URL set,
    the PublicHost middleware has already put that origin into the request)."""
    return f"{request.url.scheme}://{request.url.netloc}{_root(request)}{TILES_PATH}"


def with_streets(request: Request, target: Target) -> Target:
    """The page target plus the street layer (config and scripts) when a readable tiles file exists."""
    settings: Settings = request.app.state.services.settings
    reader = tiles_of(request.app, settings)
    if not reader.exists():
        return target
    try:
        tj = tilejson(reader.metadata(), _root(request) + TILES_PATH)
    except (TilesMissing, TilesUnavailable):  # the page keeps its boundary basemap; /tiles.json says why
        log.warning("street tiles unreadable: %s", settings.tiles_path())
        return target
    spec = {
        "url": tj["tiles"][0],
        "minzoom": max(tj["minzoom"], STREETS_MINZOOM),
        "maxzoom": tj["maxzoom"],
        "bounds": tj["bounds"],
        "attribution": tj["attribution"],
    }
    prefix = _root(request) + "/static"
    scripts = (
        assets.url(prefix, "protomaps-leaflet", "protomaps-leaflet.js"),
        assets.url(prefix, "poi-maps", "streets.js"),
    )
    return replace(target, basemap={**target.basemap, "streets": spec}, scripts=(*target.scripts, *scripts))


class VectorLayerDoc(Doc):
    id: str
    fields: dict[str, str]
    minzoom: int | None = None
    maxzoom: int | None = None


class TileJSONDoc(Doc):
    """TileJSON 3.0.0 of the street basemap."""

    tilejson: str = Field(description="3.0.0")
    tiles: list[str] = Field(description="The tile URL template (absolute).")
    name: str
    description: str
    attribution: str
    scheme: str
    minzoom: int
    maxzoom: int
    bounds: list[float] = Field(description="minlon, minlat, maxlon, maxlat")
    center: list[float] = Field(description="lon, lat, zoom")
    vector_layers: list[VectorLayerDoc]


TILE_ANSWERS = answers(
    404,
    503,
    more={
        200: {
            "description": "Mapbox Vector Tile (OpenMapTiles schema), gzip-encoded as stored",
            "content": {MVT: {"schema": {"type": "string", "format": "binary"}}},
        },
        204: {"description": "No tile there: outside the area, or deeper than the file (draw the parent)"},
        304: NOT_MODIFIED,
    },
)


@router.get(
    TILES_PATH, summary="A vector tile of the street basemap", response_class=Response, responses=TILE_ANSWERS
)
async def tile(services: ServicesDep, request: Request, z: int, x: int, y: int) -> Response:
    """Mapbox Vector Tile (OpenMapTiles schema), gzip-encoded as stored; 204 where the file has no tile."""
    reader = tiles_of(request.app, services.settings)
    found = await run_in_threadpool(reader.tile, z, x, y)
    if found is None:
        return Response(status_code=204, headers={"Cache-Control": EMPTY_CACHE})
    headers = {"ETag": found.etag, "Cache-Control": TILE_CACHE, "Vary": "Accept-Encoding"}
    if found.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if not found.gzipped:
        return Response(found.data, media_type=MVT, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(found.data, media_type=MVT, headers=headers)
    try:
        body = gzip.decompress(found.data)
    except (OSError, EOFError):
        raise TilesUnavailable(f"tile {z}/{x}/{y} is corrupt in the street tiles file") from None
    return Response(body, media_type=MVT, headers=headers)


@router.get(
    "/tiles.json",
    summary="TileJSON of the street basemap",
    response_model=TileJSONDoc,
    responses=answers(404, 503),
)
async def tiles_json(services: ServicesDep, request: Request) -> dict[str, Any]:
    """TileJSON 3.0.0: tile URL, zoom range, bounds, centre and vector layers (404 without a tiles file,
    503 with an unreadable one)."""
    reader = tiles_of(request.app, services.settings)
    meta = await run_in_threadpool(reader.metadata)
    return tilejson(meta, tiles_url(request))
