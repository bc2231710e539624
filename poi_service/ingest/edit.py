"""Write-API bodies to PlaceData / MembershipData, with the importer's field rules.

A body is a flat JSON object of editable fields, or a GeoJSON Feature (properties plus a Point)
such as GET returns; properties the service derives itself are ignored, unknown ones refused.
Coordinates in the body are an editor's pin and win (precision exact, source 'editor');
without them the address (places) or the municipality (memberships) is geocoded. A PATCH that
leaves coordinates and the location fields alone keeps the stored point; so does one that
changes the address of a pinned (exact) record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

from poi_service.boundaries import Boundaries
from poi_service.categories import Vocabulary
from poi_service.errors import InvalidInput, InvalidParam, Unprocessable
from poi_service.geocode.base import GeocodeQuery, Geocoder
from poi_service.ingest.build import RawRow, accept, lookup_ags, member_key, place_key
from poi_service.ingest.members import locate_member
from poi_service.ingest.plausible import place_doubts
from poi_service.ingest.validate import check_member, check_place
from poi_service.models import (
    Geocoding,
    Membership,
    MembershipData,
    Municipality,
    Place,
    PlaceData,
    Precision,
    format_partial_date,
)

EDITOR_SOURCE = "editor"
WHERE = "body"
Body = dict[str, object]
R = TypeVar("R", Place, Membership)
D = TypeVar("D", PlaceData, MembershipData)


@dataclass(frozen=True)
class Context:
    """What building a record needs: vocabulary, geocoder, boundaries, the write's time."""

    vocabulary: Vocabulary
    geocoder: Geocoder
    data_dir: Path
    at: datetime


@dataclass(frozen=True)
class EditSpec(Generic[R, D]):
    """The editable side of one record kind."""

    editable: tuple[str, ...]
    derived: frozenset[str]  # properties of our GeoJSON that are recomputed, ignored on input
    location: tuple[str, ...]  # fields a geocoded point depends on
    body_of: Callable[[R], Body]  # the editable fields of a stored record
    # (fields, problems found so far, ctx, record whose point is kept, external key)
    build: Callable[[Body, list[InvalidParam], Context, R | None, str | None], D]
    new_key: Callable[[D], str | None]  # external key of a record created through the API
    carry: Callable[[D, R], D] = lambda data, current: data  # what an edit keeps of the stored record
    # doubts about a write (new data, the record before, data dir): 422 unless the editor sends force=true
    doubts: Callable[[D, R | None, Path], list[InvalidParam]] = lambda *_: []


def fields_of(body: Mapping[str, object], spec: EditSpec[Any, Any]) -> tuple[Body, list[InvalidParam]]:
    """The editable fields of a flat object or a GeoJSON Feature, and a problem per unknown field."""
    errors: list[InvalidParam] = []
    raw: Body = dict(body)
    if body.get("type") == "Feature":
        props = body.get("properties") or {}
        if not isinstance(props, dict):
            errors.append(InvalidParam("properties", "must be an object"))
            props = {}
        raw = dict(props)
        geometry = body.get("geometry")
        coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
        point = isinstance(geometry, dict) and geometry.get("type") == "Point"
        if point and isinstance(coords, list) and len(coords) in (2, 3):
            raw["lon"], raw["lat"] = coords[0], coords[1]
        elif geometry is not None:
            errors.append(InvalidParam("geometry", "must be a GeoJSON Point [lon, lat] or null"))
    raw = {k: v for k, v in raw.items() if k not in spec.derived}
    allowed = ", ".join(spec.editable)
    errors.extend(
        InvalidParam(k, f"unknown field; editable fields are {allowed}")
        for k in raw
        if k not in spec.editable
    )
    return {k: v for k, v in raw.items() if k in spec.editable}, errors


