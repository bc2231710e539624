"""Service metadata: landing page, health, attribution."""

from __future__ import annotations

from fastapi import APIRouter, Request

from poi_service import __version__
from poi_service.api.deps import ServicesDep
from poi_service.api.responses import JSONResponse
from poi_service.attribution import DATA_ATTRIBUTIONS

router = APIRouter(tags=["meta"])


@router.get("/", summary="Landing page with links")
async def landing(request: Request) -> JSONResponse:
    """Where to go from here."""
    base = str(request.base_url).rstrip("/")
    links = {name: base + path for name, path in (
        ("docs", "/docs"), ("openapi", "/openapi.json"), ("health", "/health"), ("categories", "/categories"),
        ("places", "/places"), ("alliance_members", "/alliance/members"), ("alliance_stats", "/alliance/stats"),
        ("about", "/about"),
    )}  # fmt: skip
    return JSONResponse({"service": "poi-service", "version": __version__, "links": links})


@router.get("/health", summary="Liveness and store status")
async def health(services: ServicesDep) -> JSONResponse:
    """Answers 200 with the store's backend, schema version and counts."""
    return JSONResponse({"status": "ok", "version": __version__, "store": services.store.info()})


@router.get("/about", summary="Data sources and licences")
async def about() -> JSONResponse:
    """The attribution lines of every shipped data set."""
    return JSONResponse({"attribution": list(DATA_ATTRIBUTIONS), "details": "data/SOURCES.md"})
