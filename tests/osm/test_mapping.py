"""The tag mapping: indexed lookup equals trying every rule in order; operator files come first."""

from __future__ import annotations

from pathlib import Path

import osmium
import pytest

from poi_service.categories import Vocabulary
from poi_service.errors import ImportFailed
from poi_service.osm.mapping import TagMapping, load_mapping
from tests.osm.fixtures import HELSINKI

VOCABULARY = Vocabulary.load()


def brute_force(mapping: TagMapping, tags: dict[str, str]) -> str | None:
    """The first rule, in file order, whose every condition holds."""
    for rule in mapping.rules:
        if all(c.holds(tags) for c in rule.conditions):
            return rule.category or None
    return None


def all_tags() -> list[dict[str, str]]:
    found = []
    for obj in osmium.FileProcessor(str(HELSINKI)):
        tags = {t.k: t.v for t in obj.tags}
        if tags:
            found.append(tags)
    return found


def test_lookup_equals_trying_every_rule() -> None:
    mapping = load_mapping(VOCABULARY)
    tags = all_tags()
    assert len(tags) > 5000
    hits = 0
    for t in tags:
        want = brute_force(mapping, t)
        assert mapping.category(t) == want, t
        hits += want is not None
    assert hits > 1400
    special = [
        ({"memorial": "stolperstein", "historic": "memorial"}, "stolperstein"),
        ({"amenity": "parking", "capacity:disabled": "2"}, "accessible_parking"),
        ({"amenity": "parking", "capacity:disabled": "no"}, None),
        ({"amenity": "parking", "parking_space": "disabled"}, "accessible_parking"),
        ({"amenity": "place_of_worship", "religion": "christian"}, "church"),
        ({"amenity": "place_of_worship", "religion": "muslim"}, "place_of_worship"),
        ({"leisure": "sports_centre", "sport": "swimming"}, "swimming_pool"),
        ({"shop": "hairdresser"}, "business"),
    ]
    for t, want in special:
        assert mapping.category(t) == want == brute_force(mapping, t), t


def test_operator_file_comes_first(tmp_path: Path) -> None:
    own = tmp_path / "own.toml"
    own.write_text('[rules]\n"amenity=cafe" = "restaurant"\n"shop=kiosk" = ""\n"amenity=bench" = "other"\n')
    mapping = load_mapping(VOCABULARY, [own])
    assert mapping.category({"amenity": "cafe"}) == "restaurant"
    assert mapping.category({"shop": "kiosk"}) is None  # left out on purpose
    assert mapping.category({"shop": "books"}) == "business"  # shipped rules still apply
    assert mapping.category({"amenity": "bench"}) == "other"
    own.write_text('[rules]\n"amenity=cafe" = "no_such_slug"\n')
    with pytest.raises(ImportFailed, match="no_such_slug"):
        load_mapping(VOCABULARY, [own])
    own.write_text('[rules]\n"amenity" = "cafe"\n')
    with pytest.raises(ImportFailed, match="key=value"):
        load_mapping(VOCABULARY, [own])
    own.write_text("[rules\n")
    with pytest.raises(ImportFailed, match=r"own\.toml"):
        load_mapping(VOCABULARY, [own])
