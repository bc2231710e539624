"""The geocoder protocol and its typed queries and answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from poi_service.models import Geocoding, Point, Precision


@dataclass(frozen=True, slots=True)
class GeocodeQuery:
    """Free text, structured fields, or both; state/postcode/country narrow ambiguous names."""

    text: str | None = None
    street: str | None = None
    housenumber: str | None = None
    postcode: str | None = None
    locality: str | None = None
    state: str | None = None  # name ('Niedersachsen') or code ('NI')
    country: str | None = None  # ISO 3166-1 alpha-2; None means Germany first

    def is_empty(self) -> bool:
        """True when nothing to look up was given."""
        return not any((self.text, self.street, self.postcode, self.locality))


@dataclass(frozen=True, slots=True)
class GeocodeResult:
    """One located candidate with honest precision."""

    point: Point
    precision: Precision
    confidence: float  # 0..1; lowered for typo matches and ambiguity
    source: str  # e.g. 'offline:destatis', 'offline:geonames-plz', 'offline:geonames-cities', 'nominatim'
    label: str  # human-readable name of what was found
    country: str = "DE"
    ags: str | None = None  # municipality key (8) or district key (5) where known
    state: str | None = None
    district: str | None = None
    postcode: str | None = None

    def provenance(self, at: datetime) -> Geocoding:
        """The Geocoding record a stored place keeps."""
        return Geocoding(self.source, self.precision, self.confidence, at)


@dataclass(frozen=True, slots=True)
class GeocodeAnswer:
    """The best result, or None with candidates when the input is ambiguous or unknown."""

    best: GeocodeResult | None
    candidates: list[GeocodeResult] = field(default_factory=list)

    @property
    def ambiguous(self) -> bool:
        """Several different places fit and nothing given decides between them."""
        return self.best is None and len(self.candidates) > 1


@dataclass(frozen=True, slots=True)
class DoorAddress:
    """The nearest address of the OSM address index to a point, with its geodesic distance."""

    street: str
    housenumber: str
    point: Point
    distance_m: float
    postcode: str | None = None
    city: str | None = None

    def as_json(self) -> dict[str, object]:
        """The JSON object of GET /reverse's `address`."""
        return {
            "street": self.street,
            "housenumber": self.housenumber,
            "postcode": self.postcode,
            "city": self.city,
            "distance_m": round(self.distance_m, 2),
            "lon": self.point.lon,
            "lat": self.point.lat,
        }


@dataclass(frozen=True, slots=True)
class ReverseResult:
    """Administrative areas around a point (Germany), or the nearest known city elsewhere."""

    point: Point
    country: str
    municipality: str | None = None
    municipality_ags: str | None = None
    district: str | None = None
    district_ags: str | None = None
    state: str | None = None
    state_ags: str | None = None
    postcode: str | None = None  # nearest GeoNames postcode place within the municipality
    source: str = "offline:bkg-vg5000"
    address: DoorAddress | None = None  # the nearest address within 50 m (OSM address index)


class GeocodeCache(Protocol):
    """Where online answers are kept so nothing is geocoded twice (the store implements it)."""

    def cache_get(self, provider: str, key: str) -> str | None:
        """The cached JSON answer, if any."""

    def cache_put(self, provider: str, key: str, value: str) -> None:
        """Keeps a JSON answer."""


class Geocoder(Protocol):
    """Forward and reverse geocoding."""

    name: str

    def geocode(self, query: GeocodeQuery) -> GeocodeAnswer:
        """Locates an address or place name."""

    def reverse(self, point: Point) -> ReverseResult | None:
        """Names the areas a point lies in; None when nothing is known there."""
