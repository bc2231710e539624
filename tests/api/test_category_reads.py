"""Reads accept the category labels and aliases writes accept, and q finds places of the categories it
names (issue 14.9)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from poi_service.categories import Vocabulary
from tests.api.conftest import Api
from tests.factories import random_places


def _ids(body: dict[str, Any]) -> set[str]:
    return {f["id"] for f in body["features"]}


def _places(api: Api, category: str) -> set[str]:
    return {p.id for p in api.store.places.iter_all() if p.category == category}


@pytest.mark.parametrize("given", ["church", "Kirche", "kirche", "Church", "Kirche / Kulturdenkmal"])
def test_category_takes_slug_label_and_alias(api: Api, given: str) -> None:
    want = _places(api, "church")
    assert want
    assert _ids(api.client.get("/places", params={"category": given, "limit": 200}).json()) == want
    ogc = api.client.get("/ogc/collections/places/items", params={"category": given, "limit": 1000}).json()
    assert _ids(ogc) == want
    maps = api.client.get("/maps/places/data.json", params={"category": given})
    assert maps.status_code == 200 and maps.json()["n"] == len(want)


def test_q_matches_category_labels_in_both_languages(api: Api) -> None:
    vocabulary = Vocabulary.load()
    for category in ("church", "school", "driving_school"):
        want = _places(api, category)
        c = vocabulary.get(category)
        assert c is not None and want
        for word in (c.label_de, c.label_en, c.label_de.lower()[:6]):
            body = api.client.get("/places", params={"q": word, "limit": 200}).json()
            assert want <= _ids(body), word
            near = api.client.get(
                "/places/nearby",
                params={"q": word, "lat": 54.79, "lon": 9.4, "radius_m": 20000, "limit": 200},
            ).json()
            assert {p for p in want} & _ids(near) == {f["id"] for f in near["features"]} & want
    pool = dataclasses.replace(
        random_places(1, seed=99)[0],
        name="Campusbad",
        category="swimming_pool",
        external_key="test:campusbad",
    )
    added = api.store.places.add(pool)
    for q in ("schwimmbad", "Schwimmhalle", "swimming pool", "SCHWIMM"):  # the label, not the name
        assert _ids(api.client.get("/places", params={"q": q}).json()) == {added.id}, q
    ogc = api.client.get("/ogc/collections/places/items", params={"q": "Kirche", "limit": 1000}).json()
    assert _places(api, "church") <= _ids(ogc)


def test_unknown_category_is_still_a_400(api: Api) -> None:
    r = api.client.get("/places", params={"category": "Kirchturmspitze"})
    assert r.status_code == 400 and r.json()["invalid_params"][0]["name"] == "category"
