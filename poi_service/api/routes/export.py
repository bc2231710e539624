"""Downloads of the whole directory: GET /export/{places|memberships}.{geojson|csv|gpkg}.

The files are written by poi_service.ingest.export (the same code as `poi-service export`): GeoJSON as
the API serves it, CSV with id, lat, lon and WKT columns guarded against spreadsheet formula injection,
and a GeoPackage with one EPSG:4326 point layer named after the kind (QGIS and geopandas open it)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from starlette.background import BackgroundTask
from starlette.responses import FileResponse

from poi_service.api.deps import ServicesDep
from poi_service.errors import NotFound, invalid
from poi_service.ingest.export import FORMATS, export_records
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
}


@router.get("/{kind}.{fmt}", summary="Download every place or membership", responses=_RESPONSES)
def export(
    services: ServicesDep, kind: str, fmt: str,
    csv: Annotated[Literal["standard", "excel"], Query(description="excel: `;`, BOM and decimal commas, "
                   "for Excel in German locales (CSV only).")] = "standard",
) -> FileResponse:  # fmt: skip
    """`kind` is places or memberships, `fmt` geojson, csv or gpkg. CSV cells starting with =, +, -, @,
    tab or CR get a leading apostrophe so that spreadsheets show them as text."""
    if kind not in KINDS or fmt not in FORMATS:
        raise NotFound(f"no export {kind}.{fmt}; use /export/{{places|memberships}}.{{geojson|csv|gpkg}}")
    if csv == "excel" and fmt != "csv":
        raise invalid("csv", "only applies to .csv downloads")
    workdir = Path(tempfile.mkdtemp(prefix="poi-export-"))
    target = workdir / f"{kind}.{fmt}"
    try:
        export_records(services.store, kind, fmt, target, services.vocabulary, excel=csv == "excel")  # type: ignore[arg-type]
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return FileResponse(
        target, media_type=MEDIA_TYPES[fmt], filename=target.name,
        background=BackgroundTask(shutil.rmtree, workdir, ignore_errors=True),
        headers={"Cache-Control": "no-store"},
    )  # fmt: skip
