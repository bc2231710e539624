"""import_file over real GeoPackage stores: all or nothing, line-numbered errors, dry runs, upserts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from shapely.geometry import Point as ShapelyPoint
from shapely.geometry import Polygon

from poi_service.errors import ImportFailed
from poi_service.geocode import OfflineGeocoder
from poi_service.ingest.importer import import_file
from poi_service.models import Precision
from poi_service.store import Store, open_store
from tests.conftest import DATA_DIR

HEADER = "name,category,street,housenumber,postcode,locality,phone,website,description,lat,lon,source\n"
GOOD_ROWS = (
    "Fahrschule Simonsen,Fahrschule,Süderstraße,66,24955,Harrislee,0461 - 50 90 00 99,,,,,seed\n"
    "Ziegelei Katharinenhof,historic site,,,24955,Harrislee,,,,54.801944,9.405556,wikipedia\n"
    "Stolperstein Gustav Schreiber,Stolperstein,Holm,39,,Flensburg,,https://example.org/s,,,,fl2020\n"
)


@pytest.fixture(scope="module")
def geocoder() -> OfflineGeocoder:
    return OfflineGeocoder(DATA_DIR)


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(str(tmp_path / "import.gpkg"), DATA_DIR)
    yield s
    s.close()


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def snapshot(store: Store) -> tuple[int, int, list[tuple[str, str, float, float]]]:
    places = sorted((p.id, p.name, p.point.lon, p.point.lat) for p in store.places.iter_all())
    return store.places.count(), store.memberships.count(), places


def test_csv_import_geocodes_and_keeps_given_points(
    store: Store, geocoder: OfflineGeocoder, tmp_path: Path
) -> None:
    report = import_file(store, write(tmp_path / "p.csv", HEADER + GOOD_ROWS), geocoder)
    assert (report.rows, report.new, report.updated, report.written) == (3, 3, 0, 3)
    assert report.precision == {"exact": 1, "postcode": 1, "municipality": 1}
    places = {p.name: p for p in store.places.iter_all()}
    brick = places["Ziegelei Katharinenhof"]
    assert (brick.point.lat, brick.point.lon) == (54.801944, 9.405556)
    assert brick.geocoding.precision == Precision.EXACT and brick.geocoding.source == "input"
    assert brick.address.ags == "01059120"
    school = places["Fahrschule Simonsen"]
    assert school.geocoding.precision == Precision.POSTCODE and school.phone == "+4946150900099"
    assert school.source == "seed" and school.address.ags == "01059120"
    stone = places["Stolperstein Gustav Schreiber"]
    assert stone.geocoding.precision == Precision.MUNICIPALITY and stone.address.ags == "01001000"
    assert stone.website == "https://example.org/s"


def test_reimport_is_idempotent(store: Store, geocoder: OfflineGeocoder, tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", HEADER + GOOD_ROWS)
    import_file(store, path, geocoder)
    before = snapshot(store)
    report = import_file(store, path, geocoder)
    assert (report.new, report.updated, report.unchanged, report.written) == (0, 0, 3, 0)
    assert snapshot(store) == before
    moved = GOOD_ROWS.replace("54.801944", "54.802")  # one row changes, two stay as stored
    report = import_file(store, write(tmp_path / "moved.csv", HEADER + moved), geocoder)
    assert (report.new, report.updated, report.unchanged, report.written) == (0, 1, 2, 1)
    assert max(p.version for p in store.places.iter_all()) == 2


def test_bad_row_names_its_line_and_writes_nothing(
    store: Store, geocoder: OfflineGeocoder, tmp_path: Path
) -> None:
    import_file(store, write(tmp_path / "first.csv", HEADER + GOOD_ROWS), geocoder)
    before = snapshot(store)
    bad = HEADER + GOOD_ROWS.replace("Fahrschule Simonsen", "Fahrschule Neu").replace(
        "Holm,39,,Flensburg", "Holm,39,2493,Flensburg"
    )  # line 4 is the third record
    with pytest.raises(ImportFailed) as info:
        import_file(store, write(tmp_path / "bad.csv", bad), geocoder)
    assert [p.name for p in info.value.invalid_params] == ["line 4: postcode"]
    assert "1 of 3 rows refused" in info.value.detail
    assert snapshot(store) == before


def test_line_numbers_follow_the_file(store: Store, geocoder: OfflineGeocoder, tmp_path: Path) -> None:
    text = (
        HEADER
        + 'Kirche,Kirche,Süderstraße,102,24955,Harrislee,,,"zwei\nZeilen",,,src\n'  # lines 2-3
        + "\n"  # line 4 is blank
        + "Schule,Schule,,,24955,Harrislee,,,,54.8,,src\n"  # line 5: lon missing
        + "Nirgendwo,Sonstiges,,,,Xyzzyhausen,,,,,,src\n"  # line 6: unknown place
        + "Halle,Spielhalle,,,24955,Harrislee,,,,,,src\n"  # line 7: unknown category
    )
    with pytest.raises(ImportFailed) as info:
        import_file(store, write(tmp_path / "lines.csv", text), geocoder)
    names = [p.name for p in info.value.invalid_params]
    assert names == ["line 5: lon", "line 6: address", "line 7: category"]
    assert store.places.count() == 0


def test_dry_run_writes_nothing(store: Store, geocoder: OfflineGeocoder, tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", HEADER + GOOD_ROWS)
    report = import_file(store, path, geocoder, dry_run=True)
    assert (report.new, report.updated, report.unchanged, report.written, report.dry_run) == (
        3,
        0,
        0,
        0,
        True,
    )
    assert store.places.count() == 0
    import_file(store, write(tmp_path / "one.csv", HEADER + GOOD_ROWS.splitlines(True)[0]), geocoder)
    report = import_file(store, path, geocoder, dry_run=True)
    assert (report.new, report.updated, report.unchanged) == (2, 0, 1)
    assert report.precision == {"exact": 1, "postcode": 1, "municipality": 1}
    assert store.places.count() == 1


def test_crash_mid_write_leaves_store_unchanged(
    store: Store, geocoder: OfflineGeocoder, tmp_path: Path
) -> None:
    import_file(store, write(tmp_path / "first.csv", HEADER + GOOD_ROWS.splitlines(True)[0]), geocoder)
    before = snapshot(store)

    def crash(stage: str, done: int, total: int) -> None:
        if stage == "write" and done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_file(store, write(tmp_path / "p.csv", HEADER + GOOD_ROWS), geocoder, progress=crash)
    assert snapshot(store) == before


def test_duplicate_keys_and_missing_columns_are_refused(
    store: Store, geocoder: OfflineGeocoder, tmp_path: Path
) -> None:
    row = GOOD_ROWS.splitlines(True)[0]
    with pytest.raises(ImportFailed) as info:
        import_file(store, write(tmp_path / "dup.csv", HEADER + row + row), geocoder)
    assert [p.name for p in info.value.invalid_params] == ["line 3: external_key"]
    with pytest.raises(ImportFailed, match="missing column"):
        import_file(store, write(tmp_path / "cols.csv", "title,category\nA,Kirche\n"), geocoder)
    with pytest.raises(ImportFailed, match="unsupported"):
        import_file(store, write(tmp_path / "x.txt", "name\n"), geocoder)
    assert store.places.count() == 0


def test_geojson_import(store: Store, geocoder: OfflineGeocoder, tmp_path: Path) -> None:
    features: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [9.395, 54.7975]},
            "properties": {
                "name": "Ziegelei Hechtenteich",
                "category": "historic site",
                "locality": "Harrislee",
                "external_key": "wiki:hechtenteich",
            },
        },
        {
            "type": "Feature",
            "geometry": None,
            "properties": {
                "name": "Bürgerhaus",
                "category": "Verwaltung",
                "street": "Süderstraße",
                "housenumber": "101",
                "postcode": "24955",
                "locality": "Harrislee",
            },
        },
    ]
    path = tmp_path / "p.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    report = import_file(store, path, geocoder)
    assert report.precision == {"exact": 1, "postcode": 1}
    keys = {p.external_key for p in store.places.iter_all()}
    assert "wiki:hechtenteich" in keys and len(keys) == 2
    polygon = {"type": "Polygon", "coordinates": [[[9, 54], [9.1, 54], [9.1, 54.1], [9, 54]]]}
    features[1]["geometry"] = polygon
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    with pytest.raises(ImportFailed) as info:
        import_file(store, path, geocoder)
    assert [p.name for p in info.value.invalid_params] == ["feature 2: geometry"]


def test_geopackage_import_reprojects(store: Store, geocoder: OfflineGeocoder, tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {
            "name": ["Ziegelei Am Teich", "Versöhnungskirche"],
            "category": ["historic site", "Kirche"],
            "postcode": ["24955", "24955"],
            "locality": ["Harrislee", "Harrislee"],
        },
        geometry=[ShapelyPoint(9.401389, 54.798889), None],
        crs="EPSG:4326",
    ).to_crs(25832)
    path = tmp_path / "p.gpkg"
    frame.to_file(path, layer="mine", driver="GPKG")
    report = import_file(store, path, geocoder)
    assert report.precision == {"exact": 1, "postcode": 1}
    brick = next(p for p in store.places.iter_all() if p.name == "Ziegelei Am Teich")
    assert brick.point.lat == pytest.approx(54.798889, abs=1e-9)
    assert brick.point.lon == pytest.approx(9.401389, abs=1e-9)
    bad = gpd.GeoDataFrame(
        {"name": ["Feld"], "category": ["Sonstiges"]},
        geometry=[Polygon([(9, 54), (9.1, 54), (9.1, 54.1)])],
        crs="EPSG:4326",
    )
    bad.to_file(tmp_path / "bad.gpkg", layer="x", driver="GPKG")
    with pytest.raises(ImportFailed) as info:
        import_file(store, tmp_path / "bad.gpkg", geocoder)
    assert [p.name for p in info.value.invalid_params] == ["row 1: geometry"]
    assert store.places.count() == 2


def test_membership_import(store: Store, geocoder: OfflineGeocoder, tmp_path: Path) -> None:
    text = (
        "name,kind,state,country,alliance,joined,role,source_url\n"
        "Potsdam,Stadt,Brandenburg,DE,buendnis,2019-06-14,coordinator,https://potsdam.de/x\n"
        "Landkreis Göttingen,Landkreis,Niedersachsen,DE,seebruecke_declared,2020-03,member,https://a.de\n"
        "Palermo,Stadt,,IT,international,2021-06-25,coordinator,https://iash-eu.org\n"
    )
    path = write(tmp_path / "m.csv", text)
    report = import_file(store, path, geocoder, kind="memberships")
    assert report.precision == {"municipality": 2, "district": 1}
    members = {m.municipality.name: m for m in store.memberships.iter_all()}
    assert members["Potsdam"].municipality.ags == "12054000"
    assert members["Potsdam"].external_key == "alliance:buendnis:DE:Potsdam"
    assert members["Landkreis Göttingen"].municipality.ags == "03159"
    assert members["Palermo"].municipality.ags is None
    again = import_file(store, path, geocoder, kind="memberships")
    assert (again.new, again.updated, again.unchanged, again.written) == (0, 0, 3, 0)
    assert store.memberships.count() == 3
    bad = text + "Atlantis,Stadt,Bayern,DE,buendnis,2020,member,https://a.de\n"
    with pytest.raises(ImportFailed) as info:
        import_file(store, write(tmp_path / "bad.csv", bad), geocoder, kind="memberships")
    assert [p.name for p in info.value.invalid_params] == ["line 5: name"]
