"""SQL LIKE without backtracking: fixed-length segments between `%` signs, each placed leftmost.

A regular expression such as `.*.*.*x` backtracks exponentially in the number of `%` on a miss. Here
the pattern is split on `%` into segments of literal characters and `_` (any one character); the first
is anchored at the start, the last at the end, and each middle one is placed at its earliest position,
which is correct for LIKE because a fixed-length segment placed earlier never leaves less room for the
ones after it. Cost: at most len(text) * len(longest segment) character comparisons.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

# One pattern position: a literal character, or None for `_` (any one character).
Segment = tuple[str | None, ...]


@dataclass(frozen=True)
class LikePattern:
    """A parsed LIKE pattern: the segments between its `%` signs (one segment if it has none)."""

    segments: tuple[Segment, ...]

    def matches(self, text: str) -> bool:
        """Whether the whole text matches the pattern."""
        segs = self.segments
        if len(segs) == 1:
            return len(text) == len(segs[0]) and _at(segs[0], text, 0)
        first, last = segs[0], segs[-1]
        limit = len(text) - len(last)
        if limit < len(first) or not _at(first, text, 0):
            return False
        pos = len(first)
        for seg in segs[1:-1]:
            found = _find(seg, text, pos, limit)
            if found < 0:
                return False
            pos = found + len(seg)
        return _at(last, text, limit)


def _at(seg: Segment, text: str, pos: int) -> bool:
    return all(c is None or text[pos + i] == c for i, c in enumerate(seg))


def _find(seg: Segment, text: str, start: int, limit: int) -> int:
    """The first position p >= start where seg matches with p + len(seg) <= limit, or -1."""
    if None not in seg:
        return text.find("".join(c or "" for c in seg), start, limit) if start <= limit else -1
    for pos in range(start, limit - len(seg) + 1):
        if _at(seg, text, pos):
            return pos
    return -1


@lru_cache(maxsize=64)
def like_pattern(pattern: str) -> LikePattern:
    """The parsed pattern: `%` any run, `_` any one character, backslash escapes the next character
    (a trailing lone backslash is ignored)."""
    segments: list[Segment] = []
    current: list[str | None] = []
    escaped = False
    for ch in pattern:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "%":
            segments.append(tuple(current))
            current = []
        else:
            current.append(None if ch == "_" else ch)
    segments.append(tuple(current))
    return LikePattern(tuple(segments))
