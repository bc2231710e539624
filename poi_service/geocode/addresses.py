"""House-number geocoding from the OSM address index, in front of the gazetteer geocoder.

A street and house number found in the index answer precision "address" with the address point;
a known street without that number (or without one) answers "street" with a point on the street;
anything else goes to the wrapped geocoder (postcode, municipality) as before. Postcode and
locality given with the query must agree with the address: a Hauptstraße in another town is no answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from pathlib import Path

import shapely

from poi_service.geo import geodesic_pair_m
from poi_service.geocode.base import (
    DoorAddress,
    GeocodeAnswer,
    GeocodeQuery,
    Geocoder,
    GeocodeResult,
    ReverseResult,
)
from poi_service.geocode.gazetteer import Gazetteer, load_gazetteer
from poi_service.geocode.housenumbers import (
    HouseNumber,
    house_number,
    number_score,
    street_match_key,
    town_key,
)
from poi_service.geocode.parse import ParsedQuery, parse_query, split_street
from poi_service.models import Point, Precision
from poi_service.store.base import AddressIndex, AddressPoint, StreetLine

SOURCE_ADDRESS = "offline:osm-address"
SOURCE_STREET = "offline:osm-street"
REVERSE_RADIUS_M = 50.0  # GET /reverse names a door only this close
CONF_PLACE_PARTLY = 0.9  # factor: postcode or locality agrees, the other one does not
CONF_UNCHECKED = 0.95  # factor: neither postcode nor locality given to check the town against
CONF_STREET_NUMBER_MISSING = 0.7  # the street is known, the asked house number is not
WORLD_COUNTRY_M = 30_000.0
SAME_PLACE_M = 1_000.0  # equally good matches closer than this are one address (entrances, buildings)
_FIRST_NUMBER = re.compile(r"^(\D+?)\s+(\d.*)$")


@dataclass(frozen=True, slots=True)
class _Asked:
    street_key: str
    number: HouseNumber | None
    postcode: str | None
    towns: frozenset[str]


class AddressGeocoder:
    """Geocoder: the address index first, then the wrapped (gazetteer) geocoder."""

    def __init__(self, base: Geocoder, index: AddressIndex, data_dir: Path) -> None:
        self.base = base
        self.index = index
        self.data_dir = data_dir
        self.name = base.name

    @cached_property
    def gazetteer(self) -> Gazetteer:
        """The German gazetteer (postcodes, municipalities, states)."""
        return load_gazetteer(self.data_dir)

    def geocode(self, query: GeocodeQuery) -> GeocodeAnswer:
        """House number, then street, then whatever the wrapped geocoder finds."""
        if query.is_empty():
            return self.base.geocode(query)
        parsed = parse_query(query, self.gazetteer)
        if parsed.street:
            found = self._lookup(parsed.street, parsed.housenumber, parsed)
            return found if found is not None else self.base.geocode(query)
        if len(parsed.localities) > 1 or any(c.isdigit() for c in "".join(parsed.localities)):
            # Streets the German parser does not recognise as such ('Annankatu, Helsinki').
            found = self._street_in_parts(parsed)
            if found is not None:
                return found
        answer = self.base.geocode(query)
        if answer.best is not None or answer.candidates or len(parsed.localities) != 1 or parsed.postcode:
            return answer
        # One bare name the gazetteers do not know: maybe a street ('Mannerheimintie').
        return self._street_in_parts(parsed) or answer

    def _street_in_parts(self, parsed: ParsedQuery) -> GeocodeAnswer | None:
        """Each free-text part read as the street (with a number), the other parts as the town."""
        for i, part in enumerate(reversed(parsed.localities)):  # localities come last part first
            street, number = split_street(part)
            towns = [p for j, p in enumerate(reversed(parsed.localities)) if j != i]
            found = self._lookup(street, number, replace(parsed, localities=towns))
            if found is not None:
                return found
        return None

    def reverse(self, point: Point) -> ReverseResult | None:
        """The wrapped geocoder's areas, plus the nearest address within REVERSE_RADIUS_M."""
        found = self.base.reverse(point)
        near = self.index.nearest(point, REVERSE_RADIUS_M)
        if near is None:
            return found
        a, distance = near
        door = DoorAddress(a.street, a.housenumber, a.point, distance, a.postcode, a.city)
        if found is None:
            return ReverseResult(point, _country(a), municipality=a.city, source=SOURCE_ADDRESS, address=door)
        return replace(found, address=door)

    # -- lookups ------------------------------------------------------------------------------

    def _lookup(self, street: str, number: str | None, parsed: ParsedQuery) -> GeocodeAnswer | None:
        found = self._lookup_once(street, number, parsed)
        if found is not None or not any(c.isdigit() for c in street):
            return found
        # 'Erottajankatu 11 B 9' (staircase and flat) was read as street 'Erottajankatu 11 B', number 9:
        # split at the first number instead.
        match = _FIRST_NUMBER.match(f"{street} {number or ''}".strip())
        return self._lookup_once(match.group(1), match.group(2), parsed) if match else None

    def _lookup_once(self, street: str, number: str | None, parsed: ParsedQuery) -> GeocodeAnswer | None:
        key = street_match_key(street)
        if not key:
            return None
        asked = _Asked(
            key,
            house_number(number) if number else None,
            parsed.postcode,
            frozenset(t for t in (town_key(x) for x in parsed.localities) if t),
        )
        first = asked.number.first if asked.number is not None else None
        if asked.number is not None:
            # The numbers starting with the asked digits (and ranges) first: a long street stays unread.
            numbered = self.index.on_street(key, first) if first is not None else self.index.on_street(key)
            scored = [
                (number_score(asked.number, house_number(a.housenumber)) * f, a)
                for a in numbered
                if (f := self._place_factor(asked, a)) > 0
            ]
            scored = [(s, a) for s, a in scored if s > 0]
            if scored:
                best = max(s for s, _ in scored)
                # Ties: the street spelt as asked, then doors (nodes) before buildings, then the oldest id.
                top = sorted((a for s, a in scored if s == best), key=lambda a: _tie_order(a, street, number))
                return self._answer([self._address_result(a, best) for a in _distinct_places(top)])
        on_street = [(a, f) for a in self.index.on_street(key) if (f := self._place_factor(asked, a)) > 0]
        return self._street_answer(asked, on_street)

    def _place_factor(self, asked: _Asked, a: AddressPoint) -> float:
        """1 when the postcode and locality given agree with the address, less when only one does,
        0 when neither does (another town's street of that name)."""
        if not asked.postcode and not asked.towns:
            return CONF_UNCHECKED
        pc_ok = bool(asked.postcode) and a.postcode == asked.postcode
        town_ok = bool(asked.towns) and bool(asked.towns & self._towns(a.city, a.ags))
        if (pc_ok or not asked.postcode) and (town_ok or not asked.towns):
            return 1.0
        return CONF_PLACE_PARTLY if pc_ok or town_ok else 0.0

    def _street_factor(
        self, asked: _Asked, s: StreetLine, postcode_towns: set[tuple[str | None, str | None]]
    ) -> float:
        """Streets carry no postcode: the locality decides, else the towns of the postcode's addresses."""
        if asked.towns:
            return 1.0 if asked.towns & self._towns(s.city, s.ags) else 0.0
        if asked.postcode:
            return (
                1.0
                if (s.ags, s.city) in postcode_towns or (s.ags and s.ags in {t[0] for t in postcode_towns})
                else 0.0
            )
        return CONF_UNCHECKED

    def _towns(self, city: str | None, ags: str | None) -> set[str]:
        """Keys of the names an address's town goes by: its addr:city and its municipality's name."""
        keys = {town_key(city)} if city else set()
        muni = self.gazetteer.by_ags.get(ags) if ags else None
        if muni is not None:
            keys |= {town_key(muni.name), town_key(muni.official)}
        return keys

    def _street_answer(
        self, asked: _Asked, on_street: list[tuple[AddressPoint, float]]
    ) -> GeocodeAnswer | None:
        streets: list[tuple[StreetLine, float]] = []
        postcode_towns = {
            (a.ags, a.city) for a, _ in on_street if asked.postcode and a.postcode == asked.postcode
        }
        for s in self.index.streets(asked.street_key):
            factor = self._street_factor(asked, s, postcode_towns)
            if factor > 0:
                streets.append((s, factor))
        if not streets:
            return None
        conf = CONF_STREET_NUMBER_MISSING if asked.number is not None else 1.0
        results = []
        for street, factor in streets:
            point = street.midpoint
            if asked.number is not None and asked.number.first is not None:
                same_town = [
                    a
                    for a, _ in on_street
                    if (a.ags, a.city) == (street.ags, street.city) or (a.ags and a.ags == street.ags)
                ]
                point = _near_number(street, asked.number.first, same_town) or point
            results.append(self._street_result(street, point, conf * factor))
        return self._answer(results)

    def _answer(self, results: list[GeocodeResult]) -> GeocodeAnswer:
        """One result, or candidates when the same street is in several towns and nothing decides."""
        results.sort(key=lambda r: -r.confidence)
        if len(results) > 1 and results[0].confidence == results[1].confidence:
            return GeocodeAnswer(None, results)
        return GeocodeAnswer(results[0], results)

    def _area(self, ags: str | None) -> tuple[str | None, str | None]:
        muni = self.gazetteer.by_ags.get(ags) if ags else None
        district = self.gazetteer.districts.get(ags[:5]) if ags else None
        return (muni.state if muni else None), (district.name if district else None)

    def _address_result(self, a: AddressPoint, confidence: float) -> GeocodeResult:
        town = " ".join(p for p in (a.postcode, a.city) if p)
        label = f"{a.street} {a.housenumber}" + (f", {town}" if town else "")
        state, district = self._area(a.ags)
        return GeocodeResult(
            a.point,
            Precision.ADDRESS,
            round(confidence, 3),
            SOURCE_ADDRESS,
            label,
            _country(a),
            a.ags,
            state,
            district,
            a.postcode,
        )

    def _street_result(self, s: StreetLine, point: Point, confidence: float) -> GeocodeResult:
        label = s.name + (f", {s.city}" if s.city else "")
        state, district = self._area(s.ags)
        return GeocodeResult(
            point,
            Precision.STREET,
            round(confidence, 3),
            SOURCE_STREET,
            label,
            _country(s),
            s.ags,
            state,
            district,
            None,
        )


