"""Beyond Part 1: sortby, properties, skipGeometry, near/radius_m and CQL2-text filters, each checked
against a brute-force answer (geopy for distances, shapely for geometry)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import shapely
from geopy.distance import geodesic

from poi_service.boundaries import Boundaries, Level
from poi_service.geo import geodesic_m
from poi_service.models import Place
from tests.api.test_bad_input import assert_problem
from tests.ogc.conftest import Ogc
from tests.ogc.helpers import fetch_all

HALL = (9.3866, 54.7998)  # lon, lat near the Harrislee town hall


def ids(body: dict[str, Any]) -> list[str]:
    return [f["id"] for f in body["features"]]


def dist(lon: float, lat: float, p: Place) -> float:
    return float(geodesic((lat, lon), (p.point.lat, p.point.lon)).meters)


def test_sortby_orders_with_missing_values_last_and_pages(ogc: Ogc) -> None:
    members = ogc.members()
    features, _ = fetch_all(
        ogc, "/ogc/collections/alliance-members/items", {"sortby": "-joined_date,name", "limit": 3}
    )
    dated = sorted((m for m in members if m.joined), key=lambda m: m.municipality.name.casefold())
    dated.sort(key=lambda m: m.joined or date.min, reverse=True)
    undated = sorted((m for m in members if not m.joined), key=lambda m: m.municipality.name.casefold())
    assert [f["id"] for f in features] == [m.id for m in dated + undated]
    body = ogc.get("/ogc/collections/places/items", sortby="+name", limit=1000).json()
    names = [f["properties"]["name"] for f in body["features"]]
    assert names == sorted(names, key=lambda n: (n.casefold(), n)) and len(names) == len(ogc.places())
    states = ogc.get("/ogc/collections/states/items", sortby="-name", skipGeometry="true", limit=20).json()
    assert next(f["properties"]["name"] for f in states["features"]) == "Thüringen"


@pytest.mark.parametrize("sortby", ["geometry", "nope", "-", "name,,ags"])
def test_sortby_refuses_unknown_properties(ogc: Ogc, sortby: str) -> None:
    assert_problem(ogc.get("/ogc/collections/places/items", sortby=sortby), 400, "sortby")


def test_sortby_and_filter_are_refused_beyond_the_cap(ogc: Ogc, monkeypatch: pytest.MonkeyPatch) -> None:
    import poi_service.ogc.engine as engine

    monkeypatch.setattr(engine, "MAX_EVALUATED", 50)
    body = assert_problem(ogc.get("/ogc/collections/places/items", sortby="name"), 400, "sortby")
    assert "at most 50" in body["detail"]
    assert_problem(ogc.get("/ogc/collections/places/items", filter="name LIKE 'N%'"), 400, "filter")
    assert_problem(ogc.get("/ogc/collections/places/items", postcode="24955"), 400, "postcode")
    # Narrowed below the cap by bbox (answered by the store), the same request works.
    box = "9.35,54.78,9.40,54.80"
    ok = ogc.get("/ogc/collections/places/items", sortby="name", bbox=box, limit=100)
    assert ok.status_code == 200 and ok.json()["numberMatched"] <= 50


def test_properties_and_skip_geometry(ogc: Ogc) -> None:
    body = ogc.get(
        "/ogc/collections/places/items", properties="name,category", skipGeometry="true", limit=3
    ).json()
    assert all(
        f["geometry"] is None and set(f["properties"]) == {"name", "category"} for f in body["features"]
    )
    body = ogc.get("/ogc/collections/districts/items", properties="", limit=2).json()
    assert all(f["properties"] == {} and f["geometry"] for f in body["features"])
    assert_problem(ogc.get("/ogc/collections/places/items", properties="name,nope"), 400, "properties")
    assert_problem(ogc.get("/ogc/collections/places/items", skipGeometry="yes"), 400, "skipGeometry")


def test_near_places_are_exact_geodesic_nearest_first(ogc: Ogc) -> None:
    lon, lat = HALL
    features, _ = fetch_all(
        ogc, "/ogc/collections/places/items", {"near": f"{lon},{lat}", "radius_m": 2500, "limit": 9}
    )
    want = sorted((dist(lon, lat, p), p.id) for p in ogc.places() if dist(lon, lat, p) <= 2500)
    assert [f["id"] for f in features] == [i for _, i in want] and want
    for f, (d, _) in zip(features, want, strict=True):
        assert f["properties"]["distance_m"] == pytest.approx(d, abs=0.01)


def test_near_districts_measures_to_the_boundary(ogc: Ogc) -> None:
    lon, lat = HALL  # inside Schleswig-Flensburg, about 3 km from Flensburg
    body = ogc.get(
        "/ogc/collections/districts/items", near=f"{lon},{lat}", radius_m=20_000, skipGeometry="true"
    ).json()
    got = {f["id"]: f["properties"]["distance_m"] for f in body["features"]}
    assert next(iter(got)) == "01059" and got["01059"] == 0.0
    areas = {a.ags: a for a in Boundaries.load(ogc.settings.data_dir).areas if a.level == Level.DISTRICT}
    point = shapely.Point(lon, lat)
    for ags, d in got.items():
        # Reference: the geodesic distance to the nearest vertex of the boundary densified to ~50 m.
        coords = shapely.get_coordinates(shapely.segmentize(areas[ags].geometry.boundary, 0.0005))
        reference = (
            0.0
            if areas[ags].geometry.covers(point)
            else float(geodesic_m(lon, lat, coords[:, 0], coords[:, 1]).min())
        )
        assert d == pytest.approx(reference, abs=30.0), ags
    assert len(got) >= 2 and list(got.values()) == sorted(got.values())


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"near": "9.4,54.8"}, "radius_m"),
        ({"radius_m": "10"}, "near"),
        ({"near": "9.4", "radius_m": "5"}, "near"),
        ({"near": "9.4,95", "radius_m": "5"}, "near"),
        ({"near": "9.4,54.8", "radius_m": "0"}, "radius_m"),
        ({"near": "9.4,54.8", "radius_m": "1e9"}, "radius_m"),
    ],
)
def test_near_needs_a_point_and_a_radius(ogc: Ogc, params: dict[str, str], param: str) -> None:
    assert_problem(ogc.get("/ogc/collections/places/items", **params), 400, param)


def _filter_ids(ogc: Ogc, cid: str, cql: str, **extra: Any) -> set[str]:
    r = ogc.get(f"/ogc/collections/{cid}/items", filter=cql, limit=10_000, **extra)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["numberMatched"] == body["numberReturned"]
    return set(ids(body))


def test_cql2_comparisons_and_logic(ogc: Ogc) -> None:
    places, members = ogc.places(), ogc.members()
    cases: list[tuple[str, str, Any]] = [
        (
            "places",
            "category = 'church' AND NOT description IS NULL",
            lambda p: p.category == "church" and p.description,
        ),
        (
            "places",
            "category IN ('school', 'artwork') OR name LIKE 'Nord%'",
            lambda p: p.category in ("school", "artwork") or p.name.startswith("Nord"),
        ),
        (
            "places",
            "name NOT LIKE '%1_' AND category <> 'church'",
            lambda p: not (len(p.name) >= 2 and p.name[-2] == "1") and p.category != "church",
        ),
        ("places", "\"description\" = 'Kunst am Bau'", lambda p: p.description == "Kunst am Bau"),
        ("places", "description IS NULL", lambda p: p.description is None),
        (
            "alliance-members",
            "joined_date BETWEEN DATE('2019-01-01') AND DATE('2019-12-31')",
            lambda m: m.joined and date(2019, 1, 1) <= m.joined <= date(2019, 12, 31),
        ),
        (
            "alliance-members",
            "joined_date >= '2020-01-01' OR joined_date IS NULL",
            lambda m: not m.joined or m.joined >= date(2020, 1, 1),
        ),
        (
            "alliance-members",
            "NOT (joined_date < DATE('2019-06-14'))",
            lambda m: m.joined and m.joined >= date(2019, 6, 14),
        ),
        (
            "alliance-members",
            "alliance = 'buendnis' AND role <> 'member'",
            lambda m: m.alliance == "buendnis" and m.role != "member",
        ),
        ("alliance-members", "TRUE", lambda m: True),
    ]
    for cid, cql, keep in cases:
        records = places if cid == "places" else members
        want = {r.id for r in records if keep(r)}
        assert _filter_ids(ogc, cid, cql) == want and want, cql


def test_cql2_spatial_functions(ogc: Ogc) -> None:
    poly = shapely.Polygon([(9.3, 54.74), (9.52, 54.76), (9.4, 54.85), (9.3, 54.74)])
    pts = {p.id: shapely.Point(p.point.lon, p.point.lat) for p in ogc.places()}
    want = {i for i, pt in pts.items() if poly.intersects(pt)}
    assert _filter_ids(ogc, "places", f"S_INTERSECTS(geometry, {poly.wkt})") == want and want
    assert _filter_ids(ogc, "places", f"S_WITHIN(geometry, {poly.wkt}) AND category = 'church'") == {
        p.id for p in ogc.places() if p.category == "church" and poly.contains(pts[p.id])
    }
    assert _filter_ids(ogc, "places", "S_INTERSECTS(BBOX(9.35, 54.75, 9.5, 54.83), geometry)") == {
        i for i, pt in pts.items() if shapely.box(9.35, 54.75, 9.5, 54.83).intersects(pt)
    }
    lon, lat = HALL
    near = {p.id for p in ogc.places() if dist(lon, lat, p) <= 1500}
    assert _filter_ids(ogc, "places", f"S_DWITHIN(geometry, POINT({lon} {lat}), 1500)") == near and near
    assert _filter_ids(ogc, "places", f"S_DWITHIN(geometry, POINT({lon} {lat}), 1.5, kilometers)") == near
    assert _filter_ids(ogc, "states", "S_INTERSECTS(geometry, POINT(9.4 54.8))") == {"01"}
    flensburg = _filter_ids(
        ogc, "districts", "S_INTERSECTS(geometry, POINT(9.4375 54.7825)) OR ags = '03159'"
    )
    assert flensburg == {"01001", "03159"}


@pytest.mark.parametrize(
    "cql",
    [
        "name =",
        "name LIKE 5",
        "nope = 1",
        "name = 1",
        "joined_date > 'soon'",
        "S_INTERSECTS(name, POINT(1 2))",
        "S_INTERSECTS(geometry, POINT(1 2)",
        "S_DWITHIN(geometry, POLYGON((0 0, 1 0, 1 1, 0 0)), 5)",
        "UPPER(name) = 'X'",
        "name = 'x' name",
        "S_INTERSECTS(geometry, POLYGON((0 0, 1)))",
        "1 < 'a'",
        "",
    ],
)
def test_cql2_errors_are_400_naming_filter(ogc: Ogc, cql: str) -> None:
    cid = "alliance-members" if "joined" in cql else "places"
    assert_problem(ogc.get(f"/ogc/collections/{cid}/items", filter=cql), 400, "filter")


def test_filter_lang_and_crs(ogc: Ogc) -> None:
    crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    ok = ogc.get(
        "/ogc/collections/places/items",
        filter="category='church'",
        **{"filter-lang": "cql2-text", "filter-crs": crs84, "bbox-crs": crs84, "crs": crs84},
    )
    assert ok.status_code == 200
    assert_problem(
        ogc.get("/ogc/collections/places/items", filter="x", **{"filter-lang": "cql2-json"}),
        400,
        "filter-lang",
    )


def test_q_searches_text(ogc: Ogc) -> None:
    body = ogc.get("/ogc/collections/places/items", q="gedenkort", limit=1000).json()
    # The text, or a category whose label names it ("Stolperstein / Gedenkort"), as on GET /places.
    want = {p.id for p in ogc.places() if p.description == "Gedenkort" or p.category == "stolperstein"}
    assert {f["id"] for f in body["features"]} == want
