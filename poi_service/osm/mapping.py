"""OSM tags to our categories: the shipped mapping.toml, extended by POI_OSM_MAPPING_FILE."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from poi_service.categories import Vocabulary
from poi_service.errors import ImportFailed

MAPPING_FILE = Path(__file__).with_name("mapping.toml")
ABSENT = frozenset({"no", "none", "0"})  # values that mean "not there" for key=*
ANY = "*"

Tags = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Condition:
    """One key=value part of a selector; values None means any value but ABSENT."""

    key: str
    values: frozenset[str] | None

    def holds(self, tags: Tags) -> bool:
        """True when the tags satisfy this condition."""
        value = tags.get(self.key)
        if value is None:
            return False
        if self.values is None:
            return value.strip().casefold() not in ABSENT
        return value in self.values


@dataclass(frozen=True, slots=True)
class Rule:
    """All conditions must hold; category '' leaves the object out."""

    selector: str
    conditions: tuple[Condition, ...]
    category: str


class TagMapping:
    """The rules of every mapping file, operator files first, and the categories kept without name."""

    def __init__(self, rules: list[Rule], unnamed: frozenset[str]) -> None:
        self.rules = rules
        self.unnamed = unnamed
        # Rules by their first condition: (key, value) for listed values, key alone for key=*. An object
        # then tries only rules its own tags can start (a few), in file order.
        self._by_value: dict[tuple[str, str], list[tuple[int, Rule]]] = {}
        self._by_any: dict[str, list[tuple[int, Rule]]] = {}
        for i, rule in enumerate(rules):
            first = rule.conditions[0]
            if first.values is None:
                self._by_any.setdefault(first.key, []).append((i, rule))
            else:
                for value in first.values:
                    self._by_value.setdefault((first.key, value), []).append((i, rule))
        self._keys = frozenset(r.conditions[0].key for r in rules)

    @property
    def keys(self) -> frozenset[str]:
        """Every key a rule starts with: objects without any of them are never places."""
        return self._keys

    def category(self, tags: Tags) -> str | None:
        """The slug of the first matching rule; None when none matches (or it maps to '')."""
        candidates: list[tuple[int, Rule]] = []
        by_value, by_any = self._by_value, self._by_any
        for key, value in tags.items():
            found = by_value.get((key, value))
            if found:
                candidates.extend(found)
            found = by_any.get(key)
            if found:
                candidates.extend(found)
        if len(candidates) > 1:
            candidates.sort(key=_first)
        for _, rule in candidates:
            if all(c.holds(tags) for c in rule.conditions):
                return rule.category or None
        return None


def _first(entry: tuple[int, Rule]) -> int:
    return entry[0]


def parse_selector(selector: str, where: str) -> tuple[Condition, ...]:
    """'amenity=place_of_worship religion=christian' -> conditions; ImportFailed naming a bad one."""
    conditions = []
    for part in selector.split():
        key, sep, value = part.partition("=")
        if not sep or not key or not value:
            raise ImportFailed(f"{where}: {selector!r}: write conditions as key=value, key=a|b or key=*")
        values = None if value == ANY else frozenset(value.split("|"))
        conditions.append(Condition(key, values))
    if not conditions:
        raise ImportFailed(f"{where}: an empty selector")
    return tuple(conditions)


def _read(path: Path) -> tuple[list[Rule], set[str]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ImportFailed(f"OSM mapping file {path}: {exc}") from exc
    rules_table = data.get("rules", {})
    unnamed = data.get("unnamed", {}).get("categories", [])
    if not isinstance(rules_table, dict) or not isinstance(unnamed, list):
        raise ImportFailed(f"OSM mapping file {path}: needs a [rules] table and [unnamed] categories = [...]")
    rules = []
    for selector, category in rules_table.items():
        if not isinstance(category, str):
            raise ImportFailed(f"OSM mapping file {path}: {selector!r} must map to a category slug")
        rules.append(Rule(selector, parse_selector(selector, str(path)), category))
    return rules, {str(c) for c in unnamed}


def load_mapping(vocabulary: Vocabulary, extra: Iterable[Path] = ()) -> TagMapping:
    """The operator's files (tried first, in the order given), then the shipped one; every slug checked."""
    rules: list[Rule] = []
    unnamed: set[str] = set()
    for path in (*extra, MAPPING_FILE):
        found, names = _read(path)
        rules.extend(found)
        unnamed |= names
    unknown = sorted({r.category for r in rules if r.category and vocabulary.get(r.category) is None})
    unknown += sorted(c for c in unnamed if vocabulary.get(c) is None)
    if unknown:
        raise ImportFailed(
            f"OSM mapping: unknown category slug(s) {', '.join(unknown)}; add them with POI_CATEGORIES_FILE"
        )
    return TagMapping(rules, frozenset(unnamed))
