"""Whether the places of a map payload are open now: the time-dependent part, kept out of the cached payload.

The payload (maps/data.py, cached per data_version) carries each place's raw opening_hours; this module
answers /maps/places/open.json with the state of those rows at the current minute, so the map can say
"open · closes 18:00" and filter on "open now". The expressions of a payload are parsed once (by its
ETag), the states once a minute.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

import orjson
from opening_hours import OpeningHours, State

from poi_service.hours import HORIZON_DAYS, ParserError
from poi_service.hours import UTC as UTC_ZONE
from poi_service.maps.cache import Prepared

KEEP = 4  # payloads (filters) whose parsed rows are kept


def _parsed(payload: dict[str, Any]) -> list[tuple[int, OpeningHours]]:
    rows = []
    lon, lat = payload["lon"], payload["lat"]
    for i, text in payload.get("oh", ()):
        try:
            rows.append((i, OpeningHours(text, coords=(lat[i], lon[i]), max_interval_days=HORIZON_DAYS)))
        except (ParserError, ValueError):  # shown raw on the map, never guessed
            continue
    return rows


def states(rows: list[tuple[int, OpeningHours]], at: datetime) -> list[list[Any]]:
    """[row, 1 open | 0 closed | None unknown, next change 'HH:MM' local or None, its weekday 0-6 or -1].

    The weekday is -1 when the change falls on the same local day, or is a closing within 12 hours
    (a bar open until 02:00 "closes 02:00")."""
    when = at.astimezone(UTC_ZONE)
    out: list[list[Any]] = []
    for i, oh in rows:
        state, _ = oh.state(when)
        change = oh.next_change(when)
        flag = None if state == State.UNKNOWN else int(state == State.OPEN)
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
        self._rows: OrderedDict[str, tuple[int, list[tuple[int, OpeningHours]]]] = OrderedDict()
        self._bodies: dict[str, tuple[str, bytes]] = {}  # etag -> (minute, body)
        self._lock = threading.Lock()

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
            payload = orjson.loads(prepared.body)
            parsed = (int(payload["n"]), _parsed(payload))
        n, rows = parsed
        body = orjson.dumps({"etag": etag, "n": n, "at": minute, "rows": states(rows, at)})
        with self._lock:
            self._rows[etag] = parsed
            self._rows.move_to_end(etag)
            while len(self._rows) > KEEP:
                gone, _ = self._rows.popitem(last=False)
                self._bodies.pop(gone, None)
            self._bodies[etag] = (minute, body)
        return body
