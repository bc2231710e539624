"""The alliance API over the shipped members file, checked against counts taken straight from the CSV."""

from __future__ import annotations

import calendar
import csv
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from poi_service.api.app import create_app
from poi_service.config import Settings
from poi_service.geocode import OfflineGeocoder
from poi_service.ingest.seed import MEMBERS_FILE, shipped_memberships
from poi_service.store import open_store
from tests.conftest import DATA_DIR
from tests.server import serve

ROWS = list(csv.DictReader((DATA_DIR / MEMBERS_FILE).open(encoding="utf-8", newline="")))


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    path: Path = tmp_path_factory.mktemp("shipped") / "members.gpkg"
    settings = Settings(database_url=str(path))
    store = open_store(settings.database_url, DATA_DIR)
    store.memberships.add_many(shipped_memberships(DATA_DIR, OfflineGeocoder(DATA_DIR)))
    with serve(create_app(settings, store)) as url, httpx.Client(base_url=url, timeout=60) as http:
        yield http
    store.close()


def period(text: str) -> tuple[date, date] | None:
    """First and last day of a CSV join date ('2019', '2019-06', '2019-06-14'); None when unknown."""
    parts = [int(p) for p in text.split("-")] if text and "/" not in text else []
    if len(parts) == 1:
        return date(parts[0], 1, 1), date(parts[0], 12, 31)
    if len(parts) == 2:
        return date(*parts, 1), date(*parts, calendar.monthrange(*parts)[1])
    return (date(*parts), date(*parts)) if len(parts) == 3 else None


def members(client: httpx.Client, **params: Any) -> list[tuple[str, str]]:
    body = client.get("/alliance/members", params={**params, "limit": 1000}).json()
    assert body["numberMatched"] == body["numberReturned"]
    return sorted((f["properties"]["name"], f["properties"]["alliance"]) for f in body["features"])


@pytest.mark.parametrize(
    ("after", "before"),
    [
        (None, date(2019, 1, 31)),
        (None, date(2019, 6, 30)),
        (None, date(2019, 12, 31)),
        (date(2019, 6, 1), None),
        (date(2020, 1, 1), date(2020, 12, 31)),
        (date(2019, 7, 1), date(2021, 3, 31)),
    ],
)
def test_joined_filters_need_the_whole_period_in_range(
    client: httpx.Client, after: date | None, before: date | None
) -> None:
    want = []
    for row in ROWS:
        span = period(row["joined"])
        if span and (after is None or span[0] >= after) and (before is None or span[1] <= before):
            want.append((row["name"], row["alliance"]))
    params = {k: v.isoformat() for k, v in (("joined_after", after), ("joined_before", before)) if v}
    assert members(client, **params) == sorted(want)
    assert any(len(r["joined"]) in (4, 7) for r in ROWS), "the shipped file has year and month dates"


def test_stats_per_alliance_state_and_year(client: httpx.Client) -> None:
    by_state: dict[str, Counter[str]] = defaultdict(Counter)
    by_year: dict[str, Counter[str]] = defaultdict(Counter)
    by_country: dict[str, Counter[str]] = defaultdict(Counter)
    for row in ROWS:
        if row["country"] == "DE":  # foreign members are counted per country only
            by_state[row["alliance"]][row["state"] or "unknown"] += 1
        by_country[row["alliance"]][row["country"]] += 1
        span = period(row["joined"])  # '2018/2019' is unknown, never guessed
        by_year[row["alliance"]][str(span[0].year) if span else "unknown"] += 1
    by_alliance = Counter(row["alliance"] for row in ROWS)
    stats = client.get("/alliance/stats").json()
    assert stats == {
        "by_alliance": by_alliance,
        "by_state": by_state,
        "by_country": by_country,
        "by_year": by_year,
    }
    assert not any(len(s) == 2 and s.isupper() for states in stats["by_state"].values() for s in states)
    assert stats["by_state"]["buendnis"]["Niedersachsen"] > 0 and stats["by_year"]["buendnis"]["unknown"] > 0
