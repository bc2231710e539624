"""The field rules shared by the importer and the write API."""

from __future__ import annotations

import pytest

from poi_service.categories import Vocabulary
from poi_service.errors import InvalidInput
from poi_service.ingest.validate import check_member, check_place, parse_joined, validate_place
from poi_service.models import Alliance, DatePrecision, Point, Role

VOCABULARY = Vocabulary.load()
GOOD = {
    "name": "  Fahrschule Simonsen ",
    "category": "Fahrschule",
    "street": "Süderstraße",
    "housenumber": "66",
    "postcode": "24955",
    "locality": "Harrislee",
    "phone": "0461 - 50 90 00 99",
    "website": "https://example.org/a?b=c",
    "description": "Zeile 1\nZeile 2",
}


def errors(raw: dict[str, object]) -> dict[str, str]:
    fields, problems = check_place(raw, VOCABULARY)
    assert (fields is None) == bool(problems)
    return {p.name: p.reason for p in problems}


def test_good_place_is_normalised() -> None:
    fields = validate_place(GOOD, VOCABULARY)
    assert fields.name == "Fahrschule Simonsen"
    assert fields.category == "driving_school"
    assert fields.phone == "+4946150900099"
    assert fields.address.postcode == "24955" and fields.point is None


@pytest.mark.parametrize(
    ("label", "slug"),
    [
        ("Stolperstein / Gedenkort", "stolperstein"),
        ("Handwerk (Tischlerei/Glaserei)", "craft_business"),
        ("Kirche / Kulturdenkmal", "church"),
        ("historic site", "historic_site"),
        ("driving_school", "driving_school"),
        ("SCHWIMMHALLE", "swimming_pool"),
    ],
)
def test_category_by_slug_label_or_alias(label: str, slug: str) -> None:
    assert validate_place({**GOOD, "category": label}, VOCABULARY).category == slug


@pytest.mark.parametrize(
    ("change", "field", "needle"),
    [
        ({"name": "   "}, "name", "required"),
        ({"name": "x" * 201}, "name", "at most 200"),
        ({"name": "a\nb"}, "name", "control"),
        ({"category": "Raumstation"}, "category", "stolperstein, craft_business"),
        ({"wheelchair": "designated"}, "wheelchair", "yes, limited, no"),
        ({"names": '{"Deutsch": "x"}'}, "names", "language code"),
        ({"opening_hours": "x" * 256}, "opening_hours", "at most 255"),
        ({"osm_version": "0"}, "osm_version", "whole number"),
        ({"postcode": "2495"}, "postcode", "5 digits"),
        ({"postcode": "24955a"}, "postcode", "5 digits"),
        ({"phone": "call me"}, "phone", "phone number"),
        ({"website": "javascript:alert(1)"}, "website", "http or https"),
        ({"website": "ftp://example.org/x"}, "website", "http or https"),
        ({"website": "https://"}, "website", "http or https"),
        ({"description": "d" * 2001}, "description", "at most 2000"),
        ({"lat": "54.8"}, "lon", "give both"),
        ({"lon": "9.4"}, "lat", "give both"),
        ({"lat": "95", "lon": "9.4"}, "lat", "-90..90"),
        ({"lat": "54.8", "lon": "200"}, "lon", "-180..180"),
        ({"lat": "nan", "lon": "9.4"}, "lat", "finite"),
        ({"lat": "inf", "lon": "9.4"}, "lat", "finite"),
        ({"lat": "north", "lon": "9.4"}, "lat", "number"),
        ({"lat": True, "lon": 9.4}, "lat", "number"),
    ],
)
def test_broken_rules_are_named(change: dict[str, object], field: str, needle: str) -> None:
    found = errors({**GOOD, **change})
    assert field in found, found
    assert needle in found[field]


def test_every_problem_is_reported_at_once() -> None:
    found = errors({"name": "", "category": "nope", "postcode": "1", "website": "mailto:a@b.c"})
    assert set(found) == {"name", "category", "postcode", "website"}
    with pytest.raises(InvalidInput) as info:
        validate_place({"name": "", "category": "nope"}, VOCABULARY)
    assert [p.name for p in info.value.invalid_params] == ["name", "category"]


def test_coordinates_both_numbers_or_text() -> None:
    assert validate_place({**GOOD, "lat": 54.8, "lon": 9.4}, VOCABULARY).point == Point(9.4, 54.8)
    assert validate_place({**GOOD, "lat": "54,8", "lon": "9,4"}, VOCABULARY).point == Point(9.4, 54.8)
    assert validate_place({**GOOD, "lat": "", "lon": None}, VOCABULARY).point is None


def test_membership_rules() -> None:
    fields, problems = check_member(
        {
            "name": "Potsdam",
            "kind": "Stadt",
            "country": "de",
            "alliance": "buendnis",
            "joined": "2019-06",
            "role": "",
            "source_url": "https://a.de/x;y ; https://b.de",
        }
    )
    assert not problems and fields is not None
    assert (fields.country, fields.alliance, fields.role) == ("DE", Alliance.BUENDNIS, Role.MEMBER)
    assert fields.joined_precision == DatePrecision.MONTH
    _, problems = check_member(
        {
            "name": "X",
            "alliance": "nato",
            "country": "Deutschland",
            "joined": "June",
            "role": "boss",
            "source_url": "see page 3",
        }
    )
    assert {p.name for p in problems} == {"alliance", "country", "joined", "role", "source_url"}


def test_year_ranges_are_not_guessed() -> None:
    assert parse_joined("2018/2019") == (None, None)
    assert parse_joined("2019") == (parse_joined("2019-01-01")[0], DatePrecision.YEAR)
    with pytest.raises(ValueError):
        parse_joined("2019/2018")
