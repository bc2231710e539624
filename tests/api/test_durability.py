"""SIGKILL of the whole server in the middle of an import's write leaves the store exactly as before."""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from pathlib import Path

import httpx

from poi_service.models import KeyRole, Point
from poi_service.store import Near, PlaceFilter, Query, Store, open_store
from tests.conftest import DATA_DIR
from tests.factories import random_places
from tests.process import serve

ROWS = 10_000


def big_csv(path: Path, n: int) -> Path:
    """n places with coordinates well inside Flensburg (no geocoder calls, only the write takes time)."""
    rng = random.Random(4)
    lines = ["name,category,lat,lon,external_key"]
    lines += [
        f"Ort {i},Kirche,{rng.uniform(54.775, 54.795):.6f},{rng.uniform(9.41, 9.45):.6f},bulk:{i}"
        for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def writing(path: Path) -> bool:
    """True while another connection holds the file's write lock (the import's transaction)."""
    con = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return True
        raise
    finally:
        con.close()


def state(store: Store) -> tuple[int, list[tuple[str, int]], int]:
    places = sorted((p.id, p.version) for p in store.places.iter_all())
    history = sum(len(store.places.history(pid)) for pid, _ in places)
    return store.places.count(), places, history


def test_sigkill_during_an_import_leaves_the_store_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "store.gpkg"
    store = open_store(str(path), DATA_DIR)
    store.places.add_many(random_places(30), actor="seed")
    _, key = store.create_key("Import", KeyRole.EDITOR)
    before = state(store)
    store.close()
    upload = big_csv(tmp_path / "bulk.csv", ROWS)
    outcome: list[object] = []

    with serve(path, workers=1) as server:

        def post() -> None:
            try:
                with httpx.Client(base_url=server.url, timeout=300) as client, upload.open("rb") as f:
                    r = client.post(
                        "/imports",
                        files={"file": ("bulk.csv", f)},
                        headers={"Authorization": f"Bearer {key}"},
                    )
                    outcome.append(r.status_code)
            except httpx.HTTPError as exc:
                outcome.append(exc)

        thread = threading.Thread(target=post)
        thread.start()
        deadline = time.monotonic() + 240
        while not writing(path):
            assert not outcome, f"the import ended ({outcome}) before it could be killed: make it bigger"
            assert time.monotonic() < deadline, "the import never started writing"
            time.sleep(0.005)
        server.kill()  # SIGKILL to the whole process group, mid-transaction
        server.process.wait(timeout=30)
        thread.join(timeout=60)
    assert outcome and isinstance(outcome[0], httpx.HTTPError), outcome  # no answer: it was killed

    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    store = open_store(str(path), DATA_DIR)
    try:
        assert state(store) == before
        everywhere = Query(PlaceFilter(), near=Near(Point(9.4, 54.8), 50_000), limit=1000)
        assert store.places.search(everywhere).total == before[0]  # the point index agrees
    finally:
        store.close()
