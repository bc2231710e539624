"""Downloads are built once per data version and shared: concurrent requests wait on one build (in a
worker and across workers, through a file lock), at most POI_MAX_EXPORT_BUILDS builds run at once (503
with Retry-After beyond), a client leaving does not restart the build, and /health stays fast."""

from __future__ import annotations

import fcntl
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from poi_service.api.app import create_app
from poi_service.api.exports import store_identity
from poi_service.config import Settings
from poi_service.ingest.export import export_records
from poi_service.store import Store, open_store
from tests.api.test_bad_input import assert_problem
from tests.conftest import DATA_DIR
from tests.factories import random_places
from tests.server import serve


@dataclass
class Served:
    url: str
    app: FastAPI
    store: Store
    export_dir: Path

    def builds(self) -> int:
        cache = getattr(self.app.state, "exports", None)
        return 0 if cache is None else int(cache.builds)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    base = tmp_path_factory.mktemp("export-shared")
    settings = Settings(database_url=str(base / "s.gpkg"), state_dir=base / "state", max_export_builds=1)
    store = open_store(settings.database_url, DATA_DIR)
    store.places.add_many(random_places(3000, seed=3))
    app = create_app(settings, store)
    with serve(app) as url:
        yield Served(url, app, store, base / "state" / "exports")
    store.close()


def _health_watch(url: str, stop: threading.Event, worst: list[float]) -> None:
    with httpx.Client(base_url=url, timeout=10) as c:
        while not stop.is_set():
            t0 = time.monotonic()
            assert c.get("/health").status_code == 200
            worst.append(time.monotonic() - t0)
            time.sleep(0.05)


def test_64_concurrent_downloads_share_one_build(served: Served) -> None:
    before = served.builds()
    stop, worst = threading.Event(), [0.0]
    watcher = threading.Thread(target=_health_watch, args=(served.url, stop, worst))
    watcher.start()

    def get(_: int) -> httpx.Response:
        with httpx.Client(base_url=served.url, timeout=120) as c:
            return c.get("/export/places.gpkg")

    try:
        with ThreadPoolExecutor(64) as pool:
            answers = list(pool.map(get, range(64)))
    finally:
        stop.set()
        watcher.join()
    assert {r.status_code for r in answers} == {200}
    assert len({r.content for r in answers}) == 1 and answers[0].content.startswith(b"SQLite format 3")
    assert served.builds() == before + 1
    assert served.app.state.exports._child_url() == str(
        (served.export_dir.parent.parent / "s.gpkg").resolve()
    )
    # Every probe answered; the slowest 5 % may reflect a busy shared test machine (2 cores), not us.
    worst.sort()
    assert worst[int(len(worst) * 0.95)] < 1.0 and worst[-1] < 3.0, worst[-10:]
    assert int(answers[0].headers["content-length"]) == len(answers[0].content)
    # The file is the exporter's output: same layer and rows as a direct export.
    import geopandas as gpd

    direct = served.export_dir.parent / "direct.gpkg"
    export_records(served.store, "places", "gpkg", direct)
    (served.export_dir.parent / "served.gpkg").write_bytes(answers[0].content)
    a = gpd.read_file(served.export_dir.parent / "served.gpkg", layer="places")
    b = gpd.read_file(direct, layer="places")
    assert a.equals(b) and len(a) == 3000


def test_csv_is_byte_identical_and_rebuilt_after_a_write(served: Served, tmp_path: Path) -> None:
    with httpx.Client(base_url=served.url, timeout=60) as c:
        first = c.get("/export/places.csv")
        n = served.builds()
        assert c.get("/export/places.csv").content == first.content and served.builds() == n
        export_records(served.store, "places", "csv", tmp_path / "direct.csv")
        assert first.content == (tmp_path / "direct.csv").read_bytes()
        served.store.places.add(random_places(1, seed=77)[0])
        second = c.get("/export/places.csv")
        assert served.builds() == n + 1 and len(second.content) > len(first.content)
    # The superseded version was removed from the cache.
    assert len(list(served.export_dir.glob("*-places-v*.csv"))) == 1


def test_waits_for_another_workers_build_and_sheds_load(served: Served) -> None:
    version = served.store.memberships.data_version()
    name = f"{store_identity(served.store)}-memberships-v{version}.geojson"
    served.export_dir.mkdir(parents=True, exist_ok=True)
    before = served.builds()
    results: list[httpx.Response] = []
    with open(served.export_dir / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # "another worker" is building this file
        # A client that gives up while the build waits: its leaving does not cancel the shared build.
        with pytest.raises(httpx.ReadTimeout), httpx.Client(base_url=served.url, timeout=0.5) as c:
            c.get("/export/memberships.geojson")
        waiter = threading.Thread(
            target=lambda: results.append(httpx.get(served.url + "/export/memberships.geojson", timeout=30))
        )
        waiter.start()
        time.sleep(0.3)
        # The one build slot of this worker is taken: another download is refused, not queued.
        busy = httpx.get(served.url + "/export/places.geojson", timeout=10)
        assert_problem(busy, 503, None)
        assert int(busy.headers["retry-after"]) > 0
        assert httpx.get(served.url + "/health", timeout=1).status_code == 200
        (served.export_dir / name).write_bytes(b'{"type": "FeatureCollection", "features": []}')
    waiter.join()
    assert results[0].status_code == 200 and results[0].json()["features"] == []
    assert served.builds() == before  # the other worker's file was served, nothing rebuilt


def test_export_over_postgis(tmp_path: Path) -> None:
    from tests import pg

    pg.require()
    settings = Settings(database_url=pg.fresh_database_url(), state_dir=tmp_path / "state")
    store = open_store(settings.database_url, DATA_DIR)
    try:
        store.places.add_many(random_places(50, seed=9))
        app = create_app(settings, store)
        with serve(app) as url:
            r = httpx.get(url + "/export/places.csv", timeout=120)
            assert r.status_code == 200, r.text
        export_records(store, "places", "csv", tmp_path / "direct.csv")
        assert r.content == (tmp_path / "direct.csv").read_bytes()
        assert app.state.exports.builds == 1
        assert app.state.exports._child_url() == settings.database_url  # built in a child process
    finally:
        store.close()
