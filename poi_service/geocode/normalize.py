"""German-aware keys for matching place names, streets and kind prefixes."""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class Kind(StrEnum):
    """What a prefix such as 'Landkreis' or 'Samtgemeinde' says about the named area."""

    DISTRICT = "district"  # Landkreis, Kreis, Region, Städteregion, Regionalverband
    CITY_DISTRICT = "city_district"  # Stadtkreis, kreisfreie Stadt
    ASSOCIATION = "association"  # Samtgemeinde, Verbandsgemeinde, Amt, Verwaltungsgemeinschaft
    CITY = "city"  # Stadt X: prefer municipalities that are towns
    MUNICIPALITY = "municipality"  # Gemeinde X, Markt X, Flecken X


# Folded prefix -> kind, longest first so 'kreisfreie stadt' wins over 'kreis'.
_PREFIXES: tuple[tuple[str, Kind], ...] = (
    ("kreisfreie stadt", Kind.CITY_DISTRICT),
    ("verwaltungsgemeinschaft", Kind.ASSOCIATION),
    ("verbandsgemeinde", Kind.ASSOCIATION),
    ("regionalverband", Kind.DISTRICT),
    ("samtgemeinde", Kind.ASSOCIATION),
    ("stadteregion", Kind.DISTRICT),
    ("stadtkreis", Kind.CITY_DISTRICT),
    ("landkreis", Kind.DISTRICT),
    ("gemeinde", Kind.MUNICIPALITY),
    ("flecken", Kind.MUNICIPALITY),
    ("region", Kind.DISTRICT),
    ("kreis", Kind.DISTRICT),
    ("stadt", Kind.CITY),
    ("markt", Kind.MUNICIPALITY),
    ("amt", Kind.ASSOCIATION),
    ("lkr", Kind.DISTRICT),
    ("lk", Kind.DISTRICT),
)
# Prefixes that are part of the official district name in the BKG data ('Region Hannover').
NAMED_DISTRICT_PREFIXES = ("region", "stadteregion", "regionalverband")

# Designations Destatis appends after a comma ('Gießen, Universitätsstadt'), folded; the gazetteer adds
# every suffix it actually finds, this list covers free text typed without the data at hand.
OFFICIAL_SUFFIXES = frozenset(
    {
        "stadt",
        "st",
        "gemeinde",
        "markt",
        "m",
        "flecken",
        "gkst",
        "grosse kreisstadt",
        "kreisstadt",
        "hansestadt",
        "freie und hansestadt",
        "landeshauptstadt",
        "universitatsstadt",
        "hochschulstadt",
        "lutherstadt",
        "kurort",
        "ostseebad",
        "nordseebad",
        "seebad",
        "kreisfreie stadt",
        "landkreis",
        "kreis",
    }
)

# Connector words and abbreviations dropped from name keys (not as first word), so that
# 'Neustadt a.d.Aisch' == 'Neustadt an der Aisch' and 'Grafing b.München' == 'Grafing bei München'.
_CONNECTORS = frozenset(
    {"a", "am", "an", "auf", "b", "bei", "d", "dem", "den", "der", "i", "im", "in", "ob", "v", "vor", "zu"}
)
# Region abbreviations in Destatis short names ('Weißenburg i.Bay.', 'Neustadt/Vogtl.'), folded.
_ABBREVIATIONS = {
    "bay": "bayern",
    "erzgeb": "erzgebirge",
    "vogtl": "vogtland",
    "opf": "oberpfalz",
    "westf": "westfalen",
    "sa": "sachsen",
    "ofr": "oberfranken",
    "ufr": "unterfranken",
    "mfr": "mittelfranken",
    "schw": "schwaben",
    "thur": "thuringen",
    "rhld": "rheinland",
    "odw": "odenwald",
    "obb": "oberbayern",
    "ndb": "niederbayern",
    "oldb": "oldenburg",
    "hann": "hannoversch",
}
_SEPARATORS = re.compile(r"[-‐‑–—_./,;:()\[\]'’\"]+")
_COMBINING = re.compile("[\u0300-\u036f]")  # the diacritics NFKD splits off Latin letters (ä -> a + ̈)
_STREET_END = re.compile(r"(str|strasse)$")


def fold(text: str, keep_accents: bool = False) -> str:
    """Casefolded, ß -> ss, accents stripped (ä -> a), punctuation and hyphens as single spaces."""
    text = text.replace("ß", "ss").replace("ẞ", "ss").casefold()
    if not keep_accents and not text.isascii():
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    return " ".join(_SEPARATORS.sub(" ", text).split())


def transliterated(key: str) -> str:
    """ae/oe/ue -> a/o/u, for input typed without umlauts ('Muenchen'); applied to queries only."""
    # Index keys keep 'ue' because real names differ only there (Neuenkirchen vs Neunkirchen).
    return key.replace("ae", "a").replace("oe", "o").replace("ue", "u")


def strip_official_suffix(name: str) -> str:
    """'Gießen, Universitätsstadt' -> 'Gießen': Destatis puts the designation after the first comma."""
    return name.split(",", 1)[0].strip()


def place_key(name: str, keep_accents: bool = False) -> str:
    """Matching key of a place name: folded, suffix dropped, 'St.' -> 'sankt', connectors dropped."""
    # keep_accents keeps ü apart from u, to prefer Münster over Munster when the input wrote the umlaut.
    words = fold(strip_official_suffix(name), keep_accents).split()
    if not words:
        return ""
    if words[0] == "st":
        words[0] = "sankt"
    rest = (_ABBREVIATIONS.get(w, w) for w in words[1:] if w not in _CONNECTORS)
    return " ".join([words[0], *rest])


def base_key(name: str) -> str:
    """The name without its qualifier: 'Rotenburg (Wümme)', 'Rotenburg a. d. Fulda' -> 'rotenburg'."""
    head = strip_official_suffix(name).split("(", 1)[0].split("/", 1)[0]
    words = fold(head).split()
    if not words:
        return ""
    if words[0] == "st":
        words[0] = "sankt"
    kept = [words[0]]
    for word in words[1:]:
        if word in _CONNECTORS:
            break
        kept.append(word)
    return " ".join(kept)


def has_qualifier(name: str) -> bool:
    """True when the name carries a qualifier ('am Neckar', '(Wümme)') that base_key removes."""
    return base_key(name) != place_key(name)


def split_kind(text: str) -> tuple[Kind | None, str]:
    """('Landkreis Tübingen') -> (Kind.DISTRICT, 'Tübingen'); the rest keeps its original spelling."""
    stripped = text.strip()
    key = fold(stripped)
    for prefix, kind in _PREFIXES:
        if key.startswith(prefix + " "):
            # Drop as many original words as the prefix has (prefixes contain no punctuation).
            rest = stripped.split(None, prefix.count(" ") + 1)[-1]
            return kind, rest.lstrip(".").strip()
    return None, stripped


def street_key(street: str) -> str:
    """'Süderstr.', 'Süderstraße', 'Suederstrasse' -> 'suderstrasse'; 'Große Str.' -> 'grosse strasse'."""
    words = transliterated(fold(street)).split()
    return " ".join(_STREET_END.sub("strasse", w) for w in words)


def looks_like_street(text: str) -> bool:
    """A comma part that names a street (with or without number) rather than a place."""
    key = fold(text)
    if re.search(r"\d", key):
        return True
    last = key.rsplit(" ", 1)[-1] if key else ""
    return bool(
        re.search(r"(str|strasse|weg|platz|allee|gasse|ring|damm|ufer|chaussee|bogen|pfad|steig)$", last)
    )
