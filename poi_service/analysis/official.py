"""Official alliance sizes over time, as published by the alliances (see data/alliance/NOTES.md).

The shipped membership list is partial; these are the numbers to compare it with. Pure data, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from poi_service.models import Alliance, DatePrecision

SOURCE_NOTE = (
    "Official counts: data/alliance/NOTES.md (Bündnis 'Städte Sicherer Häfen' press releases and "
    "staedte-sicherer-haefen.de; IASH: iash-eu.org; Seebrücke declarations: seebruecke.org, 2022)"
)


@dataclass(frozen=True, slots=True)
class OfficialCount:
    """An alliance's size on a date; `when` is None for 'later' (current, undated) figures."""

    when: date | None
    precision: DatePrecision | None
    count: int
    approximate: bool
    note: str


_D, _M = DatePrecision.DAY, DatePrecision.MONTH

# Bündnis "Städte Sicherer Häfen" members over time, from NOTES.md ("Official Bündnis counts over time").
BUENDNIS_TIMELINE: tuple[OfficialCount, ...] = (
    OfficialCount(date(2019, 6, 3), _D, 8, False, "first signatories of the Potsdamer Erklärung"),
    OfficialCount(date(2019, 6, 14), _D, 13, False, "founded: 12 founders + Heidelberg"),
    OfficialCount(date(2019, 7, 19), _D, 14, False, ""),
    OfficialCount(date(2019, 8, 1), _M, 19, False, "August 2019"),
    OfficialCount(date(2020, 2, 1), _M, 32, False, "February 2020: Dinslaken welcomed as 32nd"),
    OfficialCount(date(2020, 6, 14), _D, 57, False, "first anniversary"),
    OfficialCount(date(2020, 12, 1), _M, 80, True, "December 2020: 'knapp 80' (dpa quoting Potsdam)"),
    OfficialCount(date(2021, 6, 14), _D, 100, False, "second anniversary"),
    OfficialCount(date(2021, 8, 1), _M, 105, False, "August 2021 (bergischgladbach.de, stadt-koeln.de)"),
    OfficialCount(date(2022, 2, 18), _D, 117, False, "meeting of the state coordinators"),
    OfficialCount(
        date(2023, 5, 10),
        _D,
        121,
        False,
        "position paper for the refugee summit of 10 May 2023 "
        "('mit aktuell 121 Mitgliedern'; the count as of that day at the latest)",
    ),
    OfficialCount(None, None, 120, False, "later figure on staedte-sicherer-haefen.de (undated)"),
)
# No dated official count after this day was found: plots show the time after it as unknown, never the
# last count carried forward.
LAST_OFFICIAL_COUNT = date(2023, 5, 10)

# The latest size of each alliance (seebruecke_declared: 'about 319-321' in 2022).
OFFICIAL_TOTALS: dict[Alliance, OfficialCount] = {
    Alliance.BUENDNIS: BUENDNIS_TIMELINE[-1],
    Alliance.INTERNATIONAL: OfficialCount(None, None, 36, False, "36 members on iash-eu.org (33 founders)"),
    Alliance.SEEBRUECKE_DECLARED: OfficialCount(
        date(2022, 1, 1), DatePrecision.YEAR, 320, True, "about 319-321 declarations (2022)"
    ),
}
FOUNDED: dict[Alliance, date] = {
    Alliance.BUENDNIS: date(2019, 6, 14),
    Alliance.INTERNATIONAL: date(2021, 6, 25),
}


def dated_timeline(timeline: tuple[OfficialCount, ...] = BUENDNIS_TIMELINE) -> list[OfficialCount]:
    """The entries that carry a date, oldest first."""
    return sorted((c for c in timeline if c.when is not None), key=lambda c: c.when or date.min)
