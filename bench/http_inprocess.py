"""In-process side of bench/http_bench.py: the store call alone and the whole ASGI app without a
socket, on the same paths wrk sends, so server CPU per request splits into store, app and server."""

from __future__ import annotations

import asyncio
import cProfile
import io
import pstats
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from poi_service.api.app import create_app
from poi_service.config import Settings
from poi_service.models import Point
from poi_service.store import Near, PlaceFilter, Query, Store


@dataclass(frozen=True)
class Cost:
    """CPU milliseconds per call, measured over `calls` calls in this process."""

    calls: int
    cpu_ms: float
    wall_ms: float


async def asgi_get(app: Any, target: str) -> tuple[int, bytes]:
    """One GET through the ASGI app, as uvicorn would call it (no socket, no HTTP parsing)."""
    url = urlsplit(target)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": url.path,
        "raw_path": url.path.encode(),
        "root_path": "",
        "query_string": url.query.encode(),
        "headers": [(b"host", b"127.0.0.1:8000")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    status, chunks = 0, []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


def _timed(call: Callable[[int], object], n: int, calls: int) -> Cost:
    # Warm-up: one pass over every input (index build, statement cache, lazy imports, and the record
    # and feature caches, which the server has filled by the time wrk's timed run starts).
    for i in range(n):
        call(i)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(calls):
        call(i % n)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return Cost(calls, cpu * 1e3 / calls, wall * 1e3 / calls)


def store_nearby_cost(
    store: Store, centres: list[tuple[float, float]], radius_m: float, limit: int, calls: int
) -> Cost:
    """The store call of GET /places/nearby alone (what the route hands to the store)."""
    flt = PlaceFilter()

    def call(i: int) -> object:
        lon, lat = centres[i]
        return store.places.search(Query(flt, near=Near(Point(lon, lat), radius_m), limit=limit))

    return _timed(call, len(centres), calls)


def app_for(store: Store) -> Any:
    """The app as `serve` builds it, over an already open store."""
    return create_app(Settings(database_url=store.url), store)


async def _requests(app: Any, paths: list[str], calls: int, warmup: int) -> tuple[float, float]:
    """`calls` requests one after the other in one task, like one connection to a uvicorn worker
    (one long-lived loop, so anyio's worker threads live as long as in a server)."""
    for i in range(warmup):
        await asgi_get(app, paths[i % len(paths)])
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(calls):
        path = paths[i % len(paths)]
        status, _ = await asgi_get(app, path)
        assert status == 200, f"{path} answered {status}"
    return time.process_time() - cpu0, time.perf_counter() - wall0


def app_cost(app: Any, paths: list[str], calls: int) -> Cost:
    """Whole-app requests without a socket: FastAPI, our middleware, params, store, GeoJSON, orjson."""
    cpu, wall = asyncio.run(_requests(app, paths, calls, warmup=len(paths)))  # a pass, as _timed
    return Cost(calls, cpu * 1e3 / calls, wall * 1e3 / calls)


def profile_app(app: Any, paths: list[str], calls: int, lines: int = 45) -> str:
    """cProfile of `calls` in-process requests: top functions by own time and by cumulative time."""
    prof = cProfile.Profile()

    async def run() -> None:
        await _requests(app, paths, 50, warmup=0)
        prof.enable()
        await _requests(app, paths, calls, warmup=0)
        prof.disable()

    asyncio.run(run())
    out = []
    for sort in ("tottime", "cumulative"):
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(sort).print_stats(lines)
        out.append(
            f"## {calls} requests ({paths[0].split('?')[0]}), sorted by {sort}\n\n```\n{buf.getvalue()}```\n"
        )
    return "\n".join(out)
