"""Field rules shared by the importer and the write API; every bad field becomes an InvalidParam."""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TypeVar
from urllib.parse import urlsplit

from poi_service.categories import Vocabulary
from poi_service.errors import InvalidInput, InvalidParam
from poi_service.models import WHEELCHAIR, Address, Alliance, DatePrecision, Point, Role, parse_partial_date
from poi_service.phone import to_e164

MAX_NAME = 200
MAX_FIELD = 200  # street, housenumber, locality, kind, state
MAX_DESCRIPTION = 2000
MAX_SOURCE = 2000
MAX_URL = 2000
MAX_HOURS = 255  # OpenStreetMap's limit for a tag value
LANGUAGE = re.compile(r"[a-z]{2,3}")  # ISO 639 code of a localized name
MAX_NAMES = 20
POSTCODE = re.compile(r"\d{5}")
COUNTRY = re.compile(r"[A-Z]{2}")
YEAR_RANGE = re.compile(r"(\d{4})\s*/\s*(\d{4})")
SEPARATOR = re.compile(r"\s+;\s+")  # between several URLs ('a ; b'); a bare ';' belongs to a URL
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # keeps \t \n \r
# Bidi embeddings, overrides and isolates reorder the text around them ("Trojan Source"): a name
# with U+202E shows reversed in lists, maps and exports. The marks U+200E/U+200F stay allowed.
BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")
INVISIBLE_CATEGORIES = frozenset({"Cf", "Zs", "Zl", "Zp", "Cc"})  # format characters, spaces
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")  # Hangul fillers, braille blank

Raw = Mapping[str, object]
E = TypeVar("E", Alliance, Role)


@dataclass(frozen=True, slots=True)
class PlaceFields:
    """The checked, normalised fields of one place (the point only if the input gave one)."""

    name: str
    category: str
    address: Address
    point: Point | None
    phone: str | None = None
    website: str | None = None
    description: str | None = None
    source: str | None = None
    opening_hours: str | None = None
    wheelchair: str | None = None
    names: tuple[tuple[str, str], ...] = ()
    osm_version: int | None = None
    osm_timestamp: str | None = None


@dataclass(frozen=True, slots=True)
class MemberFields:
    """The checked, normalised fields of one alliance membership."""

    name: str
    kind: str
    country: str
    state: str | None
    alliance: Alliance
    role: Role
    joined: date | None
    joined_precision: DatePrecision | None
    source_url: str | None
    point: Point | None


