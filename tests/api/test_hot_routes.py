"""The hot GET routes (api.hot.HotRoutes, past FastAPI's router) answer exactly what FastAPI's
routing of the same endpoints answers: same status, headers that matter and bytes, errors included."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from poi_service.api.app import create_app
from poi_service.api.hot import HotRoutes
from poi_service.api.routes import places
from poi_service.api.routes.places import HOT
from poi_service.config import Settings
from poi_service.store import Store, open_store
from tests.conftest import DATA_DIR, run_async
from tests.hours_data import with_hours
from tests.server import serve

# Requests on the hot paths: pages with next/prev links, filters, empty answers and bad input.
PATHS = [
    "/places/nearby?lat=54.8&lon=9.4&radius_m=5000&limit=3",
    "/places/nearby?lat=54.8&lon=9.4&radius_m=5000&limit=3&offset=3",
    "/places/nearby?lon=9.4&lat=54.8&radius_m=20000&category=stolperstein,driving_school&limit=5",
    "/places/nearby?lat=54.8&lon=9.4&radius_m=20000&q=Haus&limit=2&offset=1&extra=%C3%A4+x",
    "/places/nearby?lat=0&lon=0",
    "/places/nearby?lat=91&lon=9.4&radius_m=abc&limit=0",
    "/places/nearby?lon=9.4",
    "/places/nearby?lat=54.8&lon=9.4&category=casino",
    "/places/nearest?lat=54.8&lon=9.4&k=7",
    "/places/nearest?lat=54.8&lon=9.4&k=0",
    "/places/nearest?lat=54.8&lon=9.4&k=3&category=stolperstein",
    "/places?bbox=9.3,54.7,9.5,54.9&limit=4&offset=2",
    "/places?area=Flensburg&limit=2",
    "/places?area=Atlantis",
    "/places?bbox=1,2,3",
    "/places?limit=1&offset=-1",
    # opening hours and accessibility: open/next_change spliced into cached features, and bad values
    "/places/nearby?lat=54.8&lon=9.4&radius_m=20000&open_at=2026-12-07T10:30:00%2B01:00&wheelchair=yes,limited&limit=4",
    "/places/nearest?lat=54.8&lon=9.4&k=5&open_at=2026-12-06T00:30:00Z",
    "/places?bbox=9.3,54.7,9.5,54.9&open_at=2026-07-04T21:00:00Z&limit=3&offset=1",
    "/places?wheelchair=no&limit=2",
    "/places?open_at=2026-12-07T10:30:00",
    "/places/nearby?lat=54.8&lon=9.4&wheelchair=ramp&open_now=maybe",
]


@dataclass
class Pair:
    hot: httpx.Client
    routed: httpx.Client
    store: Store


def _without_hot_routes(app: FastAPI) -> FastAPI:
    app.user_middleware = [m for m in app.user_middleware if m.cls is not HotRoutes]
    app.hot = None  # type: ignore[attr-defined]  # and no early dispatch (PoiApp)
    return app


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    path: Path = tmp_path_factory.mktemp("hot") / "hot.gpkg"
    settings = Settings(database_url=str(path), max_radius_m=20_000, max_page_size=200, max_k=50)
    store = open_store(settings.database_url, DATA_DIR)
    store.places.add_many(with_hours(200, seed=7))  # random_places(200) with hours and wheelchair values
    hot_app, routed_app = create_app(settings, store), _without_hot_routes(create_app(settings, store))
    with (
        serve(hot_app) as hot_url,
        serve(routed_app) as routed_url,
        httpx.Client(base_url=hot_url) as hot,
        httpx.Client(base_url=routed_url) as routed,
    ):
        yield Pair(hot, routed, store)
    store.close()


def _same(a: httpx.Response, b: httpx.Response, base_a: str, base_b: str) -> None:
    assert a.status_code == b.status_code, (a.text, b.text)
    for name in ("content-type", "x-content-type-options", "referrer-policy"):
        assert a.headers.get(name) == b.headers.get(name), name
    assert a.headers.get("content-type") is not None
    # Links carry the server's own address; the rest must be byte for byte the same.
    assert a.content.replace(base_a.encode(), b"BASE") == b.content.replace(base_b.encode(), b"BASE")


@pytest.mark.parametrize("path", PATHS)
def test_hot_route_answers_as_fastapi_routing_does(pair: Pair, path: str) -> None:
    a, b = pair.hot.get(path), pair.routed.get(path)
    _same(a, b, str(pair.hot.base_url).rstrip("/"), str(pair.routed.base_url).rstrip("/"))


def test_the_hot_paths_are_get_routes_of_the_app(tmp_path: Path) -> None:
    # Each hot path is the GET route of the same endpoint, documented in OpenAPI as before.
    gets = {r.path: r for r in places.router.routes if "GET" in getattr(r, "methods", set())}
    for path, endpoint in HOT.items():
        assert getattr(gets[path], "endpoint", None) is endpoint
    store = open_store(str(tmp_path / "doc.gpkg"), DATA_DIR)
    app = create_app(Settings(database_url=store.url), store)
    spec = app.openapi()["paths"]
    assert all("get" in spec[path] for path in HOT)
    assert any(m.cls is HotRoutes for m in app.user_middleware)
    assert app.hot == HOT  # type: ignore[attr-defined]  # dispatched before the middleware too
    store.close()


def test_paging_links_follow_through_every_page(pair: Pair) -> None:
    url, seen = "/places/nearby?lat=54.8&lon=9.4&radius_m=20000&limit=7&category=stolperstein", []
    total = None
    while url:
        body = pair.hot.get(url).json()
        total = body["numberMatched"]
        seen += [f["id"] for f in body["features"]]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), "")
    assert total is not None and total > 7 and len(seen) == total == len(set(seen))


def test_a_failing_store_answers_500_problem_without_a_trace(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "broken.gpkg"), DATA_DIR)
    app = create_app(Settings(database_url=store.url), store)
    with serve(app) as url, httpx.Client(base_url=url) as client:
        assert client.get("/places/nearby?lat=54.8&lon=9.4").status_code == 200
        store.close()  # every store call now raises inside the endpoint
        r = client.get("/places/nearby?lat=54.8&lon=9.4")
    assert r.status_code == 500, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "internal" and "Traceback" not in r.text
    assert r.headers["x-content-type-options"] == "nosniff"


def test_behind_a_path_prefix_both_ways_agree(pair: Pair) -> None:
    # uvicorn --root-path /poi: scope path "/poi/places/nearby", root_path "/poi" (Starlette's convention).
    settings = Settings(database_url=pair.store.url, max_radius_m=20_000, max_page_size=200, max_k=50)
    apps = (create_app(settings, pair.store), _without_hot_routes(create_app(settings, pair.store)))

    async def ask(app: FastAPI) -> tuple[int, str, bytes]:
        transport = httpx.ASGITransport(app=app, root_path="/poi")
        async with httpx.AsyncClient(transport=transport, base_url="http://proxy.test") as client:
            r = await client.get("/poi/places/nearby?lat=54.8&lon=9.4&radius_m=5000&limit=2")
            return r.status_code, r.headers["content-type"], r.content

    answers = [run_async(ask(app)) for app in apps]
    assert answers[0] == answers[1] and answers[0][0] == 200
    body = orjson.loads(answers[0][2])
    assert body["links"][0]["href"].startswith("http://proxy.test/poi/places/nearby?")


def test_the_short_path_matches_behind_a_prefix_and_only_on_get(pair: Pair) -> None:
    app = create_app(Settings(database_url=pair.store.url), pair.store)
    passed_on: list[str] = []

    async def fallback(scope: Scope, receive: Receive, send: Send) -> None:
        passed_on.append(f"{scope['method']} {scope['path']}")
        await send({"type": "http.response.start", "status": 599, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    hot = HotRoutes(fallback, HOT)

    async def status(method: str, path: str, root_path: str = "") -> int:
        transport = httpx.ASGITransport(app=_with_app(hot, app), root_path=root_path)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return (await client.request(method, path + "?lat=54.8&lon=9.4")).status_code

    assert run_async(status("GET", "/places/nearby")) == 200
    assert run_async(status("GET", "/poi/places/nearby", root_path="/poi")) == 200
    assert run_async(status("POST", "/places/nearby")) == 599
    assert run_async(status("GET", "/places/nearby/")) == 599
    assert passed_on == ["POST /places/nearby", "GET /places/nearby/"]


def _with_app(inner: ASGIApp, app: FastAPI) -> ASGIApp:
    """Sets scope["app"] as FastAPI does before its middleware runs (the endpoints read app.state)."""

    async def call(scope: Scope, receive: Receive, send: Send) -> None:
        await inner({**scope, "app": app}, receive, send)

    return call
