"""Records to RFC 7946 GeoJSON at the API edge (the store never returns GeoJSON)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from poi_service.categories import Vocabulary
from poi_service.geocode.base import GeocodeResult
from poi_service.models import Geocoding, Membership, Place, format_partial_date, iso_time
from poi_service.opening import hours_properties
from poi_service.phone import din5008
from poi_service.store.base import Hit

# A page of 10 features renders 10 geocodings, which records of one import or geocoder share.
MEMO_SIZE = 8192


@lru_cache(maxsize=MEMO_SIZE)
def _geocoding_items(g: Geocoding) -> tuple[tuple[str, Any], ...]:
    return (
        ("source", g.source),
        ("precision", g.precision.value),
        ("confidence", g.confidence),
        ("at", iso_time(g.at)),
    )


def _geocoding(g: Geocoding) -> dict[str, Any]:
    return dict(_geocoding_items(g))  # a fresh dict: callers may edit properties


_phone = lru_cache(maxsize=MEMO_SIZE)(din5008)  # phonenumbers parses the number each time: ~30 µs


def place_feature(
    place: Place, vocabulary: Vocabulary, distance_m: float | None = None, at: datetime | None = None
) -> dict[str, Any]:
    """A place as a GeoJSON Feature; distance_m only on distance queries, open and next_change only
    when asked about a time (open_at, open_now)."""
    a = place.address
    category = vocabulary.get(place.category)
    props: dict[str, Any] = {
        "name": place.name,
        "category": place.category,
        "category_label": category.label_de if category else place.category,
        "category_label_en": category.label_en if category else place.category,
        "street": a.street,
        "housenumber": a.housenumber,
        "postcode": a.postcode,
        "locality": a.locality,
        "ags": a.ags,
        "address": a.one_line(),
        "phone": place.phone,
        "phone_display": _phone(place.phone) if place.phone else None,
        "website": place.website,
        "description": place.description,
        "source": place.source,
        "opening_hours": place.opening_hours,
        "wheelchair": place.wheelchair,
        "names": dict(place.names) if place.names else None,
        "osm_version": place.osm_version,
        "osm_timestamp": place.osm_timestamp,
        "geocoding": _geocoding(place.geocoding),
        "created_at": iso_time(place.created_at),
        "updated_at": iso_time(place.updated_at),
    }
    if at is not None:
        props.update(hours_properties(place, at))
    if distance_m is not None:
        # The last property, and "properties" the feature's last member: features/cache.py keeps the
        # bytes without the closing "}}" and splices distance_m in there (tests/api/test_rendered.py).
        props["distance_m"] = round(distance_m, 2)
    return {
        "type": "Feature",
        "id": place.id,
        "geometry": {"type": "Point", "coordinates": [place.point.lon, place.point.lat]},
        "properties": props,
    }


def membership_feature(member: Membership, distance_m: float | None = None) -> dict[str, Any]:
    """A membership as a GeoJSON Feature; `joined` shows only the precision the source gives."""
    m = member.municipality
    props: dict[str, Any] = {
        "name": m.name,
        "kind": m.kind,
        "country": m.country,
        "ags": m.ags,
        "state": m.state,
        "district": m.district,
        "alliance": member.alliance.value,
        "role": member.role.value,
        "joined": format_partial_date(member.joined, member.joined_precision),
        "joined_date": member.joined.isoformat() if member.joined else None,
        "joined_precision": member.joined_precision.value if member.joined_precision else None,
        "source_url": member.source_url,
        "geocoding": _geocoding(member.geocoding),
    }
    if distance_m is not None:
        props["distance_m"] = round(distance_m, 2)
    return {
        "type": "Feature",
        "id": member.id,
        "geometry": {"type": "Point", "coordinates": [member.point.lon, member.point.lat]},
        "properties": props,
    }


def membership_features(hits: list[Hit[Membership]]) -> list[dict[str, Any]]:
    """Features of a page of membership hits."""
    return [membership_feature(h.record, h.distance_m) for h in hits]


def result_feature(r: GeocodeResult) -> dict[str, Any]:
    """A geocoding result as a GeoJSON Feature with its precision and provenance."""
    props = {
        "label": r.label,
        "precision": r.precision.value,
        "confidence": r.confidence,
        "source": r.source,
        "country": r.country,
        "ags": r.ags,
        "state": r.state,
        "district": r.district,
        "postcode": r.postcode,
    }
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [r.point.lon, r.point.lat]},
        "properties": props,
    }
