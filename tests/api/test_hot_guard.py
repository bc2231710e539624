"""The short path (api/hot.py) skips FastAPI's router: anything app-wide added there would not apply to
the hot routes. These tests pin what the short path relies on, so adding such a thing fails here and
makes its author decide how the hot routes get it too."""

from __future__ import annotations

from pathlib import Path

from fastapi.routing import APIRoute

from poi_service.api.app import create_app
from poi_service.api.hot import HotRoutes
from poi_service.api.routes import places
from poi_service.config import Settings
from poi_service.store import open_store
from tests.conftest import DATA_DIR

# HotRoutes answers every exception with problems.problem_for, which is what install_problem_handlers
# registers for each kind it handles; FastAPI's own websocket handler never sees an HTTP request.
MIRRORED = "install_problem_handlers.<locals>.handler"
WEBSOCKET_ONLY = {"WebSocketRequestValidationError"}


def _app(tmp_path: Path):  # type: ignore[no-untyped-def]
    store = open_store(str(tmp_path / "s.gpkg"), DATA_DIR)
    return create_app(Settings(), store), store


def test_no_app_wide_dependency_or_new_exception_handler(tmp_path: Path) -> None:
    app, store = _app(tmp_path)
    try:
        assert app.router.dependencies == [], "router dependencies do not run on the hot routes"
        other = {
            getattr(kind, "__name__", str(kind))
            for kind, handler in app.exception_handlers.items()
            if handler.__qualname__ != MIRRORED
        }
        assert other <= WEBSOCKET_ONLY, (
            f"exception handler(s) for {other - WEBSOCKET_ONLY} besides problems.problem_for: make the hot "
            "routes (api/hot.py) apply them too"
        )
    finally:
        store.close()


def test_hot_routes_have_no_dependencies_and_stay_innermost(tmp_path: Path) -> None:
    app, store = _app(tmp_path)
    try:
        assert places.router.dependencies == []
        routes = {r.path: r for r in places.router.routes if isinstance(r, APIRoute) and "GET" in r.methods}
        for path in places.HOT:
            assert routes[path].dependant.dependencies == [], (
                f"{path} gained a dependency the short path skips"
            )
        assert app.user_middleware[-1].cls is HotRoutes, "middleware added inside HotRoutes is skipped"
    finally:
        store.close()


# What PoiApp's early dispatch (api/hot.py) accounts for, middleware by middleware.
ACCOUNTED = {
    "HotRoutes": "the same endpoints",
    "HeavyLimiter": "weighs OGC item pages only (request_weight is 0 on the hot paths)",
    "CORSMiddleware": "requests with an Origin header take the stack",
    "BodyTimeout": "steps aside for bodiless requests, the only ones dispatched early",
    "SecurityHeaders": "the early dispatch adds SECURITY_HEADERS itself",
    "BodyLimit": "steps aside for bodiless requests",
    "PublicHost": "configured host rules turn the early dispatch off",
    "HeadAsGet": "only GET is dispatched early",
}


def test_early_dispatch_accounts_for_every_middleware(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s.gpkg"), DATA_DIR)
    try:
        settings = Settings(cors_origins=["https://example.org"], allowed_hosts=["example.org"])
        names = {m.cls.__name__ for m in create_app(settings, store).user_middleware}  # type: ignore[attr-defined]
        names |= {m.cls.__name__ for m in create_app(Settings(), store).user_middleware}  # type: ignore[attr-defined]
        assert names <= set(ACCOUNTED), f"{names - set(ACCOUNTED)}: make PoiApp (api/hot.py) account for it"
        from poi_service.api.load import request_weight

        for path in places.HOT:
            scope = {
                "type": "http",
                "method": "GET",
                "path": path,
                "query_string": b"limit=10000",
                "headers": [],
            }
            assert request_weight(scope, 10**9) == 0
    finally:
        store.close()
