"""Candidate OSM objects to PlaceData, through the same field rules as every other write."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from poi_service.categories import Vocabulary
from poi_service.ingest.validate import check_place
from poi_service.models import WHEELCHAIR, Geocoding, PlaceData, Point, Precision
from poi_service.osm.mapping import TagMapping
from poi_service.osm.reader import Candidate

OSM_SOURCE = "osm"  # geocoding source of OSM coordinates
OSM_URL = "https://www.openstreetmap.org"
NAME_LANGUAGES = ("de", "en", "da")
# Skip reasons of the report.
NO_NAME = "no name"
UNMAPPED = "unmapped tags"
INCOMPLETE = "incomplete geometry"
INVALID = "invalid field"
# Fields whose bad value drops the whole object (the rest are dropped one by one).
ESSENTIAL = frozenset({"name", "category"})


@dataclass(frozen=True, slots=True)
class Builder:
    """Builds places of one run (one import time, one mapping)."""

    mapping: TagMapping
    vocabulary: Vocabulary
    at: datetime

    def category(self, c: Candidate) -> str | None:
        """The category of a candidate's tags, if mapped."""
        return self.mapping.category(c.tags)

    def build(self, c: Candidate, invalid: Counter[str]) -> PlaceData | str:
        """The place of a candidate, or the reason it is skipped; bad optional fields are dropped
        and counted in `invalid` (by field name)."""
        tags = c.tags
        category = self.mapping.category(tags)
        if category is None:
            return UNMAPPED
        name = tags.get("name")
        if not name or not name.strip():
            if category not in self.mapping.unnamed:
                return NO_NAME
            label = self.vocabulary.get(category)
            name = label.label_de if label else category
        if c.point is None:
            return INCOMPLETE
        raw = _raw(tags, name, category)
        for _ in range(len(raw)):
            fields, errors = check_place(raw, self.vocabulary)
            if fields is not None:
                break
            bad = {e.name.split(".", 1)[0] for e in errors}
            if bad & ESSENTIAL:
                invalid.update(bad & ESSENTIAL)
                return INVALID
            invalid.update(bad)
            for field in bad:
                raw.pop(field, None)
        else:  # pragma: no cover - every round drops at least one field
            return INVALID
        assert fields is not None
        lon, lat = c.point
        return PlaceData(
            name=fields.name,
            category=fields.category,
            address=fields.address,
            point=Point(lon, lat),
            geocoding=Geocoding(OSM_SOURCE, Precision.EXACT, 1.0, self.at),
            phone=fields.phone,
            website=fields.website,
            description=fields.description,
            source=f"{OSM_URL}/{c.kind}/{c.id}",
            external_key=c.key,
            opening_hours=fields.opening_hours,
            wheelchair=fields.wheelchair,
            names=fields.names,
            osm_version=c.version,
            osm_timestamp=c.timestamp,
        )


def _first(value: str | None) -> str | None:
    """The first of several ';'-separated values (OSM lists several phones that way)."""
    if value is None:
        return None
    return value.split(";", 1)[0].strip() or None


def _raw(tags: dict[str, str], name: str, category: str) -> dict[str, object]:
    """The write-API fields of an object's tags."""
    wheelchair = (tags.get("wheelchair") or "").strip().casefold()
    raw: dict[str, object] = {
        "name": name,
        "category": category,
        "street": tags.get("addr:street") or tags.get("addr:place"),
        "housenumber": tags.get("addr:housenumber"),
        "postcode": tags.get("addr:postcode"),
        "locality": tags.get("addr:city"),
        "phone": _first(tags.get("phone") or tags.get("contact:phone")),
        "website": _first(tags.get("website") or tags.get("contact:website") or tags.get("url")),
        "description": tags.get("description"),
        "opening_hours": tags.get("opening_hours"),
        "wheelchair": wheelchair if wheelchair in WHEELCHAIR else None,
        "names": {lang: tags[f"name:{lang}"] for lang in NAME_LANGUAGES if tags.get(f"name:{lang}")},
    }
    return {k: v for k, v in raw.items() if v is not None and v != {}}
