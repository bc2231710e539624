"""Uploads are untrusted: a CSV header of 100,000 columns or a 10 MB single line, a GeoPackage whose
layer is a recursive view or calls load_extension(), and a file GDAL cannot read are all refused fast
with 422 problem+json that shows no server path; nothing is written."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import httpx
import pytest
from shapely.geometry import Point as ShapelyPoint

from poi_service.api.app import create_app
from poi_service.config import Settings
from poi_service.ingest.readers import MAX_COLUMNS
from poi_service.models import KeyRole
from poi_service.store import open_store
from tests.api.conftest import EditApi, bearer
from tests.api.test_bad_input import assert_problem
from tests.conftest import DATA_DIR
from tests.factories import random_places
from tests.server import serve


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EditApi]:
    path: Path = tmp_path_factory.mktemp("uploads") / "u.gpkg"
    settings = Settings(database_url=str(path), max_upload_bytes=20 * 1024 * 1024)
    store = open_store(settings.database_url, DATA_DIR)
    store.places.add_many(random_places(5))
    editor, key = store.create_key("Redaktion", KeyRole.EDITOR)
    app = create_app(settings, store)
    with serve(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield EditApi(url, client, store, settings, bearer(key), {}, {}, editor.id)
    store.close()


def refused(api: EditApi, name: str, content: bytes, within_s: float = 10.0, **params: str) -> str:
    count = api.store.places.count()
    t0 = time.monotonic()
    r = api.client.post(
        "/imports", params=params, files={"file": (name, content)}, headers=api.editor, timeout=within_s + 20
    )
    assert time.monotonic() - t0 < within_s
    body = assert_problem(r, 422, None)
    assert "poi-import-" not in r.text and "/tmp" not in r.text, r.text
    assert api.store.places.count() == count
    return str(body["detail"])


def test_wide_csv_headers_are_refused_fast(api: EditApi) -> None:
    wide = ",".join(f"c{i}" for i in range(100_000)).encode() + b"\nx\n"
    assert "columns" in refused(api, "wide.csv", wide, within_s=5)
    one_line = b"a," * (5 * 1024 * 1024)  # 10 MB, one line, every column named 'a'
    assert "columns" in refused(api, "line.csv", one_line, within_s=5)
    over = ",".join(["name", "category", "lat", "lon", *(f"x{i}" for i in range(MAX_COLUMNS))]).encode()
    assert f"at most {MAX_COLUMNS}" in refused(api, "over.csv", over + b"\n")
    assert "twice" in refused(api, "dup.csv", b"name,Name,lat\nA,B,1\n")


def _gpkg(tmp: Path, extra_sql: list[str]) -> bytes:
    path = tmp / "base.gpkg"
    frame = gpd.GeoDataFrame(
        {"name": ["Kirche"], "category": ["church"]}, geometry=[ShapelyPoint(9.41, 54.79)], crs=4326
    )
    frame.to_file(path, layer="places", driver="GPKG", engine="pyogrio")
    conn = sqlite3.connect(path)
    for sql in extra_sql:
        conn.execute(sql)
    conn.commit()
    conn.close()
    return path.read_bytes()


def _as_layer(name: str, select: str) -> list[str]:
    return [
        f"CREATE VIEW {name} AS {select}",
        f"INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES ('{name}', 'features', '{name}', 4326)",
        f"INSERT INTO gpkg_geometry_columns VALUES ('{name}', 'geom', 'POINT', 4326, 0, 0)",
    ]


def test_recursive_view_layer_is_refused_fast(api: EditApi, tmp_path: Path) -> None:
    spin = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x AS fid, NULL AS geom, 'n' AS name FROM c"
    content = _gpkg(tmp_path, _as_layer("spin", spin))
    assert "view" in refused(api, "spin.gpkg", content, layer="spin")
    assert "view" in refused(api, "spin.gpkg", content, layer="places")  # the view is not run either


def test_view_calling_load_extension_is_422(api: EditApi, tmp_path: Path) -> None:
    content = _gpkg(tmp_path, _as_layer("ext", "SELECT 1 AS fid, load_extension('/nonexistent/x') AS geom"))
    assert "view" in refused(api, "ext.gpkg", content, layer="ext")


def test_unreadable_geopackage_is_422_without_server_paths(api: EditApi, tmp_path: Path) -> None:
    refused(api, "junk.gpkg", b"SQLite format 3\x00" + b"\x07" * 4096)
    refused(api, "text.gpkg", b"not a database at all\n" * 100)
    # A real SQLite database whose layer table is not a valid feature table (GDAL cannot read it).
    content = _gpkg(
        tmp_path,
        [
            "DROP TABLE places",
            "CREATE TABLE places (fid TEXT, geom TEXT)",
            "INSERT INTO places VALUES ('x', 'not a geometry')",
        ],
    )
    refused(api, "broken.gpkg", content)
