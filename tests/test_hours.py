"""Opening hours (poi_service.hours) on the real tags of the Helsinki extract, holidays and DST edges.

tests/data/osm/helsinki_centre.osm.pbf: © OpenStreetMap contributors, ODbL 1.0 (see its SOURCES.md).
The simple expressions among its tags are checked against tests/hours_reference.py, an evaluator
written independently of the parser; the rest against facts (fixed-date public holidays).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from poi_service import hours
from tests.hours_reference import reference, simple

osmium = pytest.importorskip("osmium")

PBF = Path(__file__).parent / "data" / "osm" / "helsinki_centre.osm.pbf"
HELSINKI = ZoneInfo("Europe/Helsinki")
BERLIN = ZoneInfo("Europe/Berlin")
UTC = ZoneInfo("UTC")
HARRISLEE = (9.387, 54.799)  # lon, lat
HELSINKI_CENTRE = (24.9445, 60.1699)


def helsinki_tags() -> list[tuple[str, float, float]]:
    """(opening_hours, lon, lat) of every node that has the tag."""
    out = []
    for obj in osmium.FileProcessor(str(PBF), osmium.osm.NODE):
        if "opening_hours" in obj.tags:
            out.append((obj.tags["opening_hours"], obj.location.lon, obj.location.lat))
    return out


@pytest.fixture(scope="module")
def tags() -> list[tuple[str, float, float]]:
    return helsinki_tags()


def query_times(n: int, seed: int) -> list[datetime]:
    """UTC instants through a winter and a summer fortnight of 2026, away from DST switch days."""
    rng = random.Random(seed)
    starts = [datetime(2026, 1, 12, tzinfo=UTC), datetime(2026, 7, 6, tzinfo=UTC)]
    return [rng.choice(starts) + timedelta(minutes=rng.randrange(14 * 24 * 60)) for _ in range(n)]


def test_the_extract_has_hundreds_of_hours(tags: list[tuple[str, float, float]]) -> None:
    assert len(tags) >= 500
    assert sum(1 for t, _, _ in tags if simple(t) is not None) >= 250


def test_simple_hours_agree_with_an_independent_reference(tags: list[tuple[str, float, float]]) -> None:
    """Every simple expression of the extract at 12 UTC times each: open and next change in Helsinki time."""
    checked = 0
    mismatches = []
    for i, (text, lon, lat) in enumerate(tags):
        if simple(text) is None:
            continue
        for at in query_times(12, seed=i):
            got = hours.state_at(text, lon, lat, at)
            assert got is not None, text
            want_open, want_next = reference(text, HELSINKI, at)
            ok = got.open == want_open
            if text != "24/7" and want_next is not None and want_next - at < timedelta(days=6):
                ok = ok and got.next_change == want_next
                ok = (
                    ok
                    and got.next_change is not None
                    and got.next_change.utcoffset() == want_next.utcoffset()
                )
            if not ok:
                mismatches.append((text, at.isoformat(), got, want_open, want_next))
            checked += 1
    assert not mismatches, mismatches[:5]
    assert checked >= 3000


def test_results_are_in_helsinki_time_for_a_utc_query() -> None:
    lon, lat = HELSINKI_CENTRE
    # 06:30 UTC is 08:30 in Helsinki in winter (UTC+2): closed until 09:00 local = 07:00 UTC.
    got = hours.state_at("Mo-Fr 09:00-17:00", lon, lat, datetime(2026, 1, 14, 6, 30, tzinfo=UTC))
    assert got == hours.HoursState(False, datetime(2026, 1, 14, 9, 0, tzinfo=HELSINKI))
    assert got.next_change is not None and got.next_change.utcoffset() == timedelta(hours=2)
    # A fixed-offset query time (as RFC 3339 parsing gives) is the same instant.
    same = datetime.fromisoformat("2026-01-14T07:30:00+01:00")
    assert hours.state_at("Mo-Fr 09:00-17:00", lon, lat, same) == got


def test_across_midnight() -> None:
    lon, lat = HELSINKI_CENTRE
    text = "Mo-Su 09:00-02:00"
    # Sunday 2026-01-18, 01:30 Helsinki: still open from Saturday, closes 02:00.
    at = datetime(2026, 1, 18, 1, 30, tzinfo=HELSINKI)
    assert hours.state_at(text, lon, lat, at) == hours.HoursState(
        True, datetime(2026, 1, 18, 2, 0, tzinfo=HELSINKI)
    )
    at = datetime(2026, 1, 18, 2, 30, tzinfo=HELSINKI)
    assert hours.state_at(text, lon, lat, at) == hours.HoursState(
        False, datetime(2026, 1, 18, 9, 0, tzinfo=HELSINKI)
    )
    assert hours.is_open(text, lon, lat, datetime(2026, 1, 18, 23, 59, tzinfo=HELSINKI))


@pytest.mark.parametrize(
    ("where", "tz", "holiday", "workday"),
    [
        # Finland: Independence Day, 6 December (a Monday in 2027); Germany: Day of German Unity, 3 October.
        (HELSINKI_CENTRE, HELSINKI, datetime(2027, 12, 6, 12, 0), datetime(2027, 12, 13, 12, 0)),
        (HARRISLEE, BERLIN, datetime(2028, 10, 3, 12, 0), datetime(2028, 10, 10, 12, 0)),
    ],
)
def test_public_holidays_follow_the_country_of_the_coordinates(
    where: tuple[float, float], tz: ZoneInfo, holiday: datetime, workday: datetime
) -> None:
    lon, lat = where
    text = "Mo-Fr 09:00-18:00; PH off"
    assert not hours.is_open(text, lon, lat, holiday.replace(tzinfo=tz))
    assert hours.is_open(text, lon, lat, workday.replace(tzinfo=tz))
    assert hours.is_open("Mo-Fr 09:00-18:00", lon, lat, holiday.replace(tzinfo=tz))
    # The other country's holiday is a working day here.
    other = (
        datetime(2027, 10, 4, 12, 0, tzinfo=tz) if tz is HELSINKI else datetime(2027, 12, 6, 12, 0, tzinfo=tz)
    )
    assert hours.is_open(text, lon, lat, other)


@pytest.mark.parametrize(
    ("where", "tz", "spring", "autumn"),
    [
        # 2026: Europe switches at 01:00 UTC on 29 March and 25 October.
        (HELSINKI_CENTRE, HELSINKI, (2026, 3, 29), (2026, 10, 25)),
        (HARRISLEE, BERLIN, (2026, 3, 29), (2026, 10, 25)),
    ],
)
def test_dst_switch_days(
    where: tuple[float, float], tz: ZoneInfo, spring: tuple[int, int, int], autumn: tuple[int, int, int]
) -> None:
    lon, lat = where
    day_hours = "Mo-Su 09:00-18:00"
    winter_offset = timedelta(hours=2 if tz is HELSINKI else 1)
    # The same UTC instant is 08:30 local the day before the spring switch and 09:30 on the day.
    utc_time = datetime(*spring, 9, 30, tzinfo=UTC) - winter_offset - timedelta(hours=1)
    assert hours.is_open(day_hours, lon, lat, utc_time)
    assert not hours.is_open(day_hours, lon, lat, utc_time - timedelta(days=1))
    # A night venue across the autumn switch closes at 04:00 local after the clocks went back.
    night = "Mo-Su 21:00-04:00"
    evening = datetime(*autumn, tzinfo=tz) - timedelta(hours=2)  # 22:00 local the day before
    got = hours.state_at(night, lon, lat, evening)
    assert got is not None and got.open is True
    assert got.next_change == datetime(*autumn, 4, 0, tzinfo=tz)
    assert got.next_change is not None and got.next_change.utcoffset() == winter_offset
    assert got.next_change.astimezone(UTC) - evening.astimezone(UTC) == timedelta(
        hours=7
    )  # 6 hours on the clock, one repeated


def test_unparseable_and_missing_hours_are_unknown_never_guessed(
    tags: list[tuple[str, float, float]],
) -> None:
    lon, lat = HELSINKI_CENTRE
    at = datetime(2026, 1, 14, 12, 0, tzinfo=UTC)
    bad = [t for t, _, _ in tags if not hours.valid(t)]
    assert "Seasonal, only summer time" in bad
    assert 5 <= len(bad) < len(tags) // 10
    for text in [*bad, "", None]:
        assert hours.state_at(text, lon, lat, at) is None
        assert not hours.is_open(text, lon, lat, at)


def test_unknown_state_is_not_open() -> None:
    lon, lat = HELSINKI_CENTRE
    at = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)  # 12:00 in Helsinki
    got = hours.state_at('Mo-Fr 10:00-14:00 unknown "by appointment"', lon, lat, at)
    assert got is not None and got.open is None
    assert not hours.is_open('Mo-Fr 10:00-14:00 unknown "by appointment"', lon, lat, at)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        hours.state_at("24/7", *HELSINKI_CENTRE, datetime(2026, 1, 14, 12, 0))


def test_only_nationwide_holidays_count_as_ph() -> None:
    """Documented limit (README): 31 October is a holiday in Schleswig-Holstein only, not nationwide."""
    lon, lat = HARRISLEE
    text = "Mo-Fr 09:00-18:00; PH off"
    assert hours.is_open(text, lon, lat, datetime(2028, 10, 31, 12, 0, tzinfo=BERLIN))
    assert not hours.is_open(text, lon, lat, datetime(2028, 10, 3, 12, 0, tzinfo=BERLIN))


@pytest.mark.parametrize(
    ("text", "local", "want"),
    [
        ('"on appointment"', (2026, 3, 28, 12, 0), None),
        ('Mo-Fr 08:00-19:00 || "on appointment"', (2026, 3, 28, 12, 0), None),  # a Saturday
        ('Mo-Fr 08:00-19:00 || "on appointment"', (2026, 3, 30, 12, 0), True),
        ('Mo-Fr 08:00-19:00; Sa "call us; we open"', (2026, 3, 28, 12, 0), None),
        ('Mo-Fr 08:00-19:00 "walk in"', (2026, 3, 30, 12, 0), True),
        ('24/7 "members only"', (2026, 3, 28, 12, 0), True),
        ('Mo-Fr 08:00-19:00 || closed "holidays"', (2026, 3, 28, 12, 0), False),
    ],
)
def test_a_comment_alone_is_never_open(
    text: str, local: tuple[int, int, int, int, int], want: bool | None
) -> None:
    """The parser reads a rule of only a comment as open; the service says unknown (never guessed)."""
    lon, lat = HELSINKI_CENTRE
    got = hours.state_at(text, lon, lat, datetime(*local, tzinfo=HELSINKI))
    assert got is not None and got.open is want
    assert hours.is_open(text, lon, lat, datetime(*local, tzinfo=HELSINKI)) is (want is True)
