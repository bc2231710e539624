"""Downloads of the whole directory: GET /export/{places|memberships}.{geojson|csv|gpkg}.

The files are written by poi_service.ingest.export (the same code as `poi-service export`): GeoJSON as
the API serves it, CSV with id, lat, lon and WKT columns guarded against spreadsheet formula injection,
and a GeoPackage with one EPSG:4326 point layer named after the kind (QGIS and geopandas open it).
Each file is built once per data version and shared (poi_service.api.exports)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import StreamingResponse

from poi_service.api.deps import Services, ServicesDep
from poi_service.api.exports import ExportCache, stream
from poi_service.errors import NotFound, invalid
from poi_service.ingest.export import FORMATS
from poi_service.ingest.importer import KINDS

router = APIRouter(prefix="/export", tags=["export"])
MEDIA_TYPES = {
    "geojson": "application/geo+json",
    "csv": "text/csv; charset=utf-8",
    "gpkg": "application/geopackage+sqlite3",
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {m.split(";")[0]: {} for m in MEDIA_TYPES.values()}, "description": "The file"},
    404: {"description": "Unknown kind or format (problem+json)"},
    503: {"description": "Too many downloads being prepared; retry after Retry-After seconds (problem+json)"},
}


def export_cache(request: Request, services: Services) -> ExportCache:
    """The app's download cache, made on first use."""
    cache: ExportCache | None = getattr(request.app.state, "exports", None)
    if cache is None:
        s = services.settings
        directory = s.export_dir or s.state_dir / "exports"
        cache = ExportCache(services.store, services.vocabulary, directory, s.max_export_builds, s)
        request.app.state.exports = cache
    return cache


@router.get("/{kind}.{fmt}", summary="Download every place or membership", responses=_RESPONSES)
async def export(
    request: Request,
    services: ServicesDep,
    kind: str,
    fmt: str,
    csv: Annotated[
        Literal["standard", "excel"],
        Query(description="excel: `;`, BOM and decimal commas, for Excel in German locales (CSV only)."),
    ] = "standard",
) -> StreamingResponse:
    """`kind` is places or memberships, `fmt` geojson, csv or gpkg. CSV cells starting with =, +, -, @,
    tab or CR get a leading apostrophe so that spreadsheets show them as text."""
    if kind not in KINDS or fmt not in FORMATS:
        raise NotFound(f"no export {kind}.{fmt}; use /export/{{places|memberships}}.{{geojson|csv|gpkg}}")
    if csv == "excel" and fmt != "csv":
        raise invalid("csv", "only applies to .csv downloads")
    cache = export_cache(request, services)
    handle, size = await cache.open(kind, fmt, excel=csv == "excel")  # type: ignore[arg-type]
    headers = {
        "Content-Length": str(size),
        "Content-Disposition": f'attachment; filename="{kind}.{fmt}"',
        "Cache-Control": "no-store",
    }
    return StreamingResponse(stream(handle), media_type=MEDIA_TYPES[fmt], headers=headers)
