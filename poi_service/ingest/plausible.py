"""Doubts about a place's location that field rules cannot see: a postcode of another town, or an editor's
pin far from the record's municipality (lat and lon swapped, a slip of the mouse). Writes answer 422
naming the fields unless the editor confirms (force=true); `poi-service data check --store` lists them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from poi_service.errors import InvalidParam
from poi_service.geo import geodesic_m
from poi_service.geocode.gazetteer import MunicipalityEntry, load_gazetteer
from poi_service.geocode.normalize import place_key
from poi_service.models import Place, PlaceData

FAR_M = (
    10_000  # a pin this far from every municipality named like the locality (and outside them) is doubtful
)
EDITOR_SOURCE = "editor"


def _homes(locality: str | None, data_dir: Path) -> list[MunicipalityEntry]:
    if not locality or not locality.strip():
        return []
    return list(load_gazetteer(data_dir).exact.get(place_key(locality), []))


def postcode_doubt(postcode: str | None, locality: str | None, data_dir: Path) -> str | None:
    """Why the postcode does not belong to the locality, or None (also when either is unknown offline)."""
    gaz = load_gazetteer(data_dir)
    homes = _homes(locality, data_dir)
    entries = gaz.postcodes.get(postcode or "", [])
    if not homes or not entries or locality is None:
        return None
    if {e.ags for e in entries} & {m.ags for m in homes}:
        return None
    if place_key(locality) in {place_key(e.place) for e in entries}:
        return None
    towns = sorted(
        {gaz.by_ags[e.ags].name for e in entries if e.ags in gaz.by_ags} or {e.place for e in entries}
    )
    return f"{postcode} is not a postcode of {locality} (GeoNames: {', '.join(towns)})"


def pin_doubt(lon: float, lat: float, ags: str | None, locality: str | None, data_dir: Path) -> str | None:
    """Why the point lies implausibly far from the locality's municipality, or None."""
    homes = _homes(locality, data_dir)
    if not homes or ags in {m.ags for m in homes}:
        return None
    dist = float(
        geodesic_m(lon, lat, np.array([m.lon for m in homes]), np.array([m.lat for m in homes])).min()
    )
    if dist <= FAR_M:
        return None
    back = geodesic_m(lat, lon, np.array([m.lon for m in homes]), np.array([m.lat for m in homes])).min()
    swapped = " (lat and lon swapped?)" if abs(lon) <= 90 and float(back) <= FAR_M else ""
    return f"the point lies {dist / 1000:,.0f} km from {locality}, outside it{swapped}"


def place_doubts(data: PlaceData, before: Place | None, data_dir: Path) -> list[InvalidParam]:
    """The doubts about a place as written: only about what the write changes (a PATCH of the phone number
    of an odd record is no occasion to question its address)."""
    a = data.address
    out: list[InvalidParam] = []
    old = before.address if before is not None else None
    if old is None or (old.postcode, old.locality) != (a.postcode, a.locality):
        reason = postcode_doubt(a.postcode, a.locality, data_dir)
        if reason:
            out += [InvalidParam("postcode", reason), InvalidParam("locality", reason)]
    moved = before is None or before.point != data.point or (old is not None and old.locality != a.locality)
    if data.geocoding.source == EDITOR_SOURCE and moved:
        reason = pin_doubt(data.point.lon, data.point.lat, a.ags, a.locality, data_dir)
        if reason:
            out += [InvalidParam("lat", reason), InvalidParam("lon", reason)]
    return out


def stored_doubts(place: Place, data_dir: Path) -> list[tuple[str, str]]:
    """(field, reason) of every doubt about a stored place (for `data check`)."""
    a = place.address
    out = []
    reason = postcode_doubt(a.postcode, a.locality, data_dir)
    if reason:
        out.append(("postcode", reason))
    reason = pin_doubt(place.point.lon, place.point.lat, a.ags, a.locality, data_dir)
    if reason:
        out.append(("lat/lon", reason))
    return out
