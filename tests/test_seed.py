"""Seed loading of the shipped CSVs: every row geocodes, precision is honest, the load is one transaction."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from poi_service.categories import Vocabulary
from poi_service.geocode import OfflineGeocoder
from poi_service.geocode.base import GeocodeAnswer, GeocodeQuery, ReverseResult
from poi_service.ingest.seed import MEMBERS_FILE, PLACES_FILE, load_shipped
from poi_service.models import Point, Precision
from poi_service.store import Store, open_store
from tests.conftest import DATA_DIR


@dataclass
class MemoGeocoder:
    """The offline geocoder with its answers kept, so a second seed run in this module is quick."""

    inner: OfflineGeocoder
    name: str = "offline"
    answers: dict[GeocodeQuery, GeocodeAnswer] = field(default_factory=dict)

    def geocode(self, query: GeocodeQuery) -> GeocodeAnswer:
        if query not in self.answers:
            self.answers[query] = self.inner.geocode(query)
        return self.answers[query]

    def reverse(self, point: Point) -> ReverseResult | None:
        return self.inner.reverse(point)


def _csv(relative: Path) -> list[dict[str, str]]:
    with (DATA_DIR / relative).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def geocoder() -> MemoGeocoder:
    return MemoGeocoder(OfflineGeocoder(DATA_DIR))


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, geocoder: MemoGeocoder) -> Iterator[Store]:
    store = open_store(str(tmp_path_factory.mktemp("seed") / "seed.gpkg"), DATA_DIR)
    load_shipped(store, DATA_DIR, geocoder)
    yield store
    store.close()


class Boom(RuntimeError):
    """Raised by a progress callback to simulate a crash in the middle of the write."""


def test_every_shipped_row_is_loaded(seeded: Store) -> None:
    assert seeded.places.count() == len(_csv(PLACES_FILE)) == 22
    assert (
        seeded.memberships.count() == len(_csv(MEMBERS_FILE)) > 0
    )  # every shipped row, counted from the file


def test_place_precision_is_honest(seeded: Store) -> None:
    rows = {r["name"]: r for r in _csv(PLACES_FILE)}
    places = {p.name: p for p in seeded.places.iter_all()}
    assert places.keys() == rows.keys()
    exact = 0
    for name, place in places.items():
        row = rows[name]
        if row["lat"]:
            exact += 1
            assert place.geocoding.precision == Precision.EXACT
            assert (place.point.lat, place.point.lon) == (float(row["lat"]), float(row["lon"]))
            assert place.geocoding.source == "input: " + row["coord_source"]
        else:  # the offline gazetteer knows postcodes and municipalities, never streets
            assert place.geocoding.precision.rank >= Precision.POSTCODE.rank, name
            assert place.geocoding.source.startswith("offline:")
        assert place.address.ags in {"01059120", "01001000"}
        assert place.address.ags == ("01059120" if row["locality"] == "Harrislee" else "01001000"), name
        assert place.source == row["source_url"]
        assert place.address.postcode == (row["postcode"] or None)  # never filled in by the geocoder
    assert exact == 3


def test_place_fields_are_mapped(seeded: Store) -> None:
    vocabulary = Vocabulary.load()
    rows = {r["name"]: r for r in _csv(PLACES_FILE)}
    for place in seeded.places.iter_all():
        row = rows[place.name]
        match = vocabulary.match(row["category"])
        assert match is not None and place.category == match.slug
        assert place.external_key is not None and place.external_key.startswith("places:")
    by_name = {p.name: p for p in seeded.places.iter_all()}
    assert by_name["Tischlerei & Glas Neumann"].phone == "+4946174048"
    assert by_name["Tischlerei & Glas Neumann"].category == "craft_business"
    assert by_name["Stolperstein Ferdinand Janns"].category == "stolperstein"
    assert by_name["Ehem. Ziegelei Katharinenhof (1739) bei Harrisleefeld"].category == "historic_site"


def test_membership_fields(seeded: Store) -> None:
    rows = {(r["alliance"], r["country"], r["name"]): r for r in _csv(MEMBERS_FILE)}
    for m in seeded.memberships.iter_all():
        mu = m.municipality
        row = rows[(m.alliance.value, mu.country, mu.name)]
        assert m.external_key == f"alliance:{m.alliance.value}:{mu.country}:{mu.name}"
        assert m.role.value == row["role"] and mu.kind == row["kind"]
        if mu.country != "DE":
            assert mu.ags is None and m.geocoding.precision == Precision.MUNICIPALITY
        elif row["kind"] in ("Landkreis", "other"):
            assert mu.ags is not None and len(mu.ags) == 5
            assert m.geocoding.precision == Precision.DISTRICT
        else:
            assert mu.ags is not None and len(mu.ags) == 8
            assert m.geocoding.precision == Precision.MUNICIPALITY
        if mu.country == "DE":
            assert mu.state == row["state"]
        if "/" in row["joined"]:  # '2018/2019': unknown which year, so unknown
            assert m.joined is None
        elif row["joined"]:
            assert m.joined is not None and m.joined.isoformat().startswith(row["joined"])
            assert m.joined_precision is not None
    potsdam = next(m for m in seeded.memberships.iter_all() if m.municipality.name == "Potsdam")
    assert potsdam.municipality.ags == "12054000"


def test_crash_in_the_write_leaves_the_store_unchanged(
    seeded: Store, geocoder: MemoGeocoder, tmp_path: Path
) -> None:
    store = open_store(str(tmp_path / "crash.gpkg"), DATA_DIR)

    def crash(stage: str, done: int, total: int) -> None:
        if stage == "write memberships" and done == 100:
            raise Boom("simulated crash")

    try:
        with pytest.raises(Boom):
            load_shipped(store, DATA_DIR, geocoder, crash)
        assert store.places.count() == 0  # the places written before the crash were rolled back
        assert store.memberships.count() == 0
        load_shipped(store, DATA_DIR, geocoder)
        ids = {p.id for p in seeded.places.iter_all()}
        assert {p.id for p in store.places.iter_all()} == ids  # ids derive from the external keys
    finally:
        store.close()


def test_replace_reloads_in_place(geocoder: MemoGeocoder, tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "replace.gpkg"), DATA_DIR)
    try:
        first = load_shipped(store, DATA_DIR, geocoder)
        ids = sorted(m.id for m in store.memberships.iter_all())
        again = load_shipped(store, DATA_DIR, geocoder, replace=True)
        members = len(_csv(MEMBERS_FILE))
        assert (again.places, again.memberships, again.removed) == (22, members, 22 + members)
        assert first.precision == again.precision
        assert sorted(m.id for m in store.memberships.iter_all()) == ids
        assert again.precision["places"] == {"exact": 3, "postcode": 14, "municipality": 5}
    finally:
        store.close()
