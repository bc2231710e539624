"""Direct dispatch of the busiest GET routes, past FastAPI's router.

FastAPI (0.165) matches each request against the routes of every included router and resolves the
route's dependency graph even when it is empty: about 0.15-0.25 ms of CPU per request on our
machines, as much as the store's whole nearby query at 100k places (bench/http_bench.py --profile).
The routes named here read their own query string (api/query.py) and take nothing but the Request,
so an exact path match can call them directly. They stay registered with FastAPI, which still
serves their OpenAPI description and every method but GET; both ways give the same bytes, and an
exception becomes the same problem+json through problems.problem_for (tests/api/test_hot_routes.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from poi_service.api.problems import problem_for

Endpoint = Callable[[Request], Awaitable[Response]]


class HotRoutes:
    """ASGI middleware: GET requests whose path is a key of `routes` go straight to its endpoint."""

    def __init__(self, app: ASGIApp, routes: Mapping[str, Endpoint]) -> None:
        self.app = app
        self.routes = dict(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path: str = scope["path"]
            root: str = scope.get("root_path", "")
            if root and path.startswith(root):  # as Starlette's router sees it behind a prefix
                path = path[len(root) :]
            endpoint = self.routes.get(path)
            if endpoint is not None:
                request = Request(scope, receive)
                try:
                    response = await endpoint(request)
                except Exception as exc:  # every failure answers problem+json
                    response = problem_for(request, exc)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
