"""The write API over HTTP: create, ETag/If-Match, merge patch, geocoding on write, delete/undo, history."""

from __future__ import annotations

from typing import Any

import httpx

from poi_service.boundaries import Boundaries
from poi_service.geocode import OfflineGeocoder, member_query
from poi_service.geocode.base import GeocodeQuery
from tests.api.conftest import EditApi
from tests.api.test_bad_input import assert_problem
from tests.conftest import DATA_DIR

SCHOOL = {
    "name": "Fahrschule Nord",
    "category": "Fahrschule",
    "street": "Süderstraße",
    "housenumber": "66",
    "postcode": "24955",
    "locality": "Harrislee",
    "phone": "0461 - 50 90 00 99",
}


def create(api: EditApi, body: dict[str, Any]) -> httpx.Response:
    r = api.client.post("/places", json=body, headers=api.editor)
    assert r.status_code == 201, r.text
    return r


def test_create_geocodes_and_answers_with_location_and_etag(edit_api: EditApi) -> None:
    r = create(edit_api, SCHOOL)
    feature = r.json()
    props = feature["properties"]
    assert props["category"] == "driving_school" and props["phone"] == "+4946150900099"
    want = (
        OfflineGeocoder(DATA_DIR).geocode(GeocodeQuery(None, "Süderstraße", "66", "24955", "Harrislee")).best
    )
    assert want is not None
    assert feature["geometry"]["coordinates"] == [want.point.lon, want.point.lat]
    assert props["geocoding"]["precision"] == "postcode" == want.precision.value
    assert props["ags"] == "01059120"
    got = edit_api.client.get(r.headers["location"])
    assert got.status_code == 200 and got.json() == feature and got.headers["etag"] == r.headers["etag"]
    assert_problem(edit_api.client.post("/places", json=SCHOOL, headers=edit_api.editor), 409, None)


def test_an_editors_pin_wins(edit_api: EditApi) -> None:
    r = create(edit_api, {**SCHOOL, "name": "Gepinnt", "lat": 54.7825, "lon": 9.4375})
    props = r.json()["properties"]
    assert r.json()["geometry"]["coordinates"] == [9.4375, 54.7825]
    assert props["geocoding"]["precision"] == "exact" and props["geocoding"]["source"] == "editor"
    assert props["ags"] == Boundaries.load(DATA_DIR).municipality_ags([9.4375], [54.7825])[0] == "01001000"
    # Correcting the address keeps the pin; clearing the pin geocodes the address.
    url, etag = r.headers["location"], r.headers["etag"]
    r = edit_api.client.patch(
        url, json={"street": "Holm", "housenumber": "1"}, headers={**edit_api.editor, "If-Match": etag}
    )
    assert r.status_code == 200 and r.json()["geometry"]["coordinates"] == [9.4375, 54.7825]
    r = edit_api.client.patch(
        url, json={"lat": None, "lon": None}, headers={**edit_api.editor, "If-Match": r.headers["etag"]}
    )
    assert r.status_code == 200 and r.json()["properties"]["geocoding"]["precision"] == "postcode"


def test_if_match_protects_against_lost_updates(edit_api: EditApi) -> None:
    r = create(edit_api, {**SCHOOL, "name": "Zwei Redakteure"})
    url, v1 = r.headers["location"], r.headers["etag"]
    h = edit_api.editor
    assert_problem(edit_api.client.patch(url, json={"name": "Ohne"}, headers=h), 428, None)
    assert_problem(edit_api.client.put(url, json=SCHOOL, headers=h), 428, None)
    assert_problem(edit_api.client.delete(url, headers=h), 428, None)
    # Both editors read v1; the first write wins, the second gets 412 and changes nothing.
    first = edit_api.client.patch(url, json={"description": "erste"}, headers={**h, "If-Match": v1})
    assert first.status_code == 200 and first.headers["etag"] != v1
    second = edit_api.client.patch(url, json={"description": "zweite"}, headers={**h, "If-Match": v1})
    assert_problem(second, 412, None)
    assert_problem(edit_api.client.delete(url, headers={**h, "If-Match": v1}), 412, None)
    assert_problem(
        edit_api.client.put(url, json=SCHOOL, headers={**h, "If-Match": f"W/{first.headers['etag']}"}),
        412,
        None,
    )
    current = edit_api.client.get(url)
    assert current.json()["properties"]["description"] == "erste"
    assert current.headers["etag"] == first.headers["etag"]
    both = f'"nope", {first.headers["etag"]}'
    assert (
        edit_api.client.patch(url, json={"source": "x"}, headers={**h, "If-Match": both}).status_code == 200
    )
    assert edit_api.client.patch(url, json={"source": "y"}, headers={**h, "If-Match": "*"}).status_code == 200
    assert_problem(edit_api.client.patch("/places/nope", json={}, headers={**h, "If-Match": "*"}), 404, None)


