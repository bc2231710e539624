"""Collections assembled from cached feature bytes (features/cache.py), with the request's links.

The bytes equal orjson.dumps of the dict path (links.collection): tests/api/test_rendered.py.
"""

from __future__ import annotations

import orjson
from fastapi import Request

from poi_service.api.links import links


def collection_json(request: Request, features: list[bytes], total: int, limit: int, offset: int) -> bytes:
    """links.collection(...) serialised, from serialised features."""
    head = orjson.dumps(
        {"type": "FeatureCollection", "numberMatched": total, "numberReturned": len(features)}
    )
    tail = orjson.dumps(links(request, len(features), total, limit, offset))
    return b'%b,"features":[%b],"links":%b}' % (head[:-1], b",".join(features), tail)


def unpaged_json(request: Request, features: list[bytes]) -> bytes:
    """links.unpaged(...) serialised, from serialised features."""
    return collection_json(request, features, len(features), max(len(features), 1), 0)
