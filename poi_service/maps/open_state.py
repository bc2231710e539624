"""Whether the places of a map payload are open now: the time-dependent part, kept out of the cached payload.

The payload (maps/data.py, cached per data_version) carries each place's raw opening_hours; this module
answers /maps/places/open.json with the state of those rows at the current minute, so the map can say
"open · closes 18:00" and filter on "open now". The expressions of a payload are parsed once (by its
ETag), the states once a minute.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson
from opening_hours import OpeningHours

from poi_service.hours import HORIZON_DAYS, ParserError, known_state
from poi_service.hours import UTC as UTC_ZONE
from poi_service.maps.cache import Prepared

KEEP = 4  # payloads (filters) whose parsed rows are kept


Row = tuple[int, str, OpeningHours]  # payload row, raw text, parsed


def _parsed(hours: Iterable[tuple[int, str, float, float]]) -> list[Row]:
    rows = []
    for i, text, lat, lon in hours:
        try:
            rows.append((i, text, OpeningHours(text, coords=(lat, lon), max_interval_days=HORIZON_DAYS)))
        except (ParserError, ValueError):  # shown raw on the map, never guessed
            continue
    return rows


def _hours(prepared: Prepared) -> tuple[int, list[Row]]:
    """The payload's row count and parsed rows with hours: from what was taken at build time when
    there, else from the body."""
    if prepared.hours is not None:
        n, hours = prepared.hours
        return n, _parsed(hours)
    payload: dict[str, Any] = orjson.loads(prepared.body)
    lon, lat = payload["lon"], payload["lat"]
    return int(payload["n"]), _parsed((i, text, lat[i], lon[i]) for i, text in payload.get("oh", ()))


Memo = dict[int, tuple[int | None, datetime | None, datetime]]  # row -> (flag, next change, evaluated at)


def states(rows: list[Row], at: datetime, memo: Memo | None = None) -> list[list[Any]]:
    """[row, 1 open | 0 closed | None unknown, next change 'HH:MM' local or None, its weekday 0-6 or -1].

    The weekday is -1 when the change falls on the same local day, or is a closing within 12 hours
    (a bar open until 02:00 "closes 02:00"). With a memo (kept between calls), a row is evaluated again
    only once its next change has passed: a state holds until then (without a known next change,
    every time)."""
    when = at.astimezone(UTC_ZONE)
    memo = {} if memo is None else memo
    out: list[list[Any]] = []
    for i, text, oh in rows:
        got = memo.get(i)
        if got is None or got[1] is None or got[1] <= when or got[2] > when:
            known = known_state(oh, text, when)
            got = memo[i] = (None if known is None else int(known), oh.next_change(when), when)
        flag, change, _ = got
        if change is None:
            out.append([i, flag, None, -1])
            continue
        local_now = when.astimezone(change.tzinfo)
        same_day = change.date() == local_now.date()
        soon_close = flag == 1 and (change - local_now).total_seconds() < 12 * 3600
        out.append([i, flag, change.strftime("%H:%M"), -1 if same_day or soon_close else change.weekday()])
    return out


class OpenStates:
    """Parsed rows per payload and the JSON body per (payload, minute)."""

    def __init__(self) -> None:
        self._rows: OrderedDict[str, tuple[int, list[Row], Memo]] = OrderedDict()
        self._bodies: dict[str, tuple[str, bytes]] = {}  # etag -> (minute, body)
        self._lock = threading.Lock()
        self._evaluating = threading.Lock()  # the memo of a payload is shared: one evaluation at a time

    def body(self, prepared: Prepared, at: datetime | None = None) -> bytes:
        """{"etag": the payload's ETag, "n": its rows, "at": the minute, "rows": states(...)} as JSON."""
        at = (at or datetime.now(UTC)).replace(second=0, microsecond=0)
        minute = at.isoformat()
        etag = prepared.etag
        with self._lock:
            cached = self._bodies.get(etag)
            parsed = self._rows.get(etag)
        if cached is not None and cached[0] == minute:
            return cached[1]
        if parsed is None:
            parsed = (*_hours(prepared), {})
        n, rows, memo = parsed
        with self._evaluating:
            body = orjson.dumps({"etag": etag, "n": n, "at": minute, "rows": states(rows, at, memo)})
        with self._lock:
            self._rows[etag] = parsed
            self._rows.move_to_end(etag)
            while len(self._rows) > KEEP:
                gone, _ = self._rows.popitem(last=False)
                self._bodies.pop(gone, None)
            self._bodies[etag] = (minute, body)
        return body