class Fields:
    """Reads fields of one record, collecting an InvalidParam per broken rule."""

    def __init__(self, raw: Raw) -> None:
        self.raw = raw
        self.errors: list[InvalidParam] = []

    def error(self, name: str, reason: str) -> None:
        """Records one broken rule."""
        self.errors.append(InvalidParam(name, reason))

    def text(
        self, name: str, max_len: int = MAX_FIELD, *, required: bool = False, multiline: bool = False
    ) -> str | None:
        """A stripped string (blank is None), at most max_len characters, without control characters."""
        value = self.raw.get(name)
        if type(value) is str:
            # Most cells: printable text (so no control, bidi or invisible characters: str.isprintable
            # is False for categories Cc, Cf, Zs but ' ', Zl, Zp) starting with a character that shows.
            text = value.strip()
            if text and len(text) <= max_len and text.isprintable() and text[0] not in BLANK_LETTERS:
                return text
        elif value is None:  # a column the file does not have
            if required:
                self.error(name, "is required")
            return None
        if value is None or (isinstance(value, float) and math.isnan(value)):
            value = ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.error(name, "must be text")
            return None
        text = str(value).strip()
        if not text:
            if required:
                self.error(name, "is required")
            return None
        if len(text) > max_len:
            self.error(name, f"must be at most {max_len} characters, got {len(text)}")
            return None
        if (CONTROL_MULTILINE if multiline else CONTROL).search(text):
            self.error(name, "must not contain control characters" + ("" if multiline else " or line breaks"))
            return None
        if BIDI_CONTROL.search(text):
            self.error(name, "must not contain bidirectional embedding, override or isolate characters")
            return None
        if not visible(text):
            self.error(name, "must contain visible characters (it has only invisible ones)")
            return None
        return text

    def number(self, name: str) -> float | None:
        """A finite float from a number or text ('54.8', also the German '54,8'); blank is None."""
        value = self.raw.get(name)
        if isinstance(value, bool):
            self.error(name, "must be a number")
            return None
        if isinstance(value, int | float):
            number = float(value)
        else:
            text = self.text(name, 50)
            if text is None:
                return None
            if "," in text and "." not in text:
                text = text.replace(",", ".")
            try:
                number = float(text)
            except ValueError:
                self.error(name, f"must be a number, got {text!r}")
                return None
        if math.isnan(number) and not isinstance(value, str):
            return None  # a missing value in a data frame
        if not math.isfinite(number):
            self.error(name, "must be a finite number")
            return None
        return number

    def point(self) -> Point | None:
        """lat and lon together (or neither), finite and in range."""
        before = len(self.errors)
        lat, lon = self.number("lat"), self.number("lon")
        if len(self.errors) > before:
            return None
        if (lat is None) != (lon is None):
            missing, given = ("lat", "lon") if lat is None else ("lon", "lat")
            self.error(missing, f"is required when {given} is given (give both or neither)")
            return None
        if lat is None or lon is None:
            return None
        if not -90.0 <= lat <= 90.0:
            self.error("lat", f"must be within -90..90, got {lat}")
        if not -180.0 <= lon <= 180.0:
            self.error("lon", f"must be within -180..180, got {lon}")
        return Point(lon, lat) if len(self.errors) == before else None

    def url(self, name: str, *, several: bool = False) -> str | None:
        """An http or https URL (or several separated by ' ; ' when allowed)."""
        text = self.text(name, MAX_URL)
        if text is None:
            return None
        for part in SEPARATOR.split(text) if several else (text,):
            if not is_web_url(part):
                self.error(name, f"must be an http or https URL, got {part[:80]!r}")
                return None
        return text

    def wheelchair(self, name: str = "wheelchair") -> str | None:
        """'yes', 'limited' or 'no' (OpenStreetMap's wheelchair values); blank is None."""
        text = self.text(name, 20)
        if text is None:
            return None
        if text.casefold() not in WHEELCHAIR:
            self.error(name, f"must be one of {', '.join(WHEELCHAIR)}, got {text[:40]!r}")
            return None
        return text.casefold()

    def names(self, name: str = "names") -> tuple[tuple[str, str], ...]:
        """Localized names: an object (or its JSON text) of language code -> name."""
        value = self.raw.get(name)
        if isinstance(value, str):
            if not value.strip():
                return ()
            try:
                value = json.loads(value)
            except ValueError:
                self.error(name, 'must be a JSON object of language code to name, e.g. {"de": "..."}')
                return ()
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ()
        if not isinstance(value, dict) or len(value) > MAX_NAMES:
            self.error(name, f"must be an object of at most {MAX_NAMES} language codes to names")
            return ()
        inner = Fields({str(k): v for k, v in value.items()})
        pairs = []
        for lang in sorted(inner.raw):
            if not LANGUAGE.fullmatch(lang):
                self.error(name, f"{lang[:20]!r} is not a language code such as de, en or da")
                continue
            text = inner.text(lang, MAX_NAME)
            if text is not None:
                pairs.append((lang, text))
        self.errors.extend(InvalidParam(f"{name}.{e.name}", e.reason) for e in inner.errors)
        return tuple(pairs)

    def count(self, name: str) -> int | None:
        """A whole number >= 1 (an OSM version); blank is None."""
        number = self.number(name)
        if number is None:
            return None
        if not number.is_integer() or number < 1:
            self.error(name, f"must be a whole number >= 1, got {number:g}")
            return None
        return int(number)


def visible(text: str) -> bool:
    """True if some character of text shows (zero-width spaces, joiners and fillers do not)."""
    return any(c not in BLANK_LETTERS and unicodedata.category(c) not in INVISIBLE_CATEGORIES for c in text)


