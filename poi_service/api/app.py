"""The FastAPI application factory: create_app(settings, store)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline

from poi_service import __version__
from poi_service.api import contract
from poi_service.api.hosts import PublicHost, public_origin
from poi_service.api.hot import HotRoutes, dispatch_early
from poi_service.api.load import HeavyLimiter
from poi_service.api.middleware import BodyLimit, HeadAsGet, SecurityHeaders
from poi_service.api.problems import install_problem_handlers
from poi_service.api.responses import JSONResponse
from poi_service.api.routes import (
    alliance,
    alliance_write,
    export,
    geocode,
    imports,
    map_data,
    maps,
    meta,
    ogc,
    places,
    places_write,
    tiles,
)
from poi_service.api.slow import BodyTimeout
from poi_service.categories import Vocabulary
from poi_service.config import Settings
from poi_service.geocode import make_geocoder
from poi_service.geocode.base import Geocoder
from poi_service.services import Services
from poi_service.store import Store, open_store

DESCRIPTION = """Places of a municipality (Harrislee, Flensburg, ...) and the members of the Safe Harbours
alliances, with nearby and within-area queries. Points are (lon, lat) in EPSG:4326, distances are
geodesic metres on WGS84, bounds are minx,miny,maxx,maxy. Every error is application/problem+json."""


def create_app(settings: Settings, store: Store, geocoder: Geocoder | None = None) -> FastAPI:
    """The API over an open store; the caller owns the store's lifetime."""
    # FastAPIOffline serves Swagger UI and ReDoc from its own package instead of a CDN.
    app = FastAPIOffline(
        title="poi-service",
        version=__version__,
        description=DESCRIPTION,
        default_response_class=JSONResponse,
        static_url="/static/docs",
    )
    app.state.services = Services(
        settings=settings,
        store=store,
        vocabulary=Vocabulary.from_settings(settings),
        geocoder=geocoder or make_geocoder(settings, store, store.addresses),
    )
    install_problem_handlers(app)
    contract.install(app)
    for router in (
        meta.router,
        places.router,
        alliance.router,
        geocode.router,
        maps.router,
        map_data.router,
        ogc.router,
        export.router,
        places_write.router,
        alliance_write.router,
        imports.router,
        tiles.router,
    ):
        app.include_router(router)
    app.add_middleware(HotRoutes, routes=places.HOT)  # innermost: CORS and headers still apply
    app.add_middleware(
        HeavyLimiter,
        max_heavy=settings.max_heavy_requests,
        max_queued=settings.max_queued_requests,
        queue_timeout_s=settings.queue_timeout_s,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-Match"],
            expose_headers=["ETag", "Location"],
        )
    app.add_middleware(BodyTimeout, timeout_s=settings.body_timeout_s)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        upload_bytes=settings.max_upload_bytes,
        upload_paths=("/imports",),
    )
    if settings.public_base_url or settings.allowed_hosts:
        app.add_middleware(
            PublicHost, origin=public_origin(settings.public_base_url), allowed=settings.allowed_hosts
        )
    app.add_middleware(HeadAsGet)  # outermost: every layer below sees a GET
    if not (settings.public_base_url or settings.allowed_hosts):  # else every request needs its host checked
        dispatch_early(app, places.HOT, cors=bool(settings.cors_origins))
    return app


def app_from_env() -> FastAPI:
    """uvicorn factory for `poi-service serve`: settings from POI_* variables, store opened per worker."""
    settings = Settings()
    store = open_store(settings.database_url, settings.data_dir)
    app = create_app(settings, store)
    app.state.services.server = True
    app.router.on_shutdown.append(store.close)
    return app
