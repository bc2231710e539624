"""GET /tiles/{z}/{x}/{y}.pbf and /tiles.json over a real server and the Helsinki tiles; bad input is 4xx."""

from __future__ import annotations

import gzip
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import mapbox_vector_tile
import pytest

from poi_service.api.app import create_app
from poi_service.config import Settings
from poi_service.store import open_store
from tests.api.test_bad_input import assert_problem
from tests.conftest import DATA_DIR
from tests.server import serve
from tests.tiles.data import CENTRE, helsinki_tiles, tile_of


@pytest.fixture(scope="module")
def tiles_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tiles") / "tiles.mbtiles"
    shutil.copyfile(helsinki_tiles().out, path)
    return path


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, tiles_file: Path) -> Iterator[httpx.Client]:
    db = tmp_path_factory.mktemp("db") / "p.gpkg"
    settings = Settings(database_url=str(db), tiles_file=tiles_file)
    store = open_store(settings.database_url, DATA_DIR)
    with serve(create_app(settings, store)) as url, httpx.Client(base_url=url, timeout=30) as c:
        yield c
    store.close()


def _stored(path: Path, z: int, x: int, y: int) -> bytes:
    with sqlite3.connect(path) as db:
        row = db.execute(
            "SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?",
            (z, x, (1 << z) - 1 - y),
        ).fetchone()
    return bytes(row[0])


def test_tile_is_served_gzipped_as_stored_with_etag(client: httpx.Client, tiles_file: Path) -> None:
    x, y = tile_of(*CENTRE, 14)
    raw = client.get(f"/tiles/14/{x}/{y}.pbf", headers={"Accept-Encoding": "gzip"})
    assert raw.status_code == 200 and raw.headers["content-encoding"] == "gzip"
    assert raw.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert "max-age" in raw.headers["cache-control"]
    assert raw.content == gzip.decompress(_stored(tiles_file, 14, x, y))  # httpx decodes the gzip
    with client.stream("GET", f"/tiles/14/{x}/{y}.pbf", headers={"Accept-Encoding": "gzip"}) as r:
        assert b"".join(r.iter_raw()) == _stored(tiles_file, 14, x, y)  # on the wire: the stored bytes
    assert "transportation" in mapbox_vector_tile.decode(raw.content)
    again = client.get(f"/tiles/14/{x}/{y}.pbf", headers={"If-None-Match": raw.headers["etag"]})
    assert again.status_code == 304 and not again.content
    other = client.get(f"/tiles/13/{x // 2}/{y // 2}.pbf")
    assert other.status_code == 200 and other.headers["etag"] != raw.headers["etag"]


