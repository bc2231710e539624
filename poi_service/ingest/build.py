"""Checked rows to PlaceData (and helpers shared with members.py): input coordinates win, else the geocoder."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import numpy as np
import shapely

from poi_service.boundaries import NEAREST_FALLBACK_DEG, Boundaries
from poi_service.categories import Vocabulary
from poi_service.errors import ImportFailed, InvalidParam
from poi_service.geocode.addresses import AddressGeocoder
from poi_service.geocode.base import GeocodeAnswer, GeocodeQuery, Geocoder, GeocodeResult
from poi_service.geocode.offline import OfflineGeocoder
from poi_service.ingest.validate import MAX_FIELD, Fields, PlaceFields, check_place
from poi_service.models import Address, Geocoding, PlaceData, Point, Precision

MIN_CONFIDENCE = 0.5  # weaker geocoder answers are refused rather than stored
MAX_SHOWN_ERRORS = 50
MANY_QUERIES = 200  # border geocodes worth one count of the address index (_town_geocoder)
PROVENANCE_COLUMNS = (
    "coord_source",
    "geocode_source",
    "geocode_precision",
    "geocode_confidence",
    "geocoded_at",
)


class Progress(Protocol):
    """Told how far a stage ('geocode', 'write') has got."""

    def __call__(self, stage: str, done: int, total: int) -> None:
        """done of total items of stage are finished."""


def no_progress(stage: str, done: int, total: int) -> None:
    """Progress that reports nothing."""


@dataclass(frozen=True, slots=True)
class RawRow:
    """One input record and where it stands in its file ('line 7', 'feature 3', 'row 2')."""

    where: str
    fields: Mapping[str, object]
    problems: tuple[InvalidParam, ...] = ()  # structural faults found while reading (names carry `where`)


def place_key(name: str, street: str | None, housenumber: str | None, locality: str | None) -> str:
    """Stable external key of a place without one: 'places:' + normalised name|street|housenumber|locality."""
    parts = (name, street or "", housenumber or "", locality or "")
    return "places:" + "|".join(" ".join(unicodedata.normalize("NFKC", p).casefold().split()) for p in parts)


def member_key(alliance: str, country: str, name: str) -> str:
    """External key of a membership: 'alliance:{alliance}:{country}:{name}'."""
    return f"alliance:{alliance}:{country}:{' '.join(name.split())}"


def refuse(errors: list[InvalidParam], total: int, what: str) -> ImportFailed:
    """The error for a refused batch: how many rows failed, each problem named by its row."""
    rows = len({e.name.split(":", 1)[0] for e in errors})
    shown = errors[:MAX_SHOWN_ERRORS]
    more = f" (first {MAX_SHOWN_ERRORS} problems listed)" if len(errors) > len(shown) else ""
    return ImportFailed(f"{what}: {rows} of {total} rows refused, nothing was written{more}", shown)


def given_geocoding(
    raw: Mapping[str, object], at: datetime, errors: list[InvalidParam], where: str
) -> Geocoding:
    """Provenance of input coordinates: EXACT from 'input', unless the row carries its own (exports)."""
    if all(raw.get(c) is None for c in PROVENANCE_COLUMNS):  # none to check (files not from an export)
        return Geocoding("input", Precision.EXACT, 1.0, at)
    f = Fields(raw)
    coord_source = f.text("coord_source", 500)
    source = f.text("geocode_source", 100) or ("input: " + coord_source if coord_source else "input")
    precision, confidence, when = Precision.EXACT, 1.0, at
    text = f.text("geocode_precision", 20)
    if text is not None:
        try:
            precision = Precision(text.casefold())
        except ValueError:
            f.error("geocode_precision", f"must be one of {', '.join(p.value for p in Precision)}")
    number = f.number("geocode_confidence")
    if number is not None and not 0.0 <= number <= 1.0:
        f.error("geocode_confidence", "must be within 0..1")
    elif number is not None:
        confidence = number
    stamp = f.text("geocoded_at", 40)
    if stamp is not None:
        try:
            when = datetime.fromisoformat(stamp)
            when = when if when.tzinfo else when.replace(tzinfo=UTC)
        except ValueError:
            f.error("geocoded_at", f"must be an ISO 8601 timestamp, got {stamp!r}")
    errors.extend(InvalidParam(f"{where}: {e.name}", e.reason) for e in f.errors)
    return Geocoding(source, precision, confidence, when)


def explain(answer: GeocodeAnswer, what: str) -> str:
    """Why an answer locates nothing: ambiguous (with candidates) or unknown."""
    if answer.candidates:
        labels = "; ".join(c.label for c in answer.candidates[:5])
        return f"{what} is ambiguous ({labels}): add a postcode, state or coordinates"
    return f"{what} was not found by the geocoder: check the spelling or give lat/lon"


def accept(answer: GeocodeAnswer, what: str, coarsest: Precision) -> GeocodeResult | str:
    """The best result if it is confident and fine enough; otherwise the reason to refuse the row."""
    best = answer.best
    if best is None:
        return explain(answer, what)
    if best.precision.rank > coarsest.rank:
        return f"{what} is located only to {best.precision.value} level ({best.label}): give coordinates"
    if best.confidence < MIN_CONFIDENCE:
        return f"{what}: the geocoder is unsure ({best.label}, confidence {best.confidence:.2f})"
    return best


def own_key(raw: Mapping[str, object], where: str, errors: list[InvalidParam]) -> str | None:
    """The row's external_key column, if it has one."""
    f = Fields(raw)
    key = f.text("external_key", MAX_FIELD)
    errors.extend(InvalidParam(f"{where}: {e.name}", e.reason) for e in f.errors)
    return key


