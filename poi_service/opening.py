"""Opening hours and accessibility of place searches (REST and OGC): the open_at, open_now and wheelchair
parameters, and the open / next_change properties of their features."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from poi_service.errors import invalid
from poi_service.hours import state_at
from poi_service.models import WHEELCHAIR, Place

__all__ = ["WHEELCHAIR", "hours_properties", "open_at", "rfc3339", "wheelchair"]

YEARS = (1900, 2999)  # time zone rules are extrapolated beyond 2037 anyway
RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(?:\.\d+)?(?:[Zz]|[+-]\d\d:\d\d)")
# An unencoded "+" of an offset arrives as a space ("...T14:00:00 01:00"): read it as the "+" it was.
_PLUS_AS_SPACE = re.compile(r"(?<=\d) (?=\d\d:\d\d$)")


def wheelchair(values: list[str] | None) -> tuple[str, ...]:
    """Wheelchair values (repeated or comma-separated), each yes, limited or no."""
    found = [v.strip().lower() for value in values or [] for v in value.split(",") if v.strip()]
    for v in found:
        if v not in WHEELCHAIR:
            raise invalid("wheelchair", f"{v!r} is not one of {', '.join(WHEELCHAIR)}")
    return tuple(dict.fromkeys(found))


def rfc3339(text: str, name: str = "open_at") -> datetime:
    """An RFC 3339 date-time with its offset ('2026-12-06T14:00:00+01:00', '...Z'), aware."""
    text = _PLUS_AS_SPACE.sub("+", text.strip())
    if not RFC3339.fullmatch(text):
        raise invalid(
            name, "must be an RFC 3339 date-time with a time zone offset, e.g. 2026-12-06T14:00:00+01:00"
        )
    try:
        at = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
        at.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise invalid(name, f"not a valid date-time: {exc}") from None
    if not YEARS[0] <= at.year <= YEARS[1]:
        raise invalid(name, f"must be in the years {YEARS[0]} to {YEARS[1]}")
    return at


def open_at(at: str | None, now: str | None) -> datetime | None:
    """The time places must be open at: open_at, or the current time for open_now=true."""
    flag = None if now is None else now.strip().lower()
    if flag not in (None, "true", "false"):
        raise invalid("open_now", "must be true or false")
    if at is not None and flag == "true":
        raise invalid("open_now", "give open_at or open_now=true, not both")
    if at is not None:
        return rfc3339(at)
    return datetime.now(UTC) if flag == "true" else None


def hours_properties(place: Place, at: datetime) -> dict[str, Any]:
    """{"open": true|false|null, "next_change": RFC 3339 in the place's local offset, or null}."""
    state = state_at(place.opening_hours, place.point.lon, place.point.lat, at)
    if state is None:
        return {"open": None, "next_change": None}
    change = state.next_change.isoformat() if state.next_change is not None else None
    return {"open": state.open, "next_change": change}
