"""A forged Host header never reaches absolute links: POI_PUBLIC_BASE_URL and POI_ALLOWED_HOSTS."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from poi_service.api.app import create_app
from poi_service.config import Settings
from poi_service.models import KeyRole
from poi_service.store import open_store
from tests.api.test_bad_input import assert_problem
from tests.conftest import DATA_DIR
from tests.factories import random_places
from tests.server import serve

PUBLIC = "https://poi.example.org"
EVIL = {"Host": "evil.example"}
URL = re.compile(rb"https?://[^\s\"'<>&]+")


def _served(tmp_path: Path, **kw: object) -> Iterator[tuple[httpx.Client, str]]:
    settings = Settings(database_url=str(tmp_path / "h.gpkg"), **kw)  # type: ignore[arg-type]
    store = open_store(settings.database_url, DATA_DIR)
    store.places.add_many(random_places(5))
    _, key = store.create_key("Redaktion", KeyRole.EDITOR)
    with serve(create_app(settings, store)) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client, key
    store.close()


@pytest.fixture()
def public(tmp_path: Path) -> Iterator[tuple[httpx.Client, str]]:
    yield from _served(tmp_path, public_base_url=PUBLIC + "/")


@pytest.fixture()
def allowed(tmp_path: Path) -> Iterator[tuple[httpx.Client, str]]:
    yield from _served(tmp_path, allowed_hosts=["poi.example.org", "*.kreis.example"])


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/places?limit=2&offset=1",
        "/places/nearby?lat=54.8&lon=9.4",
        "/ogc",
        "/ogc/collections",
        "/alliance/members",
        "/embed",
        "/geocode?q=Harrislee",
    ],
)
def test_links_use_the_public_base_url_whatever_the_host(public: tuple[httpx.Client, str], path: str) -> None:
    client, _ = public
    r = client.get(path, headers=EVIL)
    assert r.status_code == 200, r.text
    assert b"evil.example" not in r.content
    urls = [u for u in URL.findall(r.content) if b"127.0.0.1" in u or u.startswith(PUBLIC.encode())]
    assert urls and all(u.startswith(PUBLIC.encode()) for u in urls), urls


def test_the_embed_snippet_and_location_use_the_public_base_url(public: tuple[httpx.Client, str]) -> None:
    client, key = public
    page = client.get("/embed", params={"category": "church"}, headers=EVIL).text
    assert f"{PUBLIC}/maps/embed?category=church" in page
    body = {"name": "Host-Probe", "category": "church", "lat": 54.8, "lon": 9.4}
    r = client.post("/places", json=body, headers={**EVIL, "Authorization": f"Bearer {key}"})
    assert r.status_code == 201, r.text
    assert r.headers["location"].startswith(f"{PUBLIC}/places/")


def test_unknown_hosts_are_refused_when_hosts_are_listed(allowed: tuple[httpx.Client, str]) -> None:
    client, _ = allowed
    for host in ("evil.example", "poi.example.org.evil.example", "kreis.example.evil", ""):
        body = assert_problem(client.get("/places", headers={"Host": host}), 400, "Host")
        assert body["code"] == "invalid-host"
    assert client.get("/places", headers={"Host": "poi.example.org:8443"}).status_code == 200
    r = client.get("/places?limit=1", headers={"Host": "amt.kreis.example"})
    assert r.status_code == 200 and r.json()["links"][0]["href"].startswith("http://amt.kreis.example/")
    assert client.head("/health", headers={"Host": "POI.example.org"}).status_code == 200


def test_without_settings_links_follow_the_host_as_before(tmp_path: Path) -> None:
    for client, _ in _served(tmp_path):
        r = client.get("/", headers={"Host": "poi.internal:8000"})
        assert r.json()["links"]["places"] == "http://poi.internal:8000/places"


@pytest.mark.parametrize(
    "value", ["poi.example.org", "ftp://poi.example.org", "https://x.example/poi", "https://x/?a=1"]
)
def test_the_public_base_url_is_an_origin(value: str) -> None:
    with pytest.raises(ValidationError):
        Settings(public_base_url=value)
