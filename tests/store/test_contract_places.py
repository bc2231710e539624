"""The store contract for places, on every backend: exact results checked against geopy and shapely."""

from __future__ import annotations

import dataclasses

import pytest
import shapely
from geopy.distance import geodesic
from shapely.geometry import Polygon, box

from poi_service.boundaries import Boundaries
from poi_service.errors import NotFound
from poi_service.models import BBox, Point
from poi_service.store import Near, PlaceFilter, Query, Store
from tests.conftest import DATA_DIR
from tests.factories import random_places

HARRISLEE_HALL = Point(9.3866, 54.7998)


@pytest.fixture()
def filled(store: Store) -> Store:
    store.places.add_many(random_places(400))
    return store


def geopy_m(a: Point, b: Point) -> float:
    return float(geodesic((a.lat, a.lon), (b.lat, b.lon)).meters)


def test_crud_roundtrip(store: Store) -> None:
    data = random_places(1)[0]
    added = store.places.add(data)
    assert store.places.get(added.id) == added
    assert added.name == data.name and added.point == data.point and added.address == data.address
    moved = dataclasses.replace(data, name="Neu <b>&</b> 'x'", point=Point(9.4, 54.8))
    updated = store.places.update(added.id, moved)
    assert updated.id == added.id and updated.name == moved.name and updated.point == Point(9.4, 54.8)
    assert updated.created_at == added.created_at and updated.updated_at >= added.updated_at
    store.places.delete(added.id)
    with pytest.raises(NotFound):
        store.places.get(added.id)
    with pytest.raises(NotFound):
        store.places.delete(added.id)
    with pytest.raises(NotFound):
        store.places.update(added.id, moved)


def test_add_many_is_all_or_nothing(store: Store) -> None:
    rows = random_places(20)

    def failing():  # type: ignore[no-untyped-def]
        yield from rows[:10]
        raise ValueError("bad row 11")

    with pytest.raises(ValueError):
        store.places.add_many(failing())
    assert store.places.count() == 0
    assert store.places.search(Query(PlaceFilter(), near=Near(HARRISLEE_HALL, 50_000))).total == 0


def test_upsert_by_external_key_keeps_id(store: Store) -> None:
    rows = random_places(5)
    store.places.add_many(rows)
    before = {p.external_key: p.id for p in store.places.iter_all()}
    renamed = [dataclasses.replace(r, name=r.name + " (neu)") for r in rows]
    store.places.add_many(renamed)
    after = list(store.places.iter_all())
    assert len(after) == 5
    assert {p.external_key: p.id for p in after} == before
    assert all(p.name.endswith("(neu)") for p in after)


@pytest.mark.parametrize("radius_m", [300.0, 1000.0, 2500.0, 8000.0])
@pytest.mark.parametrize("centre", [HARRISLEE_HALL, Point(9.4375, 54.7825), Point(9.30, 54.84)])
def test_nearby_matches_brute_force_geodesic(filled: Store, centre: Point, radius_m: float) -> None:
    everything = list(filled.places.iter_all())
    expected = {p.id: geopy_m(centre, p.point) for p in everything if geopy_m(centre, p.point) <= radius_m}
    page = filled.places.search(Query(PlaceFilter(), near=Near(centre, radius_m), limit=1000))
    assert page.total == len(expected)
    got = {h.record.id: h.distance_m for h in page.hits}
    assert got.keys() == expected.keys()
    for pid, d in got.items():
        assert d == pytest.approx(expected[pid], abs=1e-3)
    dists = [h.distance_m for h in page.hits]
    assert dists == sorted(dists)


@pytest.mark.parametrize("k", [1, 5, 17])
def test_nearest_order_matches_brute_force(filled: Store, k: int) -> None:
    everything = list(filled.places.iter_all())
    for centre in (HARRISLEE_HALL, Point(9.5, 54.75), Point(8.0, 50.0)):
        ranked = sorted(everything, key=lambda p: geopy_m(centre, p.point))
        hits = filled.places.nearest(centre, k, PlaceFilter())
        assert len(hits) == k
        for hit, want in zip(hits, ranked[:k], strict=True):
            assert hit.distance_m == pytest.approx(geopy_m(centre, want.point), abs=1e-3)
        assert [h.distance_m for h in hits] == sorted(h.distance_m for h in hits)  # type: ignore[misc]


def test_nearest_with_category_and_text(filled: Store) -> None:
    everything = list(filled.places.iter_all())
    churches = [p for p in everything if p.category == "church"]
    ranked = sorted(churches, key=lambda p: geopy_m(HARRISLEE_HALL, p.point))
    hits = filled.places.nearest(HARRISLEE_HALL, 4, PlaceFilter(categories=("church",)))
    assert [h.record.id for h in hits] == [p.id for p in ranked[:4]]
    texty = [p for p in everything if p.description == "Gedenkort"]
    ranked = sorted(texty, key=lambda p: geopy_m(HARRISLEE_HALL, p.point))
    hits = filled.places.nearest(HARRISLEE_HALL, 3, PlaceFilter(text="gedenk"))
    assert [h.record.id for h in hits] == [p.id for p in ranked[:3]]


def test_nearby_with_filters_and_paging(filled: Store) -> None:
    flt = PlaceFilter(categories=("school", "church"))
    full = filled.places.search(Query(flt, near=Near(HARRISLEE_HALL, 6000), limit=1000))
    assert full.total > 10
    assert {h.record.category for h in full.hits} <= {"school", "church"}
    pages = [
        filled.places.search(Query(flt, near=Near(HARRISLEE_HALL, 6000), limit=7, offset=o))
        for o in range(0, full.total, 7)
    ]
    assert all(p.total == full.total for p in pages)
    assert [h.record.id for p in pages for h in p.hits] == [h.record.id for h in full.hits]