def _tie_order(a: AddressPoint, street: str, number: str | None) -> tuple[bool, bool, int, int]:
    kind = "nwr".find(a.osm[:1])
    ident = int(a.osm[1:]) if a.osm[1:].isdigit() else 0
    return a.street != street.strip(), a.housenumber != (number or "").strip(), kind, ident


def _distinct_places(top: list[AddressPoint]) -> list[AddressPoint]:
    """Equally good matches, one per place: a node and its building, or two entrances, are one
    address; a namesake street in another town (farther than SAME_PLACE_M) is another."""
    kept: list[AddressPoint] = []
    for a in top:
        if all(
            geodesic_pair_m(a.point.lon, a.point.lat, k.point.lon, k.point.lat) > SAME_PLACE_M for k in kept
        ):
            kept.append(a)
    return kept


def _near_number(street: StreetLine, number: int, addresses: list[AddressPoint]) -> Point | None:
    """The point of the street closest to the address whose number is nearest the asked one."""
    numbered = [
        (abs(n.first - number), a) for a in addresses if (n := house_number(a.housenumber)).first is not None
    ]
    if not numbered:
        return None
    _, nearest = min(numbered, key=lambda t: (t[0], t[1].osm))
    line = street.geometry
    on = line.interpolate(line.project(shapely.Point(nearest.point.lon, nearest.point.lat)))
    return Point(on.x, on.y)


def _country(a: AddressPoint | StreetLine) -> str:
    if a.ags:
        return "DE"
    point = a.point if isinstance(a, AddressPoint) else a.midpoint
    return _country_near(round(point.lon, 1), round(point.lat, 1))


@lru_cache(maxsize=4096)
def _country_near(lon: float, lat: float) -> str:
    """The country of the nearest known city (per 0.1 degree cell: a few km, one lookup each)."""
    from poi_service.geocode.world import load_world

    city = load_world().nearest(lon, lat, WORLD_COUNTRY_M)
    return city.country if city else ""
