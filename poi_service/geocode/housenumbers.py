"""Matching keys of streets, house numbers and towns in the address index (German-aware, any language)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from poi_service.geocode.normalize import place_key, street_key

_NUMBER = re.compile(r"^(\d+)([a-zäöü]?)(?:([-/])(\d+)([a-z]?))?")
_DASHES = re.compile("[‐‑–—]")
MAX_KEY_CHARS = 120  # longer street names exist nowhere; longer input is cut, not matched


@lru_cache(maxsize=65_536)
def street_match_key(name: str) -> str:
    """'Süderstr.', 'Süderstraße', 'SUEDERSTRASSE', 'Süder Straße' -> one key; 'Mannerheimintie' as is."""
    # Joined without spaces: 'Süder Straße' and 'Süderstraße' are written both ways on signs and letters.
    return street_key(name[:MAX_KEY_CHARS]).replace(" ", "")


@lru_cache(maxsize=65_536)
def town_key(name: str) -> str:
    """Key of a town or city name ('Harrislee', 'Helsinki', 'Frankfurt a.M.')."""
    return place_key(name[:MAX_KEY_CHARS])


@dataclass(frozen=True, slots=True)
class HouseNumber:
    """A house number taken apart: '12 A' -> key '12a', first 12, last 12; '12-14' -> 12..14."""

    key: str
    first: int | None
    last: int | None
    letter: str

    @property
    def is_range(self) -> bool:
        """'12-14' (a building with several numbers), not '12/1' read as a range of one."""
        return self.first is not None and self.last is not None and self.last > self.first


@lru_cache(maxsize=65_536)
def house_number(text: str) -> HouseNumber:
    """Parses a house number; text without a leading number keeps only its key."""
    key = _DASHES.sub("-", "".join(text[:40].casefold().split()))
    match = _NUMBER.match(key)
    if match is None:
        return HouseNumber(key, None, None, "")
    first = int(match.group(1)[:9])
    # '12/1' is a sub-number of 12, '12a-c' several letters of 12: neither is a range of numbers.
    ranged = match.group(3) == "-" and not match.group(2) and match.group(4)
    last = int(match.group(4)[:9]) if ranged else first
    return HouseNumber(key, first, max(first, last), match.group(2))


def number_score(asked: HouseNumber, stored: HouseNumber) -> float:
    """How well a stored number answers the asked one: 1 exact, 0.95 within a range, 0.85 same
    number with another letter, 0 otherwise."""
    if asked.key == stored.key:
        return 1.0
    if asked.first is None or stored.first is None or stored.last is None or asked.last is None:
        return 0.0
    if stored.is_range and not asked.letter and stored.first <= asked.first <= stored.last:
        return 0.95  # '12' asked, the building is '12-14'
    if asked.is_range and not stored.letter and asked.first <= stored.first <= asked.last:
        return 0.95  # '12-14' asked, the index has '12'
    if asked.first == stored.first and not asked.is_range and not stored.is_range:
        return 0.85  # '12a' asked, only '12' (or '12b') known: the same plot, likely next door
    return 0.0
