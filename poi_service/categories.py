"""The controlled category vocabulary: stable slugs, German and English labels, source-label aliases."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from poi_service.config import Settings
from poi_service.errors import invalid
from poi_service.store.text import words

VOCABULARY_FILE = Path(__file__).with_name("categories.csv")
COLUMNS = ("slug", "label_de", "label_en")


@dataclass(frozen=True, slots=True)
class Category:
    """One entry of the vocabulary."""

    slug: str
    label_de: str
    label_en: str
    aliases: tuple[str, ...] = ()


class Vocabulary:
    """Looks categories up by slug, label or alias (case-insensitive)."""

    def __init__(self, categories: list[Category]) -> None:
        self.categories = categories
        self._by_slug = {c.slug: c for c in categories}
        self._by_text: dict[str, Category] = {}
        for c in categories:
            for text in (c.slug, c.label_de, c.label_en, *c.aliases):
                self._by_text.setdefault(text.strip().casefold(), c)

    @classmethod
    def load(cls, *paths: Path) -> Vocabulary:
        """The shipped vocabulary plus any operator files (same columns), later files extending it."""
        categories: dict[str, Category] = {}
        for path in (VOCABULARY_FILE, *paths):
            with path.open(encoding="utf-8", newline="") as handle:
                reader = csv.DictReader(handle)
                if not set(COLUMNS) <= set(reader.fieldnames or ()):
                    raise ValueError(f"{path}: a category file needs the columns {', '.join(COLUMNS)}")
                for row in reader:
                    aliases = tuple(a.strip() for a in (row.get("aliases") or "").split("|") if a.strip())
                    categories[row["slug"]] = Category(row["slug"], row["label_de"], row["label_en"], aliases)
        return cls(list(categories.values()))

    @classmethod
    def from_settings(cls, settings: Settings) -> Vocabulary:
        """The shipped vocabulary extended by POI_CATEGORIES_FILE, when set."""
        return cls.load(*([settings.categories_file] if settings.categories_file else []))

    def get(self, slug: str) -> Category | None:
        """The category with this slug, if any."""
        return self._by_slug.get(slug)

    def require(self, slug: str, param: str = "category") -> Category:
        """The category with this slug, or an error naming the parameter."""
        found = self.find(slug)  # reads accept the labels and aliases writes accept
        if found is None:
            raise invalid(param, f"unknown category {slug!r}; see GET /categories")
        return found

    def find(self, text: str) -> Category | None:
        """The category with this slug, label or alias (what writes accept), if any."""
        return self._by_slug.get(text) or self.match(text)

    def matching(self, text: str | None) -> tuple[str, ...]:
        """Slugs of the categories whose slug, labels or aliases hold every word of `text` as a word prefix
        (folded as the text search folds: `schwimmbad` finds "Schwimmbad / Schwimmhalle")."""
        wanted = words(text or "")
        if not wanted:
            return ()
        found = []
        for c in self.categories:
            have = words(" ".join((c.slug.replace("_", " "), c.label_de, c.label_en, *c.aliases)))
            if all(any(h.startswith(w) for h in have) for w in wanted):
                found.append(c.slug)
        return tuple(found)

    def match(self, text: str) -> Category | None:
        """Maps a source label such as 'Stolperstein / Gedenkort' to its category."""
        return self._by_text.get(text.strip().casefold())
