"""PostgreSQL restarted in the middle of a load: reads and writes answer 200/201 or 503 problem+json
with Retry-After (never 500), nothing is half-written, and the service recovers by itself."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from poi_service.api.app import create_app
from poi_service.config import Settings
from poi_service.models import KeyRole
from poi_service.store import open_store
from tests import pg
from tests.api.conftest import bearer
from tests.api.test_bad_input import assert_problem
from tests.conftest import DATA_DIR
from tests.factories import random_places
from tests.server import serve


@pytest.fixture()
def cluster() -> Iterator[pg.Cluster]:
    pg.require()
    own = pg.Cluster().start()  # our own: restarting the session's server would disturb other tests
    try:
        with psycopg.connect(own.url(), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")
        yield own
    finally:
        own.stop()


def test_postgres_restart_during_load(cluster: pg.Cluster) -> None:
    settings = Settings(database_url=cluster.url())
    store = open_store(settings.database_url, DATA_DIR)
    store.places.add_many(random_places(200, seed=6))
    _, key = store.create_key("Redaktion", KeyRole.EDITOR)
    app = create_app(settings, store)
    answers: list[httpx.Response] = []
    stop = threading.Event()

    def load(worker: int, url: str) -> None:
        with httpx.Client(base_url=url, timeout=30) as c:
            n = 0
            while not stop.is_set():
                n += 1
                body = {"name": f"Load {worker}-{n}", "category": "church", "lat": 54.79, "lon": 9.41}
                answers.append(c.post("/places", json=body, headers=bearer(key)))
                answers.append(c.get("/places/nearby", params={"lat": 54.79, "lon": 9.41, "radius_m": 3000}))
                answers.append(c.get("/ogc/collections/places/items", params={"limit": 20}))

    try:
        with serve(app) as url:
            threads = [threading.Thread(target=load, args=(w, url)) for w in range(4)]
            for t in threads:
                t.start()
            time.sleep(1.0)
            cluster.restart(down_s=2.0)
            time.sleep(3.0)
            stop.set()
            for t in threads:
                t.join()
            # Recovered by itself: within a few requests everything answers again.
            with httpx.Client(base_url=url, timeout=30) as c:
                deadline = time.monotonic() + 15
                while (
                    c.get("/places/nearby", params={"lat": 54.79, "lon": 9.41, "radius_m": 3000}).status_code
                    != 200
                ):
                    assert time.monotonic() < deadline
                body = {"name": "After restart", "category": "church", "lat": 54.79, "lon": 9.41}
                while (r := c.post("/places", json=body, headers=bearer(key))).status_code == 503:
                    assert time.monotonic() < deadline
                assert r.status_code == 201
        statuses = {r.status_code for r in answers}
        assert statuses <= {200, 201, 503}, [r.text for r in answers if r.status_code not in (200, 201, 503)][
            :3
        ]
        refused = [r for r in answers if r.status_code == 503]
        assert refused, "the restart went unnoticed"
        for r in refused:
            assert_problem(r, 503, None)
            assert int(r.headers["retry-after"]) > 0
        # Nothing half-written: the stored load places are exactly the acknowledged ones.
        created = {r.json()["properties"]["name"] for r in answers if r.status_code == 201}
        stored = {p.name for p in store.places.iter_all() if p.name.startswith("Load ")}
        assert stored == created
    finally:
        store.close()
