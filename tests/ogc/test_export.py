"""GET /export/{places|memberships}.{geojson|csv|gpkg}: complete, typed, spreadsheet-safe, and readable by
geopandas (GeoPackage and GeoJSON) and the csv module."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely

from tests.api.test_bad_input import assert_problem
from tests.ogc.conftest import FORMULA_NAMES, Ogc

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize("kind", ["places", "memberships"])
def test_csv_has_coordinates_wkt_and_no_formulas(ogc: Ogc, kind: str) -> None:
    r = ogc.client.get(f"/export/{kind}.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert f'filename="{kind}.csv"' in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    records = ogc.places() if kind == "places" else ogc.members()
    assert len(rows) == len(records) and {"id", "lat", "lon", "wkt"} <= set(rows[0])
    by_id = {rec.id: rec for rec in records}
    for row in rows:
        rec = by_id[row["id"]]
        assert (float(row["lon"]), float(row["lat"])) == (rec.point.lon, rec.point.lat)
        assert shapely.from_wkt(row["wkt"]).equals(shapely.Point(rec.point.lon, rec.point.lat))
        for column, value in row.items():
            if column not in ("lat", "lon", "geocode_confidence"):
                assert not value.startswith(FORMULA_START), (column, value)
    if kind == "places":
        names = {row["name"] for row in rows}
        assert {"'" + n for n in FORMULA_NAMES} <= names


def test_geojson_export_is_the_api_form(ogc: Ogc) -> None:
    r = ogc.client.get("/export/places.geojson")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    frame = gpd.read_file(io.BytesIO(r.content))
    assert len(frame) == len(ogc.places()) and set(frame.geom_type) == {"Point"}


@pytest.mark.parametrize("kind", ["places", "memberships"])
def test_geopackage_opens_in_geopandas(ogc: Ogc, kind: str, tmp_path: Path) -> None:
    r = ogc.client.get(f"/export/{kind}.gpkg")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geopackage+sqlite3"
    path = tmp_path / f"{kind}.gpkg"
    path.write_bytes(r.content)
    assert [str(n) for n, _ in pyogrio.list_layers(path)] == [kind]
    frame = gpd.read_file(path, layer=kind)
    records = ogc.places() if kind == "places" else ogc.members()
    assert len(frame) == len(records) and frame.crs.to_epsg() == 4326
    points = {rec.id: (rec.point.lon, rec.point.lat) for rec in records}
    assert all((g.x, g.y) == points[i] for i, g in zip(frame["id"], frame.geometry, strict=True))


@pytest.mark.parametrize("path", ["/export/places.xlsx", "/export/people.csv", "/export/places"])
def test_unknown_exports_are_404(ogc: Ogc, path: str) -> None:
    assert_problem(ogc.client.get(path), 404, None)
