"""OSM `opening_hours` evaluated in the place's local time, with opening-hours-py (a maintained parser).

The parser derives a place's time zone and country (for `PH`, public holidays) from its coordinates
with data it ships, so nothing goes online. Unparseable hours give None, never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import opening_hours
from opening_hours import OpeningHours, State

__all__ = ["HoursState", "is_open", "known_state", "parse", "state_at", "valid"]

# Raised on a text that does not parse; the type stubs do not declare it.
ParserError: type[Exception] = getattr(opening_hours, "ParserError", ValueError)
UTC = ZoneInfo("UTC")  # the parser takes ZoneInfo-aware times only, not datetime.timezone
# A change more than a year away counts as none: bounds the parser's search for rare expressions.
HORIZON_DAYS = 366
# Parsed expressions by (text, lon, lat): ~16 µs to parse, ~2 µs to evaluate, and a page or a
# filtered search asks about the same places again and again. ~1.7 KB each: ~55 MB when full.
CACHE_SIZE = 32_768


@dataclass(frozen=True, slots=True)
class HoursState:
    """Open (True), closed (False) or unknown (None) at a time, and when that changes next."""

    open: bool | None
    next_change: datetime | None  # aware, in the place's local time zone; None: no change within a year


@lru_cache(maxsize=CACHE_SIZE)
def parse(text: str, lon: float, lat: float) -> OpeningHours | None:
    """The expression bound to the place's time zone and holidays; None when it does not parse."""
    try:
        return OpeningHours(text, coords=(lat, lon), max_interval_days=HORIZON_DAYS)
    except (ParserError, ValueError):
        return None


@lru_cache(maxsize=CACHE_SIZE)
def valid(text: str) -> bool:
    """True when the text is an opening_hours expression the parser understands."""
    return opening_hours.validate(text)


_QUOTED = re.compile(r'"[^"]*"')
_HELD = re.compile(r"\x00(\d+)\x00")
# Rule separators: normal ";", fallback "||", additional "," (before a letter or comment, not a time).
_RULES = re.compile(r";|\|\||,(?=\s*[A-Za-z\x00])")
_DEFINITE = re.compile(r"\d:\d\d|24/7|\b(?:open|closed|off|unknown)\b|sunrise|sunset|dawn|dusk")


@lru_cache(maxsize=CACHE_SIZE)
def vague_comments(text: str) -> frozenset[str]:
    """Comments of rules that name neither a time nor a state (`"on appointment"`, `Sa "call us"`).

    The parser reads such a rule as open; the specification leaves it unknown, and so does the
    service: a place is never counted open on a comment alone."""
    comments: list[str] = []

    def hold(m: re.Match[str]) -> str:
        comments.append(m.group(0)[1:-1])
        return f"\x00{len(comments) - 1}\x00"

    out: set[str] = set()
    for rule in _RULES.split(_QUOTED.sub(hold, text)):
        held = _HELD.findall(rule)
        if held and not _DEFINITE.search(_HELD.sub("", rule)):
            out.update(comments[int(i)] for i in held)
    return frozenset(out)


def known_state(oh: OpeningHours, text: str, when: datetime) -> bool | None:
    """Open (True), closed (False) or unknown (None) at `when` (a UTC ZoneInfo time)."""
    state, comment = oh.state(when)
    if state == State.UNKNOWN or (state == State.OPEN and comment and comment in vague_comments(text)):
        return None
    return state == State.OPEN


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("opening hours are evaluated at an aware datetime")
    return at.astimezone(UTC)


def state_at(text: str | None, lon: float, lat: float, at: datetime) -> HoursState | None:
    """The place's state at `at` (aware); None when it has no hours or they do not parse."""
    if not text:
        return None
    oh = parse(text, lon, lat)
    if oh is None:
        return None
    when = _utc(at)
    return HoursState(known_state(oh, text, when), oh.next_change(when))


def is_open(text: str | None, lon: float, lat: float, at: datetime) -> bool:
    """True only when the hours parse and say open at `at`; unknown, closed or no hours: False."""
    if not text:
        return False
    oh = parse(text, lon, lat)
    return oh is not None and known_state(oh, text, _utc(at)) is True
