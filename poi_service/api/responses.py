"""orjson-rendered responses (FastAPI's ORJSONResponse is deprecated; orjson is the fast path)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class JSONResponse(Response):
    """application/json rendered by orjson (NaN is refused rather than emitted)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class GeoJSONResponse(JSONResponse):
    """RFC 7946 media type."""

    media_type = "application/geo+json"


class RawGeoJSONResponse(Response):
    """GeoJSON already serialised (api.rendered)."""

    media_type = "application/geo+json"
