"""FeatureCollection envelopes with numberMatched/numberReturned and paging links."""

from __future__ import annotations

from typing import Any

from fastapi import Request


def collection(
    request: Request, features: list[dict[str, Any]], total: int, limit: int, offset: int
) -> dict[str, Any]:
    """An RFC 7946 FeatureCollection plus OGC-style counts and self/next/prev links."""
    links = [{"rel": "self", "type": "application/geo+json", "href": str(request.url)}]
    if offset + len(features) < total:
        href = str(request.url.include_query_params(offset=offset + limit, limit=limit))
        links.append({"rel": "next", "type": "application/geo+json", "href": href})
    if offset > 0:
        href = str(request.url.include_query_params(offset=max(0, offset - limit), limit=limit))
        links.append({"rel": "prev", "type": "application/geo+json", "href": href})
    return {
        "type": "FeatureCollection",
        "numberMatched": total,
        "numberReturned": len(features),
        "features": features,
        "links": links,
    }


def unpaged(request: Request, features: list[dict[str, Any]]) -> dict[str, Any]:
    """A collection answered in one piece (nearest k, geocoding): every match returned, a self link."""
    return collection(request, features, len(features), max(len(features), 1), 0)
