"""One record kind in the embedded store: CRUD, spatial search, the in-memory point index."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic

import numpy as np
import shapely

from poi_service.boundaries import Boundaries
from poi_service.errors import Conflict, NotFound
from poi_service.models import Point
from poi_service.store.base import Hit, Page, Query
from poi_service.store.gpkg import point_blob
from poi_service.store.index import IntArray, PointIndex
from poi_service.store.records import D, F, R, RecordSpec, new_id
from poi_service.store.schema import insert_triggers
from poi_service.store.text import fold_text, fts_match

if TYPE_CHECKING:
    from poi_service.store.sqlite import SqliteStore


def ags_range(prefix: str) -> tuple[str, str]:
    """[low, high) bounds of every AGS that starts with prefix (uses the ags index)."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


class SqliteCollection(Generic[R, D, F]):
    """Collection protocol over one GeoPackage feature table."""

    def __init__(self, store: SqliteStore, spec: RecordSpec[R, D, F]) -> None:
        self.store = store
        self.spec: RecordSpec[R, D, F] = spec
        t = spec.table
        cols = ("id", *spec.columns, "search_text", "created_at", "updated_at", "geom")
        changing = (*spec.columns, "search_text", "updated_at", "geom")
        updates = ", ".join(f"{c} = excluded.{c}" for c in changing)
        self._columns = ("fid", "id", *spec.columns, "created_at", "updated_at")
        self._select = f"SELECT {', '.join(self._columns)} FROM {t}"  # noqa: S608
        # Table and column names are fixed constants of this module; values are always parameters.
        self._insert = (
            f"INSERT INTO {t} ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)}) "  # noqa: S608
            f"ON CONFLICT(external_key) DO UPDATE SET {updates}"
        )
        self._update = (
            f"UPDATE {t} SET {', '.join(f'{c} = :{c}' for c in changing)} "  # noqa: S608
            "WHERE id = :id RETURNING fid"
        )
        self._index: PointIndex | None = None
        self._index_version = -1
        self._codes: dict[str, int] = {}

    # -- reads -------------------------------------------------------------------------------

    def get(self, record_id: str) -> R:
        """The record with this id."""
        rows = self._records(f"{self._select} WHERE id = ?", (record_id,))
        if not rows:
            raise NotFound(f"no {self.spec.table[:-1]} with id {record_id!r}")
        return rows[0][1]

    def count(self) -> int:
        """Number of records."""
        return int(self.store.query(f"SELECT count(*) FROM {self.spec.table}")[0][0])  # noqa: S608

    def iter_all(self) -> Iterator[R]:
        """Every record in fid order, read in batches."""
        last = 0
        while True:
            rows = self._records(f"{self._select} WHERE fid > ? ORDER BY fid LIMIT 1000", (last,))
            if not rows:
                return
            last = rows[-1][0]
            yield from (record for _, record in rows)

    def search(self, query: Query[F]) -> Page[R]:
        """Records matching every condition of the query."""
        if query.near is not None:
            return self._search_near(query)
        conds: list[str]
        params: list[Any]
        conds, params = self._conditions(query)
        where = " AND ".join(conds) or "1"
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
        """The k nearest records, exact geodesic order."""
        index = self._fresh_index()
        conds, params = self._conditions(Query(filter), with_categories=False)
        codes = self._category_codes(filter)
        if codes is None:
            return []
        if conds:
            allowed = self._fids_where(conds, params)
            nb = index.restrict(allowed).nearest(point.lon, point.lat, k, codes)
        else:
            nb = index.nearest(point.lon, point.lat, k, codes)
        records = self._fetch(nb.fids)
        return [Hit(records[f], d) for f, d in zip(nb.fids.tolist(), nb.distances_m.tolist(), strict=True)]

    # -- writes ------------------------------------------------------------------------------

    def add(self, data: D) -> R:
        """Stores one record (an existing external_key is updated in place)."""
        with self.store.transaction():
            record_id = self._write(data, _now())
        return self.get(record_id)

    def add_many(self, rows: Iterable[D]) -> int:
        """Stores many records atomically.

        Per-row insert triggers (R*Tree, full text, change counter) are dropped inside the
        transaction and their work is done set-wise afterwards; other connections never see
        the file without them. Upserts still go through the update triggers.
        """
        now = _now()
        t = self.spec.table
        conn = self.store.conn
        count = 0

        def counted() -> Iterator[dict[str, Any]]:
            nonlocal count
            for data in rows:
                count += 1
                yield self._row(data, now)

        with self.store.transaction():
            last = int(conn.execute(f"SELECT coalesce(max(fid), 0) FROM {t}").fetchone()[0])  # noqa: S608
            triggers = insert_triggers(t)
            for name in triggers:
                conn.execute(f"DROP TRIGGER {name}")
            conn.executemany(self._insert, counted())
            conn.execute(
                f"INSERT OR REPLACE INTO rtree_{t}_geom SELECT fid, lon, lon, lat, lat FROM {t} WHERE fid > ?",  # noqa: S608
                (last,),
            )
            conn.execute(
                f"INSERT INTO {t}_fts (rowid, search_text) SELECT fid, search_text FROM {t} WHERE fid > ?",  # noqa: S608
                (last,),
            )
            conn.execute("UPDATE poi_changes SET version = version + 1 WHERE collection = ?", (t,))
            for ddl in triggers.values():
                conn.execute(ddl)
        return count

    def update(self, record_id: str, data: D) -> R:
        """Replaces a record's data, keeping id and created_at."""
        row = self._row(data, _now())
        row["id"] = record_id
        with self.store.transaction():
            try:
                found = self.store.conn.execute(self._update, row).fetchone()
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"external_key {data.external_key!r} belongs to another record") from exc
            if found is None:
                raise NotFound(f"no {self.spec.table[:-1]} with id {record_id!r}")
        return self.get(record_id)

    def delete(self, record_id: str) -> None:
        """Removes a record."""
        t = self.spec.table
        with self.store.transaction():
            found = self.store.conn.execute(
                f"DELETE FROM {t} WHERE id = ? RETURNING fid",  # noqa: S608
                (record_id,),
            ).fetchone()
            if found is None:
                raise NotFound(f"no {t[:-1]} with id {record_id!r}")

    def _write(self, data: D, now: str) -> str:
        row = self._row(data, now)
        self.store.conn.execute(self._insert, row)
        if data.external_key is None:
            return str(row["id"])
        # An upsert keeps the stored id; look it up by the key.
        found = self.store.conn.execute(
            f"SELECT id FROM {self.spec.table} WHERE external_key = ?",  # noqa: S608
            (data.external_key,),
        ).fetchone()
        return str(found[0])

    def _row(self, data: D, now: str) -> dict[str, Any]:
        """Column values of a write: the record's data plus id, timestamps, geometry, search text."""
        return {
            **self.spec.to_row(data), "id": new_id(data.external_key), "created_at": now, "updated_at": now,
            "geom": _geom(data), "search_text": fold_text(self.spec.document(data)),
        }  # fmt: skip

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
        codes = self._category_codes(query.filter)
        if codes is None:
            return Page([], 0, query.limit, query.offset)
        # Categories are answered by the index; drop their SQL condition.
        conds: list[str]
        params: list[Any]
        conds, params = self._conditions(query, with_categories=False)
        near = query.near
        nb = self._fresh_index().within(near.point.lon, near.point.lat, near.radius_m, codes)
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
        with self.store.lock:
            cursor = self.store.conn.cursor()
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

    def _category_codes(self, flt: F) -> tuple[int, ...] | None:
        """Index codes of the filter's categories: () for no filter, None if none is stored."""
        cats = self.spec.categories(flt)
        if not cats:
            return ()
        self._fresh_index()
        codes = tuple(self._codes[c] for c in cats if c in self._codes)
        return codes or None

    def _fresh_index(self) -> PointIndex:
        t = self.spec.table
        with self.store.lock:
            version = int(self.store.conn.execute(
                "SELECT version FROM poi_changes WHERE collection = ?", (t,)
            ).fetchone()[0])  # fmt: skip
            if self._index is None or version != self._index_version:
                self._index = self._build_index()
                self._index_version = version
            return self._index

    def _build_index(self) -> PointIndex:
        code_col = "category" if self.spec.table == "places" else "NULL"
        rows = self.store.conn.execute(
            f"SELECT fid, lon, lat, {code_col} FROM {self.spec.table} ORDER BY fid"  # noqa: S608
        ).fetchall()
        fids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
        lons = np.fromiter((r[1] for r in rows), np.float64, len(rows))
        lats = np.fromiter((r[2] for r in rows), np.float64, len(rows))
        labels = [r[3] for r in rows]
        self._codes = {c: i for i, c in enumerate(sorted({c for c in labels if c is not None}))}
        codes = np.fromiter((self._codes.get(c, -1) if c else -1 for c in labels), np.int64, len(rows))
        return PointIndex(fids, lons, lats, codes)


def _fids(rows: list[sqlite3.Row]) -> IntArray:
    out: IntArray = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    return out


def _geom(data: Any) -> bytes:
    return point_blob(data.point.lon, data.point.lat)


def _bounds(polygon: Any) -> tuple[float, float, float, float] | None:
    return None if polygon is None else tuple(polygon.bounds)


def _now() -> str:
    return datetime.now(UTC).isoformat()
