"""The shared snapshot file (store/snapshot_file.py): a store that maps it answers exactly as one
that built its index in memory, other processes map it instead of building, and a file that does
not belong to the store's current rows is never used."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from poi_service.models import Point
from poi_service.store import Near, PlaceFilter, Query
from poi_service.store import snapshot_file as sf
from poi_service.store.sqlite import SqliteStore
from tests.conftest import DATA_DIR, ROOT
from tests.factories import CATEGORIES, random_places

N = 3000


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    path = tmp_path / "store.gpkg"
    store = SqliteStore(path, DATA_DIR)
    store.places.add_many(random_places(N, seed=11))
    store.close()
    return path


def answers(store: SqliteStore, seed: int) -> list[object]:
    """Nearby pages, k-nearest, category and area answers at random points (ids, distances, totals)."""
    rng = np.random.default_rng(seed)
    out: list[object] = []
    for lon, lat in zip(rng.uniform(9.25, 9.55, 40), rng.uniform(54.72, 54.86, 40), strict=True):
        point = Point(float(lon), float(lat))
        for flt in (PlaceFilter(), PlaceFilter(categories=(CATEGORIES[0], CATEGORIES[3]))):
            for offset in (0, 7):
                page = store.places.search(Query(flt, near=Near(point, 1500.0), limit=10, offset=offset))
                out.append((page.total, [(h.record.id, round(h.distance_m or 0, 6)) for h in page.hits]))
            hits = store.places.nearest(point, 12, flt)
            out.append([(h.record.id, round(h.distance_m or 0, 6)) for h in hits])
    for area in ("01", "01001", "01059", "01059183"):
        page = store.places.search(Query(PlaceFilter(), area=area, limit=20, offset=3))
        out.append((page.total, [h.record.id for h in page.hits]))
    return out


def snaps(path: Path) -> list[Path]:
    return sorted(path.with_name(path.name + ".snapshots").glob("*.snap"))


def test_mapped_snapshot_answers_as_the_in_memory_one(stored: Path) -> None:
    plain = SqliteStore(stored, DATA_DIR, snapshot_min_rows=10**9)  # never a file
    expected = answers(plain, 1)
    plain.close()
    assert snaps(stored) == []
    writer = SqliteStore(stored, DATA_DIR, snapshot_min_rows=0)
    assert answers(writer, 1) == expected
    writer.close()
    [file] = snaps(stored)
    mtime = file.stat().st_mtime_ns
    reader = SqliteStore(stored, DATA_DIR, snapshot_min_rows=0)
    snap = reader.places._fresh_index()
    assert not snap.index.fids.flags.writeable  # mapped from the file, not built
    assert answers(reader, 1) == expected
    assert file.stat().st_mtime_ns == mtime
    reader.close()


def test_a_write_makes_a_new_file_and_drops_the_old(stored: Path) -> None:
    store = SqliteStore(stored, DATA_DIR, snapshot_min_rows=0)
    store.places.warm()
    [old] = snaps(stored)
    store.places.add(random_places(1, seed=99)[0])
    store.places.warm()
    [new] = snaps(stored)
    assert new != old and not old.exists()
    fresh = SqliteStore(stored, DATA_DIR, snapshot_min_rows=10**9)
    assert answers(store, 2) == answers(fresh, 2)
    store.close()
    fresh.close()


def test_damaged_or_foreign_files_are_rebuilt(stored: Path) -> None:
    plain = SqliteStore(stored, DATA_DIR, snapshot_min_rows=10**9)
    expected = answers(plain, 3)
    plain.close()
    store = SqliteStore(stored, DATA_DIR, snapshot_min_rows=0)
    store.places.warm()
    store.close()
    [file] = snaps(stored)
    data = file.read_bytes()
    file.write_bytes(data[: len(data) // 2])  # truncated
    store = SqliteStore(stored, DATA_DIR, snapshot_min_rows=0)
    assert answers(store, 3) == expected
    store.close()
    assert file.stat().st_size == len(data)
    # Another store's file under this name (a different store id in its key) is not used.
    store_id = SqliteStore(stored, DATA_DIR).store_id.encode()
    file.write_bytes(data.replace(store_id, b"0" * 32))
    store = SqliteStore(stored, DATA_DIR, snapshot_min_rows=0)
    assert answers(store, 3) == expected
    store.close()
    assert store_id in file.read_bytes()  # rebuilt with this store's key


def test_an_unwritable_directory_keeps_the_index_in_memory(stored: Path) -> None:
    if os.geteuid() == 0:
        blocker = stored.with_name(stored.name + ".snapshots")
        blocker.write_text("a file where the directory would go")  # root ignores permissions
    else:
        stored.parent.chmod(0o555)
    try:
        store = SqliteStore(stored, DATA_DIR, snapshot_min_rows=0)
        plain = SqliteStore(stored, DATA_DIR, snapshot_min_rows=10**9)
        assert answers(store, 4) == answers(plain, 4)
        store.close()
        plain.close()
    finally:
        stored.parent.chmod(0o755)


WORKER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from poi_service.store import snapshot
    from poi_service.store.sqlite import SqliteStore
    builds = []
    real = snapshot.build_snapshot
    def counting(*args, **kw):
        builds.append(1)
        return real(*args, **kw)
    import poi_service.store.collection as collection
    collection.build_snapshot = counting
    store = SqliteStore(Path(sys.argv[1]), Path(sys.argv[2]), snapshot_min_rows=0)
    store.places.warm()
    print(len(builds), len(store.places._fresh_index().index))
    """
)


def test_processes_build_once_and_share(stored: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(stored), str(DATA_DIR)],
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        for _ in range(3)
    ]
    results = [p.communicate(timeout=120)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sorted(int(r[0]) for r in results) == [0, 0, 1]  # one built, two waited and mapped
    assert {int(r[1]) for r in results} == {N}
    assert len(snaps(stored)) == 1


def test_key_names_what_the_file_stands_for(stored: Path) -> None:
    store = SqliteStore(stored, DATA_DIR, snapshot_min_rows=0)
    store.places.warm()
    [file] = snaps(stored)
    stat = stored.stat()
    version = store.places.data_version()
    key = sf.Key("places", version, store.store_id, stat.st_dev, stat.st_ino)
    assert sf.load(file, key) is not None
    assert sf.load(file, sf.Key("places", version + 1, store.store_id, stat.st_dev, stat.st_ino)) is None
    store.close()