def unique_keys(rows: list[tuple[str, str]], errors: list[InvalidParam]) -> None:
    """A key twice in one batch would silently drop a row: refuse it."""
    first: dict[str, str] = {}
    for where, key in rows:
        if key in first:
            errors.append(InvalidParam(f"{where}: external_key", f"{key!r} repeats {first[key]}"))
        else:
            first[key] = where


@dataclass(slots=True)
class _Place:
    where: str
    fields: PlaceFields
    point: Point
    geocoding: Geocoding
    ags: str | None
    key: str
    from_point: bool  # input coordinates: the municipality comes from the boundaries


def build_places(
    rows: Sequence[RawRow],
    geocoder: Geocoder,
    vocabulary: Vocabulary,
    data_dir: Path,
    *,
    at: datetime,
    what: str,
    progress: Progress = no_progress,
) -> list[PlaceData]:
    """PlaceData for every row, or ImportFailed naming each bad row; nothing is written here."""
    chunks = place_chunks(rows, geocoder, vocabulary, data_dir, at=at, what=what, progress=progress)
    return [p for chunk in chunks for p in chunk]


def place_chunks(
    rows: Sequence[RawRow],
    geocoder: Geocoder,
    vocabulary: Vocabulary,
    data_dir: Path,
    *,
    at: datetime,
    what: str,
    progress: Progress = no_progress,
    size: int | None = None,
) -> Iterator[list[PlaceData]]:
    """The PlaceData of each `size` rows (default: all) once checked, while no row has failed; at the end
    ImportFailed naming each bad row (also after handing out chunks: the caller must then drop them)."""
    errors: list[InvalidParam] = []
    keys: list[tuple[str, str]] = []
    towns = _Towns(geocoder)
    step = max(1, size or len(rows))
    for start in range(0, len(rows), step):
        built: list[_Place] = []
        for i, row in enumerate(rows[start : start + step], start=start + 1):
            fields, problems = check_place(row.fields, vocabulary)
            errors.extend(row.problems)
            errors.extend(InvalidParam(f"{row.where}: {p.name}", p.reason) for p in problems)
            key = own_key(row.fields, row.where, errors)
            if fields is not None and not row.problems:
                a = fields.address
                key = key or place_key(fields.name, a.street, a.housenumber, a.locality)
                place = _locate_place(row, fields, key, geocoder, at, errors)
                if place is not None:
                    built.append(place)
            progress("geocode", i, len(rows))
        exact = [p for p in built if p.from_point]
        if exact:
            for p, ags in zip(exact, _stated_ags(exact, towns, Boundaries.load(data_dir)), strict=True):
                p.ags = ags
        keys.extend((p.where, p.key) for p in built)
        if not errors:
            yield [_place_data(p) for p in built]
    unique_keys(keys, errors)
    if errors:
        raise refuse(errors, len(rows), what)


def _place_data(p: _Place) -> PlaceData:
    a = p.fields.address
    return PlaceData(
        name=p.fields.name,
        category=p.fields.category,
        address=Address(a.street, a.housenumber, a.postcode, a.locality, p.ags),
        point=p.point,
        geocoding=p.geocoding,
        phone=p.fields.phone,
        website=p.fields.website,
        description=p.fields.description,
        source=p.fields.source,
        external_key=p.key,
        opening_hours=p.fields.opening_hours,
        wheelchair=p.fields.wheelchair,
        names=p.fields.names,
        osm_version=p.fields.osm_version,
        osm_timestamp=p.fields.osm_timestamp,
    )


