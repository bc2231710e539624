"""Resolves a German place name to municipalities, districts or a Gemeindeverband, exact first, then fuzzy."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from rapidfuzz import fuzz, process

from poi_service.geocode.base import GeocodeAnswer, GeocodeResult
from poi_service.geocode.gazetteer import Association, DistrictEntry, Gazetteer, MunicipalityEntry
from poi_service.geocode.normalize import Kind, base_key, has_qualifier, place_key, split_kind, transliterated
from poi_service.models import Point, Precision

SOURCE_MUNICIPALITY = "offline:destatis"
SOURCE_DISTRICT = "offline:bkg-vg5000"
CONF_EXACT = 1.0
CONF_VARIANT = 0.95  # matched after ae/oe/ue transliteration, or without the name's qualifier ('Lingen')
CONF_ASSOCIATION_MEMBER = 0.8  # a Samtgemeinde placed at its namesake member municipality
CONF_ASSOCIATION_MEAN = 0.7  # ... or at the population-weighted mean of its members
KIND_FALLBACK = 0.8  # factor when a 'Landkreis'/'Samtgemeinde' prefix found only a municipality
FUZZY_CUTOFF = 85.0  # rapidfuzz ratio (0..100) below which a spelling is not taken as a typo
FUZZY_FACTOR = 0.9  # a typo match scores at most 0.9 * ratio / 100 < 1
FUZZY_TIE = 1.0  # ratios this close count as equally good


@dataclass(frozen=True, slots=True)
class Filters:
    """What narrows several same-named places down: state (hard), spelling and postcode (soft)."""

    state: str | None
    postcode_ags: frozenset[str]
    postcode: str | None
    strict_key: str = ""  # the query's key with umlauts kept


@dataclass(frozen=True, slots=True)
class NameMatch:
    """Results for one name; decided when exactly one place fits."""

    results: list[GeocodeResult]
    typo: bool = False  # found only as a misspelling of a German name

    def answer(self) -> GeocodeAnswer:
        """One result is the answer; several are an ambiguity for the caller to resolve."""
        if len(self.results) == 1:
            return GeocodeAnswer(self.results[0], list(self.results))
        return GeocodeAnswer(None, list(self.results))


EMPTY = NameMatch([])


def resolve_name(
    gaz: Gazetteer, text: str, state: str | None, postcode_ags: Iterable[str], postcode: str | None
) -> NameMatch:
    """All places the name may mean after the filters, best tier only."""
    f = Filters(state, frozenset(postcode_ags), postcode, place_key(split_kind(text)[1], keep_accents=True))
    # A municipality literally named so wins over reading a prefix ('Amt Neuhaus', 'Markt Erlbach').
    exact = _pick(gaz.exact.get(place_key(text), []), f, prefer_city=False)
    if exact:
        return _municipality_match(gaz, exact, CONF_EXACT, f)
    kind, rest = split_kind(text)
    if kind in (Kind.DISTRICT, Kind.CITY_DISTRICT):
        found = _districts(gaz, [text, rest], kind, f) or _municipalities(gaz, rest, f, False, KIND_FALLBACK)
        return found or _fuzzy(gaz, rest, f, with_municipalities=False)
    if kind is Kind.ASSOCIATION:
        found = _association(gaz, text, rest, f) or _municipalities(gaz, rest, f, False, KIND_FALLBACK)
        return found or _fuzzy(gaz, rest, f, with_municipalities=True)
    return (
        _municipalities(gaz, rest, f, kind is Kind.CITY, 1.0)
        or _districts(gaz, [rest], None, f)
        or _fuzzy(gaz, rest, f, with_municipalities=True)
    )


def _pick(cands: Iterable[MunicipalityEntry], f: Filters, prefer_city: bool) -> list[MunicipalityEntry]:
    chosen = list(dict.fromkeys(cands))
    if f.state:
        chosen = [m for m in chosen if m.state_code == f.state]
    if prefer_city:
        chosen = [m for m in chosen if m.is_city]
    inhabited = [m for m in chosen if m.population > 0]
    chosen = inhabited or chosen  # an unincorporated forest does not compete with a village of that name
    if len(chosen) > 1 and f.strict_key:
        # Folding makes 'Münster' == 'Munster'; when the input's spelling picks some, keep those.
        spelled = [
            m for m in chosen if f.strict_key in (place_key(m.name, True), place_key(m.official, True))
        ]
        chosen = spelled or chosen
    if len(chosen) > 1 and (f.postcode_ags or f.postcode):
        by_postcode = [m for m in chosen if m.ags in f.postcode_ags or m.postcode == f.postcode]
        chosen = by_postcode or chosen
    return chosen


def _municipalities(
    gaz: Gazetteer, text: str, f: Filters, prefer_city: bool, factor: float
) -> NameMatch | None:
    key = place_key(text)
    tiers: list[tuple[list[MunicipalityEntry], float]] = [
        (gaz.exact.get(key, []), CONF_EXACT),
        (gaz.exact.get(transliterated(key), []), CONF_VARIANT),
    ]
    # 'Rotenburg' may mean any Rotenburg (...), but 'Rotenburg am Neckar' must not fall back to them.
    if not has_qualifier(text):
        bkey = base_key(text)
        tiers += [
            (gaz.base.get(bkey, []), CONF_VARIANT),
            (gaz.base.get(transliterated(bkey), []), CONF_VARIANT),
        ]
    # 'Stadt Buchholz' (Niedersachsen) is Buchholz in der Nordheide, not the village Buchholz.
    for city_only in [True, False] if prefer_city else [False]:
        for cands, conf in tiers:
            chosen = _pick(cands, f, city_only)
            if chosen:
                return _municipality_match(gaz, chosen, conf * factor, f)
    return None


def _districts(gaz: Gazetteer, texts: Sequence[str], kind: Kind | None, f: Filters) -> NameMatch | None:
    cands: list[DistrictEntry] = []
    for text in texts:
        key = place_key(text)
        cands += gaz.district_keys.get(key, []) + gaz.district_keys.get(transliterated(key), [])
    chosen = [d for d in dict.fromkeys(cands) if not f.state or d.state_code == f.state]
    if kind is not None:
        # 'Landkreis Rostock' is not the city Rostock; 'Stadtkreis Karlsruhe' is.
        wanted = [d for d in chosen if d.kreisfrei == (kind is Kind.CITY_DISTRICT)]
        chosen = wanted or chosen
    if not chosen:
        return None
    return NameMatch([_district_result(d, CONF_EXACT) for d in sorted(chosen, key=lambda d: -d.population)])


def _association(gaz: Gazetteer, text: str, rest: str, f: Filters) -> NameMatch | None:
    key = place_key(rest)
    cands = gaz.association_keys.get(key, []) + gaz.association_keys.get(transliterated(key), [])
    chosen = [a for a in dict.fromkeys(cands) if not f.state or a.members[0].state_code == f.state]
    if len(chosen) > 1 and f.postcode_ags:
        chosen = [a for a in chosen if any(m.ags in f.postcode_ags for m in a.members)] or chosen
    if not chosen:
        return None
    prefix = text.strip()[: len(text.strip()) - len(rest)].strip()
    return NameMatch([_association_result(gaz, a, key, prefix) for a in chosen])


def _association_result(gaz: Gazetteer, a: Association, key: str, prefix: str) -> GeocodeResult:
    # No member AGS stands for a whole Samtgemeinde: it is placed at the member of the same name (its
    # usual seat) with that member's key, else at the population-weighted mean of its members without one.
    label = f"{prefix} {a.name.split(',', 1)[0]}".strip()
    first = a.members[0]
    district = gaz.districts.get(first.district_ags)
    namesake = next((m for m in a.members if place_key(m.name) == key), None)
    if namesake is not None:
        point, conf, ags = Point(namesake.lon, namesake.lat), CONF_ASSOCIATION_MEMBER, namesake.ags
    else:
        weights = [max(m.population, 1) for m in a.members]
        total = float(sum(weights))
        lon = sum(m.lon * w for m, w in zip(a.members, weights, strict=True)) / total
        lat = sum(m.lat * w for m, w in zip(a.members, weights, strict=True)) / total
        point, conf, ags = Point(lon, lat), CONF_ASSOCIATION_MEAN, None
    return GeocodeResult(
        point,
        Precision.MUNICIPALITY,
        conf,
        SOURCE_MUNICIPALITY,
        label,
        "DE",
        ags,
        first.state,
        district.name if district else None,
        None,
    )


def _fuzzy(gaz: Gazetteer, text: str, f: Filters, with_municipalities: bool) -> NameMatch:
    key = place_key(text)
    choices = gaz.fuzzy_choices(f.state, with_municipalities)
    found = process.extract(key, choices, scorer=fuzz.ratio, limit=12, score_cutoff=FUZZY_CUTOFF)
    i = 0
    while i < len(found):
        top = found[i][1]
        group = [name for name, score, _ in found[i:] if top - score <= FUZZY_TIE]
        i += len(group)
        conf = FUZZY_FACTOR * top / 100.0
        munis = (
            _pick((m for n in group for m in gaz.exact.get(n, [])), f, False) if with_municipalities else []
        )
        districts = [
            d for n in group for d in gaz.district_keys.get(n, []) if not f.state or d.state_code == f.state
        ]
        if munis:
            return replace(_municipality_match(gaz, munis, conf, f), typo=True)
        if districts:
            return NameMatch([_district_result(d, conf) for d in dict.fromkeys(districts)], typo=True)
    return EMPTY


def _municipality_match(gaz: Gazetteer, munis: list[MunicipalityEntry], conf: float, f: Filters) -> NameMatch:
    ordered = sorted(munis, key=lambda m: -m.population)
    return NameMatch([_municipality_result(gaz, m, conf, f) for m in ordered])


def _municipality_result(gaz: Gazetteer, m: MunicipalityEntry, conf: float, f: Filters) -> GeocodeResult:
    district = gaz.districts.get(m.district_ags)
    # Only a postcode that surely applies: the queried one if it lies here, or the municipality's only one.
    postcodes = {p.plz for p in gaz.postcodes_by_ags.get(m.ags, [])}
    postcode = (
        f.postcode if f.postcode in postcodes else (next(iter(postcodes)) if len(postcodes) == 1 else None)
    )
    return GeocodeResult(
        Point(m.lon, m.lat),
        Precision.MUNICIPALITY,
        conf,
        SOURCE_MUNICIPALITY,
        m.name,
        "DE",
        m.ags,
        m.state,
        district.name if district else None,
        postcode,
    )


def _district_result(d: DistrictEntry, conf: float) -> GeocodeResult:
    return GeocodeResult(
        Point(d.lon, d.lat),
        Precision.DISTRICT,
        conf,
        SOURCE_DISTRICT,
        d.label,
        "DE",
        d.ags,
        d.state,
        d.name,
        None,
    )


def scaled(result: GeocodeResult, confidence: float) -> GeocodeResult:
    """The result with another confidence."""
    return replace(result, confidence=confidence)
