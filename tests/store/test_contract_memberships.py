"""The store contract for memberships and cross-cutting behaviour (stats, cache, freshness)."""

from __future__ import annotations

from datetime import date

import pytest
from geopy.distance import geodesic

from poi_service.analysis.frames import period_end
from poi_service.models import Alliance, DatePrecision, Point, Role
from poi_service.store import MembershipFilter, Query, Store
from poi_service.store.base import SCHEMA_VERSION
from tests.factories import membership


@pytest.fixture()
def members(store: Store) -> Store:
    store.memberships.add_many(
        [
            membership(
                "Potsdam",
                Alliance.BUENDNIS,
                13.06,
                52.40,
                role=Role.COORDINATOR,
                state="Brandenburg",
                ags="12054000",
            ),
            membership(
                "Potsdam",
                Alliance.INTERNATIONAL,
                13.06,
                52.40,
                role=Role.COORDINATOR,
                state="Brandenburg",
                ags="12054000",
                joined=date(2021, 6, 25),
            ),
            membership(
                "Flensburg",
                Alliance.BUENDNIS,
                9.4375,
                54.7825,
                role=Role.STATE_COORDINATOR,
                state="Schleswig-Holstein",
                ags="01001000",
            ),
            membership(
                "Göttingen",
                Alliance.SEEBRUECKE_DECLARED,
                9.93,
                51.53,
                state="Niedersachsen",
                ags="03159016",
                joined=date(2018, 11, 1),
            ),
            membership(
                "Landkreis Göttingen",
                Alliance.BUENDNIS,
                10.0,
                51.55,
                state="Niedersachsen",
                ags="03159",
                kind="Landkreis",
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
        ]
    )
    return store


def names(page: object) -> list[str]:
    return sorted(h.record.municipality.name for h in page.hits)  # type: ignore[attr-defined]


def test_filters(members: Store) -> None:
    m = members.memberships
    assert names(m.search(Query(MembershipFilter(alliance=Alliance.BUENDNIS)))) == [
        "Flensburg",
        "Landkreis Göttingen",
        "Potsdam",
    ]
    assert names(m.search(Query(MembershipFilter(role=Role.COORDINATOR)))) == [
        "Palermo",
        "Potsdam",
        "Potsdam",
    ]
    assert names(m.search(Query(MembershipFilter(state="Niedersachsen")))) == [
        "Göttingen",
        "Landkreis Göttingen",
    ]
    assert names(m.search(Query(MembershipFilter(joined_after=date(2021, 1, 1))))) == ["Palermo", "Potsdam"]
    assert names(m.search(Query(MembershipFilter(joined_before=date(2018, 12, 31))))) == ["Göttingen"]
    assert names(m.search(Query(MembershipFilter(text="gottingen")))) == ["Göttingen", "Landkreis Göttingen"]
    assert names(m.search(Query(MembershipFilter(), area="Niedersachsen"))) == [
        "Göttingen",
        "Landkreis Göttingen",
    ]
    # A district-level member lies in its district, not in the district's municipalities.
    assert names(m.search(Query(MembershipFilter(), area="03159"))) == ["Göttingen", "Landkreis Göttingen"]
    assert names(m.search(Query(MembershipFilter(), area="03159016"))) == ["Göttingen"]


PARTIAL_DATES = [
    ("Jahr 2019", date(2019, 1, 1), DatePrecision.YEAR),
    ("Jahr 2020", date(2020, 1, 1), DatePrecision.YEAR),
    ("Juni 2019", date(2019, 6, 1), DatePrecision.MONTH),
    ("Februar 2020", date(2020, 2, 1), DatePrecision.MONTH),
    ("14. Juni 2019", date(2019, 6, 14), DatePrecision.DAY),
    ("31. Dezember 2019", date(2019, 12, 31), DatePrecision.DAY),
    ("undatiert", None, None),
]


@pytest.mark.parametrize(
    ("after", "before"),
    [
        (None, date(2019, 1, 31)),
        (None, date(2019, 6, 13)),
        (None, date(2019, 6, 14)),
        (None, date(2019, 6, 30)),
        (None, date(2019, 12, 30)),
        (None, date(2019, 12, 31)),
        (None, date(2020, 2, 28)),
        (None, date(2020, 2, 29)),
        (date(2019, 6, 1), None),
        (date(2019, 6, 2), None),
        (date(2019, 6, 1), date(2019, 6, 30)),
        (date(2019, 1, 1), date(2019, 12, 31)),
    ],
)
def test_joined_bounds_hold_the_whole_known_period(
    store: Store, after: date | None, before: date | None
) -> None:
    # Rule: a member matches only if it surely joined in range, i.e. its whole period lies within.
    store.memberships.add_many(
        [
            membership(name, Alliance.BUENDNIS, 9.4, 54.8, joined=joined, joined_precision=precision)
            for name, joined, precision in PARTIAL_DATES
        ]
    )
    want = sorted(
        name
        for name, joined, precision in PARTIAL_DATES
        if joined is not None
        and (after is None or joined >= after)
        and (before is None or (period_end(joined, precision) or joined) <= before)
    )
    got = store.memberships.search(Query(MembershipFilter(joined_after=after, joined_before=before)))
    assert names(got) == want


def test_nearest_members(members: Store) -> None:
    here = Point(9.3866, 54.7998)
    everything = members.memberships.search(Query(MembershipFilter(), limit=100)).hits
    ranked = sorted(
        (geodesic((here.lat, here.lon), (h.record.point.lat, h.record.point.lon)).meters, h.record.id)
        for h in everything
    )
    hits = members.memberships.nearest(here, 3, MembershipFilter())
    # Potsdam holds two memberships at one point: compare distances, ties may come in any order.
    assert hits[0].record.id == ranked[0][1]
    assert [h.distance_m for h in hits] == pytest.approx([d for d, _ in ranked[:3]], abs=1e-3)
    hits = members.memberships.nearest(here, 5, MembershipFilter(alliance=Alliance.INTERNATIONAL))
    assert [h.record.municipality.name for h in hits] == ["Potsdam", "Palermo"]


def test_stats(members: Store) -> None:
    stats = members.membership_stats()
    assert stats.by_alliance == {"buendnis": 3, "international": 2, "seebruecke_declared": 1}
    assert stats.by_state["buendnis"] == {"Brandenburg": 1, "Niedersachsen": 1, "Schleswig-Holstein": 1}
    assert stats.by_state["international"] == {"Brandenburg": 1}  # states are German states only (issue 14.6)
    assert stats.by_country["international"] == {"DE": 1, "IT": 1}
    assert stats.by_country["buendnis"] == {"DE": 3}
    assert stats.by_year["buendnis"] == {"2019": 2, "unknown": 1}


def test_geocode_cache(store: Store) -> None:
    assert store.cache_get("nominatim", "harrislee") is None
    store.cache_put("nominatim", "harrislee", '{"lat": 54.8}')
    store.cache_put("nominatim", "harrislee", '{"lat": 54.9}')
    assert store.cache_get("nominatim", "harrislee") == '{"lat": 54.9}'
    assert store.cache_get("photon", "harrislee") is None


def test_info(members: Store) -> None:
    info = members.info()
    assert info["memberships"] == 6 and info["places"] == 0 and info["schema_version"] == SCHEMA_VERSION


def test_extent_is_the_live_records_bounds_and_join_dates(members: Store) -> None:
    records = list(members.memberships.iter_all())
    found = members.memberships.extent()
    assert found is not None
    lons = [r.point.lon for r in records]
    lats = [r.point.lat for r in records]
    assert (found.bbox.minx, found.bbox.miny, found.bbox.maxx, found.bbox.maxy) == (
        min(lons),
        min(lats),
        max(lons),
        max(lats),
    )
    dates = [r.joined for r in records if r.joined is not None]
    assert found.interval == (min(dates), max(dates))
    palermo = next(r for r in records if r.municipality.name == "Palermo")
    members.memberships.delete(palermo.id)  # the southernmost: deleted records leave the extent
    after = members.memberships.extent()
    assert after is not None and after.bbox.miny == min(r.point.lat for r in members.memberships.iter_all())


def test_no_extent_without_live_records(store: Store) -> None:
    assert store.memberships.extent() is None
    assert store.places.extent() is None
    kept = store.memberships.add(membership("Kiel", Alliance.BUENDNIS, 10.13, 54.32, joined=None))
    found = store.memberships.extent()
    assert found is not None and found.interval is None
    assert (found.bbox.minx, found.bbox.miny) == (kept.point.lon, kept.point.lat)
    store.memberships.delete(kept.id)
    assert store.memberships.extent() is None