def merge_patch(target: object, patch: object) -> object:
    """RFC 7396 JSON merge patch: objects merge recursively, null removes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = merge_patch(result.get(name), value)
    return result


def unpinned(raw: Body, current: Place | Membership) -> Body:
    """The fields without lat/lon when those are just the stored, geocoded point sent back (a Feature
    from GET, say): they are no editor's pin, and keeping them would claim an exact position."""
    lat, lon = raw.get("lat"), raw.get("lon")
    if current.geocoding.precision == Precision.EXACT or not all(
        isinstance(v, int | float) for v in (lat, lon)
    ):
        return raw
    if (lon, lat) != (current.point.lon, current.point.lat):
        return raw
    return {k: v for k, v in raw.items() if k not in ("lat", "lon")}


def patched(spec: EditSpec[R, Any], current: R, patch: Body) -> tuple[Body, bool]:
    """The merged fields of a PATCH and whether the stored point is kept."""
    patch = unpinned(patch, current)
    stored = spec.body_of(current)
    coords = ("lat", "lon")
    merged = merge_patch(
        {k: v for k, v in stored.items() if k not in coords},
        {k: v for k, v in patch.items() if k not in coords},
    )
    assert isinstance(merged, dict)
    if any(c in patch for c in coords):
        merged.update({c: patch[c] for c in coords if patch.get(c) is not None})
        return merged, False
    pinned = current.geocoding.precision == Precision.EXACT
    return merged, pinned or all(merged.get(f) == stored.get(f) for f in spec.location)


def refused(errors: list[InvalidParam]) -> InvalidInput:
    """The 400 of a body breaking field rules, naming every bad field."""
    return InvalidInput("; ".join(f"{e.name}: {e.reason}" for e in errors), errors)


def _pin(ctx: Context) -> Geocoding:
    return Geocoding(EDITOR_SOURCE, Precision.EXACT, 1.0, ctx.at)


# -- places ------------------------------------------------------------------------------------


def place_body(p: Place) -> Body:
    """The editable fields of a stored place."""
    a = p.address
    values = {
        "name": p.name,
        "category": p.category,
        "street": a.street,
        "housenumber": a.housenumber,
        "postcode": a.postcode,
        "locality": a.locality,
        "phone": p.phone,
        "website": p.website,
        "description": p.description,
        "source": p.source,
        "lat": p.point.lat,
        "lon": p.point.lon,
        "opening_hours": p.opening_hours,
        "wheelchair": p.wheelchair,
        "names": dict(p.names) if p.names else None,
    }
    return {k: v for k, v in values.items() if v is not None}


def build_place(
    raw: Body, prior: list[InvalidParam], ctx: Context, keep: Place | None, key: str | None
) -> PlaceData:
    """A checked, located place; 400 naming every bad field, 422 if the address cannot be located."""
    fields, errors = check_place(raw, ctx.vocabulary)
    if fields is None or prior:
        raise refused([*prior, *errors])
    a = fields.address
    if fields.point is not None:
        point, geocoding = fields.point, _pin(ctx)
        ags = Boundaries.load(ctx.data_dir).municipality_ags(np.array([point.lon]), np.array([point.lat]))[0]
    elif keep is not None:
        point, geocoding, ags = keep.point, keep.geocoding, keep.address.ags
    else:
        if not (a.postcode or a.locality):
            reason = "give lat/lon, or an address with postcode or locality"
            raise Unprocessable(f"address: {reason}", [InvalidParam("address", reason)])
        query = GeocodeQuery(None, a.street, a.housenumber, a.postcode, a.locality, None, "DE")
        found = accept(ctx.geocoder.geocode(query), f"address {a.one_line()!r}", Precision.MUNICIPALITY)
        if isinstance(found, str):
            raise Unprocessable(f"address: {found}", [InvalidParam("address", found)])
        point, geocoding = found.point, found.provenance(ctx.at)
        ags = found.ags if found.ags and len(found.ags) == 8 else lookup_ags(found, ctx.geocoder)
    return PlaceData(
        name=fields.name,
        category=fields.category,
        address=replace(a, ags=ags),
        point=point,
        geocoding=geocoding,
        phone=fields.phone,
        website=fields.website,
        description=fields.description,
        source=fields.source,
        external_key=key,
        opening_hours=fields.opening_hours,
        wheelchair=fields.wheelchair,
        names=fields.names,
    )