def test_put_replaces_and_patch_merges(edit_api: EditApi) -> None:
    r = create(
        edit_api, {**SCHOOL, "name": "Ersetzbar", "website": "https://example.org/a", "description": "alt"}
    )
    url, h = r.headers["location"], edit_api.editor
    r = edit_api.client.patch(
        url,
        json={"website": None, "description": "neu", "category": "school"},
        headers={**h, "If-Match": r.headers["etag"]},
    )
    props = r.json()["properties"]
    assert (props["website"], props["description"], props["category"]) == (None, "neu", "school")
    assert props["name"] == "Ersetzbar" and props["phone"] == "+4946150900099"
    bad = edit_api.client.patch(
        url, json={"postcode": "1234", "name": ""}, headers={**h, "If-Match": r.headers["etag"]}
    )
    assert {p["name"] for p in assert_problem(bad, 400, "postcode")["invalid_params"]} == {"postcode", "name"}
    # PUT takes a Feature as GET returns it: derived properties are ignored.
    feature = edit_api.client.get(url).json()
    feature["properties"]["name"] = "Als Feature"
    feature["properties"].pop("phone")
    r = edit_api.client.put(url, json=feature, headers={**h, "If-Match": r.headers["etag"]})
    assert r.status_code == 200, r.text
    props = r.json()["properties"]
    assert props["name"] == "Als Feature" and props["phone"] is None and props["description"] == "neu"
    # The Feature's point is the geocoded one sent back, not a pin: its precision stays honest.
    assert props["geocoding"]["precision"] == "postcode"
    moved = {**feature, "geometry": {"type": "Point", "coordinates": [9.39, 54.801]}}
    r = edit_api.client.put(url, json=moved, headers={**h, "If-Match": r.headers["etag"]})
    assert r.json()["properties"]["geocoding"] | {"at": None} == {
        "source": "editor",
        "precision": "exact",
        "confidence": 1.0,
        "at": None,
    }


def test_delete_is_soft_and_undoable_with_history(edit_api: EditApi) -> None:
    r = create(edit_api, {**SCHOOL, "name": "Geschlossen"})
    url, h = r.headers["location"], edit_api.editor
    place_id = r.json()["id"]
    r = edit_api.client.patch(
        url, json={"description": "bald zu"}, headers={**h, "If-Match": r.headers["etag"]}
    )
    deleted = edit_api.client.delete(url, headers={**h, "If-Match": r.headers["etag"]})
    assert deleted.status_code == 204 and deleted.content == b""
    assert_problem(edit_api.client.get(url), 404, None)
    listed = edit_api.client.get("/places", params={"q": "Geschlossen"}).json()
    assert listed["numberMatched"] == 0
    near = edit_api.client.get(
        "/places/nearby", params={"lat": 54.8, "lon": 9.3833, "radius_m": 5000, "limit": 200}
    )
    assert place_id not in {f["id"] for f in near.json()["features"]}
    assert_problem(
        edit_api.client.post(f"{url}/restore", headers={**h, "If-Match": r.headers["etag"]}), 412, None
    )
    restored = edit_api.client.post(f"{url}/restore", headers={**h, "If-Match": deleted.headers["etag"]})
    assert restored.status_code == 200 and restored.json()["properties"]["description"] == "bald zu"
    assert edit_api.client.get(url).headers["etag"] == restored.headers["etag"]
    assert_problem(edit_api.client.post(f"{url}/restore", headers=h), 409, None)
    history = edit_api.client.get(f"{url}/history", headers=h).json()
    changes = history["changes"]
    assert [c["action"] for c in changes] == ["create", "update", "delete", "restore"]
    assert {c["actor"] for c in changes} == {edit_api.editor_id}
    assert [c["version"] for c in changes] == [1, 2, 3, 4]
    assert changes[0]["before"] is None and changes[0]["after"]["name"] == "Geschlossen"
    assert (changes[1]["before"]["description"], changes[1]["after"]["description"]) == (None, "bald zu")
    assert changes[2]["after"]["deleted_at"] is not None and changes[3]["after"]["deleted_at"] is None
    assert_problem(edit_api.client.get("/places/nope/history", headers=h), 404, None)


def test_memberships_are_edited_the_same_way(edit_api: EditApi) -> None:
    h = edit_api.editor
    body = {
        "name": "Harrislee",
        "kind": "Gemeinde",
        "state": "Schleswig-Holstein",
        "alliance": "buendnis",
        "joined": "2024-05",
    }
    r = edit_api.client.post("/alliance/members", json=body, headers=h)
    assert r.status_code == 201, r.text
    props = r.json()["properties"]
    assert props["ags"] == "01059120" and props["geocoding"]["precision"] == "municipality"
    assert (props["joined"], props["joined_precision"]) == ("2024-05", "month")
    url = r.headers["location"]
    assert edit_api.client.get(url).headers["etag"] == r.headers["etag"]
    assert_problem(edit_api.client.post("/alliance/members", json=body, headers=h), 409, None)
    r = edit_api.client.patch(
        url, json={"role": "state_coordinator"}, headers={**h, "If-Match": r.headers["etag"]}
    )
    assert r.status_code == 200 and r.json()["properties"]["role"] == "state_coordinator"
    assert r.json()["geometry"] == edit_api.client.get(url).json()["geometry"]
    stale = edit_api.client.patch(url, json={"role": "member"}, headers={**h, "If-Match": '"v1-x"'})
    assert_problem(stale, 412, None)
    assert edit_api.client.delete(url, headers={**h, "If-Match": r.headers["etag"]}).status_code == 204
    assert edit_api.client.get("/alliance/stats").json()["by_alliance"].get("buendnis", 0) == 0
    assert edit_api.client.post(f"{url}/restore", headers=h).status_code == 200
    changes = edit_api.client.get(f"{url}/history", headers=h).json()["changes"]
    assert [c["action"] for c in changes] == ["create", "update", "delete", "restore"]


