"""Address index contract: both backends store, replace and find addresses and streets alike."""

from __future__ import annotations

import random

import shapely
from geopy.distance import geodesic

from poi_service.geocode.housenumbers import street_match_key
from poi_service.models import Point
from poi_service.store import Store
from poi_service.store.base import AddressPoint, StreetLine

# Synthetic addresses and streets around Harrislee (made up for the tests, not real data).
CENTRE = (9.3832, 54.8042)


def _addresses(n: int, seed: int, street: str = "Süderstraße") -> list[AddressPoint]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        point = Point(CENTRE[0] + rng.uniform(-0.01, 0.01), CENTRE[1] + rng.uniform(-0.01, 0.01))
        number = f"{i + 1}{rng.choice(['', 'a', ' B'])}"
        out.append(
            AddressPoint(
                street,
                street_match_key(street),
                number,
                point,
                "24955",
                "Harrislee",
                "01059120",
                f"n{seed * 1000 + i}",
            )
        )
    return out


def _street(name: str, city: str) -> StreetLine:
    line = shapely.LineString([(9.38, 54.80), (9.39, 54.805), (9.40, 54.806)])
    mid = line.interpolate(0.5, normalized=True)
    return StreetLine(name, street_match_key(name), line, Point(mid.x, mid.y), 1234.5, city, "01059113")


def test_replace_area_and_lookups(store: Store) -> None:
    index = store.addresses
    assert index.counts().addresses == 0 and index.nearest(Point(*CENTRE), 50) is None
    first = _addresses(30, 1)
    index.replace_area("harrislee", first, [_street("Süderstraße", "Harrislee")])
    other = _addresses(5, 2, "Holmweg")
    index.replace_area("flensburg", other, [_street("Holmweg", "Flensburg")])
    counts = index.counts()
    assert (counts.addresses, counts.streets, counts.areas) == (35, 2, {"harrislee": 30, "flensburg": 5})
    found = index.on_street(street_match_key("Süderstr."))
    assert sorted(found, key=lambda a: a.osm) == sorted(first, key=lambda a: a.osm)
    (street,) = index.streets(street_match_key("SUEDERSTRASSE"))
    assert street.name == "Süderstraße" and street.city == "Harrislee" and street.length_m == 1234.5
    assert street.geometry.equals(_street("Süderstraße", "Harrislee").geometry)
    # Replacing an area drops its old rows only.
    second = _addresses(10, 3)
    index.replace_area("harrislee", second, [])
    assert index.counts().areas == {"harrislee": 10, "flensburg": 5}
    assert index.streets(street_match_key("Süderstraße")) == []
    assert len(index.on_street(street_match_key("Holmweg"))) == 5
    # With a number: those starting with its digits, and ranges, from the stored ones.
    index.replace_area(
        "ranges",
        [_numbered("Ringweg", n, i) for i, n in enumerate(["1", "12", "12 A", "120", "2", "10-14", "21"])],
        [],
    )
    got = sorted(a.housenumber for a in index.on_street(street_match_key("Ringweg"), 12))
    assert got == ["10-14", "12", "12 A", "120"]


def _numbered(street: str, number: str, i: int) -> AddressPoint:
    return AddressPoint(street, street_match_key(street), number, Point(*CENTRE), None, None, None, f"n{i}")


def test_nearest_matches_brute_force(store: Store) -> None:
    points = _addresses(200, 4)
    store.addresses.replace_area("a", points, [])
    rng = random.Random(5)
    for _ in range(30):
        q = Point(CENTRE[0] + rng.uniform(-0.012, 0.012), CENTRE[1] + rng.uniform(-0.012, 0.012))
        radius = rng.choice([20.0, 50.0, 150.0])
        dists = [(geodesic((q.lat, q.lon), (a.point.lat, a.point.lon)).meters, a) for a in points]
        best_d, best = min(dists, key=lambda t: t[0])
        got = store.addresses.nearest(q, radius)
        if best_d > radius:
            assert got is None
        else:
            assert got is not None and got[0].osm == best.osm and abs(got[1] - best_d) < 1e-6


def test_replace_area_is_atomic(store: Store) -> None:
    store.addresses.replace_area("a", _addresses(10, 6), [])

    def broken() -> list[AddressPoint]:
        rows = _addresses(5, 7)
        return [*rows, None]  # type: ignore[list-item]

    try:
        store.addresses.replace_area("a", broken(), [])
    except Exception:
        pass
    else:
        raise AssertionError("a broken row must fail the replacement")
    assert store.addresses.counts().areas == {"a": 10}
