"""Honest precision of Nominatim and Photon answers, from their place types."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from poi_service.models import Precision

_BY_TYPE: dict[str, Precision] = {
    **dict.fromkeys(("house", "building", "house_number", "housenumber"), Precision.ADDRESS),
    **dict.fromkeys(
        (
            "road",
            "street",
            "pedestrian",
            "footway",
            "residential",
            "living_street",
            "service",
            "path",
            "square",
        ),
        Precision.STREET,
    ),
    **dict.fromkeys(("postcode", "postal_code"), Precision.POSTCODE),
    # Parts of a town are finer than a municipality, but we have no level between street and municipality.
    **dict.fromkeys(
        (
            "city",
            "town",
            "village",
            "municipality",
            "hamlet",
            "suburb",
            "city_district",
            "borough",
            "quarter",
            "neighbourhood",
            "isolated_dwelling",
            "locality",
            "farm",
            "croft",
            "allotments",
        ),
        Precision.MUNICIPALITY,
    ),
    # Nominatim's 'district' may be above municipality level: claim no more than a district.
    **dict.fromkeys(("county", "state_district", "region", "district"), Precision.DISTRICT),
    "state": Precision.STATE,
    "country": Precision.COUNTRY,
}


def _capped(precision: Precision, has_number: bool, query_has_number: bool) -> Precision:
    # A house-level answer without the house number asked for only locates the street.
    if precision == Precision.ADDRESS and query_has_number and not has_number:
        return Precision.STREET
    return precision


def _from_parts(has_number: bool, has_street: bool, has_postcode: bool) -> Precision:
    if has_number and has_street:
        return Precision.ADDRESS
    if has_street:
        return Precision.STREET
    if has_postcode:
        return Precision.POSTCODE
    return Precision.MUNICIPALITY


def nominatim_precision(raw: Mapping[str, Any], query_has_number: bool) -> Precision:
    """addresstype, then type/class (json: 'class', jsonv2: 'category'), then the address parts."""
    address = raw.get("address") or {}
    has_number = bool(address.get("house_number"))
    category = raw.get("class") or raw.get("category") or ""
    kind = raw.get("addresstype") or ""
    precision = _BY_TYPE.get(kind)
    if precision is None and category == "boundary" and raw.get("type") == "postal_code":
        precision = Precision.POSTCODE
    if precision is None and category == "building":
        precision = Precision.ADDRESS
    if precision is None and category == "highway":
        precision = Precision.STREET
    if precision is None and category in ("place", "boundary"):
        precision = _BY_TYPE.get(raw.get("type") or "")
    if precision is None:
        # An amenity, shop, office ...: as exact as its address.
        precision = _from_parts(has_number, bool(address.get("road")), bool(address.get("postcode")))
    return _capped(precision, has_number, query_has_number)


def photon_precision(feature: Mapping[str, Any], query_has_number: bool) -> Precision:
    """properties.type (house, street, city, district, county, state, country, other), then osm_key/value."""
    props = feature.get("properties") or {}
    has_number = bool(props.get("housenumber"))
    kind = props.get("type") or ""
    osm_key, osm_value = props.get("osm_key") or "", props.get("osm_value") or ""
    # Photon's 'district' is a part of a town (e.g. a Stadtteil), unlike Nominatim's.
    precision = (
        Precision.MUNICIPALITY if kind == "district" else _BY_TYPE.get(kind) if kind != "other" else None
    )
    if precision is None and osm_key == "place":
        precision = _BY_TYPE.get(osm_value)
    if precision is None and (osm_key, osm_value) == ("boundary", "postal_code"):
        precision = Precision.POSTCODE
    if precision is None and osm_key == "highway":
        precision = Precision.STREET
    if precision is None:
        precision = _from_parts(has_number, bool(props.get("street")), bool(props.get("postcode")))
    return _capped(precision, has_number, query_has_number)
