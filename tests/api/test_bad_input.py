"""Every invalid request answers 4xx with one application/problem+json shape naming the parameter."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import Api

OK = {"lat": "54.8", "lon": "9.4"}


def assert_problem(r: httpx.Response, status: int, param: str | None) -> dict[str, Any]:
    """The one error shape (RFC 9457), used by every error test."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    assert {"type", "title", "status", "detail", "instance", "code"} <= body.keys()
    assert body["status"] == status
    assert "Traceback" not in r.text and 'File "' not in r.text
    if param is not None:
        assert param in [p["name"] for p in body.get("invalid_params", [])], body
        assert param in body["detail"]
    return body


@pytest.mark.parametrize(
    ("path", "params", "param"),
    [
        ("/places/nearby", {**OK, "lat": "91"}, "lat"),
        ("/places/nearby", {**OK, "lat": "-90.5"}, "lat"),
        ("/places/nearby", {**OK, "lon": "180.1"}, "lon"),
        ("/places/nearby", {**OK, "lat": "nan"}, "lat"),
        ("/places/nearby", {**OK, "lon": "inf"}, "lon"),
        ("/places/nearby", {**OK, "lat": "abc"}, "lat"),
        ("/places/nearby", {"lon": "9.4"}, "lat"),
        ("/places/nearby", {**OK, "radius_m": "0"}, "radius_m"),
        ("/places/nearby", {**OK, "radius_m": "-5"}, "radius_m"),
        ("/places/nearby", {**OK, "radius_m": "20001"}, "radius_m"),
        ("/places/nearby", {**OK, "radius_m": "nan"}, "radius_m"),
        ("/places/nearby", {**OK, "radius_m": "1km"}, "radius_m"),
        ("/places/nearby", {**OK, "category": "casino"}, "category"),
        ("/places/nearby", {**OK, "limit": "0"}, "limit"),
        ("/places/nearby", {**OK, "limit": "201"}, "limit"),
        ("/places/nearby", {**OK, "limit": "ten"}, "limit"),
        ("/places/nearby", {**OK, "offset": "-1"}, "offset"),
        ("/places/nearby", {**OK, "q": "x" * 201}, "q"),
        ("/places/nearest", {**OK, "k": "0"}, "k"),
        ("/places/nearest", {**OK, "k": "51"}, "k"),
        ("/places/nearest", {**OK, "lat": "100"}, "lat"),
        ("/places", {"bbox": "1,2,3"}, "bbox"),
        ("/places", {"bbox": "a,b,c,d"}, "bbox"),
        ("/places", {"bbox": "10,50,9,51"}, "bbox"),
        ("/places", {"bbox": "9,55,10,54"}, "bbox"),
        ("/places", {"bbox": "9,50,200,51"}, "bbox"),
        ("/places", {"bbox": "9,50,nan,51"}, "bbox"),
        ("/places", {"area": "Atlantis"}, "area"),
        ("/places", {"area": "99999"}, "area"),
        ("/places", {"area": "München"}, "area"),
        ("/alliance/members", {"alliance": "nato"}, "alliance"),
        ("/alliance/members", {"role": "king"}, "role"),
        ("/alliance/members", {"joined_after": "2020-13-01"}, "joined_after"),
        ("/alliance/members", {"joined_after": "2021-01-01", "joined_before": "2020-01-01"}, "joined_after"),
        ("/alliance/members", {"state": "Atlantis"}, "state"),
        ("/alliance/members", {"state": "17"}, "state"),
        ("/alliance/members", {"state": "DE-XX"}, "state"),
        ("/alliance/members/nearest", {**OK, "k": "-1"}, "k"),
        ("/reverse", {"lat": "54", "lon": "x"}, "lon"),
        ("/geocode", {}, "q"),
    ],
)
def test_bad_query_parameters(api: Api, path: str, params: dict[str, str], param: str) -> None:
    assert_problem(api.client.get(path, params=params), 400, param)


def test_every_bad_parameter_is_named_at_once(api: Api) -> None:
    body = assert_problem(api.client.get("/places/nearby", params={"lon": "x", "limit": "ten"}), 400, "lat")
    assert [p["name"] for p in body["invalid_params"]] == ["lat", "lon", "limit"]


def test_read_routes_document_their_query_parameters(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    hours = {"wheelchair", "open_at", "open_now"}
    for path, names in (
        ("/places/nearby", {"lat", "lon", "radius_m", "category", "q", "limit", "offset"}),
        ("/places/nearest", {"lat", "lon", "k", "category", "q"}),
        ("/places", {"bbox", "area", "category", "q", "limit", "offset"}),
    ):
        params = {p["name"]: p for p in paths[path]["get"]["parameters"]}
        assert set(params) == names | hours, path
    assert params["bbox"]["in"] == "query" and params["bbox"]["schema"] == {"type": "string"}


def square(n: int) -> list[list[float]]:
    """A closed ring with n vertices around Harrislee."""
    import math

    ring = [
        [9.4 + 0.05 * math.cos(2 * math.pi * i / n), 54.8 + 0.03 * math.sin(2 * math.pi * i / n)]
        for i in range(n)
    ]
    return [*ring, ring[0]]


@pytest.mark.parametrize(
    "body",
    [
        {"type": "Point", "coordinates": [9.4, 54.8]},
        {
            "type": "Polygon",
            "coordinates": [[[9.3, 54.7], [9.5, 54.9], [9.5, 54.7], [9.3, 54.9], [9.3, 54.7]]],
        },
        {"type": "Polygon", "coordinates": [square(150)]},
        {"type": "Polygon", "coordinates": [[[9.3, 54.7], [9.5]]]},
        {"type": "Polygon", "coordinates": [[[9.3, 54.7], [9.5, 95], [9.6, 54.7], [9.3, 54.7]]]},
        {"type": "Polygon"},
        [1, 2, 3],
    ],
    ids=["point", "self-intersecting", "too-many-vertices", "malformed", "out-of-range", "no-coords", "list"],
)
def test_bad_polygons(api: Api, body: object) -> None:
    assert_problem(api.client.post("/places/within", json=body), 400, "body")


def test_polygon_body_not_json(api: Api) -> None:
    r = api.client.post("/places/within", content=b"{not json", headers={"content-type": "application/json"})
    assert_problem(r, 400, None)


def test_body_too_large(api: Api) -> None:
    ring = square(50)
    body = {"type": "Polygon", "coordinates": [ring], "padding": "x" * 30_000}
    assert_problem(api.client.post("/places/within", json=body), 413, None)


def test_unknown_resources(api: Api) -> None:
    assert_problem(api.client.get("/places/no-such-id"), 404, None)
    assert_problem(api.client.get("/alliance/members/no-such-id"), 404, None)
    assert_problem(api.client.get("/nowhere"), 404, None)
    assert_problem(api.client.delete("/categories"), 405, None)


def test_valid_polygon_still_works(api: Api) -> None:
    r = api.client.post("/places/within", json={"type": "Polygon", "coordinates": [square(40)]})
    assert r.status_code == 200 and r.json()["numberMatched"] >= 0
