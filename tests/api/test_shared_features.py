"""Rendered features shared per data version (features/shared.py): the same bytes as the plain path,
built once by a child process, replaced after a write, never serving a version it was not built for."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest

from poi_service.api.app import create_app
from poi_service.config import Settings
from poi_service.features import shared as shared_mod
from poi_service.features.shared import SharedFeatures
from poi_service.services import Services
from poi_service.store import Store, open_store
from tests.conftest import DATA_DIR
from tests.factories import AREA, CATEGORIES, random_places
from tests.server import serve

N = shared_mod.MIN_ROWS + 500


@dataclass
class Served:
    client: httpx.Client
    store: Store
    services: Services
    path: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    path = tmp_path_factory.mktemp("shared") / "big.gpkg"
    settings = Settings(database_url=str(path), max_radius_m=20_000, max_k=50)
    store = open_store(settings.database_url, DATA_DIR)
    store.places.add_many(random_places(N, seed=5))
    app = create_app(settings, store)
    with serve(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield Served(client, store, app.state.services, path)
    store.close()


def shared_of(s: Served) -> SharedFeatures:
    assert s.services.shared is not None
    return s.services.shared


def wait_mapped(s: Served, version: int) -> None:
    shared = shared_of(s)
    deadline = time.monotonic() + 180
    while shared._mapped is None or shared._mapped[0] != version:
        assert time.monotonic() < deadline, "the rendered features were not built"
        shared.prepare()
        time.sleep(0.2)


def targets(seed: int, n: int) -> list[str]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        lon, lat = rng.uniform(AREA[0], AREA[2]), rng.uniform(AREA[1], AREA[3])
        radius = float(rng.choice([150.0, 600.0, 2500.0]))
        where = f"lat={lat:.6f}&lon={lon:.6f}"
        cats = ",".join(rng.choice(CATEGORIES, int(rng.integers(0, 3)), replace=False))
        cat = f"&category={cats}" if cats else ""
        out.append(f"/places/nearby?{where}&radius_m={radius}&limit={int(rng.integers(1, 30))}{cat}")
        out.append(f"/places/nearby?{where}&radius_m={radius}&limit=5&offset={int(rng.integers(0, 40))}")
        out.append(f"/places/nearest?{where}&k={int(rng.integers(1, 50))}{cat}")
    out.append(f"/places/nearby?lat={AREA[1]}&lon={AREA[0]}&radius_m=1&limit=5")  # nothing near
    out.append("/places/nearby?lat=54.78&lon=9.43&radius_m=900&limit=10&category=no_such_category")
    return out


def both(s: Served, target: str) -> tuple[bytes, bytes]:
    """The answer with the shared features, and with the plain path."""
    fast = s.client.get(target)
    keep, s.services.shared = s.services.shared, None
    try:
        plain = s.client.get(target)
    finally:
        s.services.shared = keep
    assert fast.status_code == plain.status_code
    return fast.content, plain.content


def test_the_same_bytes_as_the_plain_path(served: Served) -> None:
    wait_mapped(served, served.store.places.data_version())
    shared = shared_of(served)
    used = 0
    real = shared.features

    def counting(page):  # type: ignore[no-untyped-def]
        nonlocal used
        found = real(page)
        used += found is not None
        return found

    shared.features = counting  # type: ignore[method-assign]
    try:
        checked = targets(1, 70)
        for target in checked:
            fast, plain = both(served, target)
            assert fast == plain, target
    finally:
        del shared.features
    assert used >= len(checked) - 5  # every index-only request was answered from the file


def test_filters_the_index_cannot_answer_take_the_plain_path(served: Served) -> None:
    wait_mapped(served, served.store.places.data_version())
    for extra in ("&q=hafen", "&wheelchair=yes", "&open_now=true"):
        fast, plain = both(served, f"/places/nearby?lat=54.79&lon=9.43&radius_m=3000&limit=20{extra}")
        assert fast == plain


def test_a_write_is_seen_at_once_and_the_file_follows(served: Served) -> None:
    store = served.store
    before = store.places.data_version()
    wait_mapped(served, before)
    snapshots = served.path.with_name(served.path.name + ".snapshots")
    [old] = snapshots.glob("features-*.bin")
    added = store.places.add(random_places(1, seed=77)[0])
    point = added.point
    target = f"/places/nearby?lat={point.lat}&lon={point.lon}&radius_m=50&limit=50"
    fast, plain = both(served, target)  # the file of the old version must not answer
    assert fast == plain and added.id.encode() in fast
    wait_mapped(served, store.places.data_version())
    [new] = snapshots.glob("features-*.bin")
    assert new != old and not old.exists()
    for again in [target, *targets(2, 20)]:
        fast, plain = both(served, again)
        assert fast == plain, again


def test_a_busy_index_is_asked_again_from_a_worker_thread(served: Served) -> None:
    import threading

    from poi_service.features.shared import BUSY
    from poi_service.models import Point
    from poi_service.store import Near, PlaceFilter

    wait_mapped(served, served.store.places.data_version())
    shared = shared_of(served)
    near = Near(Point(9.43, 54.79), 2000.0)
    held, release = threading.Event(), threading.Event()

    def long_read() -> None:
        with served.store.read_lock:  # type: ignore[attr-defined]
            held.set()
            release.wait(10)

    thread = threading.Thread(target=long_read)
    thread.start()
    held.wait(5)
    try:
        assert shared.near(near, PlaceFilter(), 0, 10) is BUSY  # the event loop never waits long
        target = "/places/nearby?lat=54.79&lon=9.43&radius_m=2000&limit=10"
        answer = httpx.Client(base_url=str(served.client.base_url), timeout=30)
        pending = threading.Thread(target=lambda: got.append(answer.get(target).content))
        got: list[bytes] = []
        pending.start()
    finally:
        release.set()
        thread.join()
    pending.join(30)
    fast, plain = both(served, target)
    assert got == [plain] and fast == plain
    found = shared.near(near, PlaceFilter(), 0, 10, True)
    assert isinstance(found, tuple) and found[0] > 0