def is_web_url(text: str) -> bool:
    """True for an absolute http(s) URL with a host and no spaces."""
    if not text or any(c.isspace() for c in text):
        return False
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def check_place(raw: Raw, vocabulary: Vocabulary) -> tuple[PlaceFields | None, list[InvalidParam]]:
    """The place fields of a record, or None with every broken rule."""
    f = Fields(raw)
    name = f.text("name", MAX_NAME, required=True)
    category = None
    label = f.text("category", required=True)
    if label is not None:
        found = vocabulary.match(label)
        if found is None:
            slugs = ", ".join(c.slug for c in vocabulary.categories)
            f.error("category", f"unknown category {label!r}; use a slug, label or alias of: {slugs}")
        else:
            category = found.slug
    postcode = f.text("postcode", 20)
    if postcode is not None and not POSTCODE.fullmatch(postcode):
        f.error("postcode", f"must be exactly 5 digits, got {postcode!r}")
    phone = f.text("phone", 50)
    if phone is not None:
        try:
            phone = to_e164(phone)
        except ValueError as exc:
            f.error("phone", str(exc))
    address = Address(f.text("street"), f.text("housenumber"), postcode, f.text("locality"))
    fields = PlaceFields(
        name=name or "",
        category=category or "",
        address=address,
        point=f.point(),
        phone=phone,
        website=f.url("website"),
        description=f.text("description", MAX_DESCRIPTION, multiline=True),
        source=f.text("source", MAX_SOURCE, multiline=True),
        opening_hours=f.text("opening_hours", MAX_HOURS),
        wheelchair=f.wheelchair(),
        names=f.names(),
        osm_version=f.count("osm_version"),
        osm_timestamp=f.text("osm_timestamp", 40),
    )
    return (None, f.errors) if f.errors else (fields, [])


def validate_place(raw: Raw, vocabulary: Vocabulary) -> PlaceFields:
    """The place fields of a request body; InvalidInput listing every broken rule."""
    fields, errors = check_place(raw, vocabulary)
    if fields is None:
        raise InvalidInput("; ".join(f"{e.name}: {e.reason}" for e in errors), errors)
    return fields


def parse_joined(text: str) -> tuple[date | None, DatePrecision | None]:
    """parse_partial_date, plus 'YYYY/YYYY' (unknown which year): stored as unknown, never guessed."""
    found = YEAR_RANGE.fullmatch(text.strip())
    if found and int(found[1]) <= int(found[2]):
        return None, None
    return parse_partial_date(text)


def check_member(raw: Raw) -> tuple[MemberFields | None, list[InvalidParam]]:
    """The membership fields of a record, or None with every broken rule."""
    f = Fields(raw)
    name = f.text("name", MAX_NAME, required=True)
    country = (f.text("country", 10) or "DE").upper()
    if not COUNTRY.fullmatch(country):
        f.error("country", f"must be an ISO 3166-1 alpha-2 code such as DE, got {country!r}")
    alliance = _choice(f, "alliance", Alliance, None)
    role = _choice(f, "role", Role, Role.MEMBER)
    joined: tuple[date | None, DatePrecision | None] = (None, None)
    joined_text = f.text("joined", 30)
    if joined_text is not None:
        try:
            joined = parse_joined(joined_text)
        except ValueError:
            f.error("joined", f"must be YYYY, YYYY-MM or YYYY-MM-DD, got {joined_text!r}")
    fields = MemberFields(
        name=name or "",
        kind=f.text("kind") or "other",
        country=country,
        state=f.text("state"),
        alliance=alliance or Alliance.BUENDNIS,
        role=role or Role.MEMBER,
        joined=joined[0],
        joined_precision=joined[1],
        source_url=f.url("source_url", several=True),
        point=f.point(),
    )
    return (None, f.errors) if f.errors else (fields, [])


def _choice(f: Fields, name: str, enum: type[E], default: E | None) -> E | None:
    text = f.text(name, 50, required=default is None)
    if text is None:
        return default
    try:
        return enum(text.casefold())
    except ValueError:
        f.error(name, f"must be one of {', '.join(e.value for e in enum)}, got {text!r}")
        return None
