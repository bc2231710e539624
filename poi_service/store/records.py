"""Record <-> row mapping and attribute-filter SQL shared by the SQL backends.

Columns are plain scalars, so the same mapping serves SQLite and PostgreSQL. Filter SQL uses
`?` placeholders and only fixed column names; values always travel as parameters.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

import orjson

from poi_service.models import (
    Address,
    Alliance,
    BBox,
    DatePrecision,
    Geocoding,
    Membership,
    MembershipData,
    Municipality,
    Place,
    PlaceData,
    Point,
    Precision,
    Role,
    iso_time,
)
from poi_service.store.base import Extent, MembershipFilter, PlaceFilter

R = TypeVar("R", Place, Membership)
D = TypeVar("D", PlaceData, MembershipData)
F = TypeVar("F", PlaceFilter, MembershipFilter)

HAS_HOURS = "opening_hours IS NOT NULL"  # the SQL part of PlaceFilter.open_at (the parser decides the rest)
_ID_NAMESPACE = uuid.UUID("6f1c3d2e-8a57-4a8e-9d3b-5c1e2f7a9b10")


class Row(Protocol):
    """A database row readable by column name (sqlite3.Row, psycopg dict rows)."""

    def __getitem__(self, key: str, /) -> Any: ...


GEOCODE_COLUMNS = ("geocode_source", "geocode_precision", "geocode_confidence", "geocoded_at")
# Schema 3: what OpenStreetMap records carry (editors and other imports may set hours, access, names).
OSM_COLUMNS = ("opening_hours", "wheelchair", "names", "osm_version", "osm_timestamp")


def new_id(external_key: str | None) -> str:
    """A stable id: derived from the external key when there is one, so re-imports keep ids."""
    if external_key:
        # uuid.uuid5's bytes (SHA-1 of namespace and name; version 5, RFC 4122 variant) without the
        # UUID object: bulk imports make millions.
        b = bytearray(
            hashlib.sha1(_ID_NAMESPACE.bytes + external_key.encode(), usedforsecurity=False).digest()[:16]
        )
        b[6] = b[6] & 0x0F | 0x50
    else:  # uuid4's layout (version 4, RFC 4122 variant)
        b = bytearray(os.urandom(16))
        b[6] = b[6] & 0x0F | 0x40
    b[8] = b[8] & 0x3F | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def names_json(names: Iterable[tuple[str, str]]) -> str | None:
    """Localized names as the JSON text of the `names` column ({"de": ..., "en": ...}); None for none."""
    pairs = sorted(names)
    return orjson.dumps(dict(pairs)).decode() if pairs else None


def names_of(value: str | None) -> tuple[tuple[str, str], ...]:
    """The `names` column back to (language, name) pairs, sorted by language."""
    if not value:
        return ()
    return tuple(sorted(orjson.loads(value).items()))


def _geocoding_row(g: Geocoding) -> dict[str, Any]:
    return {
        "geocode_source": g.source,
        "geocode_precision": g.precision.value,
        "geocode_confidence": g.confidence,
        "geocoded_at": iso_time(g.at),
    }


def _geocoding(row: Row) -> Geocoding:
    return Geocoding(
        row["geocode_source"],
        Precision(row["geocode_precision"]),
        float(row["geocode_confidence"]),
        _dt(row["geocoded_at"]),
    )


def _dt(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def ags_range(prefix: str) -> tuple[str, str]:
    """[low, high) bounds of every AGS that starts with prefix (uses the ags index; both backends compare
    bytes)."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def utcnow() -> datetime:
    """Every backend stamps its writes in UTC."""
    return datetime.now(UTC)


def extent_sql(spec: RecordSpec[Any, Any, Any], live: str) -> str:
    """One row: min lon, min lat, max lon, max lat and the interval column's min and max (NULLs when the
    spec has none) over the live rows; the table and column names are the spec's fixed constants."""
    column = spec.interval_column or "NULL"
    return (
        f"SELECT min(lon) AS minx, min(lat) AS miny, max(lon) AS maxx, max(lat) AS maxy, "  # noqa: S608
        f"min({column}) AS first, max({column}) AS last "
        f"FROM {spec.table} WHERE {live}"
    )


