"""Checked rows to MembershipData: input coordinates win, else the geocoder at municipality or district level."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from poi_service.boundaries import Boundaries
from poi_service.errors import InvalidParam
from poi_service.geocode import member_query
from poi_service.geocode.base import Geocoder
from poi_service.ingest.build import (
    Progress,
    RawRow,
    accept,
    given_geocoding,
    member_key,
    no_progress,
    own_key,
    refuse,
    unique_keys,
)
from poi_service.ingest.validate import MemberFields, check_member
from poi_service.models import MembershipData, Municipality, Precision

DISTRICT_KINDS = frozenset({"landkreis", "kreis", "region", "district"})
MUNICIPAL_KINDS = frozenset({"stadt", "gemeinde"})


def build_memberships(
    rows: Sequence[RawRow],
    geocoder: Geocoder,
    data_dir: Path,
    *,
    at: datetime,
    what: str,
    progress: Progress = no_progress,
) -> list[MembershipData]:
    """MembershipData for every row, or ImportFailed naming each bad row; nothing is written here."""
    errors: list[InvalidParam] = []
    out: list[tuple[str, MembershipData]] = []
    for i, row in enumerate(rows, start=1):
        fields, problems = check_member(row.fields)
        errors.extend(row.problems)
        errors.extend(InvalidParam(f"{row.where}: {p.name}", p.reason) for p in problems)
        key = own_key(row.fields, row.where, errors)
        if fields is not None and not row.problems:
            data = locate_member(row, fields, geocoder, data_dir, at, errors)
            if data is not None:
                key = key or member_key(fields.alliance.value, fields.country, fields.name)
                out.append((row.where, replace(data, external_key=key)))
        progress("geocode", i, len(rows))
    unique_keys([(where, d.external_key or "") for where, d in out], errors)
    if errors:
        raise refuse(errors, len(rows), what)
    return [d for _, d in out]


def locate_member(
    row: RawRow, f: MemberFields, geocoder: Geocoder, data_dir: Path, at: datetime, errors: list[InvalidParam]
) -> MembershipData | None:
    """One membership located by its coordinates or its name, state and country (None if refused)."""
    district_kind = f.kind.casefold() in DISTRICT_KINDS
    if f.point is not None:
        geocoding = given_geocoding(row.fields, at, errors, row.where)
        point = f.point
        chain = {a.level.value: a for a in Boundaries.load(data_dir).containing(point.lon, point.lat)}
        muni, district, state = chain.get("municipality"), chain.get("district"), chain.get("state")
        ags = (district.ags if district_kind else muni.ags) if muni and district else None
        state_name = state.name if state else f.state
        district_name = district.name if district else None
    else:
        coarsest = Precision.MUNICIPALITY if f.kind.casefold() in MUNICIPAL_KINDS else Precision.DISTRICT
        found = accept(
            geocoder.geocode(member_query(f.name, f.kind, f.state, f.country)), repr(f.name), coarsest
        )
        if not isinstance(found, str) and district_kind and found.precision != Precision.DISTRICT:
            found = f"kind {f.kind} but the geocoder found {found.label!r} ({found.precision.value} level)"
        if not isinstance(found, str) and found.country.upper() != f.country:
            found = f"country {f.country} but the geocoder found {found.label!r} in {found.country}"
        if isinstance(found, str):
            errors.append(InvalidParam(f"{row.where}: name", found))
            return None
        point, geocoding, ags = found.point, found.provenance(at), found.ags
        state_name, district_name = found.state or f.state, found.district
    municipality = Municipality(f.name, f.kind, f.country, ags, state_name, district_name)
    return MembershipData(
        municipality=municipality,
        alliance=f.alliance,
        role=f.role,
        point=point,
        geocoding=geocoding,
        joined=f.joined,
        joined_precision=f.joined_precision,
        source_url=f.source_url,
    )
