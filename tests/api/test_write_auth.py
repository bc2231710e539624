"""Every write needs a valid key with the right role; every bad body is a problem naming each bad field."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import EditApi
from tests.api.test_bad_input import assert_problem

HARRISLEE = {"name": "Auth-Probe", "category": "church", "postcode": "24955", "locality": "Harrislee"}


def state(api: EditApi) -> tuple[int, int, list[tuple[str, int]]]:
    """What a refused write must leave alone: counts and every record's version."""
    places = sorted((p.id, p.version) for p in api.store.places.iter_all())
    return api.store.places.count(), api.store.memberships.count(), places


def writes(api: EditApi) -> list[tuple[str, str, dict[str, Any]]]:
    """One request per write endpoint, aimed at a real record."""
    place = next(iter(api.store.places.iter_all()))
    etag = api.client.get(f"/places/{place.id}").headers["etag"]
    pid, mid = f"/places/{place.id}", "/alliance/members/any"
    with_etag = {"headers": {"If-Match": etag}}
    csv = {"files": {"file": ("p.csv", b"name,category,lat,lon\nX,Kirche,54.8,9.4\n")}}
    return [
        ("POST", "/places", {"json": HARRISLEE}),
        ("PUT", pid, {"json": HARRISLEE, **with_etag}),
        ("PATCH", pid, {"json": {"name": "Neu"}, **with_etag}),
        ("DELETE", pid, with_etag),
        ("DELETE", f"{pid}?purge=true", with_etag),
        ("POST", f"{pid}/restore", {}),
        ("GET", f"{pid}/history", {}),
        ("POST", "/alliance/members", {"json": {"name": "Kiel", "alliance": "buendnis"}}),
        ("PUT", mid, {"json": {"name": "Kiel", "alliance": "buendnis"}, **with_etag}),
        ("PATCH", mid, {"json": {"role": "member"}, **with_etag}),
        ("DELETE", mid, with_etag),
        ("POST", f"{mid}/restore", {}),
        ("GET", f"{mid}/history", {}),
        ("POST", "/imports", csv),
        ("POST", "/imports?dry_run=true", csv),
    ]


def send(
    client: httpx.Client, method: str, path: str, kw: dict[str, Any], auth: dict[str, str]
) -> httpx.Response:
    headers = {**kw.get("headers", {}), **auth}
    return client.request(method, path, **{**kw, "headers": headers})


@pytest.mark.parametrize(
    "auth",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwdw=="},
        {"Authorization": "Bearer not-a-key"},
        {"Authorization": "Bearer poi_0123456789ab_" + "A" * 43},  # well-formed, unknown
    ],
    ids=["none", "empty", "basic", "malformed", "unknown"],
)
def test_no_write_without_a_valid_key(edit_api: EditApi, auth: dict[str, str]) -> None:
    before = state(edit_api)
    for method, path, kw in writes(edit_api):
        r = send(edit_api.client, method, path, kw, auth)
        assert_problem(r, 401, None)
        assert r.headers["www-authenticate"].startswith("Bearer"), (method, path)
    assert state(edit_api) == before


def test_revoked_and_tampered_keys_are_refused(edit_api: EditApi) -> None:
    before = state(edit_api)
    editor = edit_api.editor["Authorization"]
    tampered = {"Authorization": editor[:-2] + ("xx" if not editor.endswith("xx") else "yy")}
    for auth in (edit_api.revoked, tampered):
        for method, path, kw in writes(edit_api):
            r = send(edit_api.client, method, path, kw, auth)
            body = assert_problem(r, 401, None)
            assert 'error="invalid_token"' in r.headers["www-authenticate"] and "revoked" in body["detail"]
    assert state(edit_api) == before


def test_reads_stay_public(edit_api: EditApi) -> None:
    place = next(iter(edit_api.store.places.iter_all()))
    for path in (f"/places/{place.id}", "/places", "/alliance/members", "/health"):
        assert edit_api.client.get(path).status_code == 200