def extent_of(row: Sequence[Any] | None) -> Extent | None:
    """The Extent of an extent_sql row (dates as date objects or ISO text)."""
    if row is None or row[0] is None:
        return None
    first, last = (v if v is None or isinstance(v, date) else date.fromisoformat(v) for v in row[4:6])
    interval = (first, last) if first is not None and last is not None else None
    return Extent(BBox(row[0], row[1], row[2], row[3]), interval)


def _state(row: Row) -> dict[str, Any]:
    """version and deleted_at of a row (1 and None for a row read without those columns)."""
    try:
        version, deleted = row["version"], row["deleted_at"]
    except (KeyError, IndexError):
        return {"version": 1, "deleted_at": None}
    return {"version": int(version), "deleted_at": None if deleted is None else _dt(deleted)}


@dataclass(frozen=True)
class RecordSpec(Generic[R, D, F]):
    """What a backend needs to know about one record kind."""

    table: str
    description: str
    columns: tuple[str, ...]  # data columns besides fid, geom, id, lon, lat, timestamps
    interval_column: str | None = None  # a date column whose range is the temporal extent

    @property
    def noun(self) -> str:
        """The record kind in messages: 'place', 'membership'."""
        return self.table.removesuffix("s")

    def to_row(self, data: D) -> dict[str, Any]:
        """Column values for the data part of a record (lon/lat included)."""
        raise NotImplementedError

    def from_row(self, row: Row) -> R:
        """The record held by a row."""
        raise NotImplementedError

    def where(self, flt: F) -> tuple[list[str], list[Any]]:
        """SQL conditions for the attribute filters except text and category, with parameters."""
        raise NotImplementedError

    def categories(self, flt: F) -> tuple[str, ...]:
        """Category slugs the point index can filter on."""
        return ()

    def open_at(self, flt: F) -> datetime | None:
        """The time the records must be open at (places' opening hours), which SQL cannot decide."""
        return None

    def text(self, flt: F) -> str | None:
        """Words that must occur in the record's text."""
        return flt.text

    def text_categories(self, flt: F) -> tuple[str, ...]:
        """Categories whose records match the text without it occurring in them."""
        return ()

    def document(self, data: D) -> str:
        """The text a text search looks in."""
        raise NotImplementedError


class PlaceSpec(RecordSpec[Place, PlaceData, PlaceFilter]):
    """Places table layout."""

    def to_row(self, data: PlaceData) -> dict[str, Any]:
        a = data.address
        return {
            "name": data.name,
            "category": data.category,
            "street": a.street,
            "housenumber": a.housenumber,
            "postcode": a.postcode,
            "locality": a.locality,
            "ags": a.ags,
            "phone": data.phone,
            "website": data.website,
            "description": data.description,
            "source": data.source,
            "external_key": data.external_key,
            "lon": data.point.lon,
            "lat": data.point.lat,
            **_geocoding_row(data.geocoding),
            "opening_hours": data.opening_hours,
            "wheelchair": data.wheelchair,
            "names": names_json(data.names),
            "osm_version": data.osm_version,
            "osm_timestamp": data.osm_timestamp,
        }

    def from_row(self, row: Row) -> Place:
        return Place(
            id=row["id"],
            name=row["name"],
            category=row["category"],
            address=Address(row["street"], row["housenumber"], row["postcode"], row["locality"], row["ags"]),
            point=Point(row["lon"], row["lat"]),
            geocoding=_geocoding(row),
            phone=row["phone"],
            website=row["website"],
            description=row["description"],
            source=row["source"],
            external_key=row["external_key"],
            opening_hours=row["opening_hours"],
            wheelchair=row["wheelchair"],
            names=names_of(row["names"]),
            osm_version=row["osm_version"],
            osm_timestamp=row["osm_timestamp"],
            created_at=_dt(row["created_at"]),
            updated_at=_dt(row["updated_at"]),
            **_state(row),
        )

    def where(self, flt: PlaceFilter) -> tuple[list[str], list[Any]]:
        # Categories are handled by the backends (the point index answers them); open_at narrows
        # here to places with hours, and the backends keep those open then (store/hours_filter.py).
        conds: list[str] = []
        params: list[Any] = []
        if flt.wheelchair:
            conds.append(f"wheelchair IN ({', '.join('?' for _ in flt.wheelchair)})")
            params.extend(flt.wheelchair)
        if flt.open_at is not None:
            conds.append(HAS_HOURS)
        return conds, params

    def open_at(self, flt: PlaceFilter) -> datetime | None:
        return flt.open_at

    def categories(self, flt: PlaceFilter) -> tuple[str, ...]:
        return flt.categories

    def text_categories(self, flt: PlaceFilter) -> tuple[str, ...]:
        return flt.text_categories

    def document(self, data: PlaceData) -> str:
        parts = (data.name, data.address.one_line(), data.description or "")
        return " ".join(p for p in parts if p)


