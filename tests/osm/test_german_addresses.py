"""House-number geocoding on the SYNTHETIC German extract (tests/osm/synthetic.py): spelling variants."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import shapely
from geopy.distance import geodesic
from shapely.ops import nearest_points

from poi_service.geocode.addresses import AddressGeocoder
from poi_service.geocode.base import GeocodeQuery
from poi_service.geocode.offline import OfflineGeocoder
from poi_service.ingest.refresh import refresh_places
from poi_service.models import Point, Precision
from poi_service.osm.addresses import import_addresses
from poi_service.store import Store, open_store
from tests.conftest import DATA_DIR
from tests.factories import random_places
from tests.osm.synthetic import BUILDING_NUMBER, FLENSBURG, HARRISLEE, write_extract


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("osm") / "harrislee_synthetic.osm.pbf"
    write_extract(path)
    return path


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory, extract: Path) -> Iterator[Store]:
    store = open_store(str(tmp_path_factory.mktemp("store") / "s.gpkg"), DATA_DIR)
    import_addresses(store, extract)
    yield store
    store.close()


@pytest.fixture(scope="module")
def geocoder(loaded: Store) -> AddressGeocoder:
    return AddressGeocoder(OfflineGeocoder(DATA_DIR), loaded.addresses, DATA_DIR)


def _door(number: str, doors: list = HARRISLEE) -> Point:  # type: ignore[type-arg]
    (d,) = [d for d in doors if d.number == number]
    return Point(d.lon, d.lat)


def _m(a: Point, b: Point) -> float:
    return float(geodesic((a.lat, a.lon), (b.lat, b.lon)).meters)


@pytest.mark.parametrize(
    ("text", "number", "confidence"),
    [
        ("Süderstraße 12, 24955 Harrislee", "12", 1.0),
        ("Süderstr. 12, 24955 Harrislee", "12", 1.0),
        ("Suederstrasse 12, Harrislee", "12", 1.0),
        ("SÜDERSTRASSE 12A, 24955 Harrislee", "12a", 1.0),
        ("süder straße 12 a, Harrislee", "12a", 1.0),
        ("Süderstraße 7a, 24955 Harrislee", "7 A", 1.0),
        ("Süderstraße 14-16, 24955 Harrislee", "14-16", 1.0),
        ("Süderstraße 14, 24955 Harrislee", "14-16", 0.95),  # within the range 14-16
        ("Süderstraße 16, Harrislee", "14-16", 0.95),
        ("Grosse Str. 3, 24955 Harrislee", None, 1.0),
    ],
)
def test_spellings_find_the_door(
    geocoder: AddressGeocoder, text: str, number: str | None, confidence: float
) -> None:
    best = geocoder.geocode(GeocodeQuery(text)).best
    assert best is not None and best.precision == Precision.ADDRESS, best
    expected = _door(number) if number else Point(9.3800, 54.8012)
    assert _m(best.point, expected) < 1.0
    assert best.confidence == pytest.approx(confidence)
    assert best.ags == "01059120" and best.postcode == "24955" and best.country == "DE"


def test_structured_fields_and_the_building(geocoder: AddressGeocoder) -> None:
    best = geocoder.geocode(
        GeocodeQuery(None, "Süderstr.", BUILDING_NUMBER, "24955", "Harrislee", None, "DE")
    ).best
    assert best is not None and best.precision == Precision.ADDRESS
    square = shapely.box(9.3876, 54.8001, 9.3878, 54.8002)
    assert square.contains(shapely.Point(best.point.lon, best.point.lat))  # a point inside the building


def test_town_decides_between_namesakes(geocoder: AddressGeocoder) -> None:
    answer = geocoder.geocode(GeocodeQuery("Süderstraße 12"))
    assert answer.best is None and answer.ambiguous  # Harrislee and Flensburg both have a 12
    flens = geocoder.geocode(GeocodeQuery("Süderstraße 12, 24937 Flensburg")).best
    assert flens is not None and _m(flens.point, _door("12", FLENSBURG)) < 1.0
    # Another town's street is no answer: the postcode level stays.
    other = geocoder.geocode(GeocodeQuery("Süderstraße 12, 24941 Flensburg")).best
    assert other is not None
    assert other.precision != Precision.ADDRESS or _m(other.point, _door("12", FLENSBURG)) < 1.0


def test_unknown_number_and_no_number_land_on_the_street(geocoder: AddressGeocoder, loaded: Store) -> None:
    (street,) = [s for s in loaded.addresses.streets("suderstrasse") if s.city == "Harrislee"]
    for text, conf in (("Süderstraße, 24955 Harrislee", 1.0), ("Süderstraße 55, 24955 Harrislee", 0.7)):
        best = geocoder.geocode(GeocodeQuery(text)).best
        assert best is not None and best.precision == Precision.STREET, text
        assert best.confidence == pytest.approx(conf)
        on = nearest_points(street.geometry, shapely.Point(best.point.lon, best.point.lat))[0]
        assert _m(best.point, Point(on.x, on.y)) < 0.5


def test_import_report_counts_the_clipped_way(loaded: Store, extract: Path) -> None:
    report = import_addresses(loaded, extract)  # a re-import replaces, it does not add
    assert report.incomplete_ways == 1 and report.addresses == 13 and report.streets == 3
    assert loaded.addresses.counts().addresses == 13
    only = import_addresses(loaded, extract, area="Flensburg")
    assert only.area == "01001" and only.addresses == 1  # kreisfreie Stadt: the district
    assert loaded.addresses.counts().areas == {"harrislee_synthetic": 13, "01001": 1}


def test_bbox_keeps_the_part_inside(tmp_path: Path, extract: Path) -> None:
    from poi_service.models import BBox

    store = open_store(str(tmp_path / "b.gpkg"), DATA_DIR)
    try:
        report = import_addresses(store, extract, bbox=BBox(9.385, 54.799, 9.3865, 54.801))
        assert report.addresses == 3 and report.outside > 0  # Süderstraße 10, 12 and 12a
        assert sorted(a.housenumber for a in store.addresses.on_street("suderstrasse")) == ["10", "12", "12a"]
    finally:
        store.close()


def test_reverse_names_the_door(geocoder: AddressGeocoder) -> None:
    near = Point(9.3862, 54.80003)  # 3 m north of number 12
    found = geocoder.reverse(near)
    assert found is not None and found.address is not None
    assert (found.address.street, found.address.housenumber) == ("Süderstraße", "12")
    assert found.address.distance_m == pytest.approx(_m(near, _door("12")), abs=0.01)
    assert found.municipality == "Harrislee"
    far = geocoder.reverse(Point(9.3862, 54.8010))  # about 110 m away from every door
    assert far is not None and far.address is None


def test_refresh_improves_coarse_places_and_keeps_pins(loaded: Store, geocoder: AddressGeocoder) -> None:
    from dataclasses import replace

    from poi_service.models import Address, Geocoding

    base = random_places(2, seed=7)
    coarse = replace(
        base[0],
        address=Address("Süderstr.", "12", "24955", "Harrislee"),
        point=Point(9.3833, 54.8),
        geocoding=Geocoding("offline:geonames-plz", Precision.POSTCODE, 1.0, datetime.now(UTC)),
    )
    pinned = replace(
        base[1],
        address=Address("Süderstraße", "18", "24955", "Harrislee"),
        point=Point(9.4, 54.81),
        geocoding=Geocoding("editor", Precision.EXACT, 1.0, datetime.now(UTC)),
    )
    a, b = loaded.places.add(coarse), loaded.places.add(pinned)
    report = refresh_places(loaded, geocoder, at=datetime.now(UTC))
    assert report.changed == 1 and report.improved == {"postcode -> address": 1} and report.pinned >= 1
    moved = loaded.places.get(a.id)
    assert moved.geocoding.precision == Precision.ADDRESS and _m(moved.point, _door("12")) < 1.0
    assert moved.version == 2 and loaded.places.history(a.id)[-1].actor == "cli"
    assert loaded.places.get(b.id).point == Point(9.4, 54.81) and loaded.places.get(b.id).version == 1
    assert refresh_places(loaded, geocoder, at=datetime.now(UTC)).changed == 0  # nothing left to improve


def test_both_backends_answer_alike(store: Store, extract: Path) -> None:
    report = import_addresses(store, extract)
    assert (report.addresses, report.streets, store.addresses.counts().addresses) == (13, 3, 13)
    geocoder = AddressGeocoder(OfflineGeocoder(DATA_DIR), store.addresses, DATA_DIR)
    best = geocoder.geocode(GeocodeQuery("Süderstr. 12 A, 24955 Harrislee")).best
    assert best is not None and best.precision == Precision.ADDRESS and _m(best.point, _door("12a")) < 1.0
    street = geocoder.geocode(GeocodeQuery("Große Straße, Harrislee")).best
    assert street is not None and street.precision == Precision.STREET
    found = geocoder.reverse(Point(9.3862, 54.80003))
    assert found is not None and found.address is not None and found.address.housenumber == "12"


def test_refresh_on_both_backends(store: Store, extract: Path) -> None:
    from dataclasses import replace

    from poi_service.models import Address, Geocoding

    coarse = replace(
        random_places(1, seed=9)[0],
        address=Address("Große Str.", "5", "24955", "Harrislee"),
        point=Point(9.3833, 54.8),
        geocoding=Geocoding("offline:geonames-plz", Precision.POSTCODE, 1.0, datetime.now(UTC)),
    )
    place = store.places.add(coarse, actor="seed")
    import_addresses(store, extract)
    geocoder = AddressGeocoder(OfflineGeocoder(DATA_DIR), store.addresses, DATA_DIR)
    assert refresh_places(store, geocoder, at=datetime.now(UTC), dry_run=True).changed == 1
    assert store.places.get(place.id).version == 1  # a dry run writes nothing
    assert refresh_places(store, geocoder, at=datetime.now(UTC)).improved == {"postcode -> address": 1}
    moved = store.places.get(place.id)
    assert moved.geocoding.precision == Precision.ADDRESS and _m(moved.point, Point(9.3800, 54.8014)) < 1.0
    assert [c.actor for c in store.places.history(place.id)] == ["seed", "cli"]
