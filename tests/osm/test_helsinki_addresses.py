"""House-number geocoding on the real Helsinki extract (© OpenStreetMap contributors, ODbL).

The reference is read here independently with pyosmium: every address node, every named street way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import osmium
import pytest
import shapely
from geopy.distance import geodesic
from shapely.ops import nearest_points

from poi_service.geocode.addresses import AddressGeocoder
from poi_service.geocode.base import GeocodeQuery
from poi_service.geocode.offline import OfflineGeocoder
from poi_service.models import Point, Precision
from poi_service.osm.addresses import import_addresses
from poi_service.store import Store, open_store
from tests.conftest import DATA_DIR

EXTRACT = Path(__file__).resolve().parent.parent / "data" / "osm" / "helsinki_centre.osm.pbf"
Key = tuple[str, str, str]  # street, house number, city ('' when untagged)


def _reference() -> tuple[dict[Key, list[Point]], dict[str, list[shapely.LineString]]]:
    doors: dict[Key, list[Point]] = defaultdict(list)
    streets: dict[str, list[shapely.LineString]] = defaultdict(list)
    for obj in osmium.FileProcessor(str(EXTRACT)).with_locations():
        tags = obj.tags
        if obj.is_node() and "addr:housenumber" in tags and "addr:street" in tags:
            key = (tags["addr:street"], tags["addr:housenumber"], tags.get("addr:city", ""))
            doors[key].append(Point(obj.location.lon, obj.location.lat))
        elif (
            obj.is_way()
            and "highway" in tags
            and "name" in tags
            and all(n.location.valid() for n in obj.nodes)
        ):
            streets[tags["name"]].append(shapely.LineString([(n.lon, n.lat) for n in obj.nodes]))
    # Some addresses are tagged on several entrances, not all with addr:city: any of them is the address.
    merged: dict[Key, list[Point]] = defaultdict(list)
    cities = {(k[0], k[1]): k[2] for k in sorted(doors) if k[2]}
    for (street, number, city), points in doors.items():
        merged[(street, number, city or cities.get((street, number), ""))].extend(points)
    return merged, streets


REFERENCE = _reference()


def _m(a: Point, b: Point) -> float:
    return float(geodesic((a.lat, a.lon), (b.lat, b.lon)).meters)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = open_store(str(tmp_path_factory.mktemp("helsinki") / "s.gpkg"), DATA_DIR)
    report = import_addresses(store, EXTRACT)
    assert report.incomplete_ways > 0  # the extract is clipped: its border ways were skipped, not guessed
    yield store
    store.close()


@pytest.fixture(scope="module")
def geocoder(loaded: Store) -> AddressGeocoder:
    return AddressGeocoder(OfflineGeocoder(DATA_DIR), loaded.addresses, DATA_DIR)


def test_every_address_node_lands_within_25_m(geocoder: AddressGeocoder) -> None:
    doors, _ = REFERENCE
    odd = [k for k in doors if not k[1].isdigit()]
    assert len(doors) > 500 and any(" " in k[1] for k in odd) and any("-" in k[1] for k in odd)
    misses = []
    for (street, number, city), points in doors.items():
        if not number[:1].isdigit():
            continue  # 'Keskuskatu 5' as the number of 'Pohjoisesplanadi 33': a corner, tagged oddly
        city = city if any(c.isalpha() for c in city) else ""  # addr:city=7 is a tagging error
        text = f"{street} {number}" + (f", {city}" if city else "")
        # A comma in a tag ("Kaivopiha, Mannerheimintie", "8, 2. krs.") only survives as a structured field.
        query = (
            GeocodeQuery(None, street, number, None, city or None)
            if "," in street + number
            else GeocodeQuery(text)
        )
        best = geocoder.geocode(query).best
        if best is None or best.precision != Precision.ADDRESS:
            misses.append((street, number, city, best))
            continue
        # A number tagged on several nodes (entrances) is found at one of them.
        assert min(_m(best.point, p) for p in points) <= 25.0, (street, number)
    assert not misses, misses[:10]


def test_odd_numbers_in_other_spellings(geocoder: AddressGeocoder) -> None:
    doors, _ = REFERENCE
    spaced = [k for k in doors if " " in k[1] and k[1].split()[0].isdigit()][:20]  # '7 A'
    ranged = [k for k in doors if "-" in k[1]][:20]  # '12-14'
    assert spaced and ranged
    for street, number, city in spaced:
        best = geocoder.geocode(
            GeocodeQuery(None, street.upper(), number.replace(" ", "").lower(), None, city)
        ).best
        assert best is not None and best.precision == Precision.ADDRESS
        assert min(_m(best.point, p) for p in doors[(street, number, city)]) <= 25.0
    for street, number, city in ranged:
        first = number.split("-")[0]
        if (street, first, city) in doors:
            continue  # the first number has its own door
        best = geocoder.geocode(GeocodeQuery(f"{street} {first}, {city}")).best
        assert best is not None and best.precision == Precision.ADDRESS, (street, first)
        assert min(_m(best.point, p) for p in doors[(street, number, city)]) <= 25.0


def test_a_street_without_number_lands_on_the_street(geocoder: AddressGeocoder) -> None:
    _, streets = REFERENCE
    names = sorted(streets)[::5][:25]
    for name in names:
        best = geocoder.geocode(GeocodeQuery(f"{name}, Helsinki")).best
        if best is None or best.precision != Precision.STREET:
            continue  # a street whose addresses name another town (a district) is matched by those
        lines = shapely.union_all(streets[name])
        on = nearest_points(lines, shapely.Point(best.point.lon, best.point.lat))[0]
        assert _m(best.point, Point(on.x, on.y)) < 1.0, name
    found = [geocoder.geocode(GeocodeQuery(f"{n}, Helsinki")).best for n in names]
    assert sum(1 for b in found if b is not None and b.precision == Precision.STREET) >= len(names) * 0.8


def test_reverse_names_the_door(geocoder: AddressGeocoder) -> None:
    doors, _ = REFERENCE
    for (street, number, _city), points in list(doors.items())[::40]:
        p = points[0]
        near = Point(p.lon + 0.00005, p.lat)  # about 3 m east
        found = geocoder.reverse(near)
        assert found is not None and found.address is not None and found.country == "FI"
        assert found.address.distance_m <= _m(near, p) + 1e-6
        all_doors = [(q, k) for k, ps in doors.items() for q in ps]
        nearest_key = min(all_doors, key=lambda t: _m(near, t[0]))[1]
        if found.address.distance_m > 1e-3 and (street, number) == nearest_key[:2]:
            assert (found.address.street, found.address.housenumber) == (street, number)
