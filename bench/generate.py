"""Synthetic places distributed like Germany's population (shared by the store and PostGIS benches).

Every place picks a municipality from the Destatis gazetteer with probability proportional to its
population, then lands uniformly in a disc of radius sqrt(area_km2)/2 km around the municipality
centre. Its `ags` comes from the shipped VG5000 boundaries (so within-district queries see the
same AGS the service would compute); points that fall into the sea or abroad get ags = None.
Everything is driven by one seeded numpy Generator, so the same (n, seed) gives the same places.

    arrays = generate_arrays(100_000, seed=42)      # compact columns (numpy), cheap to keep
    places = generate_places(100_000, seed=42)      # list[PlaceData] (about 400 bytes per place)
    for data in iter_places(arrays): ...            # PlaceData one at a time, for big imports
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from poi_service.boundaries import Boundaries
from poi_service.models import Address, Geocoding, PlaceData, Point, Precision

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
GAZETTEER = DATA_DIR / "gazetteer" / "gemeinden_destatis_2023-03-31.csv"

DEFAULT_SEED = 20260101
CATEGORIES = ("stolperstein", "driving_school", "church", "school", "accessible_parking", "artwork")
GEOCODED = Geocoding("bench", Precision.EXACT, 1.0, datetime(2026, 1, 1, tzinfo=UTC))
KM_PER_DEG_LAT = 111.32  # close enough for jitter and box sizes; distances are measured exactly elsewhere


@dataclass(frozen=True)
class Gazetteer:
    """Populated municipalities (lat != 0) as columns."""

    ags: npt.NDArray[np.str_]
    name: list[str]
    postcode: list[str | None]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    radius_km: npt.NDArray[np.float64]  # sqrt(area_km2) / 2
    weight: npt.NDArray[np.float64]  # population share, sums to 1
    district_ags: npt.NDArray[np.str_]


@cache
def gazetteer() -> Gazetteer:
    """The Destatis municipalities with a centre and inhabitants."""
    ags, name, postcode, lon, lat, radius, pop, district = [], [], [], [], [], [], [], []
    with GAZETTEER.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            la = float(row["lat"] or 0)
            people = int(row["population"] or 0)
            if la == 0 or people <= 0:
                continue
            ags.append(row["ags"])
            name.append(row["name_short"] or row["name"])
            postcode.append(row["postcode"] or None)
            lon.append(float(row["lon"]))
            lat.append(la)
            radius.append(np.sqrt(float(row["area_km2"] or 0)) / 2.0)
            pop.append(people)
            district.append(row["district_ags"])
    weight = np.asarray(pop, dtype=np.float64)
    return Gazetteer(
        np.asarray(ags),
        name,
        postcode,
        np.asarray(lon),
        np.asarray(lat),
        np.asarray(radius),
        weight / weight.sum(),
        np.asarray(district),
    )


@dataclass(frozen=True)
class PlaceArrays:
    """n generated places as columns; row i is the place named 'Ort {i}'."""

    lons: npt.NDArray[np.float64]
    lats: npt.NDArray[np.float64]
    ags: npt.NDArray[np.str_]  # '<U8', '' outside every municipality
    district: npt.NDArray[np.int32]  # int(ags[:5]), -1 outside Germany: brute-force district masks
    category: npt.NDArray[np.int8]  # index into CATEGORIES
    origin: npt.NDArray[np.int32]  # index of the gazetteer municipality the point was drawn around

    def __len__(self) -> int:
        return len(self.lons)

    def ags_of(self, i: int) -> str | None:
        """The AGS of row i (None outside Germany)."""
        return str(self.ags[i]) or None


def sample_points(
    n: int, rng: np.random.Generator
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int32]]:
    """n (lon, lat) points from the population distribution, and the municipality each came from."""
    g = gazetteer()
    origin = rng.choice(len(g.weight), size=n, p=g.weight).astype(np.int32)
    r = g.radius_km[origin] * np.sqrt(rng.random(n))  # uniform in the disc
    theta = rng.random(n) * 2.0 * np.pi
    lat0 = g.lat[origin]
    lats = lat0 + r * np.sin(theta) / KM_PER_DEG_LAT
    lons = g.lon[origin] + r * np.cos(theta) / (KM_PER_DEG_LAT * np.cos(np.radians(lat0)))
    return lons, lats, origin


def generate_arrays(n: int, seed: int = DEFAULT_SEED) -> PlaceArrays:
    """n places as numpy columns (ags from the shipped boundaries, vectorised)."""
    rng = np.random.default_rng(seed)
    lons, lats, origin = sample_points(n, rng)
    category = rng.integers(0, len(CATEGORIES), size=n, dtype=np.int8)
    found = Boundaries.load(DATA_DIR).municipality_ags(lons, lats)
    ags = np.array([a or "" for a in found], dtype="<U8")
    district = np.fromiter((int(a[:5]) if a else -1 for a in found), np.int32, n)
    return PlaceArrays(lons, lats, ags, district, category, origin)


def iter_places(arrays: PlaceArrays) -> Iterator[PlaceData]:
    """The places of `arrays` as PlaceData, built one at a time (no list of a million objects)."""
    g = gazetteer()
    lons = arrays.lons.tolist()
    lats = arrays.lats.tolist()
    ags = arrays.ags.tolist()
    cats = arrays.category.tolist()
    origin = arrays.origin.tolist()
    for i in range(len(lons)):
        o = origin[i]
        yield PlaceData(
            name=f"Ort {i}",
            category=CATEGORIES[cats[i]],
            address=Address(None, None, g.postcode[o], g.name[o], ags[i] or None),
            point=Point(lons[i], lats[i]),
            geocoding=GEOCODED,
        )


def generate_places(n: int, seed: int = DEFAULT_SEED) -> list[PlaceData]:
    """n places like Germany's population, named 'Ort 0' .. 'Ort {n-1}' (row i <-> 'Ort {i}')."""
    return list(iter_places(generate_arrays(n, seed)))


