"""FeatureCollection envelopes with numberMatched/numberReturned and paging links."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus

from fastapi import Request
from starlette.datastructures import URL

PAGING = ("offset", "limit")


def paged(url: str, offset: int, limit: int) -> str:
    """url with offset and limit replaced; the other parameters stay as the client sent them
    (cheaper than URL.include_query_params, which parses and re-encodes every one)."""
    base, _, query = url.partition("?")
    kept = [p for p in query.split("&") if p and unquote_plus(p.partition("=")[0]) not in PAGING]
    return f"{base}?{'&'.join([*kept, f'offset={offset}', f'limit={limit}'])}"


@lru_cache(maxsize=256)
def _origin(scheme: str, host: bytes | None, server: tuple[str, int] | None) -> str:
    """scheme://netloc exactly as Starlette's URL derives it (Host header, else server address)."""
    headers = [(b"host", host)] if host is not None else []
    scope = {"scheme": scheme, "server": server, "path": "/", "query_string": b"", "headers": headers}
    return str(URL(scope=scope))[:-1]


def request_url(request: Request) -> str:
    """str(request.url) at a fraction of its cost (~35 µs, a tenth of a small query): the origin
    is worked out once per Host header, the path and query string are appended as Starlette does."""
    scope = request.scope
    path: str = scope["path"]
    host = next((value for name, value in scope["headers"] if name == b"host"), None)
    server = scope.get("server")
    origin = _origin(scope.get("scheme", "http"), host, tuple(server) if server else None)
    if not origin or not path.startswith("/"):
        return str(request.url)
    path = path.replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")
    query = scope.get("query_string", b"").decode()
    return f"{origin}{path}?{query}" if query else f"{origin}{path}"


def links(request: Request, returned: int, total: int, limit: int, offset: int) -> list[dict[str, str]]:
    """self, and next/prev where there are more matches after/before this page."""
    url = request_url(request)
    found = [{"rel": "self", "type": "application/geo+json", "href": url}]
    if offset + returned < total:
        found.append(
            {"rel": "next", "type": "application/geo+json", "href": paged(url, offset + limit, limit)}
        )
    if offset > 0:
        href = paged(url, max(0, offset - limit), limit)
        found.append({"rel": "prev", "type": "application/geo+json", "href": href})
    return found


def collection(
    request: Request, features: list[dict[str, Any]], total: int, limit: int, offset: int
) -> dict[str, Any]:
    """An RFC 7946 FeatureCollection plus OGC-style counts and self/next/prev links."""
    return {
        "type": "FeatureCollection",
        "numberMatched": total,
        "numberReturned": len(features),
        "features": features,
        "links": links(request, len(features), total, limit, offset),
    }


def unpaged(request: Request, features: list[dict[str, Any]]) -> dict[str, Any]:
    """A collection answered in one piece (nearest k, geocoding): every match returned, a self link."""
    return collection(request, features, len(features), max(len(features), 1), 0)
