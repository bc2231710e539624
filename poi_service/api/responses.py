"""orjson-rendered responses (FastAPI's ORJSONResponse is deprecated; orjson is the fast path)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette import responses
from starlette.responses import Response


class JSONResponse(responses.JSONResponse):
    """application/json rendered by orjson (NaN is refused rather than emitted); a Starlette
    JSONResponse so that FastAPI documents the response_model of routes answering it."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class GeoJSONResponse(JSONResponse):
    """RFC 7946 media type."""

    media_type = "application/geo+json"


class RawGeoJSONResponse(Response):
    """GeoJSON already serialised (api.rendered)."""

    media_type = "application/geo+json"
