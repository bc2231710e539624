"""The feature collections: what each serves and how it selects its features.

`select` answers the part of a request the backend can answer itself (bbox, near, datetime, q and the
property parameters in `store_params`) in the collection's default order, one window of it, with the
exact number of matches. Everything else (filter, other property parameters, sortby) is evaluated
by poi_service.ogc.engine on the selection.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import astuple, dataclass, field, replace
from datetime import date, datetime
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from poi_service import opening
from poi_service import params as shared_params
from poi_service.errors import invalid
from poi_service.features.geojson import membership_feature, place_feature
from poi_service.models import Alliance, BBox, DatePrecision, Place, Role
from poi_service.ogc.model import Item, Queryable
from poi_service.ogc.request import ItemsRequest
from poi_service.services import Services
from poi_service.store import Collection, MembershipFilter, PlaceFilter
from poi_service.store import Query as StoreQuery


@dataclass(frozen=True)
class Extent:
    """Spatial (CRS84) and, where the collection has one, temporal extent."""

    bbox: tuple[float, float, float, float] | None
    interval: tuple[date, date] | None = None


@dataclass(frozen=True)
class Hints:
    """Spatial conditions taken from a filter's top-level AND, to narrow the backend's selection."""

    polygons: tuple[BaseGeometry, ...] = field(default_factory=tuple)


def _q(name: str, title: str, type_: Any = "string", enum: Sequence[str] = ()) -> Queryable:
    return Queryable(name, type_, title, tuple(enum))


class Source(ABC):
    """One collection of /ogc/collections."""

    id: str
    title: str
    description: str
    geometry_format: str = "point"
    properties: tuple[str, ...] = ()  # every property a feature may carry (for properties=)
    store_params: frozenset[str] = frozenset()  # property parameters select() answers itself
    repeatable: frozenset[str] = frozenset()  # parameters that may be repeated (any of the values)
    text_search: bool = False  # q=
    temporal: str | None = None  # the queryable that datetime= applies to
    hours: bool = False  # open_at= / open_now= (places with opening hours)

    @abstractmethod
    def queryables(self, services: Services) -> dict[str, Queryable]:
        """Properties for filter=, sortby= and name=value parameters, plus the geometry."""

    @abstractmethod
    def extent(self, services: Services) -> Extent | None:
        """The collection's extent, None when it is empty."""

    @abstractmethod
    def get(self, services: Services, feature_id: str) -> Item:
        """One feature; NotFound otherwise."""

    @abstractmethod
    def select(
        self, services: Services, req: ItemsRequest, limit: int, offset: int, hints: Hints
    ) -> tuple[list[Item], int]:
        """One window of the features matching the backend-answerable conditions, and their count."""


def _point(lon: float, lat: float) -> BaseGeometry:
    return shapely.Point(lon, lat)


def _spatial(req: ItemsRequest, hints: Hints) -> dict[str, Any]:
    """Store query keywords for bbox (two boxes across the antimeridian go in as a polygon) and hints."""
    out: dict[str, Any] = {"near": req.near}
    if len(req.boxes) == 1:
        out["bbox"] = BBox(*req.boxes[0])
    elif req.boxes:
        out["polygon"] = shapely.MultiPolygon([shapely.box(*b) for b in req.boxes])
    if "polygon" not in out and hints.polygons:
        out["polygon"] = min(hints.polygons, key=lambda g: g.area)
    return out


def _stored_extent(
    services: Services, source_id: str, collection: Collection[Any, Any, Any]
) -> Extent | None:
    """The collection's extent from the store, computed once per data version (kept in services)."""
    version = collection.data_version()
    hit = services.extents.get(source_id)
    if hit is None or hit[0] != version:
        found = collection.extent()
        extent = None if found is None else Extent(astuple(found.bbox), found.interval)
        hit = services.extents[source_id] = (version, extent)
    return hit[1]