def test_tile_without_gzip_is_decompressed(client: httpx.Client, tiles_file: Path) -> None:
    x, y = tile_of(*CENTRE, 14)
    r = client.get(f"/tiles/14/{x}/{y}.pbf", headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200 and "content-encoding" not in r.headers
    assert r.content == gzip.decompress(_stored(tiles_file, 14, x, y))


def test_tms_rows_are_flipped(client: httpx.Client) -> None:
    x, y = tile_of(*CENTRE, 14)
    flipped = (1 << 14) - 1 - y
    assert client.get(f"/tiles/14/{x}/{flipped}.pbf").status_code == 204  # the TMS row is the far south


@pytest.mark.parametrize("zxy", ["14/0/0", "15/18000/9000", "16/37310/18958", "0/0/0"])
def test_tiles_outside_the_data_are_204(client: httpx.Client, zxy: str) -> None:
    r = client.get(f"/tiles/{zxy}.pbf")
    if zxy == "0/0/0":  # the world tile holds the area
        assert r.status_code == 200
        return
    assert r.status_code == 204 and not r.content


@pytest.mark.parametrize(
    ("zxy", "param"),
    [
        ("-1/0/0", "z"),
        ("25/0/0", "z"),
        ("99999999999999999999/0/0", "z"),
        ("3/8/0", "x"),
        ("3/0/8", "y"),
        ("3/-1/0", "x"),
        ("a/0/0", "z"),
        ("3/1.5/0", "x"),
        ("3/0/1e3", "y"),
    ],
)
def test_bad_addresses_are_400_problems(client: httpx.Client, zxy: str, param: str) -> None:
    assert_problem(client.get(f"/tiles/{zxy}.pbf"), 400, param)


def test_pages_load_the_street_layer(client: httpx.Client) -> None:
    for path in ("/maps/places", "/maps/embed", "/maps/places?lang=en&center=60.171,24.944&zoom=16"):
        page = client.get(path)
        assert page.status_code == 200
        assert (
            "/static/protomaps-leaflet/5.1.0/protomaps-leaflet.js" in page.text and "streets.js" in page.text
        )
        assert '"url":"/tiles/{z}/{x}/{y}.pbf"' in page.text.replace(" ", "")
    assert "protomaps" not in client.get("/maps/alliance").text  # Germany-wide: no street layer
    vendored = client.get("/static/protomaps-leaflet/5.1.0/protomaps-leaflet.js")
    assert vendored.status_code == 200 and "protomapsL" in vendored.text


def test_tilejson(client: httpx.Client) -> None:
    r = client.get("/tiles.json", headers={"X-Forwarded-Prefix": "/x"})
    assert r.status_code == 200
    tj = r.json()
    assert tj["tilejson"] == "3.0.0" and tj["scheme"] == "xyz"
    assert tj["tiles"] == [str(client.base_url).rstrip("/") + "/tiles/{z}/{x}/{y}.pbf"]
    assert tj["attribution"] == "© OpenStreetMap contributors"
    assert tj["minzoom"] == 0 and tj["maxzoom"] == 14
    minx, miny, maxx, maxy = tj["bounds"]
    assert minx < CENTRE[0] < maxx and miny < CENTRE[1] < maxy
    assert minx <= tj["center"][0] <= maxx and miny <= tj["center"][1] <= maxy
    ids = {layer["id"] for layer in tj["vector_layers"]}
    assert {"transportation", "transportation_name", "water", "building", "place"} <= ids
    for layer in tj["vector_layers"]:
        assert isinstance(layer["fields"], dict)


def test_tilejson_honours_root_path(tmp_path: Path, tiles_file: Path) -> None:
    settings = Settings(database_url=str(tmp_path / "p.gpkg"), tiles_file=tiles_file)
    store = open_store(settings.database_url, DATA_DIR)
    app = create_app(settings, store)
    app.root_path = "/poi"
    with serve(app) as url, httpx.Client(base_url=url, timeout=30) as c:
        assert c.get("/tiles.json").json()["tiles"] == [url + "/poi/tiles/{z}/{x}/{y}.pbf"]
    public = Settings(
        database_url=settings.database_url, tiles_file=tiles_file, public_base_url="https://poi.example.org"
    )
    with serve(create_app(public, store)) as url, httpx.Client(base_url=url, timeout=30) as c:
        assert c.get("/tiles.json").json()["tiles"] == ["https://poi.example.org/tiles/{z}/{x}/{y}.pbf"]
    store.close()


@pytest.mark.parametrize(
    "content", [b"", b"this is not sqlite" * 64, b"SQLite format 3\x00" + b"\x00" * 4000]
)
def test_missing_file_is_404_corrupt_file_503_problem(tmp_path: Path, content: bytes) -> None:
    tiles = tmp_path / "tiles.mbtiles"
    settings = Settings(database_url=str(tmp_path / "p.gpkg"), tiles_file=tiles)
    store = open_store(settings.database_url, DATA_DIR)
    with serve(create_app(settings, store)) as url, httpx.Client(base_url=url, timeout=30) as c:
        for path in ("/tiles/14/9327/4740.pbf", "/tiles.json"):
            assert assert_problem(c.get(path), 404, None)["code"] == "tiles-missing"  # none built yet
        tiles.write_bytes(content)
        for path in ("/tiles/14/9327/4740.pbf", "/tiles.json"):
            assert_problem(c.get(path), 503, None)
        assert_problem(c.get("/tiles/99/0/0.pbf"), 400, "z")  # bad input is still the client's
        page = c.get("/maps/places")  # the map keeps its boundary basemap
        assert page.status_code == 200 and "protomaps" not in page.text and "/tiles/" not in page.text
        fresh = tmp_path / "fresh.mbtiles"  # a rebuild renames a good file over the bad one: no restart
        shutil.copyfile(helsinki_tiles().out, fresh)
        os.replace(fresh, tiles)
        assert c.get("/tiles.json").status_code == 200
        assert c.get("/tiles/0/0/0.pbf").status_code == 200
        assert "protomaps" in c.get("/maps/places").text
    store.close()


def test_corrupt_tile_data_is_503_problem(tmp_path: Path, tiles_file: Path) -> None:
    tiles = tmp_path / "tiles.mbtiles"
    shutil.copyfile(tiles_file, tiles)
    x, y = tile_of(*CENTRE, 14)
    with sqlite3.connect(tiles) as db:
        db.execute(
            "UPDATE tiles SET tile_data = ? WHERE zoom_level = 14 AND tile_column = ? AND tile_row = ?",
            (b"\x1f\x8b" + b"garbage" * 10, x, (1 << 14) - 1 - y),
        )
    db.close()
    settings = Settings(database_url=str(tmp_path / "p.gpkg"), tiles_file=tiles)
    store = open_store(settings.database_url, DATA_DIR)
    with serve(create_app(settings, store)) as url, httpx.Client(base_url=url, timeout=30) as c:
        assert_problem(c.get(f"/tiles/14/{x}/{y}.pbf", headers={"Accept-Encoding": "identity"}), 503, None)
    store.close()
