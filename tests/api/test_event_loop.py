"""A slow store call (an index build after another worker's write) must not stall other requests."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.api.conftest import Api


def test_requests_are_served_while_the_store_is_busy(api: Api) -> None:
    store = api.store
    holding, release = threading.Event(), threading.Event()

    def busy_store() -> None:  # what a 1M index build looks like from outside: the reader is taken
        with store.reading():  # type: ignore[attr-defined]
            holding.set()
            release.wait(10)

    busy = threading.Thread(target=busy_store)
    busy.start()
    assert holding.wait(10)
    try:
        with ThreadPoolExecutor(2) as pool, httpx.Client(base_url=api.url, timeout=30) as client:
            nearby = pool.submit(client.get, "/places/nearby", params={"lat": 54.8, "lon": 9.4})
            time.sleep(0.3)  # the nearby request is now waiting for the store
            started = time.monotonic()
            categories = client.get("/categories")
            waited = time.monotonic() - started
            assert categories.status_code == 200
            assert waited < 1.5, f"/categories waited {waited:.1f} s behind a busy store call"
            assert not nearby.done()
            release.set()
            assert nearby.result().status_code == 200
    finally:
        release.set()
        busy.join()
