"""The fast CSV import equals the plain path: same records, history, report and refusals, on both backends.

The plain path is today's per-row code: every text cell through Fields.text's full checks (cells
wrapped in a str subclass skip the fast path) and one geocoder call per point near a border
(`plain_stated_ags`, the former build._stated_ags).
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely

from bench.import_bench import write_csv
from poi_service.boundaries import NEAREST_FALLBACK_DEG, Boundaries
from poi_service.config import Settings
from poi_service.errors import ImportFailed
from poi_service.geocode import make_geocoder
from poi_service.geocode.addresses import AddressGeocoder
from poi_service.geocode.base import GeocodeQuery, Geocoder
from poi_service.geocode.housenumbers import street_match_key
from poi_service.ingest import build, importer, overlap
from poi_service.ingest.importer import ImportReport, import_file
from poi_service.ingest.readers import Table, read_table
from poi_service.models import Point, Precision
from poi_service.store import Store, open_store
from poi_service.store.base import AddressPoint
from tests.conftest import DATA_DIR, backend_params

ROWS = 3000
# Rows every import test knows to refuse, each a different rule (appended to the generated rows).
BAD_ROWS = (
    "Ort bad phone,church,,,24937,Flensburg,1,,,54.78,9.43,SYNTHETIC,,\n"
    "\u200b\u200b,church,,,24937,Flensburg,,,,54.78,9.43,SYNTHETIC,,\n"  # invisible name
    "Ort bidi \u202e,church,,,24937,Flensburg,,,,54.78,9.43,SYNTHETIC,,\n"
    "Ort filler,church,\u3164,,24937,Flensburg,,,,54.78,9.43,SYNTHETIC,,\n"  # Hangul filler street
    "Ort bad postcode,church,,,2493,Flensburg,,,,54.78,9.43,SYNTHETIC,,\n"
    "Ort half point,church,,,24937,Flensburg,,,,54.78,,SYNTHETIC,,\n"
    "Ort no place,church,,,,,,,,,,SYNTHETIC,,\n"  # no coordinates, nothing to geocode
    "Ort far,church,,,24937,Flensburg,,,,95,9.43,SYNTHETIC,,\n"
    "Ort bad url,church,,,24937,Flensburg,,ftp://x,,54.78,9.43,SYNTHETIC,,\n"
    "Ort bad category,no such thing,,,24937,Flensburg,,,,54.78,9.43,SYNTHETIC,,\n"
    "Ort 5,stolperstein,Kirchweg,3,24937,Flensburg,,,,54.78,9.43,SYNTHETIC,,\n"
    "Ort 5,stolperstein,Kirchweg,3,24937,Flensburg,,,,54.79,9.43,SYNTHETIC,,\n"  # duplicate key
    "Ort wheel,church,,,24937,Flensburg,,,,54.78,9.43,SYNTHETIC,,sometimes\n"
    "Ort long,church,,,24937,Flensburg,,,,54.78,9.43," + "x" * 2001 + ",,\n"
    "Ort tab,church,a\tb,,24937,Flensburg,,,,54.78,9.43,SYNTHETIC,,\n"
    " ,church,,,24937,Flensburg,,,,54.78,9.43,SYNTHETIC,,\n"  # blank name
)
STAMPS = ("created_at", "updated_at", "geocoded_at")


class Cell(str):
    """A CSV cell that Fields.text does not take for plain text (so it runs every check)."""

    __slots__ = ()


def plain_table(path: Path, layer: str | None = None, prefer: str | None = None) -> Table:
    """read_table with every text cell wrapped as a Cell."""
    table = read_table(path, layer, prefer)
    rows = [
        build.RawRow(
            r.where, {k: Cell(v) if isinstance(v, str) else v for k, v in r.fields.items()}, r.problems
        )
        for r in table.rows
    ]
    return Table(rows, table.columns)


def plain_stated_ags(places: Any, towns: Any, boundaries: Boundaries) -> list[str | None]:
    """The former per-row lookup: one geocoder call per point near the border of its municipality."""
    geocoder: Geocoder = towns.geocoder
    out: list[str | None] = []
    for p in places:
        found = boundaries.municipality_ags(np.array([p.point.lon]), np.array([p.point.lat]))[0]
        a = p.fields.address
        area = boundaries.get(found) if found else None
        point = shapely.Point(p.point.lon, p.point.lat)
        if (
            area is None
            or not (a.postcode or a.locality)
            or area.geometry.boundary.distance(point) > NEAREST_FALLBACK_DEG
        ):
            out.append(found)
            continue
        query = GeocodeQuery(None, a.street, a.housenumber, a.postcode, a.locality, None, "DE")
        best = geocoder.geocode(query).best
        stated = best.ags if best and best.ags and len(best.ags) == 8 and best.confidence >= 1.0 else None
        stated_area = boundaries.get(stated) if stated and stated != found else None
        if stated_area is None or stated_area.geometry.distance(point) > NEAREST_FALLBACK_DEG:
            out.append(found)
        else:
            out.append(stated)
    return out


@pytest.fixture(params=backend_params())
def two_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """Two empty stores of one backend: one for the fast import, one for the plain one."""
    if request.param == "sqlite":
        urls = [str(tmp_path / "fast.gpkg"), str(tmp_path / "plain.gpkg")]
    else:
        from tests.pg import fresh_database_url

        urls = [fresh_database_url(), fresh_database_url()]
    stores = [open_store(u, DATA_DIR) for u in urls]
    try:
        yield stores[0], stores[1]
    finally:
        for s in stores:
            s.close()


@pytest.fixture(scope="module")
def good_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("equal") / "places.csv"
    write_csv(path, ROWS, seed=7)
    return path


def run(
    store: Store, path: Path, monkeypatch: pytest.MonkeyPatch, *, plain: bool, overlapped: bool = True
) -> ImportReport | ImportFailed:
    """import_file as the CLI calls it (offline geocoder over the store's address index); the fast path
    with writes overlapping the checks (chunks of 700 rows) unless told otherwise."""
    with monkeypatch.context() as m:
        if not plain and overlapped:
            m.setattr(overlap, "CHUNK", 700)
            m.setattr(overlap, "MIN_ROWS", 1000)
            m.setattr(overlap, "can_overlap", lambda rows, g: _overlapping(rows, g))
        if plain:
            m.setattr(importer, "read_table", plain_table)
            m.setattr(build, "_stated_ags", plain_stated_ags)
        geocoder = make_geocoder(Settings(data_dir=DATA_DIR), store, store.addresses)
        try:
            return import_file(store, path, geocoder, data_dir=DATA_DIR, actor="cli")
        except ImportFailed as exc:
            return exc


def _overlapping(rows: Any, geocoder: Geocoder) -> bool:
    """overlap.can_overlap, insisting on yes (the test is about that path)."""
    assert len(rows) >= overlap.MIN_ROWS and isinstance(geocoder, AddressGeocoder)
    return True


def stored(store: Store) -> list[dict[str, Any]]:
    """Every stored place, field by field (timestamps of the run aside), with its history."""
    out = []
    for p in sorted(store.places.iter_all(), key=lambda p: p.id):
        record = dataclasses.asdict(p)
        for key in STAMPS:
            record.pop(key, None)
        record["geocoding"].pop("at")
        changes = [
            (c.record_id, c.version, c.action, c.actor, _unstamped(c.before), _unstamped(c.after))
            for c in store.places.history(p.id)
        ]
        out.append({**record, "history": changes})
    return out


def _unstamped(state: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if state is None else {k: v for k, v in state.items() if k not in STAMPS}


@pytest.mark.parametrize("overlapped", [True, False])
def test_fast_import_stores_what_the_plain_path_stores(
    two_stores: tuple[Store, Store], good_csv: Path, monkeypatch: pytest.MonkeyPatch, overlapped: bool
) -> None:
    fast_store, plain_store = two_stores
    fast = run(fast_store, good_csv, monkeypatch, plain=False, overlapped=overlapped)
    plain = run(plain_store, good_csv, monkeypatch, plain=True)
    assert isinstance(fast, ImportReport) and isinstance(plain, ImportReport)
    assert fast == plain
    assert fast.written == ROWS
    fast_rows, plain_rows = stored(fast_store), stored(plain_store)
    assert len(fast_rows) == ROWS
    assert fast_rows == plain_rows
    # The rows near a border did take their address's municipality somewhere (the case is exercised).
    boundaries = Boundaries.load(DATA_DIR)
    lons, lats = (np.array([r["point"][c] for r in fast_rows]) for c in ("lon", "lat"))
    inside = boundaries.municipality_ags(lons, lats)
    assert any(r["address"]["ags"] != a for r, a in zip(fast_rows, inside, strict=True))


def test_fast_import_refuses_what_the_plain_path_refuses(
    two_stores: tuple[Store, Store], good_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(good_csv.read_text(encoding="utf-8") + BAD_ROWS, encoding="utf-8")
    fast_store, plain_store = two_stores
    fast = run(fast_store, bad, monkeypatch, plain=False)
    plain = run(plain_store, bad, monkeypatch, plain=True)
    assert isinstance(fast, ImportFailed) and isinstance(plain, ImportFailed)
    assert fast.detail == plain.detail
    assert [(p.name, p.reason) for p in fast.invalid_params] == [
        (p.name, p.reason) for p in plain.invalid_params
    ]
    assert len({p.name.split(":")[0] for p in fast.invalid_params}) >= 15, fast.invalid_params
    assert fast_store.places.count() == plain_store.places.count() == 0


def test_fast_reimport_updates_like_the_plain_path(
    two_stores: tuple[Store, Store], good_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second import changing every third row: same updates, unchanged rows and history on both paths."""
    lines = good_csv.read_text(encoding="utf-8").splitlines(keepends=True)
    changed = [
        line.replace(",SYNTHETIC,", ",SYNTHETIC (revised),") if i % 3 == 1 else line
        for i, line in enumerate(lines)
    ]
    second = tmp_path / "second.csv"
    second.write_text("".join(changed), encoding="utf-8")
    fast_store, plain_store = two_stores
    results = []
    for store, plain in ((fast_store, False), (plain_store, True)):
        assert isinstance(run(store, good_csv, monkeypatch, plain=plain), ImportReport)
        results.append(run(store, second, monkeypatch, plain=plain))
    fast, plain_report = results
    assert isinstance(fast, ImportReport) and fast == plain_report
    assert (fast.updated, fast.unchanged) == (ROWS // 3, ROWS - ROWS // 3)
    assert stored(fast_store) == stored(plain_store)


def test_fast_import_with_an_address_index_asks_per_address(
    two_stores: tuple[Store, Store], good_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With OSM addresses in the store the street matters: one geocoder call per distinct address, same answers."""
    rows = list(csv.DictReader(good_csv.open(encoding="utf-8")))[:300]
    addresses = [
        AddressPoint(
            r["street"],
            street_match_key(r["street"]),
            r["housenumber"],
            Point(float(r["lon"]) + 0.01, float(r["lat"])),  # a door elsewhere: the answer is the index's
            r["postcode"],
            r["locality"],
            None,
            f"n{i}",
        )
        for i, r in enumerate(rows)
    ]
    for store in two_stores:
        store.addresses.replace_area("test", addresses, [])
    geocoder = make_geocoder(Settings(data_dir=DATA_DIR), two_stores[0], two_stores[0].addresses)
    assert build._town_geocoder(geocoder, build.MANY_QUERIES) == (geocoder, False)
    r = rows[0]
    query = GeocodeQuery(None, r["street"], r["housenumber"], r["postcode"], r["locality"], None, "DE")
    answer = geocoder.geocode(query).best
    assert answer is not None and answer.precision == Precision.ADDRESS
    fast_store, plain_store = two_stores
    fast = run(fast_store, good_csv, monkeypatch, plain=False, overlapped=False)
    plain = run(plain_store, good_csv, monkeypatch, plain=True)
    assert isinstance(fast, ImportReport) and fast == plain
    assert stored(fast_store) == stored(plain_store)
