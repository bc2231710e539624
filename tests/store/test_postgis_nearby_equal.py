"""The PostGIS radius search's fast paths (one statement with whole rows on a degree box, and the same
on the event loop) answer exactly as the embedded store and as the two-statement path: ids in order,
distances to 1 mm, totals, on clustered places (dense pages, later pages, category filters) and near
the antimeridian and a pole, where the degree box gives way to the geography index; with opening
hours and wheelchair filters."""

from __future__ import annotations

import dataclasses
import math
import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from geopy.distance import geodesic

from poi_service.geo import R_MIN_M
from poi_service.models import PlaceData, Point
from poi_service.store import Near, Page, PlaceFilter, Query, Store, open_store, pg_collection
from poi_service.store.pg_helpers import radius_box
from poi_service.store.postgis import PostgisStore
from tests import pg
from tests.conftest import DATA_DIR, run_async
from tests.factories import CATEGORIES
from tests.hours_data import with_hours

pytestmark = pytest.mark.postgis

# (lon, lat, spread in degrees): towns, plus places across the antimeridian and near the north pole.
CLUSTERS = [(9.43, 54.79, 0.02), (9.40, 54.80, 0.005), (13.40, 52.52, 0.03), (179.995, 10.0, 0.01)]
CLUSTERS += [(-179.995, -20.0, 0.01), (40.0, 88.995, 0.004), (9.3, 60.0, 0.01)]


def clustered_places(n: int, seed: int) -> list[PlaceData]:
    rng = random.Random(seed)
    out = []
    for i, data in enumerate(with_hours(n, seed=seed)):
        lon, lat, spread = CLUSTERS[i % len(CLUSTERS)]
        lon = lon + rng.gauss(0, spread)
        lon = lon - 360 if lon > 180 else lon + 360 if lon < -180 else lon
        out.append(dataclasses.replace(data, point=Point(lon, min(89.9999, lat + rng.gauss(0, spread / 2)))))
    return out


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, PostgisStore]]:
    pg.require()
    places = clustered_places(400, seed=16)
    embedded = open_store(str(Path(tmp_path_factory.mktemp("eq")) / "eq.gpkg"), DATA_DIR)
    postgis = PostgisStore(pg.fresh_database_url(), DATA_DIR)
    embedded.places.add_many(places)
    postgis.places.add_many(places)
    try:
        yield embedded, postgis
    finally:
        embedded.close()
        postgis.close()


def queries(m: int, seed: int) -> list[Query[PlaceFilter]]:
    rng = random.Random(seed)
    out = []
    for i in range(m):
        lon, lat, spread = CLUSTERS[i % len(CLUSTERS)]
        centre = Point(
            max(-180.0, min(180.0, lon + rng.gauss(0, spread))), min(89.99, lat + rng.gauss(0, spread))
        )
        cats = (rng.choice(CATEGORIES),) if i % 3 == 0 else ()
        flt = PlaceFilter(categories=cats)
        if i % 5 == 1:  # opening hours (decided in Python from the rows) and wheelchair (in SQL)
            flt = dataclasses.replace(flt, open_at=datetime(2026, 6, 3, 10 + i % 12, 30, tzinfo=UTC))
        if i % 7 == 2:
            flt = dataclasses.replace(flt, wheelchair=("yes", "limited"))
        near = Near(centre, rng.choice([150.0, 500.0, 1000.0, 3000.0]))
        out.append(Query(flt, near=near, limit=5, offset=rng.choice([0, 0, 5, 10])))
    return out


def key(page: Page[object]) -> tuple[int, list[str]]:
    return page.total, [h.record.id for h in page.hits]  # type: ignore[attr-defined]


def assert_same(got: Page[object], want: Page[object], where: str) -> None:
    assert key(got) == key(want), where
    for g, w in zip(got.hits, want.hits, strict=True):
        assert g.distance_m is not None and w.distance_m is not None
        assert abs(g.distance_m - w.distance_m) < 1e-3, where


