"""Typed domain records. Points are (lon, lat) in EPSG:4326; bounds are (minx, miny, maxx, maxy)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache


class Precision(StrEnum):
    """How exactly a stored point locates the record, best first."""

    EXACT = "exact"  # coordinates given by a source or an editor
    ADDRESS = "address"  # house number level
    STREET = "street"
    POSTCODE = "postcode"  # centroid of the postcode's place
    MUNICIPALITY = "municipality"  # Destatis centre of the municipality
    DISTRICT = "district"
    STATE = "state"
    COUNTRY = "country"

    @property
    def rank(self) -> int:
        """0 for exact, growing as the location gets coarser."""
        return list(Precision).index(self)


class Alliance(StrEnum):
    """The three kinds of Safe Harbour membership (see data/alliance/NOTES.md)."""

    BUENDNIS = "buendnis"
    INTERNATIONAL = "international"
    SEEBRUECKE_DECLARED = "seebruecke_declared"


class Role(StrEnum):
    """A member's role in its alliance."""

    COORDINATOR = "coordinator"
    STATE_COORDINATOR = "state_coordinator"
    MEMBER = "member"


class KeyRole(StrEnum):
    """What an API key may do: editors write records, admins also purge and manage keys."""

    EDITOR = "editor"
    ADMIN = "admin"

    def allows(self, needed: KeyRole) -> bool:
        """True when this role includes the needed one."""
        return self == KeyRole.ADMIN or self == needed


class DatePrecision(StrEnum):
    """How much of a join date the source gives."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"


@dataclass(frozen=True, slots=True)
class Point:
    """A WGS84 position, longitude first."""

    lon: float
    lat: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lon) and math.isfinite(self.lat)):
            raise ValueError("coordinates must be finite numbers")
        if not -180.0 <= self.lon <= 180.0:
            raise ValueError(f"longitude {self.lon} is outside -180..180")
        if not -90.0 <= self.lat <= 90.0:
            raise ValueError(f"latitude {self.lat} is outside -90..90")


@dataclass(frozen=True, slots=True)
class BBox:
    """Bounds in degrees, (minx, miny, maxx, maxy) = (west, south, east, north)."""

    minx: float
    miny: float
    maxx: float
    maxy: float

    def __post_init__(self) -> None:
        Point(self.minx, self.miny)
        Point(self.maxx, self.maxy)
        if self.minx > self.maxx or self.miny > self.maxy:
            raise ValueError("bbox must be minx,miny,maxx,maxy with min <= max")


@dataclass(frozen=True, slots=True)
class Geocoding:
    """Where a point came from and how far to trust it."""

    source: str  # e.g. "input", "offline:geonames-plz", "nominatim"
    precision: Precision
    confidence: float  # 0..1
    at: datetime


@dataclass(frozen=True, slots=True)
class Address:
    """A German postal address; ags is the 8-digit municipality key."""

    street: str | None = None
    housenumber: str | None = None
    postcode: str | None = None
    locality: str | None = None
    ags: str | None = None

    def one_line(self) -> str:
        """'Süderstraße 101, 24955 Harrislee' with missing parts left out."""
        # Filtered lists, not generators: this runs for every feature the API renders.
        street = " ".join([p for p in (self.street, self.housenumber) if p])
        town = " ".join([p for p in (self.postcode, self.locality) if p])
        return f"{street}, {town}" if street and town else street or town


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaceData:
    """A place as written by an editor or an import, before the store gives it an id."""

    name: str
    category: str  # slug from the category vocabulary
    address: Address
    point: Point
    geocoding: Geocoding
    phone: str | None = None  # E.164
    website: str | None = None
    description: str | None = None
    source: str | None = None
    external_key: str | None = None  # stable key of the importing source, for upserts
    opening_hours: str | None = None  # raw OpenStreetMap opening_hours syntax, never rewritten
    wheelchair: str | None = None  # one of WHEELCHAIR (OSM's values); None when unknown
    names: tuple[tuple[str, str], ...] = ()  # localized names: (language, name), sorted by language
    osm_version: int | None = None  # provenance of an OSM record (type and id are in external_key)
    osm_timestamp: str | None = None  # when that OSM version was made, RFC 3339 UTC ('...Z')

    def name_in(self, language: str) -> str | None:
        """The localized name in a language, if the record has one."""
        return next((n for lang, n in self.names if lang == language), None)


WHEELCHAIR = ("yes", "limited", "no")


@dataclass(frozen=True, slots=True, kw_only=True)
class Place(PlaceData):
    """A stored place."""

    id: str
    created_at: datetime
    updated_at: datetime
    version: int = 1  # 1 on insert, +1 on every change (update, delete, restore, re-import)
    deleted_at: datetime | None = None  # set by a soft delete; such records only show in history


@dataclass(frozen=True, slots=True)
class Municipality:
    """The member body: a municipality, a district or a foreign city."""

    name: str
    kind: str  # Stadt, Gemeinde, Landkreis, other
    country: str  # ISO 3166-1 alpha-2
    ags: str | None = None  # 8 digits for municipalities, 5 for districts
    state: str | None = None
    district: str | None = None


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """An API key without its secret: the id (public, part of the key), a name, the role."""

    id: str
    name: str
    role: KeyRole
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MembershipData:
    """One municipality's membership in one alliance."""

    municipality: Municipality
    alliance: Alliance
    role: Role
    point: Point
    geocoding: Geocoding
    joined: date | None = None  # first day of the known period
    joined_precision: DatePrecision | None = None
    source_url: str | None = None
    external_key: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Membership(MembershipData):
    """A stored membership."""

    id: str
    created_at: datetime
    updated_at: datetime
    version: int = 1  # 1 on insert, +1 on every change (update, delete, restore, re-import)
    deleted_at: datetime | None = None  # set by a soft delete; such records only show in history


def parse_partial_date(text: str) -> tuple[date | None, DatePrecision | None]:
    """'2019-06-14' / '2019-06' / '2019' -> (first day, precision); '' -> (None, None)."""
    text = text.strip()
    if not text:
        return None, None
    parts = text.split("-")
    if len(parts) == 1:
        return date(int(parts[0]), 1, 1), DatePrecision.YEAR
    if len(parts) == 2:
        return date(int(parts[0]), int(parts[1]), 1), DatePrecision.MONTH
    return date.fromisoformat(text), DatePrecision.DAY


def format_partial_date(value: date | None, precision: DatePrecision | None) -> str | None:
    """Inverse of parse_partial_date: never shows more than the source knew."""
    if value is None:
        return None
    if precision == DatePrecision.YEAR:
        return f"{value.year:04d}"
    if precision == DatePrecision.MONTH:
        return f"{value.year:04d}-{value.month:02d}"
    return value.isoformat()


@lru_cache(maxsize=8192)
def iso_time(at: datetime) -> str:
    """at.isoformat(), memoised: ~2.5 µs each, and records of one import or one geocoder share their
    timestamps (the store writes them, the API renders three per feature)."""
    return at.isoformat()