def carried_place(data: PlaceData, current: Place) -> PlaceData:
    """An edit keeps the OSM provenance of the version it was made on (editors cannot set it)."""
    return replace(data, osm_version=current.osm_version, osm_timestamp=current.osm_timestamp)


PLACE_EDIT = EditSpec[Place, PlaceData](
    editable=(
        "name",
        "category",
        "street",
        "housenumber",
        "postcode",
        "locality",
        "phone",
        "website",
        "description",
        "source",
        "lat",
        "lon",
        "opening_hours",
        "wheelchair",
        "names",
    ),
    derived=frozenset(
        {
            "category_label",
            "category_label_en",
            "ags",
            "address",
            "phone_display",
            "geocoding",
            "created_at",
            "updated_at",
            "distance_m",
            "osm_version",
            "osm_timestamp",
        }
    ),
    location=("street", "housenumber", "postcode", "locality"),
    body_of=place_body,
    build=build_place,
    new_key=lambda d: place_key(d.name, d.address.street, d.address.housenumber, d.address.locality),
    carry=carried_place,
    doubts=place_doubts,
)


# -- memberships -------------------------------------------------------------------------------


def member_body(m: Membership) -> Body:
    """The editable fields of a stored membership."""
    u = m.municipality
    values = {
        "name": u.name,
        "kind": u.kind,
        "country": u.country,
        "state": u.state,
        "alliance": m.alliance.value,
        "role": m.role.value,
        "joined": format_partial_date(m.joined, m.joined_precision),
        "source_url": m.source_url,
        "lat": m.point.lat,
        "lon": m.point.lon,
    }
    return {k: v for k, v in values.items() if v is not None}


def build_member(
    raw: Body, prior: list[InvalidParam], ctx: Context, keep: Membership | None, key: str | None
) -> MembershipData:
    """A checked, located membership; 400 naming every bad field, 422 if it cannot be located."""
    fields, errors = check_member(raw)
    if fields is None or prior:
        raise refused([*prior, *errors])
    if fields.point is None and keep is not None:
        k = keep.municipality
        municipality = Municipality(
            fields.name, fields.kind, fields.country, k.ags, fields.state or k.state, k.district
        )
        return MembershipData(
            municipality=municipality,
            alliance=fields.alliance,
            role=fields.role,
            point=keep.point,
            geocoding=keep.geocoding,
            joined=fields.joined,
            joined_precision=fields.joined_precision,
            source_url=fields.source_url,
            external_key=key,
        )
    problems: list[InvalidParam] = []
    data = locate_member(RawRow(WHERE, raw), fields, ctx.geocoder, ctx.data_dir, ctx.at, problems)
    if data is None or problems:
        named = [InvalidParam(p.name.removeprefix(f"{WHERE}: "), p.reason) for p in problems]
        raise Unprocessable("; ".join(f"{p.name}: {p.reason}" for p in named), named)
    if fields.point is not None:
        data = replace(data, geocoding=_pin(ctx))
    return replace(data, external_key=key)


MEMBER_EDIT = EditSpec[Membership, MembershipData](
    editable=("name", "kind", "country", "state", "alliance", "role", "joined", "source_url", "lat", "lon"),
    derived=frozenset(
        {
            "ags",
            "district",
            "joined_date",
            "joined_precision",
            "geocoding",
            "created_at",
            "updated_at",
            "distance_m",
        }
    ),
    location=("name", "kind", "state", "country"),
    body_of=member_body,
    build=build_member,
    new_key=lambda d: member_key(d.alliance.value, d.municipality.country, d.municipality.name),
)
