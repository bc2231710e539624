"""The OGC layer over PostGIS (the other OGC tests run on the embedded GeoPackage store): the same answers,
checked against brute force, since it only uses the Store protocol."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import httpx
import pytest
import shapely
from geopy.distance import geodesic

from poi_service.api.app import create_app
from poi_service.config import Settings
from poi_service.models import Alliance
from poi_service.store import Store, open_store
from tests.conftest import DATA_DIR
from tests.factories import membership, random_places
from tests.server import serve


def _all(client: httpx.Client, url: str, params: dict[str, object]) -> tuple[list[str], int]:
    ids: list[str] = []
    r = client.get(url, params=params)
    matched = r.json()["numberMatched"]
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        ids += [f["id"] for f in body["features"]]
        nxt = next((x["href"] for x in body["links"] if x["rel"] == "next"), None)
        if nxt is None:
            return ids, matched
        r = client.get(nxt)


@pytest.fixture()
def pg_store() -> Iterator[Store]:
    """A fresh PostGIS database (skipped locally without PostGIS; a failure under CI, as in tests/pg.py)."""
    from tests import pg

    if not (pg.available() or pg.in_ci()):
        pytest.skip("no PostGIS server: run scripts/pg-install.sh")
    store = open_store(pg.fresh_database_url(), DATA_DIR)
    try:
        yield store
    finally:
        store.close()


@pytest.mark.postgis
def test_ogc_queries_on_postgis(pg_store: Store) -> None:
    store = pg_store
    store.places.add_many(random_places(120, seed=3))
    store.memberships.add_many(
        [
            membership(
                f"M{i}",
                list(Alliance)[i % 3],
                9 + i / 10,
                51 + i / 20,
                state="Hessen" if i % 2 else "Bayern",
                joined=date(2016 + i % 6, 1 + i % 12, 1) if i % 5 else None,
            )
            for i in range(30)
        ]
    )
    settings = Settings(database_url=store.url, data_dir=DATA_DIR)
    places, members = list(store.places.iter_all()), list(store.memberships.iter_all())
    box = shapely.box(9.3, 54.74, 9.5, 54.84)
    with serve(create_app(settings, store)) as url, httpx.Client(base_url=url + "/ogc", timeout=30) as client:
        ids, n = _all(
            client,
            "/collections/places/items",
            {"bbox": "9.3,54.74,9.5,54.84", "limit": 9, "category": "church,school"},
        )
        want = {
            p.id
            for p in places
            if p.category in ("church", "school") and box.intersects(shapely.Point(p.point.lon, p.point.lat))
        }
        assert set(ids) == want and len(ids) == n == len(want) > 0
        ids, n = _all(
            client, "/collections/places/items", {"near": "9.39,54.8", "radius_m": 3000, "limit": 4}
        )
        dist = {p.id: geodesic((54.8, 9.39), (p.point.lat, p.point.lon)).meters for p in places}
        assert ids == sorted((i for i, d in dist.items() if d <= 3000), key=dist.__getitem__)
        ids, n = _all(
            client,
            "/collections/places/items",
            {"filter": "name LIKE 'Nord%' OR category = 'artwork'", "sortby": "-name", "limit": 5},
        )
        chosen = [p for p in places if p.name.startswith("Nord") or p.category == "artwork"]
        assert ids == [p.id for p in sorted(chosen, key=lambda p: (p.name.casefold(), p.name), reverse=True)]
        ids, n = _all(
            client,
            "/collections/alliance-members/items",
            {"datetime": "2018-01-01/2019-12-31", "state": "Hessen", "limit": 3},
        )
        assert set(ids) == {
            m.id
            for m in members
            if m.municipality.state == "Hessen"
            and m.joined
            and date(2018, 1, 1) <= m.joined <= date(2019, 12, 31)
        }
