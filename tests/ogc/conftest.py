"""A served API (real uvicorn over a real GeoPackage store) for the OGC API and export tests, with a
recorder of every request path the server saw (to prove that clients follow next links)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from poi_service.api.app import create_app
from poi_service.config import Settings
from poi_service.models import Alliance, DatePrecision, Membership, MembershipData, Place, PlaceData, Role
from poi_service.store import Store, open_store
from tests.conftest import DATA_DIR
from tests.factories import membership, random_places
from tests.server import serve

XSS_NAME = "<script>alert('ogc')</script> Kirche"
FORMULA_NAMES = ('=HYPERLINK("http://evil.example")', "+49 Quatsch", "-1+2", "@SUM(A1)")


class Recorder:
    """ASGI middleware keeping 'path?query' of every HTTP request."""

    def __init__(self, app: ASGIApp, seen: list[str]) -> None:
        self.app = app
        self.seen = seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.seen.append(scope["path"] + "?" + scope.get("query_string", b"").decode())
        await self.app(scope, receive, send)


@dataclass
class Ogc:
    """A running server, a client for it, the store behind it and the requests it served."""

    url: str
    client: httpx.Client
    store: Store
    settings: Settings
    seen: list[str] = field(default_factory=list)

    def places(self) -> list[Place]:
        return list(self.store.places.iter_all())

    def members(self) -> list[Membership]:
        return list(self.store.memberships.iter_all())

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get(path, params=params)


def _members() -> list[MembershipData]:
    rows = [
        (
            "Potsdam",
            Alliance.BUENDNIS,
            13.0645,
            52.3989,
            dict(role=Role.COORDINATOR, state="Brandenburg", ags="12054000", joined=date(2018, 6, 1)),
        ),
        (
            "Flensburg",
            Alliance.BUENDNIS,
            9.4375,
            54.7825,
            dict(
                role=Role.STATE_COORDINATOR,
                ags="01001000",
                state="Schleswig-Holstein",
                joined=date(2019, 6, 14),
            ),
        ),
        (
            "Flensburg",
            Alliance.SEEBRUECKE_DECLARED,
            9.4375,
            54.7825,
            dict(state="Schleswig-Holstein", joined=date(2018, 9, 1)),
        ),
        (
            "Göttingen",
            Alliance.SEEBRUECKE_DECLARED,
            9.93,
            51.53,
            dict(state="Niedersachsen", joined=date(2019, 1, 1), ags="03159016"),
        ),
        (
            "Hannover",
            Alliance.BUENDNIS,
            9.7383,
            52.3745,
            dict(state="Niedersachsen", joined=date(2020, 2, 29)),
        ),
        ("Osnabrück", Alliance.BUENDNIS, 8.0472, 52.2799, dict(state="Niedersachsen", joined=None)),
        (
            "Kiel",
            Alliance.BUENDNIS,
            10.1228,
            54.3233,
            dict(state="Schleswig-Holstein", joined=date(2019, 12, 31)),
        ),
        (
            "Berlin",
            Alliance.BUENDNIS,
            13.405,
            52.52,
            dict(role=Role.STATE_COORDINATOR, state="Berlin", joined=date(2019, 6, 14)),
        ),
        (
            "Palermo",
            Alliance.INTERNATIONAL,
            13.36,
            38.12,
            dict(role=Role.COORDINATOR, country="IT", joined=date(2021, 1, 1)),
        ),
        ("Napoli", Alliance.INTERNATIONAL, 14.25, 40.85, dict(country="IT", joined=None)),
    ]
    out = [membership(name, alliance, lon, lat, **kw) for name, alliance, lon, lat, kw in rows]
    # A year-precision join date: the store keeps the first day of the year.
    out[3] = replace(out[3], joined_precision=DatePrecision.YEAR)
    return out


def _special_places() -> list[PlaceData]:
    base = random_places(1, seed=99)[0]
    names = (XSS_NAME, *FORMULA_NAMES)
    return [
        replace(base, name=n, external_key=f"special:{i}", category="church") for i, n in enumerate(names)
    ]


@pytest.fixture(scope="package")
def ogc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ogc]:
    path: Path = tmp_path_factory.mktemp("ogc") / "ogc.gpkg"
    settings = Settings(database_url=str(path), data_dir=DATA_DIR, max_radius_m=200_000)
    store = open_store(settings.database_url, DATA_DIR)
    store.places.add_many([*random_places(300), *_special_places()])
    store.memberships.add_many(_members())
    app = create_app(settings, store)
    seen: list[str] = []
    app.add_middleware(Recorder, seen=seen)
    with serve(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield Ogc(url, client, store, settings, seen)
    store.close()
