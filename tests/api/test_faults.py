"""Store faults while serving: the SQLite file locked by another process, its disk full, its
connection read-only. Reads keep answering, writes answer 503 problem+json with Retry-After, nothing is
half-written, and the service recovers by itself when the fault ends (no restart)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

import poi_service.store.sqlite as sqlite_store
from poi_service.api.app import create_app
from poi_service.config import Settings
from poi_service.errors import unavailable_for
from poi_service.models import KeyRole
from poi_service.store import Store, open_store
from tests.api.conftest import bearer
from tests.api.test_bad_input import assert_problem
from tests.conftest import DATA_DIR
from tests.factories import random_places
from tests.server import serve

HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE poi_meta SET value = value")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


@dataclass
class Served:
    url: str
    client: httpx.Client
    store: Store
    auth: dict[str, str]
    some_id: str

    def write(self, n: int, size: int = 10) -> httpx.Response:
        body = {
            "name": f"Fault {n}",
            "category": "church",
            "lat": 54.79,
            "lon": 9.41,
            "description": "x" * size,
        }
        return self.client.post("/places", json=body, headers=self.auth)

    def reads_answer(self) -> None:
        c = self.client
        assert c.get("/health").status_code == 200
        assert c.get(f"/places/{self.some_id}").status_code == 200
        assert (
            c.get("/places/nearby", params={"lat": 54.79, "lon": 9.41, "radius_m": 5000}).status_code == 200
        )


@contextlib.contextmanager
def served_store(path: Path) -> Iterator[Served]:
    settings = Settings(database_url=str(path))
    store = open_store(settings.database_url, DATA_DIR)
    if store.places.count() == 0:
        store.places.add_many(random_places(50, seed=4))
    _, key = store.create_key("Redaktion", KeyRole.EDITOR)
    some_id = next(iter(store.places.iter_all())).id
    app = create_app(settings, store)
    with serve(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield Served(url, client, store, bearer(key), some_id)
    store.close()


def names(store: Store) -> set[str]:
    return {p.name for p in store.places.iter_all()}


def test_write_lock_held_by_another_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_store, "BUSY_TIMEOUT_MS", 1000)  # the default is 10 s
    with served_store(tmp_path / "locked.gpkg") as s:
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_LOCK, str(tmp_path / "locked.gpkg"), "5"], stdout=subprocess.PIPE
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == b"locked"
            t0 = time.monotonic()
            r = s.write(1)
            assert time.monotonic() - t0 < 4.0
            assert_problem(r, 503, None)
            assert int(r.headers["retry-after"]) > 0
            s.reads_answer()
            assert holder.wait(timeout=30) == 0
        finally:
            holder.kill()
        assert s.write(2).status_code == 201  # recovered without a restart
        assert "Fault 1" not in names(s.store) and "Fault 2" in names(s.store)


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], check=False).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(directory: Path) -> Path:
    """Takes every free byte of the file system."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for block in (65536, 512, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * block)
    finally:
        os.close(fd)
    return filler


def test_disk_full(small_disk: Path) -> None:
    with served_store(small_disk / "full.gpkg") as s:
        before = names(s.store)
        filler = fill(small_disk)
        created, refused = set(), []
        for n in range(300):
            r = s.write(n, size=2000)
            assert r.status_code in (201, 503), r.text
            if r.status_code == 201:
                created.add(f"Fault {n}")
            else:
                refused.append(r)
                if len(refused) >= 3:
                    break
        assert refused, "the disk never filled up"
        for r in refused:
            assert_problem(r, 503, None)
            assert int(r.headers["retry-after"]) > 0
        s.reads_answer()
        # Nothing half-written: exactly the acknowledged writes are stored.
        assert names(s.store) == before | created
        filler.unlink()
        assert s.write(1000).status_code == 201  # recovered without a restart
        assert names(s.store) == before | created | {"Fault 1000"}


def test_read_only_and_locked_errors_map_to_503(tmp_path: Path) -> None:
    path = tmp_path / "ro.sqlite"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.commit()
    ro = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as caught:
        ro.execute("INSERT INTO t VALUES (1)")
    fault = unavailable_for(caught.value)
    assert fault is not None and fault.status == 503 and fault.headers["Retry-After"]
    assert unavailable_for(sqlite3.OperationalError("no such table: x")) is None  # a bug stays a 500
    assert unavailable_for(sqlite3.OperationalError("database is locked")) is not None
