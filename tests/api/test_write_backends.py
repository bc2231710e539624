"""One editing round trip over HTTP on every store backend (the contract tests cover the rest)."""

from __future__ import annotations

import httpx

from poi_service.api.app import create_app
from poi_service.config import Settings
from poi_service.models import KeyRole
from poi_service.store import Store
from tests.api.test_bad_input import assert_problem
from tests.server import serve


def test_editing_round_trip(store: Store) -> None:
    _, key = store.create_key("Redaktion", KeyRole.EDITOR)
    auth = {"Authorization": f"Bearer {key}"}
    app = create_app(Settings(database_url=store.url), store)
    with serve(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        r = client.post(
            "/places",
            json={
                "name": "Rathaus",
                "category": "public_administration",
                "postcode": "24955",
                "locality": "Harrislee",
            },
            headers=auth,
        )
        assert r.status_code == 201, r.text
        place = r.headers["location"]
        etag = client.get(place).headers["etag"]
        assert etag == r.headers["etag"]
        r = client.patch(place, json={"lat": 54.7998, "lon": 9.3866}, headers={**auth, "If-Match": etag})
        assert r.status_code == 200 and r.json()["properties"]["geocoding"]["precision"] == "exact"
        assert_problem(client.patch(place, json={"name": "X"}, headers={**auth, "If-Match": etag}), 412, None)
        near = {"lat": "54.7998", "lon": "9.3866", "radius_m": "100"}
        assert client.get("/places/nearby", params=near).json()["numberMatched"] == 1
        deleted = client.delete(place, headers={**auth, "If-Match": r.headers["etag"]})
        assert deleted.status_code == 204
        assert client.get("/places/nearby", params=near).json()["numberMatched"] == 0
        assert (
            client.post(f"{place}/restore", headers={**auth, "If-Match": deleted.headers["etag"]}).status_code
            == 200
        )
        changes = client.get(f"{place}/history", headers=auth).json()["changes"]
        assert [c["action"] for c in changes] == ["create", "update", "delete", "restore"]
        csv = b"name,category,lat,lon,external_key\nA,Kirche,54.8,9.4,k:1\nB,Kirche,54.81,9.41,k:2\n"
        for _ in range(2):
            r = client.post("/imports", files={"file": ("a.csv", csv)}, headers=auth)
            assert r.status_code == 200, r.text
        assert (r.json()["new"], r.json()["unchanged"]) == (0, 2) and store.places.count() == 3
        assert {p.version for p in store.places.iter_all() if p.external_key in ("k:1", "k:2")} == {1}
