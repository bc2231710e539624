"""open_at, open_now and wheelchair over HTTP (REST and OGC places items): the answers against the
parser and brute force, open / next_change on the features, and 400 problems naming the parameter."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from geopy.distance import geodesic

from poi_service import hours
from poi_service.api.app import create_app
from poi_service.config import Settings
from poi_service.models import Place
from poi_service.store import Store, open_store
from tests.api.test_bad_input import assert_problem
from tests.conftest import DATA_DIR
from tests.hours_data import with_hours
from tests.server import serve

AT = "2026-12-07T10:30:00+01:00"  # a Monday morning in Harrislee
AT_DT = datetime.fromisoformat(AT)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, Store]]:
    path: Path = tmp_path_factory.mktemp("hours") / "hours.gpkg"
    settings = Settings(database_url=str(path), max_radius_m=50_000, max_page_size=500, max_k=100)
    store = open_store(settings.database_url, DATA_DIR)
    store.places.add_many(with_hours(300))
    with serve(create_app(settings, store)) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client, store
    store.close()


def open_then(p: Place, at: datetime) -> bool:
    return hours.is_open(p.opening_hours, p.point.lon, p.point.lat, at)


def q(text: str) -> str:
    return quote(text, safe="")


def test_nearby_open_at_and_wheelchair(served: tuple[httpx.Client, Store]) -> None:
    client, store = served
    r = client.get(
        f"/places/nearby?lat=54.8&lon=9.4&radius_m=30000&open_at={q(AT)}&wheelchair=yes,limited&limit=500"
    )
    assert r.status_code == 200, r.text
    body = r.json()
    places = list(store.places.iter_all())

    def dist(p: Place) -> float:
        return float(geodesic((54.8, 9.4), (p.point.lat, p.point.lon)).meters)

    want = sorted(
        (dist(p), p.id)
        for p in places
        if p.wheelchair in ("yes", "limited") and open_then(p, AT_DT) and dist(p) <= 30000
    )
    assert body["numberMatched"] == len(want) > 0
    assert [f["id"] for f in body["features"]] == [i for _, i in want]
    by_id = {p.id: p for p in places}
    for f in body["features"]:
        props, p = f["properties"], by_id[f["id"]]
        assert props["open"] is True and props["wheelchair"] in ("yes", "limited")
        assert props["opening_hours"] == p.opening_hours
        state = hours.state_at(p.opening_hours, p.point.lon, p.point.lat, AT_DT)
        assert state is not None
        if state.next_change is None:  # no change within a year
            assert p.opening_hours == "24/7" and props["next_change"] is None
            continue
        assert props["next_change"] == state.next_change.isoformat()
        # RFC 3339 with the local (Berlin, winter) offset, later than the query time.
        assert props["next_change"].endswith("+01:00")
        assert datetime.fromisoformat(props["next_change"]) > AT_DT
        assert list(props)[-1] == "distance_m"


def test_features_carry_open_only_when_asked(served: tuple[httpx.Client, Store]) -> None:
    client, _ = served
    plain = client.get("/places/nearby?lat=54.8&lon=9.4&radius_m=30000&limit=5").json()["features"]
    assert plain and all(
        "open" not in f["properties"] and "next_change" not in f["properties"] for f in plain
    )
    assert all("opening_hours" in f["properties"] and "wheelchair" in f["properties"] for f in plain)


def test_places_listing_and_nearest(served: tuple[httpx.Client, Store]) -> None:
    client, store = served
    places = list(store.places.iter_all())
    want = {p.id for p in places if open_then(p, AT_DT)}
    seen, url = [], f"/places?bbox=9,54,10,55.5&open_at={q(AT)}&limit=40"
    while url:
        body = client.get(url).json()
        assert body["numberMatched"] == len(want)
        seen += [f["id"] for f in body["features"]]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), "")
    assert len(seen) == len(set(seen)) and set(seen) == want
    body = client.get(f"/places/nearest?lat=54.8&lon=9.4&k=9&open_at={q(AT)}").json()
    nearest = sorted(
        (geodesic((54.8, 9.4), (p.point.lat, p.point.lon)).meters, p.id) for p in places if p.id in want
    )
    assert [f["id"] for f in body["features"]] == [i for _, i in nearest[:9]]
    assert all(f["properties"]["open"] is True for f in body["features"])


def test_open_now_uses_the_current_time(served: tuple[httpx.Client, Store]) -> None:
    client, store = served
    before = datetime.now(UTC)
    body = client.get("/places?open_now=true&limit=500").json()
    after = datetime.now(UTC)
    places = list(store.places.iter_all())
    low = {p.id for p in places if open_then(p, before) and open_then(p, after)}
    high = {p.id for p in places if open_then(p, before) or open_then(p, after)}
    got = {f["id"] for f in body["features"]}
    assert low <= got <= high and body["numberMatched"] == len(got)
    assert all(f["properties"]["open"] is True for f in body["features"])
    assert client.get("/places?open_now=false&limit=1").json()["numberMatched"] == len(places)


def test_an_unencoded_plus_of_the_offset_still_reads(served: tuple[httpx.Client, Store]) -> None:
    client, _ = served
    a = client.get(f"/places?open_at={q(AT)}&limit=500").json()
    b = client.get("/places?open_at=2026-12-07T10:30:00+01:00&limit=500").json()  # '+' arrives as ' '
    c = client.get("/places?open_at=2026-12-07T09:30:00Z&limit=500").json()
    assert a["numberMatched"] == b["numberMatched"] == c["numberMatched"] > 0


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/places/nearby?lat=54.8&lon=9.4&open_at=tomorrow", "open_at"),
        ("/places/nearby?lat=54.8&lon=9.4&open_at=2026-12-07T10:30:00", "open_at"),  # no offset
        ("/places/nearby?lat=54.8&lon=9.4&open_at=2026-12-07", "open_at"),
        ("/places/nearby?lat=54.8&lon=9.4&open_at=2026-13-07T10:30:00Z", "open_at"),
        ("/places?open_at=0001-01-01T00:00:00%2B01:00", "open_at"),
        ("/places?open_at=9999-12-31T23:59:59-01:00", "open_at"),
        ("/places/nearest?lat=54.8&lon=9.4&open_at=3000-01-01T00:00:00Z", "open_at"),
        ("/places/nearest?lat=54.8&lon=9.4&open_now=yes", "open_now"),
        (f"/places?open_now=true&open_at={q(AT)}", "open_now"),
        ("/places?wheelchair=maybe", "wheelchair"),
        ("/places/nearest?lat=54.8&lon=9.4&wheelchair=yes,ramp", "wheelchair"),
        ("/ogc/collections/places/items?open_at=noon", "open_at"),
        ("/ogc/collections/places/items?wheelchair=ramp", "wheelchair"),
        ("/ogc/collections/alliance-members/items?open_now=true", "open_now"),
    ],
)
def test_bad_values_are_400_naming_the_parameter(
    served: tuple[httpx.Client, Store], path: str, param: str
) -> None:
    assert_problem(served[0].get(path), 400, param)


def test_ogc_places_items(served: tuple[httpx.Client, Store]) -> None:
    client, store = served
    places = list(store.places.iter_all())
    want = {p.id for p in places if open_then(p, AT_DT) and p.wheelchair in ("yes", "no")}
    r = client.get(f"/ogc/collections/places/items?open_at={q(AT)}&wheelchair=yes,no&limit=1000")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["numberMatched"] == len(want) and {f["id"] for f in body["features"]} == want
    assert all(f["properties"]["open"] is True for f in body["features"])
    repeated = client.get(
        f"/ogc/collections/places/items?open_at={q(AT)}&wheelchair=yes&wheelchair=no&limit=1000"
    )
    assert repeated.json()["numberMatched"] == len(want)
    queryables = client.get("/ogc/collections/places/queryables").json()["properties"]
    assert queryables["wheelchair"]["enum"] == ["yes", "limited", "no"]
    # The wheelchair queryable in a CQL2 filter agrees with the parameter.
    cql = client.get(
        "/ogc/collections/places/items?filter=" + q("wheelchair = 'limited'") + "&limit=1000"
    ).json()
    assert cql["numberMatched"] == sum(1 for p in places if p.wheelchair == "limited")


def test_ogc_api_description_lists_the_hours_parameters(served: tuple[httpx.Client, Store]) -> None:
    spec = served[0].get("/ogc/api?f=json").json()
    refs = {
        p.get("$ref", "").rsplit("/", 1)[-1]
        for p in spec["paths"]["/collections/places/items"]["get"]["parameters"]
    }
    assert {"open_at", "open_now"} <= refs and "wheelchair" in {
        p.get("name") for p in spec["paths"]["/collections/places/items"]["get"]["parameters"]
    }
    members = spec["paths"]["/collections/alliance-members/items"]["get"]["parameters"]
    assert "open_at" not in {p.get("$ref", "").rsplit("/", 1)[-1] for p in members}


def test_within_takes_the_same_conditions(served: tuple[httpx.Client, Store]) -> None:
    client, store = served
    ring = [[9.30, 54.75], [9.45, 54.75], [9.45, 54.83], [9.30, 54.83], [9.30, 54.75]]
    body = {"type": "Polygon", "coordinates": [ring]}
    r = client.post(f"/places/within?open_at={q(AT)}&wheelchair=yes&limit=500", json=body)
    assert r.status_code == 200, r.text
    want = {
        p.id
        for p in store.places.iter_all()
        if p.wheelchair == "yes"
        and open_then(p, AT_DT)
        and 9.30 <= p.point.lon <= 9.45
        and 54.75 <= p.point.lat <= 54.83
    }
    got = r.json()
    assert got["numberMatched"] == len(want) > 0 and {f["id"] for f in got["features"]} == want
    assert all(f["properties"]["open"] is True for f in got["features"])
    assert_problem(client.post("/places/within?open_at=noon", json=body), 400, "open_at")