def test_bbox_matches_shapely(filled: Store) -> None:
    bounds = BBox(9.35, 54.77, 9.45, 54.81)
    rect = box(bounds.minx, bounds.miny, bounds.maxx, bounds.maxy)
    everything = list(filled.places.iter_all())
    expected = {p.id for p in everything if rect.covers(shapely.Point(p.point.lon, p.point.lat))}
    page = filled.places.search(Query(PlaceFilter(), bbox=bounds, limit=1000))
    assert page.total == len(expected) > 0
    assert {h.record.id for h in page.hits} == expected


def test_point_on_bbox_edge_is_inside(store: Store) -> None:
    data = dataclasses.replace(random_places(1)[0], point=Point(9.4, 54.8))
    store.places.add(data)
    page = store.places.search(Query(PlaceFilter(), bbox=BBox(9.4, 54.8, 9.5, 54.9)))
    assert page.total == 1


def test_polygon_matches_shapely(filled: Store) -> None:
    triangle = Polygon([(9.30, 54.74), (9.52, 54.76), (9.40, 54.85), (9.30, 54.74)])
    everything = list(filled.places.iter_all())
    expected = {p.id for p in everything if triangle.covers(shapely.Point(p.point.lon, p.point.lat))}
    page = filled.places.search(Query(PlaceFilter(), polygon=triangle, limit=1000))
    assert page.total == len(expected) > 0
    assert {h.record.id for h in page.hits} == expected
    near = filled.places.search(
        Query(PlaceFilter(), polygon=triangle, near=Near(HARRISLEE_HALL, 3000), limit=1000)
    )
    assert {h.record.id for h in near.hits} == {
        pid for pid in expected if geopy_m(HARRISLEE_HALL, filled.places.get(pid).point) <= 3000
    }


@pytest.mark.parametrize("area", ["Harrislee", "01059120", "Flensburg", "01001", "Schleswig-Flensburg"])
def test_named_area_matches_boundary_polygon(filled: Store, area: str) -> None:
    boundary = Boundaries.load(DATA_DIR).resolve(area)
    everything = list(filled.places.iter_all())
    # Within the generalisation margin of a border a point may fall either way: compare the rest.
    margin = boundary.geometry.boundary.buffer(0.006)
    clear = [p for p in everything if not margin.contains(shapely.Point(p.point.lon, p.point.lat))]
    inside = {p.id for p in clear if boundary.geometry.contains(shapely.Point(p.point.lon, p.point.lat))}
    page = filled.places.search(Query(PlaceFilter(), area=area, limit=1000))
    got = {h.record.id for h in page.hits}
    assert page.total == len(got) > 0
    assert got & {p.id for p in clear} == inside
    assert len(inside) > 5


def test_text_search_is_german_aware(store: Store) -> None:
    data = dataclasses.replace(random_places(1)[0], name="Fahrschule Süderstraße", description=None)
    added = store.places.add(data)
    for q in ("süderstraße", "Suederstrasse", "SUDERSTR", "fahrschule süder"):
        page = store.places.search(Query(PlaceFilter(text=q)))
        assert [h.record.id for h in page.hits] == [added.id], q
    assert store.places.search(Query(PlaceFilter(text="norderstraße"))).total == 0
    assert (
        store.places.search(
            Query(PlaceFilter(text='"*)(')),
        ).total
        == 0
    )


def test_unknown_category_matches_nothing(filled: Store) -> None:
    flt = PlaceFilter(categories=("no_such_slug",))
    assert filled.places.search(Query(flt, near=Near(HARRISLEE_HALL, 50_000))).total == 0
    assert filled.places.nearest(HARRISLEE_HALL, 3, flt) == []
    assert filled.places.search(Query(flt)).total == 0


def test_plan_reads_what_add_many_would_do(store: Store) -> None:
    from dataclasses import replace

    from tests.factories import random_places

    rows = random_places(30, seed=11)
    store.places.add_many(rows[:20])
    gone = next(p for p in store.places.iter_all() if p.external_key == rows[19].external_key)
    store.places.delete(gone.id)  # a deleted record's key plans as new: it is not live
    again = [*rows[:10], replace(rows[10], name="Renamed"), *rows[11:]]
    plan = store.places.plan(again)
    assert (plan.new, plan.updated, plan.unchanged) == (11, 1, 18)
    assert store.places.plan([]) == type(plan)(0, 0, 0)


def test_text_also_matches_the_categories_it_names(filled: Store) -> None:
    """PlaceFilter.text_categories: a place matches the text, or is of a category whose label the text names."""
    everything = list(filled.places.iter_all())
    want = {p.id for p in everything if p.category == "church" or p.description == "Gedenkort"}
    flt = PlaceFilter(text="gedenk", text_categories=("church",))
    assert {h.record.id for h in filled.places.search(Query(flt, limit=1000)).hits} == want
    near = filled.places.search(Query(flt, near=Near(HARRISLEE_HALL, 50_000), limit=1000))
    assert {h.record.id for h in near.hits} == {
        p.id for p in everything if p.id in want and geopy_m(HARRISLEE_HALL, p.point) <= 50_000
    }
    only_label = PlaceFilter(text="!!", text_categories=("church",))  # no words: the category alone
    assert {h.record.id for h in filled.places.search(Query(only_label, limit=1000)).hits} == {
        p.id for p in everything if p.category == "church"
    }
    both = PlaceFilter(categories=("school",), text="gedenk", text_categories=("church",))
    assert {h.record.id for h in filled.places.search(Query(both, limit=1000)).hits} == {
        p.id for p in everything if p.category == "school" and p.description == "Gedenkort"
    }
