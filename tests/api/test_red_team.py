"""The hardening checks of issue 11 rerun against `poi-service serve --workers 2`, each bounded in
time, while a probe asks /health every 50 ms: it must keep answering (within 1 s at the 95th
percentile; the slowest probes may reflect the shared 2-core test machine)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from poi_service.models import KeyRole
from poi_service.store import open_store
from tests import process
from tests.api.conftest import bearer
from tests.api.test_bad_input import assert_problem
from tests.api.test_slow_clients import connect, dribble
from tests.conftest import DATA_DIR
from tests.factories import random_places

PROBES: list[float] = []


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[process.Server, dict[str, str], Path]]:
    base = tmp_path_factory.mktemp("redteam")
    store = open_store(str(base / "rt.gpkg"), DATA_DIR)
    store.places.add_many(random_places(10_000, seed=8))
    _, key = store.create_key("Redaktion", KeyRole.EDITOR)
    store.close()
    env = {
        "POI_STATE_DIR": str(base / "state"),
        "POI_MAX_HEAVY_REQUESTS": "1",
        "POI_MAX_QUEUED_REQUESTS": "4",
        "POI_HEADER_TIMEOUT_S": "3",
        "POI_MAX_UPLOAD_BYTES": str(20 * 1024 * 1024),
    }
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        with process.serve(base / "rt.gpkg", workers=2) as s:
            for _ in range(6):  # both workers answer and have their index
                httpx.get(s.url + "/ogc/collections/places/items?limit=1", timeout=60)
            stop = threading.Event()

            def probe() -> None:
                with httpx.Client(base_url=s.url, timeout=10) as c:
                    while not stop.is_set():
                        t0 = time.monotonic()
                        assert c.get("/health").status_code == 200
                        PROBES.append(time.monotonic() - t0)
                        time.sleep(0.05)

            prober = threading.Thread(target=probe)
            prober.start()
            try:
                yield s, bearer(key), base / "state" / "exports"
            finally:
                stop.set()
                prober.join()
    worst = sorted(PROBES)
    assert worst and worst[int(len(worst) * 0.95)] < 1.0 and worst[-1] < 3.0, worst[-10:]


def test_like_with_repeated_percent(server: tuple[process.Server, dict[str, str], Path]) -> None:
    s, _, _ = server
    t0 = time.monotonic()
    params = {"filter": "name LIKE '%%%%%%%%%%%%%%%%%%%%#'", "limit": 1000}
    r = httpx.get(s.url + "/ogc/collections/places/items", params=params, timeout=30)
    assert r.status_code == 200 and r.json()["numberMatched"] == 0
    assert time.monotonic() - t0 < 10


def test_64_concurrent_exports_build_once(server: tuple[process.Server, dict[str, str], Path]) -> None:
    s, _, exports = server
    inodes: set[int] = set()
    stop = threading.Event()

    def watch() -> None:  # every build replaces the file: a second build would show a new inode
        while not stop.is_set():
            for f in exports.glob("*-places-v*.gpkg") if exports.exists() else ():
                with contextlib.suppress(FileNotFoundError):
                    inodes.add(os.stat(f).st_ino)
            time.sleep(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(64) as pool:
            answers = list(
                pool.map(lambda _: httpx.get(s.url + "/export/places.gpkg", timeout=30), range(64))
            )
    finally:
        stop.set()
        watcher.join()
    assert {r.status_code for r in answers} == {200}
    assert len({r.content for r in answers}) == 1
    assert len(inodes) == 1


def test_large_pages_are_shed(server: tuple[process.Server, dict[str, str], Path]) -> None:
    s, _, _ = server

    def big(_: int) -> httpx.Response:
        return httpx.get(s.url + "/ogc/collections/places/items?limit=10000", timeout=30)

    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(big, range(32)))
    assert {r.status_code for r in answers} == {200, 503}
    assert all(r.headers["retry-after"] for r in answers if r.status_code == 503)


def test_hostile_uploads(server: tuple[process.Server, dict[str, str], Path], tmp_path: Path) -> None:
    s, auth, _ = server
    with httpx.Client(base_url=s.url, timeout=30, headers=auth) as c:
        t0 = time.monotonic()
        wide = b"a," * (5 * 1024 * 1024)
        assert_problem(c.post("/imports", files={"file": ("wide.csv", wide)}), 422, None)
        path = tmp_path / "spin.gpkg"
        conn = sqlite3.connect(path)
        conn.executescript(
            "CREATE TABLE gpkg_contents (table_name TEXT, data_type TEXT, identifier TEXT, srs_id INTEGER);"
            "CREATE VIEW spin AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c;"
            "INSERT INTO gpkg_contents VALUES ('spin', 'attributes', 'spin', 0);"
        )
        conn.close()
        r = c.post("/imports", files={"file": ("spin.gpkg", path.read_bytes())}, params={"layer": "spin"})
        assert_problem(r, 422, None)
        assert time.monotonic() - t0 < 20


def test_slow_headers(server: tuple[process.Server, dict[str, str], Path]) -> None:
    s, _, _ = server
    sock = connect(s)
    kept = dribble(sock, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200, seconds=15)
    sock.close()
    assert kept < 8.0
