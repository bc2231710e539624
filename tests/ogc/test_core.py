"""Self-check of OGC API – Features Part 1 Core, GeoJSON, HTML and OpenAPI 3.0 requirements over HTTP."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
import shapely
from openapi_spec_validator import validate as validate_openapi

from poi_service.ogc import CONFORMANCE, MAX_LIMIT
from tests.api.test_bad_input import assert_problem
from tests.ogc.conftest import Ogc
from tests.ogc.helpers import fetch_all, link

CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
COLLECTIONS = ("places", "alliance-members", "states", "districts")


def test_landing_page_links_resolve_with_their_types(ogc: Ogc) -> None:
    for path in ("/ogc", "/ogc/"):
        body = ogc.client.get(path).json()
        rels = {x["rel"]: x for x in body["links"]}
        assert {"self", "alternate", "service-desc", "service-doc", "conformance", "data"} <= rels.keys()
        assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
        assert rels["service-doc"]["type"] == "text/html"
        for x in body["links"]:
            r = ogc.client.get(x["href"])
            assert r.status_code == 200, x
            assert r.headers["content-type"].split(";")[0] == x["type"].split(";")[0], x
    assert (
        ogc.client.get("/ogc/api").headers["content-type"] == "application/vnd.oai.openapi+json;version=3.0"
    )


def test_conformance_declares_the_core_classes(ogc: Ogc) -> None:
    body = ogc.client.get("/ogc/conformance").json()
    assert {CORE + c for c in ("core", "geojson", "html", "oas30")} <= set(body["conformsTo"])
    assert body["conformsTo"] == list(CONFORMANCE)


def test_openapi_document_declares_limit_and_every_path(ogc: Ogc) -> None:
    doc = ogc.client.get("/ogc/api").json()
    assert doc["openapi"].startswith("3.0.")
    validate_openapi(doc)  # a valid OpenAPI 3.0 document
    limit = doc["components"]["parameters"]["limit"]
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 10}
    for cid in COLLECTIONS:
        params = doc["paths"][f"/collections/{cid}/items"]["get"]["parameters"]
        assert {"$ref": "#/components/parameters/limit"} in params
        assert {"$ref": "#/components/parameters/bbox"} in params
    for path in doc["paths"]:
        if "{" not in path:
            assert ogc.client.get(doc["servers"][0]["url"] + path).status_code == 200, path


def test_collections_have_extents_and_typed_links(ogc: Ogc) -> None:
    body = ogc.client.get("/ogc/collections").json()
    assert [c["id"] for c in body["collections"]] == list(COLLECTIONS)
    for c in body["collections"]:
        assert c["itemType"] == "feature"
        minx, miny, maxx, maxy = c["extent"]["spatial"]["bbox"][0]
        assert -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90
        assert link(c, "items", "application/geo+json") and link(c, "items", "text/html")
        assert link(c, "http://www.opengis.net/def/rel/ogc/1.0/queryables", "application/schema+json")
        single = ogc.client.get(f"/ogc/collections/{c['id']}").json()
        assert single["extent"] == c["extent"] and link(single, "self")["type"] == "application/json"  # type: ignore[index]
    places = body["collections"][0]
    lons = [p.point.lon for p in ogc.places()]
    lats = [p.point.lat for p in ogc.places()]
    assert places["extent"]["spatial"]["bbox"][0] == [min(lons), min(lats), max(lons), max(lats)]
    joined = [m.joined for m in ogc.members() if m.joined]
    interval = body["collections"][1]["extent"]["temporal"]["interval"][0]
    assert interval == [f"{min(joined).isoformat()}T00:00:00Z", f"{max(joined).isoformat()}T00:00:00Z"]


@pytest.mark.parametrize("value", ["0", "-1", str(MAX_LIMIT + 1), "abc", "1.5", ""])
def test_limit_out_of_bounds_is_400(ogc: Ogc, value: str) -> None:
    assert_problem(ogc.get("/ogc/collections/places/items", limit=value), 400, "limit")


def test_limit_default_and_maximum(ogc: Ogc) -> None:
    assert ogc.get("/ogc/collections/places/items").json()["numberReturned"] == 10
    body = ogc.get("/ogc/collections/places/items", limit=MAX_LIMIT).json()
    assert body["numberReturned"] == body["numberMatched"] == len(ogc.places())
    assert link(body, "next") is None


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/ogc/collections/places/items?foo=1", "foo"),
        ("/ogc/collections/places/items?limit=5&limit=6", "limit"),
        ("/ogc/collections/states/items?q=berlin", "q"),
        ("/ogc/collections/places/items?alliance=buendnis", "alliance"),
        ("/ogc?x=1", "x"),
        ("/ogc/conformance?limit=1", "limit"),
        ("/ogc/collections?bbox=1,2,3,4", "bbox"),
        ("/ogc/collections/places?f=xml", "f"),
        ("/ogc/collections/places/items/abc?bbox=1,2,3,4", "bbox"),
        ("/ogc/collections/places/queryables?foo=bar", "foo"),
        ("/ogc/collections/places/items?bbox=1,2,3", "bbox"),
        ("/ogc/collections/places/items?bbox=1,2,3,x", "bbox"),
        ("/ogc/collections/places/items?bbox=9,55,10,54", "bbox"),
        ("/ogc/collections/places/items?bbox=9,54,10,95", "bbox"),
        (
            "/ogc/collections/places/items?bbox=9,54,10,55&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4326",
            "bbox-crs",
        ),
        ("/ogc/collections/places/items?offset=-1", "offset"),
        ("/ogc/collections/places/items?category=nope", "category"),
        ("/ogc/collections/alliance-members/items?alliance=nope", "alliance"),
        ("/ogc/collections/alliance-members/items?datetime=2019-13-01", "datetime"),
        ("/ogc/collections/alliance-members/items?datetime=2019-06-14T10:00:00", "datetime"),
        ("/ogc/collections/alliance-members/items?datetime=../..", "datetime"),
        ("/ogc/collections/alliance-members/items?datetime=2020-01-01/2019-01-01", "datetime"),
        ("/ogc/collections/alliance-members/items?joined_date=soon", "joined_date"),
    ],
)
def test_unknown_or_invalid_parameters_are_400_problems(ogc: Ogc, path: str, param: str) -> None:
    assert_problem(ogc.client.get(path), 400, param)


def test_unknown_collections_and_items_are_404_problems(ogc: Ogc) -> None:
    for path in (
        "/ogc/collections/nope",
        "/ogc/collections/nope/items",
        "/ogc/collections/nope/queryables",
        "/ogc/collections/places/items/nope",
        "/ogc/collections/states/items/99",
        "/ogc/collections/alliance-members/items/nope?f=html",
    ):
        assert_problem(ogc.client.get(path), 404, None)


def _box_ids(ogc: Ogc, box: tuple[float, float, float, float]) -> set[str]:
    shape = shapely.box(*box)
    return {p.id for p in ogc.places() if shape.intersects(shapely.Point(p.point.lon, p.point.lat))}


def test_bbox_intersects_and_paging_keeps_every_parameter(ogc: Ogc) -> None:
    box = (9.35, 54.75, 9.5, 54.83)
    params = {"bbox": ",".join(map(str, box)), "limit": 7, "category": "church,school,stolperstein,artwork"}
    features, pages = fetch_all(ogc, "/ogc/collections/places/items", params)
    cats = set(params["category"].split(","))  # type: ignore[union-attr]
    inside = _box_ids(ogc, box)
    want = {p.id for p in ogc.places() if p.id in inside and p.category in cats}
    assert [f["id"] for f in features] and {f["id"] for f in features} == want
    assert len(features) == len(want)  # no duplicates across pages
    assert len(pages) > 2
    for page in pages[1:]:
        for rel in ("self", "next", "prev"):
            x = link(page, rel)
            if x is None:
                continue
            q = parse_qs(urlsplit(x["href"]).query)
            assert (
                q["bbox"] == [params["bbox"]]
                and q["category"] == [params["category"]]
                and q["limit"] == ["7"]
            )
        prev = ogc.client.get(link(page, "prev")["href"]).json()  # type: ignore[index]
        assert prev["features"] == pages[pages.index(page) - 1]["features"]


def test_bbox_with_six_numbers_and_across_the_antimeridian(ogc: Ogc) -> None:
    four = ogc.get("/ogc/collections/places/items", bbox="9.35,54.75,9.5,54.83", limit=1000).json()
    six = ogc.get("/ogc/collections/places/items", bbox="9.35,54.75,-100,9.5,54.83,100", limit=1000).json()
    assert four["features"] == six["features"] and four["numberMatched"] == len(
        _box_ids(ogc, (9.35, 54.75, 9.5, 54.83))
    )
    # 170°E .. 9.4°E across the antimeridian: everything west of 9.4°E (and nothing of 9.4..170).
    body = ogc.get("/ogc/collections/places/items", bbox="170,54,9.4,55", limit=1000).json()
    assert {f["id"] for f in body["features"]} == {p.id for p in ogc.places() if p.point.lon <= 9.4}


def test_bbox_on_boundaries_is_an_exact_intersects(ogc: Ogc) -> None:
    from poi_service.boundaries import Boundaries, Level

    box = (9.3, 54.6, 9.8, 54.9)
    features, _ = fetch_all(
        ogc, "/ogc/collections/districts/items", {"bbox": ",".join(map(str, box)), "limit": 1}
    )
    areas = Boundaries.load(ogc.settings.data_dir).areas
    want = {a.ags for a in areas if a.level == Level.DISTRICT and a.geometry.intersects(shapely.box(*box))}
    assert {f["id"] for f in features} == want and len(want) >= 2
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in features)


def test_counts_are_exact_for_every_collection(ogc: Ogc) -> None:
    counts = {
        "places": len(ogc.places()),
        "alliance-members": len(ogc.members()),
        "states": 16,
        "districts": 400,
    }
    for cid, n in counts.items():
        body = ogc.get(f"/ogc/collections/{cid}/items", limit=1, skipGeometry="true").json()
        assert body["numberMatched"] == n and body["numberReturned"] == 1


@pytest.mark.parametrize(
    ("value", "lo", "hi"),
    [
        ("2019-06-14T12:00:00Z", date(2019, 6, 14), date(2019, 6, 14)),
        ("2019-06-14", date(2019, 6, 14), date(2019, 6, 14)),
        ("2019-01-01T00:00:00Z/2019-12-31T23:59:59Z", date(2019, 1, 1), date(2019, 12, 31)),
        ("../2019-01-01T00:00:00+01:00", date.min, date(2018, 12, 31)),
        ("2019-06-15T00:00:00Z/..", date(2019, 6, 15), date.max),
        ("2020-02-29/", date(2020, 2, 29), date.max),
    ],
)
def test_datetime_selects_by_join_day(ogc: Ogc, value: str, lo: date, hi: date) -> None:
    body = ogc.get("/ogc/collections/alliance-members/items", datetime=value, limit=100).json()
    want = {m.id for m in ogc.members() if m.joined is not None and lo <= m.joined <= hi}
    assert {f["id"] for f in body["features"]} == want and body["numberMatched"] == len(want)


def test_datetime_keeps_every_feature_without_time(ogc: Ogc) -> None:
    body = ogc.get("/ogc/collections/places/items", datetime="2019-06-14T00:00:00Z", limit=1).json()
    assert body["numberMatched"] == len(ogc.places())


def test_property_filters(ogc: Ogc) -> None:
    got = ogc.client.get("/ogc/collections/places/items?category=church&category=school&limit=1000").json()
    assert {f["id"] for f in got["features"]} == {
        p.id for p in ogc.places() if p.category in ("church", "school")
    }
    members = ogc.members()
    for params, keep in (
        (
            {"alliance": "buendnis", "state": "Niedersachsen"},
            lambda m: m.alliance == "buendnis" and m.municipality.state == "Niedersachsen",
        ),
        ({"country": "IT"}, lambda m: m.municipality.country == "IT"),
        ({"role": "coordinator"}, lambda m: m.role == "coordinator"),
        ({"name": "Flensburg"}, lambda m: m.municipality.name == "Flensburg"),
        ({"joined_date": "2019-06-14"}, lambda m: m.joined == date(2019, 6, 14)),
        ({"joined_precision": "year", "state": "Niedersachsen"}, lambda m: m.joined_precision == "year"),
    ):
        body = ogc.get("/ogc/collections/alliance-members/items", **params, limit=100).json()
        want = {m.id for m in members if keep(m)}
        assert want and {f["id"] for f in body["features"]} == want and body["numberMatched"] == len(want), (
            params
        )
    body = ogc.get("/ogc/collections/districts/items", state="Schleswig-Holstein", limit=100).json()
    assert body["numberMatched"] == 15 and all(f["id"].startswith("01") for f in body["features"])


def test_item_links_and_encodings(ogc: Ogc) -> None:
    place = ogc.places()[0]
    r = ogc.client.get(f"/ogc/collections/places/items/{place.id}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    body = r.json()
    assert body["type"] == "Feature" and body["id"] == place.id
    assert body["geometry"] == {"type": "Point", "coordinates": [place.point.lon, place.point.lat]}
    assert link(body, "self", "application/geo+json") and link(body, "alternate", "text/html")
    assert link(body, "collection", "application/json")["href"].endswith("/ogc/collections/places")  # type: ignore[index]
    state = ogc.client.get("/ogc/collections/states/items/01").json()
    assert state["properties"]["name"] == "Schleswig-Holstein"
    html = ogc.client.get(f"/ogc/collections/places/items/{place.id}", headers={"Accept": "text/html"})
    assert html.headers["content-type"].startswith("text/html")
    assert (
        ogc.client.get("/ogc/collections/places/items", headers={"Accept": "application/geo+json"}).headers[
            "content-type"
        ]
        == "application/geo+json"
    )


def test_items_links_are_typed(ogc: Ogc) -> None:
    body = ogc.get("/ogc/collections/places/items", limit=5, offset=5).json()
    assert link(body, "self")["type"] == "application/geo+json"  # type: ignore[index]
    assert link(body, "alternate")["type"] == "text/html"  # type: ignore[index]
    assert link(body, "next")["type"] == link(body, "prev")["type"] == "application/geo+json"  # type: ignore[index]
    assert ogc.client.get(link(body, "alternate")["href"]).headers["content-type"].startswith("text/html")  # type: ignore[index]
    assert body["timeStamp"].endswith("Z")


def test_property_filters_take_the_forms_of_the_rest_api_or_answer_400(ogc: Ogc) -> None:
    """state=NI finds what /alliance/members?state=NI finds, never an empty success (issue 14.5)."""
    want = {
        m.id for m in ogc.members() if m.alliance == "buendnis" and m.municipality.state == "Niedersachsen"
    }
    assert want
    for form in ("NI", "DE-NI", "03", "niedersachsen", "Niedersachsen"):
        body = ogc.get(
            "/ogc/collections/alliance-members/items", alliance="buendnis", state=form, limit=100
        ).json()
        rest = ogc.get("/alliance/members", alliance="buendnis", state=form, limit=100).json()
        assert {f["id"] for f in body["features"]} == want == {f["id"] for f in rest["features"]}, form
    sh = ogc.get("/ogc/collections/districts/items", state="SH", limit=100).json()
    assert sh["numberMatched"] == 15
    for path in ("/ogc/collections/alliance-members/items", "/ogc/collections/districts/items"):
        r = ogc.get(path, state="Atlantis")
        assert_problem(r, 400, "state")
