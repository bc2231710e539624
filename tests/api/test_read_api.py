"""The read API end to end over HTTP against a real uvicorn server; answers checked by geopy/shapely."""

from __future__ import annotations

import math
from typing import Any

import pytest
import shapely
from geopy.distance import geodesic
from shapely.geometry import shape

from poi_service.models import Place
from tests.api.conftest import Api

HALL = (54.7998, 9.3866)  # lat, lon near the Harrislee town hall


def all_places(api: Api) -> list[Place]:
    return list(api.store.places.iter_all())


def dist(lat: float, lon: float, p: Place) -> float:
    return float(geodesic((lat, lon), (p.point.lat, p.point.lon)).meters)


def test_health_and_landing(api: Api) -> None:
    body = api.client.get("/health").json()
    assert body["status"] == "ok" and body["store"]["places"] == 300
    assert api.client.get("/").json()["links"]["docs"].endswith("/docs")
    assert api.client.get("/docs").status_code == 200
    assert "/places/nearby" in api.client.get("/openapi.json").json()["paths"]


def test_nearby_is_sorted_exact_and_pages_through_next_links(api: Api) -> None:
    lat, lon = HALL
    expected = sorted((dist(lat, lon, p), p.id) for p in all_places(api) if dist(lat, lon, p) <= 3000)
    url = f"/places/nearby?lat={lat}&lon={lon}&radius_m=3000&limit=7"
    seen: list[tuple[float, str]] = []
    while url:
        r = api.client.get(url)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
        body = r.json()
        assert body["type"] == "FeatureCollection" and body["numberMatched"] == len(expected)
        assert body["numberReturned"] == len(body["features"])
        seen += [(f["properties"]["distance_m"], f["id"]) for f in body["features"]]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), "")
    assert [i for _, i in seen] == [i for _, i in expected]
    for (got, _), (want, _) in zip(seen, expected, strict=True):
        assert got == pytest.approx(want, abs=0.01)


def test_nearby_filters(api: Api) -> None:
    lat, lon = HALL
    body = api.client.get(
        "/places/nearby",
        params={"lat": lat, "lon": lon, "radius_m": 8000, "category": "church,school", "limit": 200},
    ).json()
    want = {p.id for p in all_places(api) if p.category in ("church", "school") and dist(lat, lon, p) <= 8000}
    assert {f["id"] for f in body["features"]} == want and body["numberMatched"] == len(want)
    assert all(f["properties"]["category_label"] for f in body["features"])


def test_nearest_matches_brute_force(api: Api) -> None:
    lat, lon = 54.75, 9.5
    ranked = sorted(all_places(api), key=lambda p: dist(lat, lon, p))[:5]
    body = api.client.get("/places/nearest", params={"lat": lat, "lon": lon, "k": 5}).json()
    assert [f["id"] for f in body["features"]] == [p.id for p in ranked]
    geometry = body["features"][0]["geometry"]
    assert geometry == {"type": "Point", "coordinates": [ranked[0].point.lon, ranked[0].point.lat]}


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/places/nearest", {"lat": HALL[0], "lon": HALL[1], "k": 3}),
        ("/alliance/members/nearest", {"lat": HALL[0], "lon": HALL[1], "k": 2}),
        ("/geocode", {"q": "Rotenburg"}),
        ("/geocode", {"q": "Harrislee"}),
    ],
)
def test_one_piece_collections_have_counts_and_a_self_link(
    api: Api, path: str, params: dict[str, Any]
) -> None:
    r = api.client.get(path, params=params)
    body = r.json()
    assert r.status_code == 200 and body["type"] == "FeatureCollection"
    assert body["numberMatched"] == body["numberReturned"] == len(body["features"]) > 0
    assert body["links"] == [{"rel": "self", "type": "application/geo+json", "href": str(r.request.url)}]
    assert api.client.get(body["links"][0]["href"]).json() == body


