"""The map's opening hours: the cached payload carries raw hours and wheelchair values, open.json the
state of those rows at the current minute (checked against poi_service.hours for every row)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from poi_service import hours
from poi_service.api.app import create_app
from poi_service.config import Settings
from poi_service.models import Place
from poi_service.store import Store, open_store
from tests.api.test_bad_input import assert_problem
from tests.conftest import DATA_DIR
from tests.hours_data import with_hours
from tests.server import serve


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, Store]]:
    path: Path = tmp_path_factory.mktemp("maps-hours") / "maps.gpkg"
    store = open_store(str(path), DATA_DIR)
    store.places.add_many(with_hours(200, seed=5))
    with (
        serve(create_app(Settings(database_url=str(path)), store)) as url,
        httpx.Client(base_url=url) as client,
    ):
        yield client, store
    store.close()


def check_rows(payload: dict[str, Any], body: dict[str, Any], by_name: dict[str, Place]) -> None:
    at = datetime.fromisoformat(body["at"])
    assert body["n"] == payload["n"]
    raw = dict((i, text) for i, text in payload["oh"])
    rows = {r[0]: r[1:] for r in body["rows"]}
    for i, text in raw.items():
        p = by_name[payload["name"][i]]
        assert p.opening_hours == text
        state = hours.state_at(text, p.point.lon, p.point.lat, at)
        if state is None:  # unparseable: no row, shown raw by the page
            assert i not in rows
            continue
        flag, hhmm, dow = rows[i]
        assert flag == (None if state.open is None else int(state.open))
        assert hhmm == (state.next_change.strftime("%H:%M") if state.next_change else None)
        assert dow == -1 or (state.next_change is not None and dow == state.next_change.weekday())
    assert set(rows) <= set(raw)


def test_payload_and_open_state(served: tuple[httpx.Client, Store]) -> None:
    client, store = served
    by_name = {p.name: p for p in store.places.iter_all()}
    payload = client.get("/maps/places/data.json").json()
    assert {payload["name"][i]: v for i, v in payload["wc"]} == {
        p.name: p.wheelchair for p in by_name.values() if p.wheelchair
    }
    assert len(payload["oh"]) == sum(1 for p in by_name.values() if p.opening_hours)
    r = client.get("/maps/places/open.json")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-cache"
    body = r.json()
    assert body["etag"] == client.get("/maps/places/data.json").headers["etag"]
    check_rows(payload, body, by_name)
    assert any(row[1] == 1 for row in body["rows"])  # 24/7 places at least


def test_open_state_of_a_filtered_map(served: tuple[httpx.Client, Store]) -> None:
    client, store = served
    by_name = {p.name: p for p in store.places.iter_all()}
    query = "?category=church,school&center=54.8,9.4&radius_m=8000"
    payload = client.get("/maps/places/data.json" + query).json()
    assert 0 < payload["n"] < len(by_name)
    check_rows(payload, client.get("/maps/places/open.json" + query).json(), by_name)


@pytest.mark.parametrize(("query", "param"), [("?category=casino", "category"), ("?radius_m=5", "radius_m")])
def test_bad_parameters(served: tuple[httpx.Client, Store], query: str, param: str) -> None:
    assert_problem(served[0].get("/maps/places/open.json" + query), 400, param)


def test_memoised_states_equal_fresh_ones() -> None:
    """The map re-evaluates a row only after its next change: the same answers as evaluating all."""
    from opening_hours import OpeningHours

    from poi_service.maps.open_state import Memo, states
    from tests.test_hours import helsinki_tags

    rows = []
    for i, (text, lon, lat) in enumerate(helsinki_tags()):
        if hours.valid(text):
            rows.append((i, text, OpeningHours(text, coords=(lat, lon))))
    memo: Memo = {}
    at = datetime.fromisoformat("2026-03-27T18:07:00+00:00")  # across the spring DST switch
    for _ in range(60):
        assert states(rows, at, memo) == states(rows, at)
        at += timedelta(minutes=97)
    assert states(rows, at - timedelta(days=3), memo) == states(rows, at - timedelta(days=3))  # back in time
