"""PoiClient against a real uvicorn server over the shipped data: paging, frames, errors."""

from __future__ import annotations

from collections.abc import Iterator

import geopandas as gpd
import pytest
from geopandas.testing import assert_geodataframe_equal

import poi_service.analysis as pa
from poi_service.api.app import create_app
from poi_service.config import Settings
from poi_service.models import Point
from poi_service.store import Near, PlaceFilter, Query, Store
from tests.conftest import DATA_DIR
from tests.server import serve
from tests.test_analysis import members, shipped_store  # noqa: F401  (session fixtures)

TOWN_HALL = (54.7998, 9.3866)  # lat, lon


@pytest.fixture(scope="module")
def base_url(shipped_store: Store) -> Iterator[str]:  # noqa: F811
    settings = Settings(database_url=shipped_store.url, data_dir=DATA_DIR)
    with serve(create_app(settings, shipped_store)) as url:
        yield url


def sort(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return frame.sort_values("id", ignore_index=True)


def test_members_page_through_every_next_link(base_url: str, members: gpd.GeoDataFrame) -> None:  # noqa: F811
    with pa.PoiClient(base_url, page_size=7) as client:
        first = client.get_json("/alliance/members", {"limit": 7})
        assert first["numberReturned"] == 7 and any(link["rel"] == "next" for link in first["links"])
        features = list(client.features("/alliance/members", {"limit": 7}))
        assert len(features) == first["numberMatched"] == len(members)
        assert len({f["id"] for f in features}) == len(features)
        over_http = client.members()
    assert_geodataframe_equal(sort(over_http), sort(members), check_less_precise=False)


def test_reading_by_url_equals_reading_the_store(base_url: str, shipped_store: Store) -> None:  # noqa: F811
    assert_geodataframe_equal(sort(pa.read_places(base_url)), sort(pa.read_places(shipped_store)))
    buendnis = pa.read_memberships(base_url, alliance="buendnis")
    stored = sum(1 for m in shipped_store.memberships.iter_all() if m.alliance == "buendnis")
    assert len(buendnis) == stored > 0 and set(buendnis["alliance"]) == {"buendnis"}


def test_nearby_and_nearest_match_the_store(base_url: str, shipped_store: Store) -> None:  # noqa: F811
    lat, lon = TOWN_HALL
    page = shipped_store.places.search(Query(PlaceFilter(), near=Near(Point(lon, lat), 1500.0), limit=1000))
    with pa.PoiClient(base_url, page_size=4) as client:
        near = client.nearby(lat, lon, radius_m=1500)
        nearest = client.nearest(lat, lon, k=3, category="stolperstein")
        members = client.members_nearest(lat, lon, k=3, alliance="buendnis")
    assert len(near) == page.total > 4  # more than one page
    assert list(near["id"]) == [h.record.id for h in page.hits]
    assert near["distance_m"].tolist() == pytest.approx([h.distance_m for h in page.hits], abs=0.01)
    assert near["distance_m"].is_monotonic_increasing
    expected = shipped_store.places.nearest(Point(lon, lat), 3, PlaceFilter(categories=("stolperstein",)))
    assert list(nearest["id"]) == [h.record.id for h in expected]
    assert members["name"].iloc[0] == "Flensburg" and members["distance_m"].is_monotonic_increasing


def test_errors_carry_the_problem_detail(base_url: str) -> None:
    with pa.PoiClient(base_url) as client, pytest.raises(pa.PoiClientError) as caught:
        client.nearby(91.0, 9.4, radius_m=100)
    assert caught.value.status == 400
    assert any(p["name"] == "lat" for p in caught.value.problem["invalid_params"])
