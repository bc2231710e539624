"""`poi-service serve --workers 2` over real HTTP: writes seen across workers, concurrent writers."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from poi_service.models import KeyRole
from poi_service.store import open_store
from tests.conftest import DATA_DIR
from tests.factories import random_places
from tests.process import Server, serve

NEAR = {"lat": "54.8", "lon": "9.4", "radius_m": "20000", "limit": "1000"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path, dict[str, str]]]:
    path = tmp_path_factory.mktemp("workers") / "store.gpkg"
    store = open_store(str(path), DATA_DIR)
    store.places.add_many(random_places(50))
    _, key = store.create_key("Lasttest", KeyRole.EDITOR)
    store.close()
    with serve(path, workers=2) as server:
        yield server, path, {"Authorization": f"Bearer {key}"}


def fresh(url: str) -> httpx.Client:
    """A client whose every request opens a new connection (so the kernel picks a worker each time)."""
    return httpx.Client(base_url=url, timeout=30, headers={"Connection": "close"})


@contextmanager
def only(server: Server, worker: int) -> Iterator[None]:
    """Every other worker is stopped (SIGSTOP), so new connections are accepted by `worker` alone.

    The supervisor is stopped too, or its health check would replace a worker that stays stopped
    for more than a few seconds.
    """
    others = [server.process.pid, *(pid for pid in server.workers() if pid != worker)]
    for pid in others:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in reversed(others):
            os.kill(pid, signal.SIGCONT)


def ids_near(client: httpx.Client) -> set[str]:
    r = client.get("/places/nearby", params=NEAR)
    assert r.status_code == 200, r.text
    return {f["id"] for f in r.json()["features"]}


def test_a_write_through_one_worker_is_seen_by_the_other(
    cluster: tuple[Server, Path, dict[str, str]],
) -> None:
    server, _, auth = cluster
    a, b = server.workers()
    with fresh(server.url) as client:
        with only(server, b):
            known = ids_near(client)  # worker b builds its point index
        with only(server, a):
            r = client.post(
                "/places",
                json={"name": "Neu über A", "category": "church", "lat": 54.8, "lon": 9.4},
                headers=auth,
            )
            assert r.status_code == 201, r.text
            written = time.monotonic()
            new_id = r.json()["id"]
        with only(server, b):
            assert new_id not in known
            while new_id not in ids_near(client):
                assert time.monotonic() - written < 1.0, "worker b did not see the write within 1 s"
            assert client.get(f"/places/{new_id}").status_code == 200
            etag = client.get(f"/places/{new_id}").headers["etag"]
            assert client.delete(f"/places/{new_id}", headers={**auth, "If-Match": etag}).status_code == 204
            deleted = time.monotonic()
        with only(server, a):
            while new_id in ids_near(client):
                assert time.monotonic() - deleted < 1.0, "worker a did not see the delete within 1 s"
        # With both running, every read lands on either worker and agrees.
        for _ in range(20):
            assert new_id not in ids_near(client)


def test_concurrent_writers_lose_nothing(cluster: tuple[Server, Path, dict[str, str]]) -> None:
    server, path, auth = cluster
    clients, creates, contested = 8, 20, 5
    with httpx.Client(base_url=server.url, timeout=60) as c:
        r = c.post(
            "/places", json={"name": "Zähler", "category": "other", "lat": 54.79, "lon": 9.43}, headers=auth
        )
        assert r.status_code == 201
        counter = r.headers["location"]
        before = c.get("/places", params={"limit": 1}).json()["numberMatched"]
    created: list[str] = []
    accepted: list[str] = []
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def writer(n: int) -> None:
        with httpx.Client(base_url=server.url, timeout=60) as client:  # keep-alive: one worker per client
            start.wait()
            for i in range(creates):
                body = {
                    "name": f"Schreiber {n} Nr. {i}",
                    "category": "other",
                    "lat": 54.78 + n / 1000,
                    "lon": 9.40 + i / 1000,
                }
                r = client.post("/places", json=body, headers=auth)
                with lock:
                    statuses.append(r.status_code)
                    if r.status_code == 201:
                        created.append(r.json()["id"])
                if i < contested:
                    etag = client.get(counter).headers["etag"]
                    token = f"{n}-{i}"
                    r = client.patch(counter, json={"description": token}, headers={**auth, "If-Match": etag})
                    with lock:
                        statuses.append(r.status_code)
                        if r.status_code == 200:
                            accepted.append(token)

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(writer, range(clients)))
    assert all(s in (200, 201, 412) for s in statuses), sorted(set(statuses))
    assert len(created) == clients * creates == len(set(created))
    with httpx.Client(base_url=server.url, timeout=60) as c:
        assert c.get("/places", params={"limit": 1}).json()["numberMatched"] == before + len(created)
        final = c.get(counter)
        history = c.get(f"{counter}/history", headers=auth).json()["changes"]
    updates = [h["after"]["description"] for h in history if h["action"] == "update"]
    assert len(accepted) >= 1 and sorted(updates) == sorted(accepted)  # each accepted PATCH, once
    assert final.json()["properties"]["description"] == updates[-1]
    assert final.headers["etag"].startswith(f'"v{1 + len(accepted)}-')
    store = open_store(str(path), DATA_DIR)
    try:
        stored = {p.id for p in store.places.iter_all()}
        assert set(created) <= stored
        assert all(store.places.history(i)[0].action == "create" for i in created[:10])
    finally:
        store.close()
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