def _locate_place(
    row: RawRow, f: PlaceFields, key: str, geocoder: Geocoder, at: datetime, errors: list[InvalidParam]
) -> _Place | None:
    if f.point is not None:
        return _Place(
            row.where, f, f.point, given_geocoding(row.fields, at, errors, row.where), None, key, True
        )
    a = f.address
    if not (a.postcode or a.locality):
        errors.append(
            InvalidParam(f"{row.where}: lat", "give lat/lon, or an address with postcode or locality")
        )
        return None
    query = GeocodeQuery(None, a.street, a.housenumber, a.postcode, a.locality, None, "DE")
    found = accept(geocoder.geocode(query), f"address {a.one_line()!r}", Precision.MUNICIPALITY)
    if isinstance(found, str):
        errors.append(InvalidParam(f"{row.where}: address", found))
        return None
    ags = found.ags if found.ags and len(found.ags) == 8 else lookup_ags(found, geocoder)
    return _Place(row.where, f, found.point, found.provenance(at), ags, key, False)


class _Towns:
    """The geocoder answers of an import's border points, by address (or by town where that is the same)."""

    def __init__(self, geocoder: Geocoder) -> None:
        self.geocoder = geocoder
        self.resolved: tuple[Geocoder, bool] | None = None
        self.answers: dict[tuple[str | None, ...], str | None] = {}

    def resolve(self, queries: int) -> tuple[Geocoder, bool]:
        """_town_geocoder, asked once it is worth it and then kept for the import."""
        if self.resolved is not None:
            return self.resolved
        found = _town_geocoder(self.geocoder, queries)
        if queries >= MANY_QUERIES:
            self.resolved = found
        return found


def _stated_ags(places: Sequence[_Place], towns: _Towns, boundaries: Boundaries) -> list[str | None]:
    """Each point's municipality, or its address's own one when the point lies within the border
    generalisation of that.

    The shipped borders are generalised (1:5,000,000): a point a few hundred metres across a border
    keeps the municipality its address names (e.g. a Harrislee address just inside Flensburg's outline).
    Only points that close to a border cost a geocoder call, one per distinct address: the distances
    are measured for all points at once (the same GEOS distance as one at a time).
    """
    lons = np.fromiter((p.point.lon for p in places), np.float64, len(places))
    lats = np.fromiter((p.point.lat for p in places), np.float64, len(places))
    found = boundaries.municipality_ags(lons, lats)
    points = shapely.points(lons, lats)
    edges: dict[str, shapely.Geometry] = {}
    todo: list[int] = []
    borders: list[shapely.Geometry] = []
    for i, (p, ags) in enumerate(zip(places, found, strict=True)):
        area = boundaries.get(ags) if ags else None
        if ags and area is not None and (p.fields.address.postcode or p.fields.address.locality):
            if ags not in edges:
                edges[ags] = area.geometry.boundary
            todo.append(i)
            borders.append(edges[ags])
    if not todo:
        return found
    close = np.asarray(todo)[shapely.distance(borders, points[todo]) <= NEAREST_FALLBACK_DEG].tolist()
    geocoder, town_only = towns.resolve(len(close))
    answers = towns.answers
    out = list(found)
    for i in close:
        a = places[i].fields.address
        key = (a.postcode, a.locality) if town_only else (a.street, a.housenumber, a.postcode, a.locality)
        if key not in answers:
            query = GeocodeQuery(None, a.street, a.housenumber, a.postcode, a.locality, None, "DE")
            best = geocoder.geocode(query).best
            ok = best is not None and best.ags is not None and len(best.ags) == 8 and best.confidence >= 1.0
            answers[key] = best.ags if ok and best is not None else None
        stated = answers[key]
        stated_area = boundaries.get(stated) if stated and stated != found[i] else None
        if stated_area is not None and stated_area.geometry.distance(points[i]) <= NEAREST_FALLBACK_DEG:
            out[i] = stated
    return out


def _town_geocoder(geocoder: Geocoder, queries: int) -> tuple[Geocoder, bool]:
    """The geocoder that answers an import's address queries, and whether only postcode and locality
    matter to it (so one answer serves every address of a town).

    An AddressGeocoder over an empty address index answers exactly like the gazetteer geocoder it
    wraps (every street lookup finds nothing); the gazetteer geocoder reads no street or house number.
    Counting the index costs more than a few queries: only asked for many.
    """
    if isinstance(geocoder, AddressGeocoder) and queries >= MANY_QUERIES:
        counts = geocoder.index.counts()
        if counts.addresses == 0 and counts.streets == 0:
            geocoder = geocoder.base
    return geocoder, isinstance(geocoder, OfflineGeocoder)


def lookup_ags(found: GeocodeResult, geocoder: Geocoder) -> str | None:
    """The municipality key of a result that has none, from a reverse lookup of its point."""
    rev = geocoder.reverse(found.point) if found.precision.rank <= Precision.MUNICIPALITY.rank else None
    return rev.municipality_ags if rev else None
