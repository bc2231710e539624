"""Tuple rows of the embedded store -> records, positionally.

Decoding is most of what a small page costs, so: no dict per row, enums and repeated values
(geocodings and timestamps, which an import shares across all its rows) looked up in small
bounded memos, and the frozen dataclasses filled through their slot descriptors instead of the
generated __init__ (which goes through object.__setattr__ per field). Rows were validated when
written, so skipping Point's checks on the way out loses nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from poi_service.models import (
    Address,
    Alliance,
    DatePrecision,
    Geocoding,
    Membership,
    Municipality,
    Place,
    Point,
    Precision,
    Role,
)
from poi_service.store.records import names_of

T = TypeVar("T")
MEMO_SIZE = 4096  # distinct timestamps / geocodings kept; cleared when full (imports share a few)


def slot_builder(cls: type[T]) -> Callable[..., T]:
    """A constructor taking the dataclass's fields positionally, in declaration order.

    Generated as straight-line code (one slot store per field): 0.5 µs for a Place against 4 µs
    for a loop over (setter, value) pairs (bench/store_bench.py --profile, 2026-12-06)."""
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    scope: dict[str, Any] = {"new": object.__new__, "cls": cls}
    for i, name in enumerate(names):
        owner = next(c for c in cls.__mro__ if name in c.__dict__)
        scope[f"set{i}"] = owner.__dict__[name].__set__
    args = ", ".join(f"v{i}" for i in range(len(names)))
    body = "".join(f"    set{i}(obj, v{i})\n" for i in range(len(names)))
    exec(f"def build({args}):\n    obj = new(cls)\n{body}    return obj\n", scope)
    build: Callable[..., T] = scope["build"]
    return build


class Memo:
    """Bounded memo of a pure function of one hashable value."""

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self._fn = fn
        self._seen: dict[Any, Any] = {}

    def __call__(self, key: Any) -> Any:
        seen = self._seen
        value = seen.get(key)
        if value is None:
            if len(seen) >= MEMO_SIZE:
                seen.clear()
            value = seen[key] = self._fn(key)
        return value


_point = slot_builder(Point)
_address = slot_builder(Address)
_place = slot_builder(Place)
_municipality = slot_builder(Municipality)
_membership = slot_builder(Membership)
_geocoding = slot_builder(Geocoding)
_PRECISION = {p.value: p for p in Precision}
_ALLIANCE = {a.value: a for a in Alliance}
_ROLE = {r.value: r for r in Role}
_DATE_PRECISION = {p.value: p for p in DatePrecision}


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _geo(parts: tuple[str, str, float, str]) -> Geocoding:
    source, precision, confidence, at = parts
    return _geocoding(source, _PRECISION[precision], float(confidence), datetime.fromisoformat(at))


def row_decoder(table: str, columns: Sequence[str]) -> Callable[[tuple[Any, ...]], Any]:
    """The decoder of `table`'s rows selected as `columns` (fid, id, data columns, timestamps, state)."""
    at = {c: i for i, c in enumerate(columns)}
    times, geos = Memo(_time), Memo(_geo)
    g0, g1, g2, g3 = (
        at[c] for c in ("geocode_source", "geocode_precision", "geocode_confidence", "geocoded_at")
    )
    i_id, i_lon, i_lat, i_key = at["id"], at["lon"], at["lat"], at["external_key"]
    i_created, i_updated, i_version, i_deleted = (
        at[c] for c in ("created_at", "updated_at", "version", "deleted_at")
    )

    def common(v: tuple[Any, ...]) -> tuple[Any, ...]:
        deleted = v[i_deleted]
        return (
            _point(v[i_lon], v[i_lat]),
            geos((v[g0], v[g1], v[g2], v[g3])),
            v[i_key],
            v[i_id],
            times(v[i_created]),
            times(v[i_updated]),
            v[i_version],
            None if deleted is None else times(deleted),
        )

    if table == "places":
        name, cat, street, number, postcode, locality, ags, phone, web, desc, src = (
            at[c]
            for c in (
                "name",
                "category",
                "street",
                "housenumber",
                "postcode",
                "locality",
                "ags",
                "phone",
                "website",
                "description",
                "source",
            )
        )
        hours, wheelchair, names, osm_version, osm_timestamp = (
            at[c] for c in ("opening_hours", "wheelchair", "names", "osm_version", "osm_timestamp")
        )

        def place(v: tuple[Any, ...]) -> Place:
            point, geo, key, rid, created, updated, version, deleted = common(v)
            address = _address(v[street], v[number], v[postcode], v[locality], v[ags])
            return _place(
                v[name],
                v[cat],
                address,
                point,
                geo,
                v[phone],
                v[web],
                v[desc],
                v[src],
                key,
                v[hours],
                v[wheelchair],
                names_of(v[names]),
                v[osm_version],
                v[osm_timestamp],
                rid,
                created,
                updated,
                version,
                deleted,
            )

        return place

    m_cols = [at[c] for c in ("name", "kind", "country", "ags", "state", "district")]
    alliance, role, joined, joined_p, url = (
        at[c] for c in ("alliance", "role", "joined", "joined_precision", "source_url")
    )

    def membership(v: tuple[Any, ...]) -> Membership:
        point, geo, key, rid, created, updated, version, deleted = common(v)
        day, precision = v[joined], v[joined_p]
        return _membership(
            _municipality(*(v[i] for i in m_cols)),
            _ALLIANCE[v[alliance]],
            _ROLE[v[role]],
            point,
            geo,
            None if day is None else date.fromisoformat(day),
            None if precision is None else _DATE_PRECISION[precision],
            v[url],
            key,
            rid,
            created,
            updated,
            version,
            deleted,
        )

    return membership
