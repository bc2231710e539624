"""Stores for the map tests: realistic places and members plus records whose texts attack the page."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from poi_service.models import (
    Address,
    Alliance,
    DatePrecision,
    Geocoding,
    MembershipData,
    Municipality,
    PlaceData,
    Point,
    Precision,
    Role,
)
from poi_service.store import Store, open_store
from tests.conftest import DATA_DIR
from tests.factories import membership, random_places

XSS_NAME = "<img src=x onerror=alert(1)>"
QUOTES_NAME = 'Quote\'s `tick` \\back\\ "dq" </script><!-- & \u2028end'
XSS_ADDRESS_STREET = "</script><script>alert(2)</script>"
XSS_DESCRIPTION = "<b onmouseover=alert(3)>bold</b> <a href=javascript:alert(4)>x</a>"
AT = datetime(2026, 1, 1, tzinfo=UTC)


def hostile_places() -> list[PlaceData]:
    """Places whose every text field carries markup, quotes or a javascript: URL."""
    base = PlaceData(
        name=XSS_NAME,
        category="church",
        address=Address(XSS_ADDRESS_STREET, "1", "24955", "Harrislee", "01059120"),
        point=Point(9.3905, 54.7945),
        geocoding=Geocoding("input", Precision.EXACT, 1.0, AT),
        phone="+494617040",
        website="javascript:alert(5)",
        description=XSS_DESCRIPTION,
        source="https://example.org/quelle?a=1&b=<2>",
        external_key="xss:1",
    )
    quotes = replace(
        base,
        name=QUOTES_NAME,
        point=Point(9.3925, 54.7955),
        website="https://example.org/site?x='1'",
        geocoding=Geocoding("offline:geonames-plz", Precision.POSTCODE, 0.6, AT),
        external_key="xss:2",
        address=Address("Süderstraße", "101", "24955", "Harrislee", "01059120"),
    )
    centre = replace(
        base,
        name="Rathaus Harrislee",
        category="public_administration",
        website="https://www.harrislee.de/",
        description=None,
        address=Address(None, None, None, "Harrislee", "01059120"),
        point=Point(9.3833, 54.7833),
        geocoding=Geocoding("offline:destatis", Precision.MUNICIPALITY, 0.4, AT),
        external_key="xss:3",
    )
    return [base, quotes, centre]


def hostile_members() -> list[MembershipData]:
    """Members including one whose name is markup and whose source is a javascript: URL."""
    evil = MembershipData(
        municipality=Municipality(XSS_NAME, "Stadt", "DE", "01001000", "Schleswig-Holstein", None),
        alliance=Alliance.SEEBRUECKE_DECLARED,
        role=Role.MEMBER,
        point=Point(9.4375, 54.7825),
        geocoding=Geocoding("input", Precision.MUNICIPALITY, 0.5, AT),
        joined=date(2018, 1, 1),
        joined_precision=DatePrecision.YEAR,
        source_url="javascript:alert(6)",
    )
    return [
        membership(
            "Potsdam",
            Alliance.BUENDNIS,
            13.0645,
            52.3989,
            role=Role.COORDINATOR,
            state="Brandenburg",
            ags="12054000",
        ),
        membership(
            "Flensburg",
            Alliance.BUENDNIS,
            9.4375,
            54.7825,
            role=Role.STATE_COORDINATOR,
            state="Schleswig-Holstein",
            ags="01001000",
            joined=date(2020, 3, 5),
        ),
        membership(
            "Göttingen",
            Alliance.SEEBRUECKE_DECLARED,
            9.93,
            51.53,
            state="Niedersachsen",
            ags="03159016",
            joined=date(2021, 7, 1),
        ),
        membership(
            "Hannover",
            Alliance.SEEBRUECKE_DECLARED,
            9.73,
            52.37,
            state="Niedersachsen",
            ags="03241001",
            joined=None,
        ),
        membership(
            "Palermo",
            Alliance.INTERNATIONAL,
            13.36,
            38.12,
            role=Role.COORDINATOR,
            country="IT",
            joined=date(2021, 6, 25),
        ),
        evil,
    ]


def map_store(path: Path, n_random: int = 150) -> Store:
    """A store file with random places around Harrislee, the hostile records and the members."""
    store = open_store(str(path), DATA_DIR)
    store.places.add_many([*random_places(n_random), *hostile_places()])
    store.memberships.add_many(hostile_members())
    return store
