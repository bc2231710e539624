"""Text search normalisation shared by the backends: German-aware folding and word queries."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+", re.UNICODE)
_DIGRAPHS = (("ae", "a"), ("oe", "o"), ("ue", "u"))


def fold_text(text: str) -> str:
    """Folds case, accents, ß and ä/ae alike so 'Süderstraße' and 'Suederstrasse' compare equal."""
    text = text.casefold()
    if not text.isascii():  # most names are plain ASCII; skip the Unicode work for them
        text = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
        text = "".join(c for c in text if not unicodedata.combining(c))
    for digraph, single in _DIGRAPHS:
        text = text.replace(digraph, single)
    return text


def words(text: str) -> list[str]:
    """The folded words of a text, in order."""
    return _WORD.findall(fold_text(text))


def fts_match(text: str) -> str | None:
    """An FTS5 MATCH expression: every word as a quoted prefix term; None if no words."""
    terms = [f'"{w}"*' for w in words(text)]
    return " ".join(terms) if terms else None