class PlacesSource(Source):
    id = "places"
    title = "Places"
    description = (
        "Points of interest of the municipality (memorial stones, schools, churches, accessible "
        "parking, ...). Property parameters: category (slugs, comma-separated or repeated: any "
        "of them), q (words in name, address or description), wheelchair (yes, limited, no: any "
        "of them), open_at (RFC 3339) or open_now=true (only places whose opening hours say open "
        "then; features carry open and next_change) and every queryable. Places carry no "
        "time: datetime= is accepted and keeps every place."
    )
    properties = (
        "name",
        "category",
        "category_label",
        "category_label_en",
        "street",
        "housenumber",
        "postcode",
        "locality",
        "ags",
        "address",
        "phone",
        "phone_display",
        "website",
        "description",
        "source",
        "geocoding",
        "created_at",
        "updated_at",
        "distance_m",
        "opening_hours",
        "wheelchair",
        "open",
        "next_change",
    )
    store_params = frozenset({"category", "wheelchair"})
    repeatable = frozenset({"category", "wheelchair"})
    text_search = True
    hours = True

    def queryables(self, services: Services) -> dict[str, Queryable]:
        slugs = [c.slug for c in services.vocabulary.categories]
        qs = [_q("name", "Name"), _q("category", "Category slug (see /categories)", enum=slugs)]
        qs += [_q(n, n.capitalize()) for n in ("street", "housenumber", "postcode", "locality")]
        qs += [_q("ags", "Municipality key (AGS, 8 digits)"), _q("address", "Address on one line")]
        qs += [_q(n, n.capitalize()) for n in ("phone", "website", "description", "source")]
        qs += [_q("opening_hours", "Opening hours (OpenStreetMap syntax, as given)")]
        qs += [_q("wheelchair", "Wheelchair access", enum=opening.WHEELCHAIR)]
        qs += [_q("created_at", "Created", "date-time"), _q("updated_at", "Last updated", "date-time")]
        qs.append(Queryable("geometry", "geometry", "Location", geometry_format="point"))
        return {q.name: q for q in qs}

    def extent(self, services: Services) -> Extent | None:
        return _stored_extent(services, self.id, services.store.places)

    def item(
        self, services: Services, place: Place, distance_m: float | None = None, at: datetime | None = None
    ) -> Item:
        feature = place_feature(place, services.vocabulary, distance_m, at)
        return Item(feature, _point(place.point.lon, place.point.lat))

    def get(self, services: Services, feature_id: str) -> Item:
        return self.item(services, services.store.places.get(feature_id))

    def select(
        self, services: Services, req: ItemsRequest, limit: int, offset: int, hints: Hints
    ) -> tuple[list[Item], int]:
        slugs = [s.strip() for v in req.equals.get("category", ()) for s in v.split(",") if s.strip()]
        flt = PlaceFilter(
            tuple(services.vocabulary.require(s).slug for s in slugs),
            req.text,
            services.vocabulary.matching(req.text),
        )
        wheelchair = opening.wheelchair(list(req.equals.get("wheelchair", ())))
        flt = replace(flt, wheelchair=wheelchair, open_at=req.open_at)
        query = StoreQuery(flt, **_spatial(req, hints), limit=limit, offset=offset)
        page = services.store.places.search(query)
        return [self.item(services, h.record, h.distance_m, req.open_at) for h in page.hits], page.total


class MembershipsSource(Source):
    id = "alliance-members"
    title = "Safe Harbours alliance members"
    description = (
        "Municipalities in the Bündnis 'Städte Sicherer Häfen', the International Alliance of "
        "Safe Harbours and the Seebrücke 'Sicherer Hafen' declarations; one feature per "
        "membership. datetime= applies to the join date (a whole day; memberships without a "
        "known join date never match a datetime). The list is partial: see /about."
    )
    properties = (
        "name",
        "kind",
        "country",
        "ags",
        "state",
        "district",
        "alliance",
        "role",
        "joined",
        "joined_date",
        "joined_precision",
        "source_url",
        "geocoding",
        "distance_m",
    )
    store_params = frozenset({"alliance", "role", "state", "country"})
    text_search = True
    temporal = "joined_date"

    def queryables(self, services: Services) -> dict[str, Queryable]:
        qs = [
            _q("name", "Municipality"),
            _q("kind", "Kind (Stadt, Gemeinde, Landkreis, ...)"),
            _q("country", "Country (ISO 3166-1 alpha-2)"),
            _q("ags", "Municipality key (AGS)"),
            _q("state", "State"),
            _q("district", "District"),
            _q("alliance", "Alliance", enum=[a.value for a in Alliance]),
            _q("role", "Role", enum=[r.value for r in Role]),
            _q("joined_date", "Joined (first day of the known period)", "date"),
            _q("joined_precision", "Precision of the join date", enum=[p.value for p in DatePrecision]),
            _q("source_url", "Source"),
            Queryable("geometry", "geometry", "Location", geometry_format="point"),
        ]
        return {q.name: q for q in qs}

    def extent(self, services: Services) -> Extent | None:
        return _stored_extent(services, self.id, services.store.memberships)

    def get(self, services: Services, feature_id: str) -> Item:
        m = services.store.memberships.get(feature_id)
        return Item(membership_feature(m), _point(m.point.lon, m.point.lat))

    def select(
        self, services: Services, req: ItemsRequest, limit: int, offset: int, hints: Hints
    ) -> tuple[list[Item], int]:
        eq = {k: v[0] for k, v in req.equals.items()}
        after, before = req.interval.days() if req.interval else (None, None)
        flt = MembershipFilter(
            _enum(Alliance, "alliance", eq.get("alliance")),
            _enum(Role, "role", eq.get("role")),
            _state(services, eq.get("state")),
            eq["country"].upper() if "country" in eq else None,
            after,
            before,
            req.text,
        )
        page = services.store.memberships.search(
            StoreQuery(flt, **_spatial(req, hints), limit=limit, offset=offset)
        )
        items = [
            Item(membership_feature(h.record, h.distance_m), _point(h.record.point.lon, h.record.point.lat))
            for h in page.hits
        ]
        return items, page.total


def _state(services: Services, value: str | None) -> str | None:
    """A state in any form /alliance/members takes (name, NI, DE-NI, 03) -> the stored name; else 400."""
    return None if value is None else shared_params.state(value, services.settings.data_dir)


def _enum(kind: type[Alliance] | type[Role], name: str, value: str | None) -> Any:
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        raise invalid(name, f"must be one of {', '.join(m.value for m in kind)}") from None