def row_of(name: str) -> int:
    """The generator row of a place named 'Ort {i}'."""
    return int(name.removeprefix("Ort "))


# -- query workloads -------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """Query inputs drawn from the same population distribution as the places."""

    lons: npt.NDArray[np.float64]  # query centres (nearby, k-nearest, bbox)
    lats: npt.NDArray[np.float64]
    districts: list[str]  # 5-digit district AGS, weighted by population (within-district)
    bbox_half_km: float

    def bbox(self, i: int) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy): a box of 2 * bbox_half_km around centre i."""
        lon, lat = float(self.lons[i]), float(self.lats[i])
        dlat = self.bbox_half_km / KM_PER_DEG_LAT
        dlon = self.bbox_half_km / (KM_PER_DEG_LAT * np.cos(np.radians(lat)))
        return lon - dlon, lat - dlat, lon + dlon, lat + dlat


def district_weights() -> tuple[list[str], npt.NDArray[np.float64]]:
    """Districts that the shipped boundaries know, with their population share."""
    g = gazetteer()
    boundaries = Boundaries.load(DATA_DIR)
    totals: dict[str, float] = {}
    for d, w in zip(g.district_ags.tolist(), g.weight.tolist(), strict=True):
        totals[d] = totals.get(d, 0.0) + w
    known = sorted(d for d in totals if boundaries.get(d) is not None)
    weight = np.array([totals[d] for d in known])
    return known, weight / weight.sum()


def make_workload(m: int, seed: int = DEFAULT_SEED, bbox_half_km: float = 1.0) -> Workload:
    """m query centres and m districts (a different stream from the places of the same seed)."""
    rng = np.random.default_rng([seed, 1])
    lons, lats, _ = sample_points(m, rng)
    names, weight = district_weights()
    picks = rng.choice(len(names), size=m, p=weight)
    return Workload(lons, lats, [names[i] for i in picks.tolist()], bbox_half_km)


def uniform_points(
    m: int, seed: int = DEFAULT_SEED
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """m points uniformly random in Germany (inside the shipped VG5000 state boundaries), uniform in
    area: latitudes by the sine of the latitude, so a square kilometre in the north is as likely as
    one in the south. The issue's public workload: most such points are rural, with few places near."""
    import shapely
    from shapely.ops import unary_union

    from poi_service.boundaries import Boundaries, Level

    states = [a.geometry for a in Boundaries.load(DATA_DIR).areas if a.level == Level.STATE]
    germany = unary_union(states)
    shapely.prepare(germany)
    minx, miny, maxx, maxy = germany.bounds
    rng = np.random.default_rng([seed, 2])
    lons: list[npt.NDArray[np.float64]] = []
    lats: list[npt.NDArray[np.float64]] = []
    have = 0
    s0, s1 = np.sin(np.radians(miny)), np.sin(np.radians(maxy))
    while have < m:
        x = rng.uniform(minx, maxx, 2 * m)
        y = np.degrees(np.arcsin(rng.uniform(s0, s1, 2 * m)))
        inside = shapely.contains_xy(germany, x, y)
        lons.append(x[inside])
        lats.append(y[inside])
        have += int(inside.sum())
    return np.concatenate(lons)[:m], np.concatenate(lats)[:m]
