"""Text search for the PostGIS store with exactly the embedded store's FTS5 semantics.

The embedded store matches `fts_match(text)`: every folded query word becomes an FTS5 phrase
`"word"*` tokenised by `unicode61 remove_diacritics 2`, i.e. its tokens must occur consecutively
in the record's folded document, the last one as a prefix. PostgreSQL's own text parser splits
words differently (URLs, hyphens, numbers, underscores, case and diacritic folding of other
scripts), so this module does not use it: SQLite's unicode61 tokenizer itself (Python's sqlite3,
in an in-memory table) turns documents and query words into tokens, and they travel to PostgreSQL
as a positioned `tsvector` literal and a `tsquery` of prefix phrases (`'a' <-> 'b':*`). Matching
then agrees token for token with the embedded backend, and a GIN index answers it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence

from poi_service.store.text import fold_text, words

TOKENIZER = "unicode61 remove_diacritics 2"  # as in poi_service/store/schema.py
MAX_LEXEME_BYTES = 2046  # PostgreSQL refuses longer lexemes (2047 bytes); longer tokens are cut
MAX_POSITION = 16383  # PostgreSQL's largest tsvector position

_local = threading.local()


def _tokenizer() -> sqlite3.Connection:
    conn: sqlite3.Connection | None = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(":memory:", isolation_level=None)
        conn.execute(f"CREATE VIRTUAL TABLE doc USING fts5(body, tokenize = '{TOKENIZER}')")
        conn.execute("CREATE VIRTUAL TABLE tok USING fts5vocab(doc, 'instance')")
        _local.conn = conn
    return conn


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """unicode61 tokens of each text, in order (positions are list indices)."""
    if not texts:
        return []
    conn = _tokenizer()
    out: list[list[str]] = [[] for _ in texts]
    conn.execute("BEGIN")
    try:
        conn.executemany("INSERT INTO doc (rowid, body) VALUES (?, ?)", enumerate(texts))
        for term, row, offset in conn.execute('SELECT term, doc, "offset" FROM tok'):
            tokens = out[row]
            while len(tokens) <= offset:
                tokens.append("")
            tokens[offset] = term
    finally:
        conn.execute("ROLLBACK")
    return out


def _lexeme(token: str) -> str:
    raw = token.encode()
    if len(raw) > MAX_LEXEME_BYTES:
        token = raw[:MAX_LEXEME_BYTES].decode(errors="ignore")
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvectors(documents: Sequence[str]) -> list[tuple[str, str]]:
    """(folded document, tsvector literal) for each record document."""
    folded = [fold_text(d) for d in documents]
    result = []
    for doc, tokens in zip(folded, tokenize(folded), strict=True):
        lexemes = " ".join(f"{_lexeme(t)}:{min(i + 1, MAX_POSITION)}" for i, t in enumerate(tokens) if t)
        result.append((doc, lexemes))
    return result


def tsquery(text: str) -> str | None:
    """A tsquery literal matching what fts_match(text) matches; None when nothing can match.

    Query words that hold no token (e.g. '_') are dropped, as FTS5 ignores empty phrases; a
    query of only such words matches nothing there and gets None here.
    """
    phrases = []
    for tokens in tokenize(words(text)):
        tokens = [t for t in tokens if t]
        if tokens:
            lexemes = [_lexeme(t) for t in tokens]
            lexemes[-1] += ":*"
            phrases.append("(" + " <-> ".join(lexemes) + ")")
    return " & ".join(phrases) if phrases else None
