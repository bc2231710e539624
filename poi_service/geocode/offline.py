"""Offline geocoding from the shipped gazetteers: postcode, municipality or district precision at best."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from poi_service.boundaries import Boundaries, Level
from poi_service.geo import geodesic_m
from poi_service.geocode.base import GeocodeAnswer, GeocodeQuery, GeocodeResult, ReverseResult
from poi_service.geocode.gazetteer import Gazetteer, PostcodeEntry, load_gazetteer
from poi_service.geocode.names import NameMatch, resolve_name, scaled
from poi_service.geocode.normalize import place_key
from poi_service.geocode.parse import ParsedQuery, parse_query
from poi_service.geocode.world import SOURCE as WORLD_SOURCE
from poi_service.geocode.world import City, load_world
from poi_service.models import Point, Precision

SOURCE_POSTCODE = "offline:geonames-plz"
WORLD_RADIUS_M = 30_000.0
# Confidence of postcode answers (a locality that names the postcode's place is 1.0).
CONF_POSTCODE_ONLY = 0.9  # postcode alone, all its places in one municipality
CONF_POSTCODE_SPREAD = 0.8  # postcode alone, its places lie in several municipalities
CONF_POSTCODE_VIA_MUNICIPALITY = 0.9  # locality is the municipality the postcode's place belongs to
CONF_UNKNOWN_POSTCODE = 0.9  # the locality was found, the postcode given is not in our data
CONF_CONFLICT = 0.6  # postcode and locality disagree, or the locality was not understood
CONF_WORLD_ALTERNATE = 0.95  # city found by an alternate name ('Athen')
WORLD_NO_COUNTRY = 0.8  # factor when no country was given and the name is unknown in Germany
STRONG_SHARE = 0.1  # a foreign namesake with a tenth of the largest one's population is an alternative


class OfflineGeocoder:
    """Geocoder over Destatis, GeoNames postcodes, BKG boundaries and GeoNames cities; no network."""

    name = "offline"

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()

    @property
    def gazetteer(self) -> Gazetteer:
        """The German gazetteer (read on first use, then shared per data directory)."""
        return load_gazetteer(self.data_dir)

    def geocode(self, query: GeocodeQuery) -> GeocodeAnswer:
        """Best result, or candidates when the name is ambiguous; empty when nothing matches."""
        if query.is_empty():
            return GeocodeAnswer(None, [])
        gaz = self.gazetteer
        parsed = parse_query(query, gaz)
        if parsed.country not in (None, "DE"):
            return self._foreign(parsed, 1.0)
        answer, typo = self._german(parsed, gaz)
        if parsed.country or parsed.state_code or parsed.postcode:
            return answer  # a German state or postcode, or country DE, rules out the world gazetteer
        if answer.best is None and not answer.candidates:
            return self._foreign(parsed, WORLD_NO_COUNTRY)
        if typo:
            # A city of exactly that name abroad beats a misspelt German one ('Utrecht' is not
            # 'Utecht', 'Athen' not 'Lathen'); the German readings stay among the candidates.
            foreign = self._foreign(parsed, WORLD_NO_COUNTRY)
            if foreign.candidates:
                return GeocodeAnswer(foreign.best, [*foreign.candidates, *answer.candidates])
        return answer

    def reverse(self, point: Point) -> ReverseResult | None:
        """Municipality, district, state and postcode in Germany; elsewhere the nearest city within 30 km."""
        areas = {a.level: a for a in Boundaries.load(self.data_dir).containing(point.lon, point.lat)}
        muni = areas.get(Level.MUNICIPALITY)
        if muni is not None:
            district, state = areas.get(Level.DISTRICT), areas.get(Level.STATE)
            nearest = _nearest_postcode(self.gazetteer.postcodes_by_ags.get(muni.ags, []), point)
            return ReverseResult(
                point,
                "DE",
                muni.name,
                muni.ags,
                district.name if district else None,
                district.ags if district else None,
                state.name if state else None,
                state.ags if state else None,
                nearest.plz if nearest else None,
            )
        city = load_world().nearest(point.lon, point.lat, WORLD_RADIUS_M)
        if city is None:
            return None
        return ReverseResult(point, city.country, municipality=city.name, source=WORLD_SOURCE)

    def _german(self, parsed: ParsedQuery, gaz: Gazetteer) -> tuple[GeocodeAnswer, bool]:
        """The German answer, and whether it rests only on reading the name as a misspelling."""
        rows = gaz.postcodes.get(parsed.postcode, []) if parsed.postcode else []
        if parsed.state_code:
            rows = [r for r in rows if r.state_code == parsed.state_code]
        postcode_ags = {r.ags for r in rows}
        match: NameMatch | None = None
        for locality in parsed.localities:
            match = resolve_name(gaz, locality, parsed.state_code, postcode_ags, parsed.postcode)
            if match.results:
                break
        if not rows:
            if match is None or not match.results:
                return GeocodeAnswer(None, []), False
            if parsed.postcode:
                # A postcode we do not know (a large recipient's, or a typo): the locality alone decides.
                capped = [scaled(r, min(r.confidence, CONF_UNKNOWN_POSTCODE)) for r in match.results]
                match = NameMatch(capped, match.typo)
            return match.answer(), match.typo
        return self._with_postcode(gaz, rows, parsed.localities, match), False

    def _with_postcode(
        self, gaz: Gazetteer, rows: list[PostcodeEntry], localities: list[str], match: NameMatch | None
    ) -> GeocodeAnswer:
        for locality in localities:
            # The postcode's own place names ('24941 Jarplund-Weding', '22587 Hamburg Blankenese').
            key = place_key(locality)
            named = [r for r in rows if r.key == key or r.key.startswith(key + " ")]
            if named:
                return GeocodeAnswer(self._postcode_result(gaz, named[0], 1.0))
        if match is None or not match.results:
            # No locality, or one we could not place: the postcode alone decides.
            conf = CONF_POSTCODE_ONLY if len({r.ags for r in rows}) == 1 else CONF_POSTCODE_SPREAD
            conf = CONF_CONFLICT if localities else conf
            return GeocodeAnswer(self._postcode_result(gaz, _main_row(gaz, rows), conf))
        best = match.answer().best
        if best is not None and best.ags is not None:
            inside = [r for r in rows if r.ags == best.ags or r.ags[:5] == best.ags]
            if inside:
                conf = min(best.confidence, CONF_POSTCODE_VIA_MUNICIPALITY)
                return GeocodeAnswer(self._postcode_result(gaz, _main_row(gaz, inside), conf))
        if best is not None:
            # The locality is known but the postcode lies elsewhere: trust the name, say we are unsure.
            return GeocodeAnswer(scaled(best, min(best.confidence, CONF_CONFLICT)))
        return match.answer()

    def _postcode_result(self, gaz: Gazetteer, row: PostcodeEntry, confidence: float) -> GeocodeResult:
        muni = gaz.by_ags.get(row.ags)
        district = gaz.districts.get(row.ags[:5])
        return GeocodeResult(
            Point(row.lon, row.lat),
            Precision.POSTCODE,
            confidence,
            SOURCE_POSTCODE,
            f"{row.plz} {row.place}",
            "DE",
            row.ags or None,
            muni.state if muni else None,
            district.name if district else None,
            row.plz,
        )

    def _foreign(self, parsed: ParsedQuery, factor: float) -> GeocodeAnswer:
        world = load_world()
        for locality in parsed.localities:
            cities, primary = world.lookup(locality, parsed.country)
            conf = 1.0 if primary else CONF_WORLD_ALTERNATE
            if cities:
                results = [_city_result(c, conf * factor) for c in cities[:10]]
                return GeocodeAnswer(results[0] if len(_strong(cities)) == 1 else None, results)
            if parsed.country:
                fuzzy = world.fuzzy(locality, parsed.country, 85.0)
                results = [_city_result(c, 0.9 * s / 100.0 * factor) for c, s in fuzzy[:10]]
                if results:
                    return GeocodeAnswer(results[0], results)
        return GeocodeAnswer(None, [])


def _strong(cities: list[City]) -> list[City]:
    """Namesakes that are real alternatives to the largest (cities come largest first)."""
    # Like two German Neustadts, Valencia (VE, 1.6 M) and Valencia (ES, 0.8 M) are an ambiguity; a
    # town of 25,000 called Paris in Texas is not one for Paris (2.1 M).
    top = cities[0].population
    return [c for c in cities if c.population >= STRONG_SHARE * top]


def _main_row(gaz: Gazetteer, rows: list[PostcodeEntry]) -> PostcodeEntry:
    """The row naming a municipality itself (e.g. 'Harrislee'), else the first row."""
    for row in rows:
        muni = gaz.by_ags.get(row.ags)
        if muni is not None and place_key(muni.name) == row.key:
            return row
    return rows[0]


def _nearest_postcode(rows: list[PostcodeEntry], point: Point) -> PostcodeEntry | None:
    if not rows:
        return None
    dist = geodesic_m(point.lon, point.lat, np.array([r.lon for r in rows]), np.array([r.lat for r in rows]))
    return rows[int(np.argmin(dist))]


def _city_result(city: City, confidence: float) -> GeocodeResult:
    return GeocodeResult(
        Point(city.lon, city.lat), Precision.MUNICIPALITY, confidence, WORLD_SOURCE, city.name, city.country
    )
