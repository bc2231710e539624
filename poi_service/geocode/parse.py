"""Splits a free-text or structured query into street, postcode, locality, state and country."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from poi_service.geocode.base import GeocodeQuery
from poi_service.geocode.gazetteer import Gazetteer
from poi_service.geocode.normalize import fold, looks_like_street
from poi_service.geocode.world import country_code

_POSTCODE = re.compile(r"(?<!\d)(?:D-\s?)?(\d{5})(?!\d)")
_HOUSENUMBER = re.compile(r"^(.*?\D)\s*(\d+\s*[a-zA-Z]?(?:\s*[-–/]\s*\d+\s*[a-zA-Z]?)?)$")


@dataclass(slots=True)
class ParsedQuery:
    """A query taken apart; localities are tried in order."""

    street: str | None = None
    housenumber: str | None = None
    postcode: str | None = None
    localities: list[str] = field(default_factory=list)
    state_code: str | None = None  # German state code when the state names one
    country: str | None = None  # ISO alpha-2, None when not given


def split_street(text: str) -> tuple[str, str | None]:
    """'Süderstraße 101' -> ('Süderstraße', '101'); no number -> (text, None)."""
    match = _HOUSENUMBER.match(text.strip())
    if match is None:
        return text.strip(), None
    return match.group(1).strip(), match.group(2).replace(" ", "")


def parse_query(query: GeocodeQuery, gaz: Gazetteer) -> ParsedQuery:
    """Structured fields win; free text fills what they leave open."""
    parsed = ParsedQuery(
        street=query.street or None,
        housenumber=query.housenumber or None,
        postcode=(query.postcode or "").strip() or None,
        country=country_code(query.country) if query.country else None,
    )
    if query.country and parsed.country is None:
        parsed.country = query.country.strip().upper()[:2]
    german = parsed.country in (None, "DE")
    if query.state:
        parsed.state_code = gaz.state_code(query.state) if german else None
    localities: list[str] = []
    if query.text:
        localities = _parse_text(query.text, parsed, gaz, german)
    if query.locality:
        localities.insert(0, query.locality.strip())
    if parsed.street and not parsed.housenumber:
        parsed.street, parsed.housenumber = split_street(parsed.street)
    parsed.localities = [loc for loc in localities if loc]
    return parsed


def _parse_text(text: str, parsed: ParsedQuery, gaz: Gazetteer, german: bool) -> list[str]:
    parts = [p.strip() for p in re.split(r"[,;\n]", text) if p.strip()]
    localities: list[str] = []
    streetlike: list[str] = []  # tried last: 'Germering', 'Neuhaus am Rennweg' only look like streets
    for i, part in enumerate(parts):
        match = _POSTCODE.search(part)
        if match is not None and german:
            parsed.postcode = parsed.postcode or match.group(1)
            before, after = part[: match.start()].strip(), part[match.end() :].strip()
            if after:
                localities.append(after)
            if before and (looks_like_street(before) or after):
                _set_street(parsed, before)
            elif before:
                localities.append(before)
            continue
        if i > 0 and german and parsed.state_code is None and gaz.state_code(part):
            # Two-letter state codes (BE, NI, ST, ...) read as German states before ISO countries.
            parsed.state_code = gaz.state_code(part)
            continue
        if i > 0 and country_code(part) and (len(part) > 2 or part.isupper()):
            parsed.country = parsed.country or country_code(part)
            continue
        if i > 0 and fold(part) in gaz.suffixes:
            continue  # 'Gießen, Universitätsstadt': the designation adds nothing
        if len(parts) > 1 and looks_like_street(part):
            _set_street(parsed, part)
            streetlike.append(part)
            continue
        localities.append(part)
    # German addresses end with the town: try the last plain part first.
    return localities[::-1] + [s for s in streetlike if not any(c.isdigit() for c in s)]


def _set_street(parsed: ParsedQuery, text: str) -> None:
    if parsed.street:
        return
    parsed.street, number = split_street(text)
    parsed.housenumber = parsed.housenumber or number
