"""Direct dispatch of the busiest GET routes, past FastAPI's router and, where nothing depends on them,
past the middleware stack too.

FastAPI (0.165) matches each request against the routes of every included router and resolves the
route's dependency graph even when it is empty: about 0.15-0.25 ms of CPU per request on our
machines, as much as the store's whole nearby query at 100k places (bench/http_bench.py --profile).
The routes named here read their own query string (api/query.py) and take nothing but the Request,
so an exact path match can call them directly. They stay registered with FastAPI, which still
serves their OpenAPI description and every method but GET; both ways give the same bytes, and an
exception becomes the same problem+json through problems.problem_for (tests/api/test_hot_routes.py).

Two places dispatch: HotRoutes, the innermost middleware (every request), and PoiApp.__call__, before
FastAPI's own layers (its telemetry check, error and body-limit middleware, Starlette's dispatch) and
ours, for a GET that none of them would change: no body, no Origin header for CORS, no host rules, no
OpenTelemetry provider configured. That saves ~15 µs of the ~60 µs a random nearby query costs in the
app with rendered features (bench/http_random.py); it adds the security headers itself.
tests/api/test_hot_guard.py fails when a middleware is added that this does not account for.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from poi_service.api.middleware import SECURITY_HEADERS, bodiless
from poi_service.api.problems import problem_for

Endpoint = Callable[[Request], Awaitable[Response]]


def route_of(routes: Mapping[str, Endpoint], scope: Scope) -> Endpoint | None:
    """The hot endpoint of a GET request, by its path as Starlette's router sees it behind a prefix."""
    if scope["type"] != "http" or scope["method"] != "GET":
        return None
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return routes.get(path)


async def answer(endpoint: Endpoint, scope: Scope, receive: Receive, send: Send) -> Response:
    """The endpoint's response (every failure as problem+json), sent."""
    request = Request(scope, receive)
    try:
        response = await endpoint(request)
    except Exception as exc:  # every failure answers problem+json
        response = problem_for(request, exc)
    return response


class HotRoutes:
    """ASGI middleware: GET requests whose path is a key of `routes` go straight to its endpoint."""

    def __init__(self, app: ASGIApp, routes: Mapping[str, Endpoint]) -> None:
        self.app = app
        self.routes = dict(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = route_of(self.routes, scope)
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        response = await answer(endpoint, scope, receive, send)
        await response(scope, receive, send)


def dispatch_early(app: FastAPI, routes: Mapping[str, Endpoint], cors: bool) -> None:
    """Makes `app` answer plain GETs of `routes` before its middleware (PoiApp). The app comes from
    fastapi_offline's factory function, so its class is swapped rather than subclassed at creation."""
    app.__class__ = PoiApp
    assert isinstance(app, PoiApp)
    app.hot, app.cors = dict(routes), cors


class PoiApp(FastAPI):
    """FastAPI that answers plain hot GETs before its middleware (dispatch_early)."""

    hot: dict[str, Endpoint] | None = None
    cors = False  # CORS configured: requests with an Origin header take the stack
    _otel: bool | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hot = self.hot
        endpoint = None if hot is None else route_of(hot, scope)
        if endpoint is not None and self._plain(scope):
            scope["app"] = self  # as Starlette sets it: handlers find their services through it
            response = await answer(endpoint, scope, receive, send)
            present = {name for name, _ in response.raw_headers}
            response.raw_headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
            await response(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def _plain(self, scope: Scope) -> bool:
        """Nothing in the stack would act on this request."""
        if self.cors and any(name == b"origin" for name, _ in scope["headers"]):
            return False
        if self._otel is None:  # providers are configured when the process starts
            telemetry: Any = getattr(self, "_native_telemetry", None)
            self._otel = bool(telemetry is not None and telemetry.enabled())
        return not self._otel and bodiless(scope)
