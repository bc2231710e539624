"""One record kind in the embedded store: reads, spatial search, the in-memory point index.

Every search runs in one read snapshot (SqliteStore.reading) and sees live records only: the
point index leaves out soft-deleted rows, SQL conditions say `deleted_at IS NULL`. Writes are
in sqlite_write.py.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Generic

import numpy as np
import shapely

from poi_service.boundaries import Boundaries
from poi_service.errors import NotFound
from poi_service.models import Point
from poi_service.store.base import Hit, Page, Query
from poi_service.store.index import IntArray, PointIndex
from poi_service.store.records import D, F, R, RecordSpec
from poi_service.store.text import fts_match

if TYPE_CHECKING:
    from poi_service.store.sqlite import SqliteStore


def ags_range(prefix: str) -> tuple[str, str]:
    """[low, high) bounds of every AGS that starts with prefix (uses the ags index)."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


LIVE = "deleted_at IS NULL"
Codes = dict[str, int]


class SqliteReads(Generic[R, D, F]):
    """The read half of the Collection protocol over one GeoPackage feature table."""

    def __init__(self, store: SqliteStore, spec: RecordSpec[R, D, F]) -> None:
        self.store = store
        self.spec: RecordSpec[R, D, F] = spec
        t = spec.table
        cols = ("id", *spec.columns, "search_text", "created_at", "updated_at", "geom")
        changing = (*spec.columns, "search_text", "updated_at", "geom")
        updates = ", ".join(f"{c} = excluded.{c}" for c in changing)
        self._columns = ("fid", "id", *spec.columns, "created_at", "updated_at", "version", "deleted_at")
        self._select = f"SELECT {', '.join(self._columns)} FROM {t}"  # noqa: S608
        # Table and column names are fixed constants of this module; values are always parameters.
        self._insert = (
            f"INSERT INTO {t} ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)}) "  # noqa: S608
            f"ON CONFLICT(external_key) DO UPDATE SET {updates}, version = {t}.version + 1, deleted_at = NULL"
        )
        self._update = (
            f"UPDATE {t} SET {', '.join(f'{c} = :{c}' for c in changing)}, version = version + 1 "  # noqa: S608
            f"WHERE id = :id AND {LIVE} RETURNING fid"
        )
        self._index: tuple[PointIndex, Codes] | None = None
        self._index_version = -1

    # -- reads -------------------------------------------------------------------------------

    def get(self, record_id: str, *, include_deleted: bool = False) -> R:
        """The record with this id (a soft-deleted one only with include_deleted)."""
        live = "" if include_deleted else f" AND {LIVE}"
        rows = self._records(f"{self._select} WHERE id = ?{live}", (record_id,))
        if not rows:
            raise NotFound(f"no {self.spec.table[:-1]} with id {record_id!r}")
        return rows[0][1]

    def count(self) -> int:
        """Number of live records (all rows minus the few in the partial index of deleted ones)."""
        t = self.spec.table
        sql = f"SELECT (SELECT count(*) FROM {t}) - (SELECT count(*) FROM {t} WHERE deleted_at IS NOT NULL)"  # noqa: S608
        return int(self.store.query(sql)[0][0])

    def iter_all(self) -> Iterator[R]:
        """Every live record in fid order, read in batches."""
        last = 0
        while True:
            rows = self._records(f"{self._select} WHERE fid > ? AND {LIVE} ORDER BY fid LIMIT 1000", (last,))
            if not rows:
                return
            last = rows[-1][0]
            yield from (record for _, record in rows)

    def search(self, query: Query[F]) -> Page[R]:
        """Records matching every condition of the query, from one snapshot."""
        with self.store.reading():
            if query.near is not None:
                return self._search_near(query)
            conds: list[str]
            params: list[Any]
            conds, params = self._conditions(query)
            where = " AND ".join([LIVE, *conds])
            t = self.spec.table
            if query.polygon is not None:
                rows = self.store.query(f"SELECT fid, lon, lat FROM {t} WHERE {where} ORDER BY fid", params)  # noqa: S608
                fids = self._in_polygon(rows, query.polygon)
                return self._page(fids, None, query)
            total = int(self.store.query(f"SELECT count(*) FROM {t} WHERE {where}", params)[0][0])  # noqa: S608
            records = self._records(
                f"{self._select} WHERE {where} ORDER BY fid LIMIT ? OFFSET ?",
                [*params, query.limit, query.offset],
            )
        return Page([Hit(record) for _, record in records], total, query.limit, query.offset)

    def nearest(self, point: Point, k: int, filter: F) -> list[Hit[R]]:
        """The k nearest live records, exact geodesic order."""
        with self.store.reading():
            index, known = self._fresh_index()
            conds, params = self._conditions(Query(filter), with_categories=False)
            codes = self._category_codes(filter, known)
            if codes is None:
                return []
            if conds:
                allowed = self._fids_where(conds, params)
                nb = index.restrict(allowed).nearest(point.lon, point.lat, k, codes)
            else:
                nb = index.nearest(point.lon, point.lat, k, codes)
            records = self._fetch(nb.fids)
        return [Hit(records[f], d) for f, d in zip(nb.fids.tolist(), nb.distances_m.tolist(), strict=True)]

    # -- query helpers -----------------------------------------------------------------------

    def _conditions(self, query: Query[F], with_categories: bool = True) -> tuple[list[str], list[Any]]:
        """SQL conditions for everything but the radius (which the point index answers)."""
        conds, params = self.spec.where(query.filter)
        t = self.spec.table
        cats = self.spec.categories(query.filter)
        if with_categories and cats:
            conds.append(f"category IN ({', '.join('?' for _ in cats)})")
            params.extend(cats)
        text = self.spec.text(query.filter)
        match = fts_match(text) if text else None
        if text and match is None:
            conds.append("0")  # only punctuation: nothing can match
        elif match:
            conds.append(f"fid IN (SELECT rowid FROM {t}_fts WHERE {t}_fts MATCH ?)")  # noqa: S608
            params.append(match)
        bbox = query.bbox
        boxes = [
            b
            for b in ((bbox.minx, bbox.miny, bbox.maxx, bbox.maxy) if bbox else None, _bounds(query.polygon))
            if b
        ]
        for minx, miny, maxx, maxy in boxes:
            # The R*Tree holds float32 bounds rounded outward: use it to narrow, then test exactly.
            conds.append(
                f"fid IN (SELECT id FROM rtree_{t}_geom WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?)"  # noqa: S608
            )
            params.extend((minx, maxx, miny, maxy))
            conds.append("lon BETWEEN ? AND ? AND lat BETWEEN ? AND ?")
            params.extend((minx, maxx, miny, maxy))
        if query.area is not None:
            area = Boundaries.load(self.store.data_dir).resolve(query.area)
            conds.append("ags >= ? AND ags < ?")
            params.extend(ags_range(area.ags))
        return conds, params

    def _search_near(self, query: Query[F]) -> Page[R]:
        assert query.near is not None
        index, known = self._fresh_index()
        codes = self._category_codes(query.filter, known)
        if codes is None:
            return Page([], 0, query.limit, query.offset)
        # Categories are answered by the index; drop their SQL condition.
        conds: list[str]
        params: list[Any]
        conds, params = self._conditions(query, with_categories=False)
        near = query.near
        # The index holds live records only (built from this snapshot): no deleted_at condition needed.
        nb = index.within(near.point.lon, near.point.lat, near.radius_m, codes)
        fids, dist = nb.fids, nb.distances_m
        if conds or query.polygon is not None:
            conds = ["fid IN (SELECT value FROM json_each(?))", *conds]
            rows = self.store.query(
                f"SELECT fid, lon, lat FROM {self.spec.table} WHERE {' AND '.join(conds)}",  # noqa: S608
                [json.dumps(fids.tolist()), *params],
            )
            allowed = self._in_polygon(rows, query.polygon) if query.polygon is not None else _fids(rows)
            keep = np.isin(fids, allowed)
            fids, dist = fids[keep], dist[keep]
        return self._page(fids, dist, query)

    def _page(self, fids: IntArray, dist: np.ndarray | None, query: Query[F]) -> Page[R]:
        window = slice(query.offset, query.offset + query.limit)
        page_fids = fids[window]
        records = self._fetch(page_fids)
        dists: list[float | None] = dist[window].tolist() if dist is not None else [None] * len(page_fids)
        hits = [Hit(records[f], d) for f, d in zip(page_fids.tolist(), dists, strict=True)]
        return Page(hits, len(fids), query.limit, query.offset)

    def _fetch(self, fids: IntArray) -> dict[int, R]:
        if len(fids) == 0:
            return {}
        marks = ",".join("?" * len(fids))
        return dict(self._records(f"{self._select} WHERE fid IN ({marks})", fids.tolist()))

    def _records(self, sql: str, params: tuple[Any, ...] | list[Any]) -> list[tuple[int, R]]:
        """(fid, record) pairs; rows are read as tuples and named once, cheaper than sqlite3.Row."""
        with self.store.reading() as conn:
            cursor = conn.cursor()
            cursor.row_factory = None
            values = cursor.execute(sql, params).fetchall()
        cols = self._columns
        return [(v[0], self.spec.from_row(dict(zip(cols, v, strict=True)))) for v in values]

    def _fids_where(self, conds: list[str], params: list[Any]) -> IntArray:
        rows = self.store.query(f"SELECT fid FROM {self.spec.table} WHERE {' AND '.join(conds)}", params)  # noqa: S608
        return _fids(rows)

    @staticmethod
    def _in_polygon(rows: list[sqlite3.Row], polygon: Any) -> IntArray:
        if not rows:
            return np.empty(0, np.int64)
        arr = np.array([(r[0], r[1], r[2]) for r in rows], dtype=np.float64)
        inside = shapely.contains_xy(polygon, arr[:, 1], arr[:, 2]) | shapely.intersects_xy(
            polygon.boundary, arr[:, 1], arr[:, 2]
        )
        fids: IntArray = arr[inside, 0].astype(np.int64)
        return fids

    def _category_codes(self, flt: F, known: Codes) -> tuple[int, ...] | None:
        """Index codes of the filter's categories: () for no filter, None if none is stored."""
        cats = self.spec.categories(flt)
        if not cats:
            return ()
        codes = tuple(known[c] for c in cats if c in known)
        return codes or None

    def _fresh_index(self) -> tuple[PointIndex, Codes]:
        """The point index of the current snapshot, rebuilt when the change counter has moved.

        Inside a write transaction the index is built from uncommitted rows and not kept.
        """
        t = self.spec.table
        with self.store.reading() as conn:
            version = int(
                conn.execute("SELECT version FROM poi_changes WHERE collection = ?", (t,)).fetchone()[0]
            )
            if self.store.in_transaction():
                return self._build_index(conn)
            if self._index is None or version != self._index_version:
                self._index = self._build_index(conn)
                self._index_version = version
            return self._index

    def _build_index(self, conn: sqlite3.Connection) -> tuple[PointIndex, Codes]:
        code_col = "category" if self.spec.table == "places" else "NULL"
        rows = conn.execute(
            f"SELECT fid, lon, lat, {code_col} FROM {self.spec.table} WHERE {LIVE} ORDER BY fid"  # noqa: S608
        ).fetchall()
        fids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
        lons = np.fromiter((r[1] for r in rows), np.float64, len(rows))
        lats = np.fromiter((r[2] for r in rows), np.float64, len(rows))
        labels = [r[3] for r in rows]
        known = {c: i for i, c in enumerate(sorted({c for c in labels if c is not None}))}
        codes = np.fromiter((known.get(c, -1) if c else -1 for c in labels), np.int64, len(rows))
        return PointIndex(fids, lons, lats, codes), known


def _fids(rows: list[sqlite3.Row]) -> IntArray:
    out: IntArray = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    return out


def _bounds(polygon: Any) -> tuple[float, float, float, float] | None:
    return None if polygon is None else tuple(polygon.bounds)
