"""CORS over real HTTP: only the origins in POI_CORS_ORIGINS may read the JSON API from a browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from poi_service.api.app import create_app
from poi_service.config import Settings
from poi_service.store import open_store
from tests.api.conftest import Api
from tests.conftest import DATA_DIR
from tests.factories import random_places
from tests.server import serve

ALLOWED = "https://www.harrislee.de"
OTHER = "https://evil.example"


@pytest.fixture(scope="module")
def cors(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    path: Path = tmp_path_factory.mktemp("cors") / "cors.gpkg"
    settings = Settings(database_url=str(path), cors_origins=[ALLOWED])
    store = open_store(settings.database_url, DATA_DIR)
    store.places.add_many(random_places(3))
    with serve(create_app(settings, store)) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client
    store.close()


def test_allowed_origin_may_read(cors: httpx.Client) -> None:
    r = cors.get("/places", params={"limit": 1}, headers={"Origin": ALLOWED})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == ALLOWED
    place = r.json()["features"][0]["id"]
    r = cors.get(f"/places/{place}", headers={"Origin": ALLOWED})
    assert "etag" in r.headers["access-control-expose-headers"].lower()


def test_other_origin_gets_no_cors_headers(cors: httpx.Client) -> None:
    r = cors.get("/places", params={"limit": 1}, headers={"Origin": OTHER})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers


def test_preflight_for_a_write(cors: httpx.Client) -> None:
    ask = {
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "Authorization, If-Match",
    }
    r = cors.options("/places/some-id", headers={"Origin": ALLOWED, **ask})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == ALLOWED
    assert "PUT" in r.headers["access-control-allow-methods"]
    allowed = r.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "if-match" in allowed
    r = cors.options("/places/some-id", headers={"Origin": OTHER, **ask})
    assert r.status_code == 400 and "access-control-allow-origin" not in r.headers


def test_no_cors_unless_configured(api: Api) -> None:
    assert api.settings.cors_origins == []
    r = api.client.get("/places", params={"limit": 1}, headers={"Origin": ALLOWED})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