def test_purge_needs_the_admin_role(edit_api: EditApi) -> None:
    r = edit_api.client.post("/places", json={**HARRISLEE, "name": "Zum Löschen"}, headers=edit_api.editor)
    assert r.status_code == 201
    url, etag = r.headers["location"], r.headers["etag"]
    r = edit_api.client.delete(f"{url}?purge=true", headers={**edit_api.editor, "If-Match": etag})
    body = assert_problem(r, 403, None)
    assert "admin" in body["detail"]
    assert edit_api.client.get(url).status_code == 200
    r = edit_api.client.delete(f"{url}?purge=true", headers={**edit_api.admin, "If-Match": etag})
    assert r.status_code == 204
    record_id = url.rsplit("/", 1)[1]
    assert_problem(edit_api.client.post(f"{url}/restore", headers=edit_api.admin), 404, None)
    assert edit_api.store.places.history(record_id)[-1].action == "purge"


def test_admin_can_do_what_an_editor_can(edit_api: EditApi) -> None:
    r = edit_api.client.post("/places", json={**HARRISLEE, "name": "Vom Admin"}, headers=edit_api.admin)
    assert r.status_code == 201


@pytest.mark.parametrize(
    ("body", "bad"),
    [
        (
            {
                "name": "x" * 201,
                "category": "casino",
                "postcode": "2495",
                "phone": "12ab",
                "website": "ftp://x.de",
                "lat": 91,
                "lon": 9.4,
                "colour": "red",
            },
            ["name", "category", "postcode", "phone", "website", "lat", "colour"],
        ),
        ({"category": "church", "postcode": "24955"}, ["name"]),
        ({"name": "Ohne Längengrad", "category": "church", "lat": 54.8}, ["lon"]),
        ({"name": "Text als Zahl", "category": "church", "lat": "nördlich", "lon": 9.4}, ["lat"]),
        (
            {"name": "Falsche Art", "category": "church", "website": "javascript:alert(1)", "phone": "+49"},
            ["website", "phone"],
        ),
        (
            {
                "type": "Feature",
                "properties": {"name": "F", "category": "church"},
                "geometry": {"type": "LineString"},
            },
            ["geometry"],
        ),
    ],
    ids=["everything", "no-name", "lat-without-lon", "lat-text", "url-and-phone", "feature-geometry"],
)
def test_bad_fields_are_all_named(edit_api: EditApi, body: dict[str, Any], bad: list[str]) -> None:
    before = state(edit_api)
    r = edit_api.client.post("/places", json=body, headers=edit_api.editor)
    problem = assert_problem(r, 400, None)
    assert sorted(p["name"] for p in problem["invalid_params"]) == sorted(bad)
    assert all(name in problem["detail"] for name in bad)
    assert state(edit_api) == before


def test_bad_bodies(edit_api: EditApi) -> None:
    h = edit_api.editor
    assert_problem(edit_api.client.post("/places", json=[1, 2], headers=h), 400, "body")
    bad_json = {**h, "Content-Type": "application/json"}
    assert_problem(edit_api.client.post("/places", content=b"{nope", headers=bad_json), 400, None)
    r = edit_api.client.post("/places", json={"name": "Irgendwo", "category": "church"}, headers=h)
    assert_problem(r, 422, "address")  # nothing to geocode: give coordinates or postcode/locality
    r = edit_api.client.post(
        "/places",
        json={**HARRISLEE, "name": "Weit weg", "postcode": None, "locality": "Xyzzyhausen"},
        headers=h,
    )
    assert_problem(r, 422, "address")
    r = edit_api.client.post(
        "/alliance/members", json={"name": "Kiel", "alliance": "nato", "role": "king"}, headers=h
    )
    problem = assert_problem(r, 400, "alliance")
    assert {p["name"] for p in problem["invalid_params"]} == {"alliance", "role"}
    assert_problem(edit_api.client.post("/places", json={"padding": "x" * 30_000}, headers=h), 413, None)
