"""The ceiling of bench/http_random.py: a minimal FastAPI app answering every GET of /places/nearby
with one fixed GeoJSON body (a real 10-feature answer of our API, saved by the bench), served by
uvicorn with the same flags and workers as ours. No parameters, no store: what FastAPI, uvicorn and
the socket cost per request on this machine.

    CEILING_BODY_FILE=answer.json python -m uvicorn bench.ceiling_app:create --factory ...
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI, Response

BODY_ENV = "CEILING_BODY_FILE"
MEDIA_TYPE = "application/geo+json"


def create() -> FastAPI:
    """The app; the body is read once, from the file named by CEILING_BODY_FILE."""
    body = Path(os.environ[BODY_ENV]).read_bytes()
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/places/nearby")
    async def nearby() -> Response:
        return Response(content=body, media_type=MEDIA_TYPE)

    @app.get("/health")
    async def health() -> Response:
        return Response(content=b'{"status":"ok"}', media_type="application/json")

    return app
