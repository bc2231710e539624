"""The shipped BKG VG5000 boundaries: named areas (state, district, municipality) and point lookups."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

import numpy as np
import orjson
import shapely
from shapely.geometry.base import BaseGeometry

from poi_service.errors import InvalidInput, InvalidParam, invalid

FILES = {
    "state": "de_states_vg5000_2021.geojson",
    "district": "de_districts_vg5000_2021-07-01_400.geojson",
    "municipality": "de_municipalities_vg5000_2021-01-01.geojson",
}
# Generalised borders (1:5,000,000) put some coastal and border points just outside every polygon;
# such points take the nearest municipality within this many degrees (about 350-550 m), the
# order of the generalisation error. Farther out, a point is outside Germany.
NEAREST_FALLBACK_DEG = 0.005


class Level(StrEnum):
    """Administrative level of an area; AGS length 2, 5 or 8."""

    STATE = "state"
    DISTRICT = "district"
    MUNICIPALITY = "municipality"


@dataclass(frozen=True, slots=True)
class Area:
    """One administrative area of the shipped boundaries."""

    level: Level
    ags: str
    name: str
    designation: str
    geometry: BaseGeometry


def fold(text: str) -> str:
    """Case- and accent-insensitive key for area names ('Schleswig-Holstein' == 'schleswig holstein')."""
    text = text.replace("ß", "ss").replace("ẞ", "ss")
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.replace("-", " ").split())


class Boundaries:
    """Areas by AGS and name, and point-in-area lookups, from data/boundaries."""

    def __init__(self, areas: list[Area]) -> None:
        self.areas = areas
        self._by_ags = {a.ags: a for a in areas}
        self._by_name: dict[str, list[Area]] = {}
        for area in areas:
            self._by_name.setdefault(fold(area.name), []).append(area)
        self._municipalities = [a for a in areas if a.level == Level.MUNICIPALITY]
        self._tree = shapely.STRtree([a.geometry for a in self._municipalities])

    @classmethod
    def load(cls, data_dir: Path) -> Boundaries:
        """Reads the three GeoJSON files (about one second; callers keep the result)."""
        return _load_cached(data_dir.resolve())

    def get(self, ags: str) -> Area | None:
        """The area with this AGS (2, 5 or 8 digits)."""
        return self._by_ags.get(ags)

    def resolve(self, text: str, param: str = "area") -> Area:
        """An area by AGS or by name; a name shared by different areas is refused with the candidates."""
        key = text.strip()
        if key.isdigit():
            area = self._by_ags.get(key)
            if area is None:
                raise invalid(param, f"no state, district or municipality has AGS {key}")
            return area
        matches = self._by_name.get(fold(key), [])
        # A kreisfreie Stadt is both a district and a municipality of the same extent: keep the district.
        districts = {a.ags for a in matches if a.level == Level.DISTRICT}
        matches = [a for a in matches if not (a.level == Level.MUNICIPALITY and a.ags[:5] in districts)]
        if not matches:
            raise invalid(param, f"no state, district or municipality is named {key!r}")
        if len(matches) > 1:
            options = ", ".join(f"{a.ags} ({a.designation} {a.name})" for a in matches)
            raise InvalidInput(
                f"{param}: {key!r} names several areas; give the AGS of one: {options}",
                [InvalidParam(param, "ambiguous area name")],
            )
        return matches[0]

    def municipality_ags(self, lons: np.ndarray, lats: np.ndarray) -> list[str | None]:
        """The AGS of the municipality containing each point (None outside Germany)."""
        points = shapely.points(lons, lats)
        found: list[str | None] = [None] * len(points)
        point_idx, poly_idx = self._tree.query(points, predicate="intersects")
        for p, g in zip(point_idx.tolist(), poly_idx.tolist(), strict=True):
            if found[p] is None:
                found[p] = self._municipalities[g].ags
        missing = [i for i, v in enumerate(found) if v is None]
        if missing:
            near_p, near_g = self._tree.query_nearest(
                points[missing], max_distance=NEAREST_FALLBACK_DEG, all_matches=False
            )
            for p, g in zip(near_p.tolist(), near_g.tolist(), strict=True):
                found[missing[p]] = self._municipalities[g].ags
        return found

    def containing(self, lon: float, lat: float) -> list[Area]:
        """Municipality, district and state containing a point, smallest first (empty outside Germany)."""
        ags = self.municipality_ags(np.array([lon]), np.array([lat]))[0]
        if ags is None:
            return []
        chain = [self._by_ags.get(ags), self._by_ags.get(ags[:5]), self._by_ags.get(ags[:2])]
        return [a for a in chain if a is not None]


@cache
def level_areas(data_dir: Path, level: Level) -> tuple[Area, ...]:
    """The areas of one level in file order (the map's basemap starts with the small state file)."""
    features = orjson.loads((data_dir.resolve() / "boundaries" / FILES[level]).read_bytes())["features"]
    # one vectorised parse (shapely releases the GIL for it) instead of json.dumps + parse per feature
    geometries = shapely.from_geojson([orjson.dumps(f["geometry"]) for f in features]).tolist()
    return tuple(
        Area(
            level,
            f["properties"]["ags"],
            f["properties"]["name"],
            f["properties"].get("designation") or "",
            g,
        )
        for f, g in zip(features, geometries, strict=True)
    )


@cache
def _load_cached(data_dir: Path) -> Boundaries:
    return Boundaries([a for level in Level for a in level_areas(data_dir, level)])
