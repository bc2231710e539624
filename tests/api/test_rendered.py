"""Features kept as JSON bytes (api.rendered) equal the dict path serialised, and follow edits."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import httpx
import orjson
import pytest
from starlette.requests import Request

from poi_service.api.app import create_app
from poi_service.api.links import collection
from poi_service.api.rendered import collection_json, unpaged_json
from poi_service.categories import Vocabulary
from poi_service.config import Settings
from poi_service.features.cache import FeatureCache
from poi_service.features.geojson import place_feature
from poi_service.models import Place
from poi_service.store import Hit, Near, PlaceFilter, Query, open_store
from tests.conftest import DATA_DIR
from tests.factories import random_places
from tests.server import serve


def _request(query: str) -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "scheme": "http",
            "path": "/places/nearby",
            "root_path": "",
            "query_string": query.encode(),
            "server": ("127.0.0.1", 8000),
            "headers": [(b"host", b"example.test:8000")],
        }
    )


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> list[Place]:
    store = open_store(str(tmp_path_factory.mktemp("rendered") / "r.gpkg"), DATA_DIR)
    rng = random.Random(3)
    data = [
        dataclasses.replace(
            p,
            phone=rng.choice((None, "+494617404", "+4512345678")),
            website=rng.choice((None, 'https://example.test/ä?x=<b>&y="1"')),
            description=rng.choice((None, "Gedenkort </script><img src=x> \u2028 Ünïcödé")),
        )
        for p in random_places(60)
    ]
    store.places.add_many(data)
    places = list(store.places.iter_all())
    store.close()
    return places


def test_features_are_the_dict_path_serialised(stored: list[Place]) -> None:
    vocabulary = Vocabulary.from_settings(Settings())
    cache = FeatureCache(vocabulary)
    rng = random.Random(5)
    for place in stored:
        for distance in (None, 0.0, 0.004, 999.995, rng.uniform(0, 50_000), 12_345.678901):
            want = orjson.dumps(place_feature(place, vocabulary, distance))
            assert cache.place(place, distance) == want
            assert cache.place(place, distance) == want  # from the cache this time


@pytest.mark.parametrize(
    ("query", "total", "limit", "offset"),
    [
        ("lat=54.8&lon=9.4", 0, 10, 0),
        ("lat=54.8&lon=9.4&limit=5", 23, 5, 0),
        ("q=M%C3%BChle&limit=5&offset=10", 23, 5, 10),
        ("limit=50&offset=20", 23, 50, 20),
    ],
)
def test_collections_are_the_dict_path_serialised(
    stored: list[Place], query: str, total: int, limit: int, offset: int
) -> None:
    vocabulary = Vocabulary.from_settings(Settings())
    cache = FeatureCache(vocabulary)
    page = stored[offset : offset + min(limit, max(0, total - offset))]
    hits = [Hit(p, float(i) * 10.5) for i, p in enumerate(page)]
    dicts = [place_feature(h.record, vocabulary, h.distance_m) for h in hits]
    want = orjson.dumps(collection(_request(query), dicts, total, limit, offset))
    assert collection_json(_request(query), cache.places(hits), total, limit, offset) == want
    assert orjson.loads(unpaged_json(_request(query), cache.places(hits)))["numberMatched"] == len(hits)


def test_the_cache_is_bounded(stored: list[Place]) -> None:
    cache = FeatureCache(Vocabulary.from_settings(Settings()), size=16)
    for place in stored:
        cache.place(place)
        assert len(cache._seen) <= 16


def test_an_edit_shows_in_the_next_answer(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "e.gpkg"), DATA_DIR)
    first = random_places(5)[0]
    place = store.places.add(first)
    near = f"/places/nearby?lon={place.point.lon}&lat={place.point.lat}&radius_m=1&limit=1"
    with (
        serve(create_app(Settings(database_url=store.url), store)) as url,
        httpx.Client(base_url=url) as client,
    ):
        assert client.get(near).json()["features"][0]["properties"]["name"] == place.name
        renamed = store.places.update(place.id, dataclasses.replace(first, name="Umbenannt <b>"))
        assert renamed.version == place.version + 1
        for path in (near, f"/places/nearest?lon={place.point.lon}&lat={place.point.lat}&k=1"):
            feature = client.get(path).json()["features"][0]
            assert (feature["id"], feature["properties"]["name"]) == (place.id, "Umbenannt <b>")
    results = store.places.search(Query(PlaceFilter(), near=Near(place.point, 1), limit=1)).hits
    assert results[0].record.name == "Umbenannt <b>"
    store.close()