def test_put_replaces_a_membership(edit_api: EditApi) -> None:
    h = edit_api.editor
    body = {
        "name": "Flensburg",
        "kind": "Stadt",
        "state": "Schleswig-Holstein",
        "alliance": "international",
        "role": "member",
        "joined": "2019-06-14",
        "source_url": "https://example.org/alt",
    }
    r = edit_api.client.post("/alliance/members", json=body, headers=h)
    assert r.status_code == 201, r.text
    url, etag = r.headers["location"], r.headers["etag"]
    new = {
        "name": "Kiel",
        "kind": "Stadt",
        "state": "SH",
        "alliance": "international",
        "role": "coordinator",
        "joined": "2020",
    }
    assert_problem(edit_api.client.put(url, json=new, headers=h), 428, None)
    r = edit_api.client.put(url, json=new, headers={**h, "If-Match": etag})
    assert r.status_code == 200, r.text
    props = r.json()["properties"]
    want = OfflineGeocoder(DATA_DIR).geocode(member_query("Kiel", "Stadt", "SH", "DE")).best
    assert want is not None and props["ags"] == want.ags
    assert r.json()["geometry"]["coordinates"] == [want.point.lon, want.point.lat]
    assert (props["name"], props["role"], props["state"]) == ("Kiel", "coordinator", "Schleswig-Holstein")
    assert (props["joined"], props["joined_precision"]) == ("2020", "year")
    assert props["source_url"] is None, "PUT replaces: a field left out is cleared"
    assert r.headers["etag"] != etag and edit_api.client.get(url).json() == r.json()
    assert_problem(edit_api.client.put(url, json=new, headers={**h, "If-Match": etag}), 412, None)
    changes = edit_api.client.get(f"{url}/history", headers=h).json()["changes"]
    assert [(c["action"], c["version"]) for c in changes] == [("create", 1), ("update", 2)]
    assert (changes[1]["before"]["name"], changes[1]["after"]["name"]) == ("Flensburg", "Kiel")


def test_openapi_documents_the_write_api(edit_api: EditApi) -> None:
    from openapi_spec_validator import validate

    doc = edit_api.client.get("/openapi.json").json()
    validate(doc)
    assert {"put", "patch", "delete"} <= set(doc["paths"]["/places/{place_id}"])
    assert doc["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    assert "multipart/form-data" in doc["paths"]["/imports"]["post"]["requestBody"]["content"]


def test_hours_wheelchair_and_names_are_edited_and_checked(edit_api: EditApi) -> None:
    body = {
        **SCHOOL,
        "name": "Barrierefrei",
        "opening_hours": "Mo-Fr 08:00-17:00",
        "wheelchair": "Limited",
        "names": {"da": "Køreskole", "en": "Driving school"},
    }
    r = create(edit_api, body)
    props = r.json()["properties"]
    assert (props["opening_hours"], props["wheelchair"]) == ("Mo-Fr 08:00-17:00", "limited")
    assert props["names"] == {"da": "Køreskole", "en": "Driving school"}
    assert props["osm_version"] is None and props["osm_timestamp"] is None
    url, h = r.headers["location"], edit_api.editor
    for bad in (
        {"wheelchair": "maybe"},
        {"names": {"Deutsch": "x"}},
        {"names": "not json"},
        {"opening_hours": "x" * 256},
    ):
        assert_problem(
            edit_api.client.patch(url, json=bad, headers={**h, "If-Match": r.headers["etag"]}), 400, None
        )
    # OSM provenance is derived: sent back (a GET's Feature), it is ignored, never set by an editor.
    r = edit_api.client.patch(
        url,
        json={"wheelchair": "no", "names": {"en": None}, "osm_version": 3},
        headers={**h, "If-Match": r.headers["etag"]},
    )
    assert r.status_code == 200, r.text
    props = r.json()["properties"]
    assert (props["wheelchair"], props["names"], props["opening_hours"]) == (
        "no",
        {"da": "Køreskole"},
        "Mo-Fr 08:00-17:00",
    )
    assert props["osm_version"] is None
    r = edit_api.client.put(
        url, json=SCHOOL | {"name": "Barrierefrei"}, headers={**h, "If-Match": r.headers["etag"]}
    )
    props = r.json()["properties"]
    assert (props["wheelchair"], props["names"], props["opening_hours"]) == (None, None, None)
