"""Completing OSM addresses (postcode, town, municipality key) and merging street ways per name and town."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from poi_service.geo import geodesic_m
from poi_service.geocode.housenumbers import street_match_key, town_key
from poi_service.models import Point
from poi_service.store.base import AddressPoint, StreetLine

if TYPE_CHECKING:
    from poi_service.osm.addresses import AddressReport

_GEOD = Geod(ellps="WGS84")
WORLD_TOWN_M = 30_000.0  # outside Germany a town without addr:city is the nearest city this close


@dataclass(frozen=True, slots=True)
class RawAddress:
    """An address as tagged in OSM (postcode and town may be missing)."""

    street: str
    housenumber: str
    point: Point
    postcode: str | None
    city: str | None
    osm: str


@dataclass(frozen=True, slots=True)
class RawStreet:
    """One highway way with a name."""

    name: str
    line: BaseGeometry


def _municipalities(data_dir: Path, points: list[Point]) -> list[str | None]:
    from poi_service.boundaries import Boundaries

    if not points:
        return []
    lons = np.array([p.lon for p in points])
    lats = np.array([p.lat for p in points])
    return Boundaries.load(data_dir).municipality_ags(lons, lats)


def _world_town(point: Point) -> str | None:
    from poi_service.geocode.world import load_world

    city = load_world().nearest(point.lon, point.lat, WORLD_TOWN_M)
    return city.name if city else None


def complete(raw: list[RawAddress], data_dir: Path, report: AddressReport) -> list[AddressPoint]:
    """AddressPoints with the municipality key from the shipped boundaries; a missing town from the
    municipality's name (abroad: the nearest city), a missing postcode from the nearest GeoNames
    postcode place of the municipality (approximate: postcode areas are not shipped)."""
    from poi_service.geocode.gazetteer import load_gazetteer

    gaz = load_gazetteer(data_dir)
    agss = _municipalities(data_dir, [a.point for a in raw])
    world: dict[tuple[float, float], str | None] = {}
    out = []
    for a, ags in zip(raw, agss, strict=True):
        city, postcode = a.city, a.postcode
        if city is None:
            muni = gaz.by_ags.get(ags) if ags else None
            if muni is not None:
                city = muni.name
            else:
                cell = (round(a.point.lon, 2), round(a.point.lat, 2))  # ~1 km cells: one lookup each
                if cell not in world:
                    world[cell] = _world_town(a.point)
                city = world[cell]
            report.filled_cities += city is not None
        if postcode is None and ags:
            rows = gaz.postcodes_by_ags.get(ags, [])
            if rows:
                dist = geodesic_m(
                    a.point.lon, a.point.lat, np.array([r.lon for r in rows]), np.array([r.lat for r in rows])
                )
                postcode = rows[int(np.argmin(dist))].plz
                report.filled_postcodes += 1
        out.append(
            AddressPoint(
                a.street, street_match_key(a.street), a.housenumber, a.point, postcode, city, ags, a.osm
            )
        )
    return out


def merge_streets(ways: list[RawStreet], addresses: list[AddressPoint], data_dir: Path) -> list[StreetLine]:
    """One StreetLine per street key and municipality (abroad: per key and town of its addresses)."""
    mids = [_middle(w.line) for w in ways]
    agss = _municipalities(data_dir, mids)
    towns_by_key: dict[str, Counter[str]] = defaultdict(Counter)
    for a in addresses:
        if a.city:
            towns_by_key[a.street_key][a.city] += 1
    groups: dict[tuple[str, str], list[RawStreet]] = defaultdict(list)
    places: dict[tuple[str, str], tuple[str | None, str | None]] = {}
    for way, mid, ags in zip(ways, mids, agss, strict=True):
        key = street_match_key(way.name)
        if ags is not None:
            group = (key, ags)
            places.setdefault(group, (None, ags))
        else:
            towns = towns_by_key.get(key)
            town = towns.most_common(1)[0][0] if towns else _world_town(mid)
            group = (key, town_key(town) if town else "")
            places.setdefault(group, (town, None))
        groups[group].append(way)
    return [_street(members, *places[group], data_dir) for group, members in groups.items()]


def _street(members: list[RawStreet], town: str | None, ags: str | None, data_dir: Path) -> StreetLine:
    from poi_service.geocode.gazetteer import load_gazetteer

    name = Counter(m.name for m in members).most_common(1)[0][0]
    merged = shapely.line_merge(shapely.union_all([m.line for m in members]))
    if ags is not None:
        muni = load_gazetteer(data_dir).by_ags.get(ags)
        town = muni.name if muni else town
    length = float(_GEOD.geometry_length(merged))
    return StreetLine(name, street_match_key(name), merged, _middle(merged), length, town, ags)


def _middle(line: BaseGeometry) -> Point:
    """The point halfway along the line(s) by length: it lies on the street."""
    p = line.interpolate(0.5, normalized=True)
    return Point(p.x, p.y)
