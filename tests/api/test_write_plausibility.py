"""Edits that are accepted by every field rule but are surely slips: a Berlin postcode on a Harrislee place,
lat and lon swapped. 422 naming the fields unless the editor confirms with force=true; `data check` lists
such stored records (issue 14.10)."""

from __future__ import annotations

from typing import Any

import httpx
from geopy.distance import geodesic

from poi_service.geocode.gazetteer import load_gazetteer
from poi_service.quality import check_data
from tests.api.conftest import EditApi
from tests.api.test_bad_input import assert_problem
from tests.api.test_write_api import SCHOOL, create
from tests.conftest import DATA_DIR


def _patch(api: EditApi, url: str, etag: str, body: dict[str, Any], **params: str) -> httpx.Response:
    return api.client.patch(url, json=body, params=params, headers={**api.editor, "If-Match": etag})


def _names(r: httpx.Response) -> set[str]:
    return {p["name"] for p in r.json()["invalid_params"]}


def test_a_postcode_of_another_town_needs_confirmation(edit_api: EditApi) -> None:
    gaz = load_gazetteer(DATA_DIR)
    assert all(e.ags != "01059120" for e in gaz.postcodes["10115"])  # 10115 is Berlin's, not Harrislee's
    r = create(edit_api, {**SCHOOL, "name": "Postleitzahl-Probe"})
    url, etag = r.headers["location"], r.headers["etag"]
    bad = _patch(edit_api, url, etag, {"postcode": "10115"})
    assert_problem(bad, 422, None)
    assert _names(bad) == {"postcode", "locality"} and "10115" in bad.json()["detail"]
    assert "force=true" in bad.json()["detail"]
    assert edit_api.client.get(url).headers["etag"] == etag  # nothing changed
    ok = _patch(edit_api, url, etag, {"postcode": "10115"}, force="true")
    assert ok.status_code == 200 and ok.json()["properties"]["postcode"] == "10115"
    # a later edit of another field does not question the confirmed address again
    again = _patch(edit_api, url, ok.headers["etag"], {"phone": "0461 99"})
    assert again.status_code == 200, again.text
    # a new record with a mismatched postcode is refused as well
    r = edit_api.client.post(
        "/places",
        json={**SCHOOL, "name": "Neu mit Berliner PLZ", "postcode": "10115"},
        headers=edit_api.editor,
    )
    assert_problem(r, 422, None)


def test_swapped_coordinates_need_confirmation(edit_api: EditApi) -> None:
    r = create(edit_api, {**SCHOOL, "name": "Vertauschte Koordinaten", "lat": 54.8, "lon": 9.38})
    url, etag = r.headers["location"], r.headers["etag"]
    bad = _patch(edit_api, url, etag, {"lat": 9.38, "lon": 54.8})
    assert_problem(bad, 422, None)
    assert _names(bad) == {"lat", "lon"} and "swapped" in bad.json()["detail"]
    km = geodesic((9.38, 54.8), (54.7925, 9.3856)).km  # the pin against Harrislee's centre, roughly
    assert km > 1000
    near = _patch(edit_api, url, etag, {"lat": 54.81, "lon": 9.39})  # a small move within Harrislee is fine
    assert near.status_code == 200, near.text
    forced = _patch(edit_api, url, near.headers["etag"], {"lat": 9.38, "lon": 54.8}, force="true")
    assert forced.status_code == 200
    report = check_data(DATA_DIR, edit_api.store)
    listed = {f.subject for f in report.findings if f.code == "implausible-location"}
    assert any("Vertauschte Koordinaten" in s for s in listed) and any(
        "Postleitzahl-Probe" in s for s in listed
    )
    assert not any("Fahrschule Nord" in s for s in listed)