class MembershipSpec(RecordSpec[Membership, MembershipData, MembershipFilter]):
    """Memberships table layout."""

    def to_row(self, data: MembershipData) -> dict[str, Any]:
        m = data.municipality
        return {
            "name": m.name,
            "kind": m.kind,
            "country": m.country,
            "ags": m.ags,
            "state": m.state,
            "district": m.district,
            "alliance": data.alliance.value,
            "role": data.role.value,
            "joined": data.joined.isoformat() if data.joined else None,
            "joined_precision": data.joined_precision.value if data.joined_precision else None,
            "source_url": data.source_url,
            "external_key": data.external_key,
            "lon": data.point.lon,
            "lat": data.point.lat,
            **_geocoding_row(data.geocoding),
        }

    def from_row(self, row: Row) -> Membership:
        joined = row["joined"]
        return Membership(
            id=row["id"],
            municipality=Municipality(
                row["name"], row["kind"], row["country"], row["ags"], row["state"], row["district"]
            ),
            alliance=Alliance(row["alliance"]),
            role=Role(row["role"]),
            point=Point(row["lon"], row["lat"]),
            geocoding=_geocoding(row),
            joined=joined if isinstance(joined, date) or joined is None else date.fromisoformat(joined),
            joined_precision=DatePrecision(row["joined_precision"]) if row["joined_precision"] else None,
            source_url=row["source_url"],
            external_key=row["external_key"],
            created_at=_dt(row["created_at"]),
            updated_at=_dt(row["updated_at"]),
            **_state(row),
        )

    def where(self, flt: MembershipFilter) -> tuple[list[str], list[Any]]:
        conds: list[str] = []
        params: list[Any] = []
        for column, value in (
            ("alliance", flt.alliance.value if flt.alliance else None),
            ("role", flt.role.value if flt.role else None),
            ("state", flt.state),
            ("country", flt.country),
        ):
            if value is not None:
                conds.append(f"{column} = ?")
                params.append(value)
        if flt.joined_after is not None:
            conds.append("joined >= ?")
            params.append(flt.joined_after.isoformat())
        if flt.joined_before is not None:
            # A partial date stands for its whole period ('2019' = all of 2019): it matches only if the
            # period ends by joined_before, i.e. starts before the day/month/year after that date begins.
            nxt = flt.joined_before + timedelta(days=1) if flt.joined_before < date.max else date.max
            conds.append(
                "(joined_precision = 'year' AND joined < ? OR joined_precision = 'month' AND joined < ?"
                " OR coalesce(joined_precision, 'day') = 'day' AND joined < ?)"
            )
            params += [date(nxt.year, 1, 1).isoformat(), nxt.replace(day=1).isoformat(), nxt.isoformat()]
        return conds, params

    def document(self, data: MembershipData) -> str:
        m = data.municipality
        return " ".join(p for p in (m.name, m.state or "", m.district or "") if p)


PLACES = PlaceSpec(
    "places",
    "Points of interest",
    (
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
        "external_key",
        "lon",
        "lat",
        *GEOCODE_COLUMNS,
        *OSM_COLUMNS,
    ),
)
MEMBERSHIPS = MembershipSpec(
    "memberships",
    "Safe Harbours alliance memberships",
    (
        "name",
        "kind",
        "country",
        "ags",
        "state",
        "district",
        "alliance",
        "role",
        "joined",
        "joined_precision",
        "source_url",
        "external_key",
        "lon",
        "lat",
        *GEOCODE_COLUMNS,
    ),
    "joined",
)
