"""The open_at and wheelchair conditions of place searches, on every backend: totals, pages and order
checked against brute force over all places (the opening_hours parser decides open, geopy distances)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from geopy.distance import geodesic
from shapely.geometry import box

from poi_service import hours
from poi_service.boundaries import Boundaries
from poi_service.models import BBox, Place, Point
from poi_service.store import Near, PlaceFilter, Query, Store
from tests.conftest import DATA_DIR
from tests.hours_data import with_hours

BERLIN = ZoneInfo("Europe/Berlin")
CENTRE = Point(9.3866, 54.7998)
TIMES = [
    datetime(2026, 12, 7, 10, 30, tzinfo=BERLIN),
    datetime(2026, 12, 6, 1, 15, tzinfo=BERLIN),
    datetime(2026, 12, 25, 12, 0, tzinfo=BERLIN),
    datetime(2026, 7, 4, 23, 0, tzinfo=BERLIN),
    datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN) + timedelta(hours=1),
]


@pytest.fixture()
def filled(store: Store) -> Store:
    store.places.add_many(with_hours(300))
    return store


def open_then(p: Place, at: datetime) -> bool:
    return hours.is_open(p.opening_hours, p.point.lon, p.point.lat, at)


def metres(a: Point, b: Point) -> float:
    return float(geodesic((a.lat, a.lon), (b.lat, b.lon)).meters)


def all_pages(store: Store, query: Query[PlaceFilter], size: int) -> tuple[list[str], set[int]]:
    ids: list[str] = []
    totals = set()
    offset = 0
    while True:
        page = store.places.search(dataclasses.replace(query, limit=size, offset=offset))
        totals.add(page.total)
        ids += [h.record.id for h in page.hits]
        offset += size
        if not page.hits:
            return ids, totals


def test_fixture_has_open_and_closed_places(filled: Store) -> None:
    places = list(filled.places.iter_all())
    for at in TIMES[:3]:
        n = sum(open_then(p, at) for p in places)
        assert 10 < n < len(places) - 10


@pytest.mark.parametrize("at", TIMES)
def test_open_at_everywhere_pages_to_the_brute_force_set(filled: Store, at: datetime) -> None:
    places = list(filled.places.iter_all())
    want = {p.id for p in places if open_then(p, at)}
    ids, totals = all_pages(filled, Query(PlaceFilter(open_at=at)), 17)
    assert totals == {len(want)}
    assert len(ids) == len(set(ids)) and set(ids) == want
    first = filled.places.search(Query(PlaceFilter(open_at=at), limit=17))
    assert [h.record.id for h in first.hits] == ids[:17]


@pytest.mark.parametrize("at", TIMES[:3])
def test_open_at_near_with_wheelchair_and_category(filled: Store, at: datetime) -> None:
    places = list(filled.places.iter_all())
    flt = PlaceFilter(categories=("church", "school", "artwork"), wheelchair=("yes", "limited"), open_at=at)
    radius = 9000.0
    want = sorted(
        (metres(CENTRE, p.point), p.id)
        for p in places
        if p.category in flt.categories
        and p.wheelchair in flt.wheelchair
        and open_then(p, at)
        and metres(CENTRE, p.point) <= radius
    )
    assert want, "the fixture should have matches"
    query = Query(flt, near=Near(CENTRE, radius))
    ids, totals = all_pages(filled, query, 4)
    assert totals == {len(want)}
    assert ids == [i for _, i in want]
    page = filled.places.search(dataclasses.replace(query, limit=1000))
    for hit, (d, _) in zip(page.hits, want, strict=True):
        assert hit.distance_m == pytest.approx(d, abs=0.01)


@pytest.mark.parametrize("k", [1, 7, 40])
def test_nearest_open_matches_brute_force(filled: Store, k: int) -> None:
    at = TIMES[0]
    places = list(filled.places.iter_all())
    want = sorted((metres(CENTRE, p.point), p.id) for p in places if open_then(p, at))[:k]
    hits = filled.places.nearest(CENTRE, k, PlaceFilter(open_at=at))
    assert [h.record.id for h in hits] == [i for _, i in want]
    wheel = filled.places.nearest(CENTRE, k, PlaceFilter(wheelchair=("no",), open_at=at))
    want_wheel = sorted(
        (metres(CENTRE, p.point), p.id) for p in places if open_then(p, at) and p.wheelchair == "no"
    )
    assert [h.record.id for h in wheel] == [i for _, i in want_wheel[:k]]


def test_wheelchair_alone_and_with_bbox_area_and_polygon(filled: Store) -> None:
    places = list(filled.places.iter_all())
    flt = PlaceFilter(wheelchair=("limited",))
    ids, totals = all_pages(filled, Query(flt), 25)
    assert set(ids) == {p.id for p in places if p.wheelchair == "limited"} and totals == {len(ids)}
    at = TIMES[1]
    bb = BBox(9.30, 54.75, 9.45, 54.83)
    flt = PlaceFilter(wheelchair=("yes", "no"), open_at=at)
    want = {
        p.id
        for p in places
        if p.wheelchair in ("yes", "no")
        and open_then(p, at)
        and bb.minx <= p.point.lon <= bb.maxx
        and bb.miny <= p.point.lat <= bb.maxy
    }
    ids, totals = all_pages(filled, Query(flt, bbox=bb), 5)
    assert set(ids) == want and totals == {len(want)}
    ids, totals = all_pages(filled, Query(flt, polygon=box(bb.minx, bb.miny, bb.maxx, bb.maxy)), 5)
    assert set(ids) == want and totals == {len(want)}
    harrislee = Boundaries.load(DATA_DIR).resolve("Harrislee")
    want_area = {p.id for p in places if p.address.ags == harrislee.ags and open_then(p, at)}
    ids, totals = all_pages(filled, Query(PlaceFilter(open_at=at), area="Harrislee"), 5)
    assert set(ids) == want_area and totals == {len(want_area)}


def test_places_without_or_with_unparseable_hours_never_match(filled: Store) -> None:
    places = list(filled.places.iter_all())
    unknown = {p.id for p in places if p.opening_hours is None or not hours.valid(p.opening_hours)}
    assert unknown
    for at in TIMES:
        ids, _ = all_pages(filled, Query(PlaceFilter(open_at=at)), 100)
        assert not unknown & set(ids)
    # 'unknown' in the hours is not open either.
    maybe = {p.id for p in places if p.opening_hours and "unknown" in p.opening_hours}
    ids, _ = all_pages(filled, Query(PlaceFilter(open_at=TIMES[0])), 100)
    assert maybe and not maybe & set(ids)


def test_deleted_places_stay_out(filled: Store) -> None:
    at = TIMES[0]
    open_ids = [h.record.id for h in filled.places.search(Query(PlaceFilter(open_at=at), limit=1000)).hits]
    filled.places.delete(open_ids[0])
    again = filled.places.search(Query(PlaceFilter(open_at=at), limit=1000))
    assert again.total == len(open_ids) - 1 and open_ids[0] not in {h.record.id for h in again.hits}
    assert open_ids[0] not in {
        h.record.id for h in filled.places.nearest(CENTRE, 500, PlaceFilter(open_at=at))
    }
