"""The store protocol: the one seam between the service and its storage backends."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, Literal, Protocol, TypeVar

from shapely.geometry.base import BaseGeometry

from poi_service.models import (
    Alliance,
    BBox,
    KeyInfo,
    KeyRole,
    Membership,
    MembershipData,
    Place,
    PlaceData,
    Point,
    Role,
)

SCHEMA_VERSION = (
    4  # 2: versions, soft delete, history, API keys; 3: OSM fields of places; 4: OSM address index
)

R_co = TypeVar("R_co", Place, Membership, covariant=True)


@dataclass(frozen=True, slots=True)
class PlaceFilter:
    """Attribute conditions on places; all given conditions must hold."""

    categories: tuple[str, ...] = ()  # any of these slugs
    text: str | None = None  # every word must occur (prefix match) in name, address or description
    text_categories: tuple[str, ...] = ()  # ... or the place is of one of these (labels matching text)
    wheelchair: tuple[str, ...] = ()  # any of these wheelchair values (yes, limited, no)
    open_at: datetime | None = None  # aware: only places whose opening_hours say open then (hours.py)


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
class Extent:
    """Where and when a collection's live records lie: their bounds and, for memberships, the first and
    last day of the known join periods (None where no record has one)."""

    bbox: BBox
    interval: tuple[date, date] | None = None


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """What add_many would do with some rows: new keys, changed records, records left alone."""

    new: int
    updated: int
    unchanged: int


@dataclass(frozen=True, slots=True)
class MembershipStats:
    """Membership counts per alliance, per (alliance, German state), per (alliance, country) and per
    (alliance, join year)."""

    by_alliance: dict[str, int] = field(default_factory=dict)
    by_state: dict[str, dict[str, int]] = field(default_factory=dict)  # German members; 'unknown': no state
    by_country: dict[str, dict[str, int]] = field(default_factory=dict)
    by_year: dict[str, dict[str, int]] = field(default_factory=dict)


Action = Literal["create", "update", "delete", "restore", "import", "purge"]


@dataclass(frozen=True, slots=True)
class Change:
    """One recorded write of one record: who (API key id, or 'cli'), when, and the states around it.

    before/after are the record's stored columns as JSON-ready scalars (id, version, data columns,
    lon/lat, geocoding, timestamps); before is None for a create, after is None for a purge.
    """

    seq: int  # order of the writes, increasing
    record_id: str
    version: int  # the record's version after the write (the purged version for a purge)
    action: Action
    actor: str | None
    at: datetime
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class AddressPoint:
    """One address of the OSM address index: a door (node) or a point inside a building.

    street_key is geocode.housenumbers.street_match_key(street); postcode and city come from the
    OSM tags or, where missing, from the shipped boundaries and postcodes.
    """

    street: str
    street_key: str
    housenumber: str
    point: Point
    postcode: str | None = None
    city: str | None = None
    ags: str | None = None  # 8-digit municipality key (German addresses)
    osm: str = ""  # 'n123', 'w456', 'r789'


@dataclass(frozen=True, slots=True)
class StreetLine:
    """A named street of one municipality: its merged lines, length and the midpoint by length."""

    name: str
    street_key: str
    geometry: BaseGeometry  # LineString or MultiLineString, lon/lat
    midpoint: Point
    length_m: float
    city: str | None = None
    ags: str | None = None


@dataclass(frozen=True, slots=True)
class AddressCounts:
    """What the address index holds."""

    addresses: int
    streets: int
    areas: dict[str, int] = field(default_factory=dict)  # addresses per imported area


class AddressIndex(Protocol):
    """Addresses and streets from OSM extracts, replaced per imported area (one transaction)."""

    def replace_area(
        self, area: str, addresses: Iterable[AddressPoint], streets: Iterable[StreetLine]
    ) -> None:
        """Drops the area's addresses and streets and stores the new ones: all or nothing."""

    def on_street(self, street_key: str, number: int | None = None) -> list[AddressPoint]:
        """Every address whose street has this key (all towns); with number, only those whose house
        number starts with its digits ('12', '12a', '120') or is a range ('10-14'): a superset of the
        matches of that number, read without the whole street."""

    def streets(self, street_key: str) -> list[StreetLine]:
        """Every street with this key (one per municipality)."""

    def nearest(self, point: Point, radius_m: float) -> tuple[AddressPoint, float] | None:
        """The address closest to point (geodesic metres) within radius_m, or None."""

    def counts(self) -> AddressCounts:
        """Numbers of addresses and streets."""


R = TypeVar("R", Place, Membership)
D_contra = TypeVar("D_contra", PlaceData, MembershipData, contravariant=True)


