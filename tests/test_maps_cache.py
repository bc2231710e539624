"""The prepared map payloads: kept in the store across restarts, refreshed, rebuilt when records change."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from poi_service.api.app import create_app
from poi_service.api.routes import map_data as maps_routes
from poi_service.config import Settings
from poi_service.maps import persist
from poi_service.maps.cache import Keeper, PayloadCache, Prepared, gunzip_chunks, prepare, prepare_bytes
from poi_service.maps.open_state import OpenStates
from poi_service.store import Store
from tests.browser.data import map_store
from tests.factories import random_places
from tests.server import serve


class Builds:
    """Counts the builds of the places payload while still building it for real."""

    def __init__(self) -> None:
        self.calls = 0
        self.real = maps_routes.places_payload

    def __call__(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        return self.real(*args, **kwargs)


def kept_value(store: Store) -> str | None:
    return store.cache_get(persist.PROVIDER, persist.places_key())


def wait_for_kept(store: Store, previous: str | None = None) -> str:
    deadline = time.monotonic() + 20
    while (value := kept_value(store)) is None or value == previous:
        assert time.monotonic() < deadline, "the payload was not kept"
        time.sleep(0.05)
    return value


def data(url: str) -> httpx.Response:
    r = httpx.get(url + "/maps/places/data.json", timeout=30)
    assert r.status_code == 200
    return r


def test_a_restarted_server_serves_the_kept_payload(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = map_store(tmp_path / "maps.gpkg")
    settings = Settings(database_url=str(tmp_path / "maps.gpkg"))
    builds = Builds()
    monkeypatch.setattr(maps_routes, "places_payload", builds)
    with serve(create_app(settings, store)) as url:
        first = data(url)
        kept = wait_for_kept(store)
    assert builds.calls == 1

    with serve(create_app(settings, store)) as url:  # a restart: no build, the same body and ETag
        again = data(url)
    assert builds.calls == 1
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]

    # a new record: the kept payload no longer fits the count
    store.places.add_many(random_places(1, seed=20260101), actor="test")
    with serve(create_app(settings, store)) as url:
        grown = data(url)
        wait_for_kept(store, kept)
    assert builds.calls == 2
    assert json.loads(grown.content)["n"] == json.loads(first.content)["n"] + 1
    store.close()


def test_an_edit_that_keeps_the_count_shows_on_the_next_request(tmp_path: Path) -> None:
    store = map_store(tmp_path / "maps.gpkg")
    settings = Settings(database_url=str(tmp_path / "maps.gpkg"))
    [row] = random_places(1, seed=770077)
    victim = store.places.add(row, actor="test")
    with serve(create_app(settings, store)) as url:
        before = data(url)
        assert "Umbenannt im Test" not in before.text
        store.places.update(victim.id, replace(row, name="Umbenannt im Test"), actor="test")
        after = data(url)  # no TTL wait: the data version moved
    assert "Umbenannt im Test" in after.text and after.headers["etag"] != before.headers["etag"]
    store.close()


def wait(condition: Any) -> None:
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_kept_payload_stands_in_only_for_the_first_build() -> None:
    kept = prepare({"n": 0}, 1)
    saved: list[Prepared] = []
    calls: list[int] = []

    def build() -> object:
        calls.append(1)
        return {"n": len(calls) // 2}  # the first two builds give the kept body again, then {"n": 1}

    cache = PayloadCache(ttl_s=0.05)
    cache.keep("k", Keeper(lambda token: kept if token == kept.token else None, saved.append))
    assert cache.restore("k", 1)
    assert cache.get("k", 1, build) is kept and calls == []
    time.sleep(0.1)
    assert cache.get("k", 1, build) is kept  # stale: served while a refresh reads the store
    wait(lambda: calls == [1])
    assert json.loads(cache.get("k", 2, build).body) == {"n": 1} and calls == [1, 1]
    wait(lambda: len(saved) == 1)
    assert json.loads(saved[0].body) == {"n": 1}  # the unchanged refresh was not saved again


@pytest.mark.parametrize("value", ["", "2\n5\n!!!", "2\n5\nAAAA", "1\n5\n0\nAAAA", "2\n6\n"])
def test_a_damaged_or_foreign_kept_value_is_ignored(value: str) -> None:
    assert persist.parse(value, 5) is None


def test_a_kept_payload_round_trips() -> None:
    prepared = prepare({"n": 3}, 5)
    kept = persist.parse(persist.dump(prepared), 5)
    assert kept is not None and (kept.body, kept.body_gz, kept.etag) == (
        prepared.body,
        prepared.body_gz,
        prepared.etag,
    )


def test_a_gzipped_payload_is_decompressed_piece_by_piece() -> None:
    body = orjson.dumps({"rows": [[i, f"Ort {i}", i / 7] for i in range(5000)]})
    prepared = prepare_bytes(body)
    pieces = list(gunzip_chunks(prepared.body_gz, chunk=1000))
    assert len(pieces) > 2 and b"".join(pieces) == body == prepared.body


def test_the_open_state_from_the_hours_taken_at_build_equals_the_one_from_the_body() -> None:
    payload = {
        "n": 4,
        "lon": [9.43, 9.44, 9.45, 13.4],
        "lat": [54.78, 54.79, 54.8, 52.5],
        "oh": [[0, "Mo-Su 08:00-20:00"], [2, "Mo-Fr 09:00-17:00; PH off"], [3, "not a rule"]],
    }
    prepared = prepare(payload, 7)
    assert prepared.hours == (
        4,
        (
            (0, "Mo-Su 08:00-20:00", 54.78, 9.43),
            (2, "Mo-Fr 09:00-17:00; PH off", 54.8, 9.45),
            (3, "not a rule", 52.5, 13.4),
        ),
    )
    kept = persist.parse(persist.dump(prepared), 7)
    assert kept is not None and kept.hours == prepared.hours and kept.etag == prepared.etag
    at = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)
    without = replace(prepared, hours=None)  # the old way: parse the body
    assert OpenStates().body(kept, at) == OpenStates().body(without, at)
    damaged = persist.dump(prepared)
    assert persist.parse(damaged[:-8] + "AAAAAAAA", 7) is None  # gzip CRC/length no longer match
