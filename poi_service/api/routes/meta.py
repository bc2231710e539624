"""Service metadata: landing page, health, attribution."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from poi_service import __version__
from poi_service.api import negotiate, schemas
from poi_service.api.deps import Services, ServicesDep
from poi_service.api.landing import landing_html
from poi_service.api.responses import JSONResponse
from poi_service.attribution import DATA_ATTRIBUTIONS
from poi_service.maps.i18n import Lang
from poi_service.memory import settle

log = logging.getLogger("poi_service.api")


def _warm(services: Services) -> None:
    try:
        services.store.places.warm()
        services.store.memberships.warm()
        if services.shared is not None:
            services.shared.prepare()
        settle(services.server)
    except Exception:  # the first query builds it then
        log.warning("index warm-up failed", exc_info=True)


@asynccontextmanager
async def _warm_indexes(app: FastAPI) -> AsyncIterator[None]:
    """Builds the store's in-memory indexes in the background as the server starts (seconds at 1M
    places), so that the first nearby query does not pay for it; requests meanwhile are answered
    from worker threads (api.calls)."""
    services: Services | None = getattr(app.state, "services", None)
    if services is not None:
        threading.Thread(target=_warm, args=(services,), name="poi-index-warm", daemon=True).start()
    yield


router = APIRouter(tags=["meta"], lifespan=_warm_indexes)


@router.get(
    "/",
    summary="Landing page with links",
    responses={200: {"content": {"application/json": {}, "text/html": {}}, "description": "Links"}},
)
async def landing(
    request: Request,
    lang: Annotated[Lang | None, Query(description="Language of the HTML page (browsers): de or en.")] = None,
) -> Response:
    """Where to go from here: an HTML page for browsers (Accept: text/html), JSON for everyone else."""
    headers = {"Vary": "Accept, Accept-Language"}
    if negotiate.wants_html(request):
        root = str(request.scope.get("root_path", "")).rstrip("/")
        html = landing_html(root, negotiate.language(request, lang))
        csp = "default-src 'none'; style-src 'self'; img-src data:; base-uri 'none'; frame-ancestors 'self'"
        return HTMLResponse(html, headers={**headers, "Content-Security-Policy": csp})
    base = str(request.base_url).rstrip("/")
    links = {
        name: base + path
        for name, path in (
            ("docs", "/docs"),
            ("openapi", "/openapi.json"),
            ("health", "/health"),
            ("categories", "/categories"),
            ("places", "/places"),
            ("alliance_members", "/alliance/members"),
            ("alliance_stats", "/alliance/stats"),
            ("about", "/about"),
        )
    }
    return JSONResponse({"service": "poi-service", "version": __version__, "links": links}, headers=headers)


@router.get("/health", summary="Liveness and store status", response_model=schemas.Health)
async def health(services: ServicesDep) -> JSONResponse:
    """Answers 200 with the store's backend, schema version and counts."""
    info = await run_in_threadpool(services.store.info)  # counts: a query, off the event loop
    return JSONResponse({"status": "ok", "version": __version__, "store": info})


@router.get("/about", summary="Data sources and licences", response_model=schemas.About)
async def about() -> JSONResponse:
    """The attribution lines of every shipped data set."""
    return JSONResponse({"attribution": list(DATA_ATTRIBUTIONS), "details": "data/SOURCES.md"})
