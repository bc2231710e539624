"""What the embedded store keeps in memory per collection, built in one pass over the live rows of
one read snapshot: the point index, category codes and the AGS prefix index. Replaced as a whole
when the collection's change counter moves."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from poi_service.store.index import IntArray, PointIndex

CHUNK = 65536  # rows per fetchmany: bounded transient Python objects during a build
MAX_AGS_BYTES = 16  # longer (or non-ASCII) stored keys: area queries stay in SQL
LEVELS = (2, 5, 8)  # prefix lengths of states, districts and municipalities
Levels = dict[int, tuple[npt.NDArray[np.bytes_], npt.NDArray[np.int64]]]


class AreaIndex:
    """Live rows by AGS prefix, answering `ags >= p AND ags < p'` (p' = p with its last character
    incremented: every ags starting with p) with the total and fids in fid order.

    Per prefix length L (state 2, district 5, municipality 8) the keys ags[:L] are sorted once
    (stable, so fids stay ascending within a key); a prefix is then one slice found by two binary
    searches, whatever its size. Byte order of ASCII equals SQLite's BINARY collation (numpy drops
    trailing NUL bytes, which sorts such keys exactly as SQLite sorts the longer string).
    """

    def __init__(self, fids: IntArray, ags: npt.NDArray[np.bytes_], levels: Levels | None = None) -> None:
        self._fids = fids
        self._ags = ags  # b"" for NULL
        self._levels: Levels = dict(levels or {})

    @property
    def fids(self) -> IntArray:
        """Every row's fid (the point index's order)."""
        return self._fids

    @property
    def ags(self) -> npt.NDArray[np.bytes_]:
        """Every row's AGS as ASCII bytes (b"" for none)."""
        return self._ags

    def levels(self, lengths: tuple[int, ...] = LEVELS) -> Levels:
        """The sorted keys and fids of these prefix lengths (built now where missing)."""
        return {length: self._level(length) for length in lengths}

    def page(self, prefix: str, offset: int, limit: int) -> tuple[int, IntArray] | None:
        """(total, fids of the page) of rows whose ags starts with prefix; None if it cannot tell."""
        if not prefix.isascii() or "\0" in prefix:
            return None
        width = self._ags.dtype.itemsize
        if len(prefix) > width:
            return 0, np.empty(0, np.int64)
        keys, fids = self._level(len(prefix))
        key = prefix.encode("ascii")
        lo = int(np.searchsorted(keys, key, "left"))
        hi = int(np.searchsorted(keys, key, "right"))
        start = lo + offset
        out: IntArray = fids[start : max(start, min(hi, start + limit))].astype(np.int64)
        return hi - lo, out

    def _level(self, length: int) -> tuple[npt.NDArray[np.bytes_], npt.NDArray[np.int64]]:
        level = self._levels.get(length)
        if level is None:
            keys = self._ags.astype(f"S{length}")  # truncates to the prefix
            order = np.argsort(keys, kind="stable")
            level = self._levels[length] = (keys[order], self._fids[order])
        return level


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The in-memory side of one collection at one change-counter version."""

    index: PointIndex
    codes: dict[str, int]  # category slug -> code in index.codes
    areas: AreaIndex | None  # None when some stored ags does not fit (area queries use SQL then)


def build_snapshot(conn: sqlite3.Connection, table: str, has_category: bool) -> Snapshot:
    """Reads the live rows in chunks into preallocated arrays (no list of all rows)."""
    live = "deleted_at IS NULL"
    # `table` is one of the store's fixed table names.
    n = int(conn.execute(f"SELECT count(*) FROM {table} WHERE {live}").fetchone()[0])  # noqa: S608
    fids = np.empty(n, np.int64)
    lons = np.empty(n, np.float64)
    lats = np.empty(n, np.float64)
    codes = np.empty(n, np.int64)
    known: dict[str, int] = {}
    ags_parts: list[npt.NDArray[np.bytes_]] | None = []
    category = "category" if has_category else "NULL"
    cursor = conn.cursor()
    cursor.row_factory = None
    cursor.execute(f"SELECT fid, lon, lat, {category}, ags FROM {table} WHERE {live} ORDER BY fid")  # noqa: S608
    j = 0
    while chunk := cursor.fetchmany(CHUNK):
        k = j + len(chunk)
        f, x, y, c, a = zip(*chunk, strict=True)
        fids[j:k], lons[j:k], lats[j:k] = f, x, y
        codes[j:k] = [-1 if v is None else known.setdefault(v, len(known)) for v in c]
        ags_parts = _ags_chunk(ags_parts, a)
        j = k
    index = PointIndex(fids, lons, lats, codes)
    areas = None if ags_parts is None else AreaIndex(fids, _concat(ags_parts))
    return Snapshot(index, known, areas)


def _ags_chunk(
    parts: list[npt.NDArray[np.bytes_]] | None, values: tuple[str | None, ...]
) -> list[npt.NDArray[np.bytes_]] | None:
    if parts is None:
        return None
    try:
        arr = np.array([v or "" for v in values], dtype="S")  # ASCII only, else UnicodeEncodeError
    except (UnicodeEncodeError, TypeError):
        return None
    if arr.dtype.itemsize > MAX_AGS_BYTES:
        return None
    parts.append(arr)
    return parts


def _concat(parts: list[npt.NDArray[np.bytes_]]) -> npt.NDArray[np.bytes_]:
    if not parts:
        return np.empty(0, "S1")
    out: npt.NDArray[np.bytes_] = np.concatenate(parts)
    return out
