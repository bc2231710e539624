"""An independent evaluator of the simplest opening_hours form, to check the parser wiring against.

Handles rules `<days> <times>` (days: Mo-Fr, Sa,Su, Su-Th; times: HH:MM-HH:MM[,...], `off`), normal
rules (`;`: a later rule replaces earlier ones on the days it names) and additional rules (`, Sa ...`:
adds), and `24/7`. Times past midnight (22:00-02:00) spill into the next day. Anything else
(months, PH, comments, open ends) is not simple: simple() says None and the caller skips it.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]
_DAY = r"(?:Mo|Tu|We|Th|Fr|Sa|Su)"
_DAYSEL = rf"{_DAY}(?:-{_DAY})?(?:,{_DAY}(?:-{_DAY})?)*"
_TIME = r"\d\d:\d\d-\d\d:\d\d"
_RULE = re.compile(rf"({_DAYSEL}) ((?:{_TIME})(?:,{_TIME})*|off|closed)")
_SPLIT_ADDITIONAL = re.compile(rf",\s*(?={_DAY})")

Rule = tuple[set[int], list[tuple[int, int]], bool]  # weekdays, minute ranges, additional


def _days(sel: str) -> set[int]:
    out: set[int] = set()
    for part in sel.split(","):
        a, _, b = part.partition("-")
        i, j = DAYS.index(a), DAYS.index(b or a)
        while True:
            out.add(i)
            if i == j:
                break
            i = (i + 1) % 7
    return out


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def simple(text: str) -> list[Rule] | None:
    """The rules of a simple expression, or None when it uses anything else."""
    if text.strip() == "24/7":
        return [(set(range(7)), [(0, 24 * 60)], False)]
    rules: list[Rule] = []
    for normal in text.split(";"):
        for k, part in enumerate(_SPLIT_ADDITIONAL.split(normal.strip())):
            m = _RULE.fullmatch(part.strip())
            if m is None:
                return None
            ranges: list[tuple[int, int]] = []
            if m.group(2) not in ("off", "closed"):
                for r in m.group(2).split(","):
                    start, end = (_minutes(x) for x in r.split("-"))
                    if start >= 24 * 60 or end > 24 * 60:
                        return None
                    ranges.append((start, end if end > start else end + 24 * 60))
            rules.append((_days(m.group(1)), ranges, k > 0))
    return rules


def _day_ranges(rules: list[Rule]) -> dict[int, list[tuple[int, int]]]:
    """Each weekday's open minutes (0..1440 of that day), rules applied in order.

    As opening-hours-py 2.1 reads the specification: a day belongs to the last normal rule (with
    its additional rules) that names it, and keeps only that rule's times, including the previous
    night's times past midnight only when they come from the same rule; a day no rule names keeps
    whatever runs into it.
    """
    owner: dict[int, int] = {}
    segments: list[tuple[int, int, int, int]] = []  # day, start, end, rule group
    group = -1
    for days, ranges, additional in rules:
        group += 0 if additional else 1
        for d in days:
            owner[d] = group
            for start, end in ranges:
                segments.append((d, start, min(end, 24 * 60), group))
                if end > 24 * 60:
                    segments.append(((d + 1) % 7, 0, end - 24 * 60, group))
    per_day: dict[int, list[tuple[int, int]]] = {d: [] for d in range(7)}
    for d, start, end, g in segments:
        if owner.get(d, g) == g:
            per_day[d].append((start, end))
    return per_day


def open_intervals(text: str, tz: ZoneInfo, around: date) -> list[tuple[datetime, datetime]]:
    """Merged open intervals (aware) from two days before to eight days after `around`."""
    rules = simple(text)
    assert rules is not None
    per_day = _day_ranges(rules)
    spans: list[tuple[datetime, datetime]] = []
    for offset in range(-2, 9):
        day = around + timedelta(days=offset)
        midnight = datetime.combine(day, time())
        for start, end in per_day[day.weekday()]:
            a = (midnight + timedelta(minutes=start)).replace(tzinfo=tz)
            b = (midnight + timedelta(minutes=end)).replace(tzinfo=tz)
            spans.append((a, b))
    spans.sort()
    merged: list[tuple[datetime, datetime]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def reference(text: str, tz: ZoneInfo, at: datetime) -> tuple[bool, datetime | None]:
    """(open, next change) of a simple expression at `at`; None when no change within the week."""
    spans = open_intervals(text, tz, at.astimezone(tz).date())
    for a, b in spans:
        if a <= at < b:
            return True, b
        if at < a:
            return False, a
    return False, None