class Collection(Protocol[R, D_contra, F]):
    """CRUD with versions, soft delete and history, and spatial search over one kind of record.

    Every write bumps the record's version and records a Change in the same transaction.
    Soft-deleted records are invisible to get (unless include_deleted), search, nearest, count
    and iter_all. `actor` is the API key id (or 'cli', 'seed') written to the history.
    """

    def get(self, record_id: str, *, include_deleted: bool = False) -> R:
        """The record with this id; NotFound otherwise (also for a deleted one, unless include_deleted)."""

    def add(self, data: D_contra, *, actor: str | None = None) -> R:
        """Stores a new record (version 1) and returns it with its id; Conflict if its external_key
        is already stored (deleted records included: restore those)."""

    def add_many(self, rows: Iterable[D_contra], *, actor: str | None = None) -> int:
        """Stores many records in one transaction (all or nothing); rows with an external_key
        already present replace that record (upsert; a deleted one comes back), rows equal to the
        stored record apart from geocoded_at are left alone. One 'import' Change per changed
        record. Returns the number of rows given."""

    def plan(self, rows: Sequence[D_contra]) -> ImportPlan:
        """What add_many(rows) would do, without writing: rows whose external_key no live record has
        are new, the others updated or (equal apart from geocoded_at) unchanged. Reads only the
        records of those keys."""

    def update(
        self, record_id: str, data: D_contra, *, expected_version: int | None = None, actor: str | None = None
    ) -> R:
        """Replaces a live record's data; NotFound if absent or deleted, PreconditionFailed if
        expected_version is given and is not the stored version, Conflict on a taken external_key."""

    def delete(
        self,
        record_id: str,
        *,
        expected_version: int | None = None,
        actor: str | None = None,
        purge: bool = False,
    ) -> None:
        """Soft-deletes a live record (restorable); purge removes it for good, deleted or not (its
        history stays). NotFound / PreconditionFailed as for update."""

    def restore(self, record_id: str, *, expected_version: int | None = None, actor: str | None = None) -> R:
        """Undoes a soft delete; NotFound if no such record, Conflict if it is not deleted."""

    def history(self, record_id: str) -> list[Change]:
        """Every recorded write of the record, oldest first; NotFound if there is neither."""

    def find_keys(self, keys: Iterable[str]) -> dict[str, R]:
        """Stored records (soft-deleted ones too) by external key; absent keys are left out."""

    def search(self, query: Query[F]) -> Page[R]:
        """Records matching every condition of the query, one page of them."""

    def nearest(self, point: Point, k: int, filter: F) -> list[Hit[R]]:
        """The k records closest to point (geodesic), nearest first."""

    def count(self) -> int:
        """Number of stored records."""

    def iter_all(self) -> Iterator[R]:
        """Every record, in id order (exports)."""

    def extent(self) -> Extent | None:
        """Bounds (and join-date interval) of the live records, from the backend's own data; None when
        there are none."""

    def ready(self) -> bool:
        """True when queries are answered from memory right now, without building an index or a
        round trip to a database server; the async API then calls the store inline, else in a
        worker thread, so that a slow call never stalls the event loop."""

    def warm(self) -> None:
        """Builds what ready() wants (the embedded store's point index) now; a no-op elsewhere."""

    def data_version(self) -> int:
        """A counter that grows with every committed change of this collection, seen alike by
        every process sharing the store: the key of data derived from it (map payloads)."""


class Store(Protocol):
    """A storage backend: places and memberships, a geocoding cache, transactions."""

    url: str

    @property
    def places(self) -> Collection[Place, PlaceData, PlaceFilter]:
        """The places collection."""

    @property
    def memberships(self) -> Collection[Membership, MembershipData, MembershipFilter]:
        """The alliance memberships collection."""

    @property
    def addresses(self) -> AddressIndex:
        """The address and street index read from OSM extracts."""

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

    def meta_get(self, key: str) -> str | None:
        """A value kept in the store's metadata (e.g. 'osm.replication'), or None."""

    def meta_put(self, key: str, value: str | None) -> None:
        """Keeps (None: removes) a metadata value, inside the caller's transaction if one is open."""

    def create_key(self, name: str, role: KeyRole) -> tuple[KeyInfo, str]:
        """A new API key: its info and the full key (shown once; only its SHA-256 is stored)."""

    def list_keys(self) -> list[KeyInfo]:
        """Every key, revoked ones included, oldest first."""

    def find_key(self, key_id: str) -> tuple[KeyInfo, str] | None:
        """A key's info and stored SHA-256 hex digest, or None."""

    def revoke_key(self, key_id: str) -> KeyInfo:
        """Revokes a key at once (NotFound if unknown); revoking twice keeps the first time."""

    def close(self) -> None:
        """Releases connections."""
