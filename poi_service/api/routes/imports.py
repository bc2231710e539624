"""POST /imports: the CLI's importer over HTTP (editor key), for CSV, GeoJSON and GeoPackage uploads.

The key is checked before the upload is read (the form is parsed in the handler, not by
FastAPI ahead of the dependencies). The upload (at most POI_MAX_UPLOAD_BYTES, enforced by
the BodyLimit middleware) is copied to a temporary file and handed to import_file: every row
is checked and geocoded first, then all are written in one transaction, or none.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from poi_service.api import schemas
from poi_service.api.auth import EditorKey
from poi_service.api.contract import WRITE_ERRORS, answers
from poi_service.api.deps import ServicesDep
from poi_service.api.responses import JSONResponse
from poi_service.errors import PoiError, invalid
from poi_service.ingest.importer import ImportReport, Kind, import_file
from poi_service.ingest.readers import FORMATS

router = APIRouter(tags=["editing"])

UPLOAD_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "A .csv (UTF-8, header row), .geojson/.json (FeatureCollection) or "
                            ".gpkg file, at most POI_MAX_UPLOAD_BYTES.",
                        }
                    },
                }
            }
        },
    }
}


@router.post(
    "/imports",
    summary="Import a CSV, GeoJSON or GeoPackage file (editor)",
    openapi_extra=UPLOAD_SCHEMA,
    response_model=schemas.ImportReportDoc,
    responses=answers(*WRITE_ERRORS, 422),
)
async def import_upload(
    services: ServicesDep,
    request: Request,
    key: EditorKey,
    kind: Annotated[Kind, Query(description="What the file holds: places or memberships.")] = "places",
    dry_run: Annotated[
        bool, Query(description="Check and geocode every row, report, write nothing.")
    ] = False,
    layer: Annotated[
        str | None, Query(description="GeoPackage layer (default: the one named like kind).")
    ] = None,
) -> JSONResponse:
    """All rows or none: 200 with the report (rows, new, updated, unchanged, written, precision), or 422 naming
    every refused row by its line ('line 7: postcode'). Rows with an external_key already stored
    update that record, so uploading the same file again changes nothing."""
    async with request.form(max_files=1, max_fields=10) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise invalid("file", "send the file as the multipart/form-data field 'file'")
        name = safe_name(upload.filename)
        if Path(name).suffix.casefold() not in FORMATS:
            raise invalid("file", f"unsupported file type {name!r}; use .csv, .geojson/.json or .gpkg")
        with tempfile.TemporaryDirectory(prefix="poi-import-") as tmp:
            path = Path(tmp) / name
            await run_in_threadpool(_copy, upload, path)

            def run() -> ImportReport:
                return import_file(
                    services.store,
                    path,
                    services.geocoder,
                    dry_run=dry_run,
                    kind=kind,
                    data_dir=services.settings.data_dir,
                    vocabulary=services.vocabulary,
                    layer=layer,
                    actor=key.id,
                )

            try:
                report = await run_in_threadpool(run)
            except PoiError as exc:
                raise _without_dir(exc, tmp) from None
    return JSONResponse({**report.as_dict(), "path": name})


def safe_name(filename: str | None) -> str:
    """The upload's base name with only safe characters (it appears in messages and the report)."""
    base = Path((filename or "").replace("\\", "/")).name
    return re.sub(r"[^\w.-]", "_", base)[-100:] or "upload"


def _copy(upload: UploadFile, path: Path) -> None:
    upload.file.seek(0)
    with path.open("wb") as out:
        shutil.copyfileobj(upload.file, out, 1 << 20)


def _without_dir(exc: PoiError, directory: str) -> PoiError:
    """The error with the server's temporary directory removed from every message."""
    exc.detail = exc.detail.replace(directory + "/", "").replace(directory, "")
    for p in exc.invalid_params:
        p.reason = p.reason.replace(directory + "/", "").replace(directory, "")
    return exc