def test_radius_search_equals_embedded_on_every_path(
    stores: tuple[Store, PostgisStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    embedded, postgis = stores
    qs = queries(300, seed=3)
    want = [embedded.places.search(q) for q in qs]
    assert sum(p.total for p in want) > 300 and sum(len(p.hits) > 0 for p in want if p.offset) > 20

    fast = [postgis.places.search(q) for q in qs]

    async def on_loop() -> list[Page[object]]:
        return [await postgis.places.asearch(q) for q in qs]  # type: ignore[misc]

    loop_pages = run_async(on_loop())
    monkeypatch.setattr(pg_collection, "FEW_CANDIDATES", 0)  # every search: the two statements
    two = [postgis.places.search(q) for q in qs]
    loop_two = run_async(on_loop())
    for i, w in enumerate(want):
        for name, got in (
            ("one", fast[i]),
            ("loop", loop_pages[i]),
            ("two", two[i]),
            ("loop two", loop_two[i]),
        ):
            assert_same(got, w, f"{name} {qs[i]}")  # type: ignore[arg-type]
            # whole records (binary and text rows alike) as the two-statement path reads them
            assert [h.record for h in got.hits] == [h.record for h in two[i].hits], name


def test_radius_box_holds_every_point_of_the_circle() -> None:
    """Points at the circle's edge (geopy's geodesic, just inside) in every direction lie in the box;
    boxes that would reach a pole or the antimeridian are refused."""
    rng = random.Random(5)
    for _ in range(300):
        lon, lat = rng.uniform(-179, 179), rng.uniform(-88, 88)
        radius = rng.choice([1.0, 50.0, 1000.0, 50_000.0, 500_000.0])
        b = radius_box(lon, lat, radius)
        if b is None:
            theta = math.degrees(radius / R_MIN_M)
            assert (
                abs(lat) + theta >= 88 or abs(lon) + theta / math.cos(math.radians(abs(lat) + theta)) >= 179
            )
            continue
        for bearing in range(0, 360, 5):
            p = geodesic(meters=radius * (1 - 1e-9)).destination((lat, lon), bearing)
            assert b[0] <= p.longitude <= b[2] and b[1] <= p.latitude <= b[3], (lon, lat, radius, bearing)
    assert radius_box(179.999, 0.0, 1000) is None and radius_box(0.0, 89.99, 1000) is None


def test_radius_search_sees_whole_rows_while_another_server_writes() -> None:
    """Another server moves a place back and forth while searches run (in a thread and on the event
    loop): every hit's distance is the distance of the record it comes with, and lies in the radius."""
    pg.require()
    url = pg.fresh_database_url()
    reader, writer = PostgisStore(url, DATA_DIR), PostgisStore(url, DATA_DIR)
    centre, far = Point(9.43, 54.79), Point(9.6, 54.9)
    try:
        added = reader.places.add_many(clustered_places(60, seed=4)[:40:7])
        base = dataclasses.replace(clustered_places(1, seed=5)[0], point=centre)
        moving = writer.places.add(base)
        stop = threading.Event()

        def move() -> None:
            i = 0
            while not stop.is_set():
                i += 1
                point = far if i % 2 else Point(centre.lon + 1e-4 * (i % 7), centre.lat)
                writer.places.update(moving.id, dataclasses.replace(base, point=point))

        query = Query(PlaceFilter(), near=Near(centre, 5000.0), limit=50)

        async def on_loop() -> list[Page[object]]:
            return [await reader.places.asearch(query) for _ in range(100)]  # type: ignore[misc]

        thread = threading.Thread(target=move)
        thread.start()
        try:
            pages = [reader.places.search(query) for _ in range(100)] + run_async(on_loop())
        finally:
            stop.set()
            thread.join()
        assert added > 0
        seen = set()
        for page in pages:
            assert page.total == len(page.hits)
            for hit in page.hits:
                point = hit.record.point  # type: ignore[attr-defined]
                want = geodesic((centre.lat, centre.lon), (point.lat, point.lon)).meters
                assert hit.distance_m is not None and abs(hit.distance_m - want) < 1e-3 and want <= 5000.0
                seen.add(hit.record.id == moving.id)  # type: ignore[attr-defined]
        assert seen == {True, False}  # the moving place was seen, and other places too
    finally:
        reader.close()
        writer.close()