def test_bbox_area_and_within(api: Api) -> None:
    body = api.client.get("/places", params={"bbox": "9.35,54.77,9.45,54.81", "limit": 200}).json()
    box = shapely.box(9.35, 54.77, 9.45, 54.81)
    want = {p.id for p in all_places(api) if box.covers(shapely.Point(p.point.lon, p.point.lat))}
    assert {f["id"] for f in body["features"]} == want and body["numberMatched"] == len(want) > 0
    body = api.client.get("/places", params={"area": "Harrislee", "limit": 200}).json()
    assert body["numberMatched"] > 0
    assert {f["properties"]["ags"] for f in body["features"]} == {"01059120"}
    triangle = {"type": "Polygon", "coordinates": [[[9.3, 54.74], [9.52, 54.76], [9.4, 54.85], [9.3, 54.74]]]}
    body = api.client.post("/places/within", json=triangle, params={"limit": 200}).json()
    poly = shape(triangle)
    want = {p.id for p in all_places(api) if poly.covers(shapely.Point(p.point.lon, p.point.lat))}
    assert {f["id"] for f in body["features"]} == want and body["numberMatched"] == len(want)


def test_get_place_and_categories(api: Api) -> None:
    place = all_places(api)[0]
    body = api.client.get(f"/places/{place.id}").json()
    assert body["id"] == place.id and body["properties"]["name"] == place.name
    assert body["properties"]["geocoding"]["precision"] == place.geocoding.precision.value
    slugs = {c["slug"] for c in api.client.get("/categories").json()["categories"]}
    assert {"stolperstein", "driving_school", "accessible_parking", "church", "school"} <= slugs


def test_alliance_endpoints(api: Api) -> None:
    body = api.client.get("/alliance/members", params={"alliance": "buendnis"}).json()
    assert sorted(f["properties"]["name"] for f in body["features"]) == ["Flensburg", "Potsdam"]
    body = api.client.get("/alliance/members", params={"area": "Niedersachsen"}).json()
    assert [f["properties"]["name"] for f in body["features"]] == ["Göttingen"]
    body = api.client.get("/alliance/members", params={"role": "coordinator", "country": "it"}).json()
    assert [f["properties"]["name"] for f in body["features"]] == ["Palermo"]
    body = api.client.get("/alliance/members/nearest", params={"lat": HALL[0], "lon": HALL[1], "k": 1}).json()
    assert body["features"][0]["properties"]["name"] == "Flensburg"
    want = geodesic(HALL, (54.7825, 9.4375)).meters
    assert body["features"][0]["properties"]["distance_m"] == pytest.approx(want, abs=0.01)
    stats = api.client.get("/alliance/stats").json()
    assert stats["by_alliance"] == {"buendnis": 2, "international": 1, "seebruecke_declared": 1}


@pytest.mark.parametrize(
    "state", ["Niedersachsen", "niedersachsen", " NIEDERSACHSEN ", "NI", "ni", "DE-NI", "de-ni", "03"]
)
def test_state_filter_takes_names_codes_and_ags(api: Api, state: str) -> None:
    body = api.client.get("/alliance/members", params={"state": state}).json()
    assert [f["properties"]["name"] for f in body["features"]] == ["Göttingen"]


def test_state_filter_folds_umlauts(api: Api) -> None:
    # Only Schleswig-Holstein and Brandenburg hold members here: other valid states answer empty, not 400.
    for state in ("Schleswig-Holstein", "schleswig holstein", "SH", "01"):
        body = api.client.get("/alliance/members", params={"state": state}).json()
        assert [f["properties"]["name"] for f in body["features"]] == ["Flensburg"], state
    for state in ("Thüringen", "thueringen", "THURINGEN", "TH", "16", "Baden-Wuerttemberg"):
        r = api.client.get("/alliance/members", params={"state": state})
        assert r.status_code == 200 and r.json()["numberMatched"] == 0, state


def test_geocode_and_reverse(api: Api) -> None:
    body = api.client.get("/geocode", params={"q": "Harrislee"}).json()
    top = body["features"][0]
    assert top["properties"]["ags"] == "01059120" and top["properties"]["precision"] == "municipality"
    lon, lat = top["geometry"]["coordinates"]
    assert math.isfinite(lon) and math.isfinite(lat)
    body = api.client.get("/reverse", params={"lat": 54.7825, "lon": 9.4375}).json()
    assert body["properties"]["municipality"] == "Flensburg"
    assert body["properties"]["state"] == "Schleswig-Holstein"
    assert api.client.get("/reverse", params={"lat": 0, "lon": -30}).status_code == 404
