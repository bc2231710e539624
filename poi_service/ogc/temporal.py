"""RFC 3339 instants and intervals of the `datetime` parameter and CQL2 temporal literals."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from poi_service.errors import invalid

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# RFC 3339 date-time: a time offset (Z or ±hh:mm) is required; fractions of a second are allowed.
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
# What GDAL's OAPIF driver (and so QGIS) sends for `-where "joined_date >= '2021-01-01'"`: a date with a
# dangling T ('2021-01-01T'), read as that date.
_GDAL_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt]$")
OPEN = ("", "..")


@dataclass(frozen=True, slots=True)
class Interval:
    """A closed time interval in UTC; None is an open end."""

    start: datetime | None
    end: datetime | None

    def days(self) -> tuple[date | None, date | None]:
        """The first and last UTC day the interval touches (for whole-day values such as a join date).

        A day [d, d+1) intersects [start, end] exactly when start.date() <= d <= end.date().
        """
        return (
            self.start.astimezone(UTC).date() if self.start else None,
            self.end.astimezone(UTC).date() if self.end else None,
        )


def parse_date(text: str, name: str) -> date:
    """A full date, YYYY-MM-DD."""
    if not _DATE.match(text):
        raise invalid(name, f"{text!r} is not a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise invalid(name, f"{text!r} is not a valid date: {exc}") from None


def parse_timestamp(text: str, name: str) -> datetime:
    """An RFC 3339 date-time with a time offset, as an aware datetime."""
    if not _DATE_TIME.match(text):
        raise invalid(name, f"{text!r} is not an RFC 3339 date-time (e.g. 2019-06-14T00:00:00Z)")
    try:
        return datetime.fromisoformat(text.replace("z", "Z").replace("t", "T"))
    except ValueError as exc:
        raise invalid(name, f"{text!r} is not a valid date-time: {exc}") from None


def _bound(text: str, end: bool) -> datetime:
    """A date-time, or a date standing for its whole UTC day (start or end of it)."""
    gdal = _GDAL_DATE.match(text)
    if gdal:
        text = gdal.group(1)
    if _DATE.match(text):
        day = parse_date(text, "datetime")
        moment = datetime.combine(day, time(0, 0), tzinfo=UTC)
        return moment + timedelta(days=1, microseconds=-1) if end else moment
    return parse_timestamp(text, "datetime")


def parse_datetime(text: str) -> Interval:
    """'2019-06-14T00:00:00Z', '2019-01-01T00:00:00Z/2019-12-31T23:59:59Z', '../2020-01-01T00:00:00Z', ...

    Dates (2019-06-14) are accepted as well and stand for their whole UTC day. Both ends open is refused.
    """
    text = text.strip()
    if "/" not in text:
        if text in OPEN:
            raise invalid("datetime", "must be an instant or an interval start/end")
        return Interval(_bound(text, end=False), _bound(text, end=True))
    parts = text.split("/")
    if len(parts) != 2:
        raise invalid("datetime", "an interval has exactly one '/'")
    first, second = (p.strip() for p in parts)
    if first in OPEN and second in OPEN:
        raise invalid("datetime", "an interval needs at least one bounded end ('..' marks an open one)")
    start = None if first in OPEN else _bound(first, end=False)
    stop = None if second in OPEN else _bound(second, end=True)
    if start and stop and start > stop:
        raise invalid("datetime", "the interval starts after it ends")
    return Interval(start, stop)


def iso_utc(moment: datetime) -> str:
    """An RFC 3339 UTC timestamp with a Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
