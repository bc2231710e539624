"""The store protocol: the one seam between the service and its storage backends."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date
from typing import Generic, Protocol, TypeVar

from shapely.geometry.base import BaseGeometry

from poi_service.models import (
    Alliance,
    BBox,
    Membership,
    MembershipData,
    Place,
    PlaceData,
    Point,
    Role,
)

SCHEMA_VERSION = 1

R_co = TypeVar("R_co", Place, Membership, covariant=True)


@dataclass(frozen=True, slots=True)
class PlaceFilter:
    """Attribute conditions on places; all given conditions must hold."""

    categories: tuple[str, ...] = ()  # any of these slugs
    text: str | None = None  # every word must occur (prefix match) in name, address or description


@dataclass(frozen=True, slots=True)
class MembershipFilter:
    """Attribute conditions on memberships; all given conditions must hold."""

    alliance: Alliance | None = None
    role: Role | None = None
    state: str | None = None  # state name as stored, e.g. 'Niedersachsen'
    country: str | None = None
    joined_after: date | None = None  # inclusive, on the first day of the known period
    joined_before: date | None = None  # inclusive
    text: str | None = None  # words in the municipality name


F = TypeVar("F", PlaceFilter, MembershipFilter)


@dataclass(frozen=True, slots=True)
class Near:
    """A circle: every record within radius_m metres (geodesic) of point."""

    point: Point
    radius_m: float


@dataclass(frozen=True, slots=True)
class Query(Generic[F]):
    """A search: optional spatial conditions (combined with AND), a filter and a page.

    With `near`, hits are sorted by distance and carry distance_m; otherwise by id.
    `area` is an AGS or a name of a state, district or municipality from the shipped boundaries.
    `polygon` is a shapely Polygon or MultiPolygon in lon/lat.
    """

    filter: F
    near: Near | None = None
    bbox: BBox | None = None
    polygon: BaseGeometry | None = None
    area: str | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True)
class Hit(Generic[R_co]):
    """A record and, for distance queries, its geodesic distance in metres."""

    record: R_co
    distance_m: float | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[R_co]):
    """One page of a search and the exact number of all matches."""

    hits: list[Hit[R_co]]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class MembershipStats:
    """Membership counts per alliance, per (alliance, state) and per (alliance, join year)."""

    by_alliance: dict[str, int] = field(default_factory=dict)
    by_state: dict[str, dict[str, int]] = field(default_factory=dict)
    by_year: dict[str, dict[str, int]] = field(default_factory=dict)


R = TypeVar("R", Place, Membership)
D_contra = TypeVar("D_contra", PlaceData, MembershipData, contravariant=True)


class Collection(Protocol[R, D_contra, F]):
    """CRUD and spatial search over one kind of record."""

    def get(self, record_id: str) -> R:
        """The record with this id; NotFound otherwise."""

    def add(self, data: D_contra) -> R:
        """Stores a new record and returns it with its id."""

    def add_many(self, rows: Iterable[D_contra]) -> int:
        """Stores many records in one transaction (all or nothing); rows with an external_key
        already present replace that record (upsert). Returns the number written."""

    def update(self, record_id: str, data: D_contra) -> R:
        """Replaces a record's data; NotFound if absent."""

    def delete(self, record_id: str) -> None:
        """Removes a record; NotFound if absent."""

    def search(self, query: Query[F]) -> Page[R]:
        """Records matching every condition of the query, one page of them."""

    def nearest(self, point: Point, k: int, filter: F) -> list[Hit[R]]:
        """The k records closest to point (geodesic), nearest first."""

    def count(self) -> int:
        """Number of stored records."""

    def iter_all(self) -> Iterator[R]:
        """Every record, in id order (exports)."""


class Store(Protocol):
    """A storage backend: places and memberships, a geocoding cache, transactions."""

    url: str

    @property
    def places(self) -> Collection[Place, PlaceData, PlaceFilter]:
        """The places collection."""

    @property
    def memberships(self) -> Collection[Membership, MembershipData, MembershipFilter]:
        """The alliance memberships collection."""

    def transaction(self) -> AbstractContextManager[None]:
        """Groups writes on both collections: all take effect or none."""

    def membership_stats(self) -> MembershipStats:
        """Counts for GET /alliance/stats."""

    def cache_get(self, provider: str, key: str) -> str | None:
        """A cached geocoder answer."""

    def cache_put(self, provider: str, key: str, value: str) -> None:
        """Keeps a geocoder answer."""

    def info(self) -> dict[str, object]:
        """Backend name, schema version and record counts (for /health)."""

    def close(self) -> None:
        """Releases connections."""
