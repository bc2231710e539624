"""One record kind in the embedded store: reads, spatial search, the in-memory point index.

Every search runs in one read snapshot (SqliteStore.reading) and sees live records only: the
point index leaves out soft-deleted rows, SQL conditions say `deleted_at IS NULL`. Writes are
in sqlite_write.py.
"""

from __future__ import annotations

import json
import sqlite3
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Generic

import numpy as np

from poi_service.boundaries import Boundaries
from poi_service.errors import NotFound
from poi_service.models import Point
from poi_service.store import snapshot_file
from poi_service.store.base import Extent, Hit, ImportPlan, Page, Query
from poi_service.store.decode import row_decoder
from poi_service.store.history import plan_rows
from poi_service.store.hours_filter import nearest_open, open_rows
from poi_service.store.index import Ball, IntArray
from poi_service.store.records import HAS_HOURS, D, F, R, RecordSpec, ags_range, extent_of, extent_sql
from poi_service.store.snapshot import Snapshot, build_snapshot
from poi_service.store.sqlite_rows import Connections, bounds_of, fids_of, in_polygon
from poi_service.store.text import fts_match

LIVE = "deleted_at IS NULL"
KEY_BATCH = 500  # keys per IN (...) list: below SQLite's 999 host parameters of old builds
Codes = dict[str, int]
# Decoded records kept per collection, dropped on any change. Reading one back from a 1 GB file costs
# 15-40 µs (SQL + decode). 8,192 of them (~3 tracked objects each) keep a garbage collection of a
# worker at a few ms; 32,768 made it ~80 ms, a recurring stall under random queries, which missed
# the cache anyway (nearby/nearest at scale are answered from rendered features: features/shared.py).
CACHE_RECORDS = 8_192


class SqliteReads(Generic[R, D, F]):
    """The read half of the Collection protocol over one GeoPackage feature table."""

    def __init__(self, store: Connections, spec: RecordSpec[R, D, F]) -> None:
        self.store = store
        self.spec: RecordSpec[R, D, F] = spec
        self._columns = ("fid", "id", *spec.columns, "created_at", "updated_at", "version", "deleted_at")
        self._select_deleted = f"SELECT {', '.join(self._columns)} FROM deleted_{spec.table}"  # noqa: S608 (store/archive.py)
        # Table and column names are fixed constants of this module; values are always parameters.
        self._select = f"SELECT {', '.join(self._columns)} FROM {spec.table}"  # noqa: S608
        self._decode = row_decoder(spec.table, self._columns)
        # In-memory state of the committed data at change-counter version _version; _stamp and
        # _synced say when the counter was last checked (see _sync).
        self._version = -1
        self._stamp: tuple[int, int] = (-1, -1)
        self._synced = -1
        self._snapshot: Snapshot | None = None
        # OrderedDict: evicting the oldest of a plain dict (del d[next(iter(d))]) scans the deleted
        # slots at its front, ~20 µs per eviction at 32k entries against 0.3 µs here.
        self._cache: OrderedDict[int, R] = OrderedDict()
        self._boundaries: Boundaries | None = None

    # -- reads -------------------------------------------------------------------------------

    def get(self, record_id: str, *, include_deleted: bool = False) -> R:
        """The record with this id (a soft-deleted one only with include_deleted)."""
        live = "" if include_deleted else f" AND {LIVE}"
        rows = self._records(f"{self._select} WHERE id = ?{live}", (record_id,))
        if not rows and include_deleted:  # soft-deleted rows live outside the layer (store/archive.py)
            rows = self._records(self._select_deleted + " WHERE id = ?", (record_id,))
        if not rows:
            raise NotFound(f"no {self.spec.noun} with id {record_id!r}")
        return rows[0][1]

    def count(self) -> int:
        """Number of live records (all rows minus the few in the partial index of deleted ones)."""
        t = self.spec.table
        sql = f"SELECT (SELECT count(*) FROM {t}) - (SELECT count(*) FROM {t} WHERE deleted_at IS NOT NULL)"  # noqa: S608
        return int(self.store.query(sql)[0][0])

    def plan(self, rows: Sequence[D]) -> ImportPlan:
        """What add_many(rows) would do, from the live records of the rows' keys (read in batches)."""
        keys = list({d.external_key for d in rows if d.external_key is not None})
        stored: dict[str, R] = {}
        for i in range(0, len(keys), KEY_BATCH):
            batch = keys[i : i + KEY_BATCH]
            marks = ",".join("?" * len(batch))
            for _, record in self._records(
                f"{self._select} WHERE external_key IN ({marks}) AND {LIVE}", batch
            ):
                stored[record.external_key] = record  # type: ignore[index]
        return plan_rows(self.spec, rows, stored)

    def extent(self) -> Extent | None:
        """Bounds and join-date interval of the live records, in one scan of the table."""
        return extent_of(self.store.query(extent_sql(self.spec, LIVE))[0])

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
            by_area = self._by_area(query)
            if by_area is not None:
                return by_area
            conds: list[str]
            params: list[Any]
            conds, params = self._conditions(query)
            where = " AND ".join([LIVE, *conds])
            t = self.spec.table
            at = self.spec.open_at(query.filter)
            if query.polygon is not None or at is not None:
                sql = f"SELECT {self._candidates(at)} FROM {t} WHERE {where} ORDER BY fid"  # noqa: S608
                rows = open_rows(self.store.query(sql, params), at)
                fids = in_polygon(rows, query.polygon) if query.polygon is not None else fids_of(rows)
                return self._page(fids[query.offset : query.offset + query.limit], None, len(fids), query)
            total = int(self.store.query(f"SELECT count(*) FROM {t} WHERE {where}", params)[0][0])  # noqa: S608
            values = self._rows(
                f"{self._select} WHERE {where} ORDER BY fid LIMIT ? OFFSET ?",
                [*params, query.limit, query.offset],
            )
        # Decoded after the read lock is released: a large page must not hold up other readers.
        decode = self._decode
        return Page([Hit(decode(v)) for v in values], total, query.limit, query.offset)

    def nearest(self, point: Point, k: int, filter: F) -> list[Hit[R]]:
        """The k nearest live records, exact geodesic order."""
        with self.store.reading():
            snap = self._fresh_index()
            index, known = snap.index, snap.codes
            conds, params = self._conditions(Query(filter), with_categories=False)
            codes = self._category_codes(filter, known)
            if codes is None:
                return []
            at = self.spec.open_at(filter)
            if at is not None:  # rows without hours are never open: no need to restrict to them first
                conds = [c for c in conds if c != HAS_HOURS]
            if conds:
                index = index.restrict(self._fids_where(conds, params))
            if at is None:
                nb = index.nearest(point.lon, point.lat, k, codes)
            else:
                nb = nearest_open(index, point.lon, point.lat, k, codes, at, self._hours_of)
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
        also: tuple[str, ...] = self.spec.text_categories(
            query.filter
        )  # places of a category whose label the text names
        alt = f" OR category IN ({', '.join('?' for _ in also)})" if also else ""
        if text and match is None:
            conds.append(f"(0{alt})")  # only punctuation: nothing can match
            params.extend(also)
        elif match:
            conds.append(f"(fid IN (SELECT rowid FROM {t}_fts WHERE {t}_fts MATCH ?){alt})")  # noqa: S608
            params.extend((match, *also))
        bbox = query.bbox
        boxes = [
            b
            for b in (
                (bbox.minx, bbox.miny, bbox.maxx, bbox.maxy) if bbox else None,
                bounds_of(query.polygon),
            )
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
            area = self._areas().resolve(query.area)
            conds.append("ags >= ? AND ags < ?")
            params.extend(ags_range(area.ags))
        return conds, params

    def _search_near(self, query: Query[F]) -> Page[R]:
        assert query.near is not None
        snap = self._fresh_index()
        codes = self._category_codes(query.filter, snap.codes)
        if codes is None:
            return Page([], 0, query.limit, query.offset)
        # Categories are answered by the index; drop their SQL condition.
        conds: list[str]
        params: list[Any]
        conds, params = self._conditions(query, with_categories=False)
        near = query.near
        # The index holds live records only (built from this snapshot): no deleted_at condition needed.
        ball: Ball = snap.index.within(near.point.lon, near.point.lat, near.radius_m, codes)
        if conds or query.polygon is not None:
            fids = ball.fids
            conds = ["fid IN (SELECT value FROM json_each(?))", *conds]
            at = self.spec.open_at(query.filter)
            rows = self.store.query(
                f"SELECT {self._candidates(at)} FROM {self.spec.table} WHERE {' AND '.join(conds)}",  # noqa: S608
                [json.dumps(fids.tolist()), *params],
            )
            rows = open_rows(rows, at)
            allowed = in_polygon(rows, query.polygon) if query.polygon is not None else fids_of(rows)
            ball = ball.keep(np.isin(fids, allowed))
        page = ball.page(query.offset, query.limit)
        return self._page(page.fids, page.distances_m.tolist(), len(ball), query)

    def _by_area(self, query: Query[F]) -> Page[R] | None:
        """An area-only search from the in-memory AGS index, when the snapshot is already built."""
        if query.area is None or query.bbox is not None or query.polygon is not None:
            return None
        flt = query.filter
        if self.spec.categories(flt) or self.spec.text(flt) or self.spec.where(flt)[0]:
            return None
        snap = self._current()
        if snap is None or snap.areas is None:
            return None
        found = snap.areas.page(self._areas().resolve(query.area).ags, query.offset, query.limit)
        if found is None:
            return None
        total, fids = found
        return self._page(fids, None, total, query)

    def _page(self, fids: IntArray, dists: list[float] | None, total: int, query: Query[F]) -> Page[R]:
        """The page's Hits in the order of fids."""
        records = self._fetch(fids)
        got = fids.tolist()
        hits = (
            [Hit(records[f], d) for f, d in zip(got, dists, strict=True)]
            if dists
            else [Hit(records[f]) for f in got]
        )
        return Page(hits, total, query.limit, query.offset)

    def _fetch(self, fids: IntArray) -> dict[int, R]:
        """Records by fid: from the cache of the current snapshot, the rest from SQL."""
        if len(fids) == 0:
            return {}
        wanted = fids.tolist()
        if self.store.in_transaction():  # uncommitted rows: neither read nor fill the cache
            return dict(self._records(f"{self._select} WHERE fid IN ({','.join('?' * len(wanted))})", wanted))
        with self.store.reading() as conn:
            self._sync(conn)
            cache = self._cache
            found = {f: r for f in wanted if (r := cache.pop(f, None)) is not None}
            missing = [f for f in wanted if f not in found]
            if missing:
                found.update(
                    self._records(f"{self._select} WHERE fid IN ({','.join('?' * len(missing))})", missing)
                )
            cache.update(found)  # (re)inserted last: the least recently used are evicted first
            while len(cache) > CACHE_RECORDS:
                cache.popitem(last=False)
        return found

    def _rows(self, sql: str, params: tuple[Any, ...] | list[Any]) -> list[Any]:
        """Raw row tuples of a read, for decoding positionally."""
        with self.store.reading() as conn:
            cursor = conn.cursor()
            cursor.row_factory = None
            return cursor.execute(sql, params).fetchall()

    def _records(self, sql: str, params: tuple[Any, ...] | list[Any]) -> list[tuple[int, R]]:
        """(fid, record) pairs; rows are read as tuples and decoded positionally."""
        values = self._rows(sql, params)
        decode = self._decode
        return [(v[0], decode(v)) for v in values]

    def _fids_where(self, conds: list[str], params: list[Any]) -> IntArray:
        rows = self.store.query(f"SELECT fid FROM {self.spec.table} WHERE {' AND '.join(conds)}", params)  # noqa: S608
        return fids_of(rows)

    def _hours_of(self, fids: IntArray) -> list[sqlite3.Row]:
        """(fid, lon, lat, opening_hours) rows of these fids."""
        sql = f"SELECT fid, lon, lat, opening_hours FROM {self.spec.table} WHERE fid IN (SELECT value FROM json_each(?))"  # noqa: S608
        return self.store.query(sql, [json.dumps(fids.tolist())])

    @staticmethod
    def _candidates(at: datetime | None) -> str:
        """Columns of candidate rows: the hours too when they must be open at a time."""
        return "fid, lon, lat" if at is None else "fid, lon, lat, opening_hours"

    def _category_codes(self, flt: F, known: Codes) -> tuple[int, ...] | None:
        """Index codes of the filter's categories: () for no filter, None if none is stored."""
        cats = self.spec.categories(flt)
        if not cats:
            return ()
        codes = tuple(known[c] for c in cats if c in known)
        return codes or None

    def _areas(self) -> Boundaries:
        if self._boundaries is None:
            self._boundaries = Boundaries.load(self.store.data_dir)
        return self._boundaries

    def _sync(self, conn: sqlite3.Connection) -> None:
        """Drops the in-memory state if the collection changed; once per read snapshot.

        The change counter (poi_changes, kept by triggers) is read only when something was
        committed since the last check: `PRAGMA data_version` of the read connection moves on every
        commit of another connection (this store's writer, other processes) and `store.commits`
        on every commit of this store.
        """
        serial = self.store.read_serial
        if serial == self._synced:
            return
        stamp = self.store.read_stamp()
        if stamp != self._stamp:
            version = self._change_version(conn)
            if version != self._version:
                self._snapshot = None
                self._cache.clear()
                self._version = version
            self._stamp = stamp
        self._synced = serial

    def _change_version(self, conn: sqlite3.Connection) -> int:
        """The collection's change counter (poi_changes, kept by triggers) as this connection sees it."""
        row = conn.execute("SELECT version FROM poi_changes WHERE collection = ?", (self.spec.table,))
        return int(row.fetchone()[0])

    def ready(self) -> bool:
        """The in-memory snapshot is built and current; False at once while another thread reads
        (e.g. builds the index), never waiting for it."""
        lock = self.store.read_lock
        if self.store.in_transaction() or not lock.acquire(blocking=False):
            return False
        try:
            if self._snapshot is None:
                return False
            # Nothing committed since the last check: still current. Otherwise the query itself
            # checks (and may rebuild), so say no here rather than open a read transaction.
            return self.store.read_stamp() == self._stamp
        finally:
            lock.release()

    def warm(self) -> None:
        """Builds the in-memory snapshot (point index, area codes) if it is missing or stale."""
        self._fresh_index()

    def data_version(self) -> int:
        """The collection's change counter (poi_changes) as of this read."""
        with self.store.reading() as conn:
            if self.store.in_transaction():  # uncommitted: read it, keep no state
                return self._change_version(conn)
            self._sync(conn)
            return self._version

    def _current(self) -> Snapshot | None:
        """The snapshot of the committed state if it is built (never builds it)."""
        if self.store.in_transaction():
            return None
        with self.store.reading() as conn:
            self._sync(conn)
            return self._snapshot

    def _fresh_index(self) -> Snapshot:
        """The in-memory snapshot of the current read snapshot, rebuilt when the collection changed.

        Inside a write transaction it is built from uncommitted rows and not kept.
        """
        with self.store.reading() as conn:
            if self.store.in_transaction():
                return self._build_index(conn)
            self._sync(conn)
            if self._snapshot is None:
                build = lambda: self._build_index(conn)  # noqa: E731
                self._snapshot = snapshot_file.for_store(
                    conn, self.store, self.spec.table, self._version, build
                )
            return self._snapshot

    def _build_index(self, conn: sqlite3.Connection) -> Snapshot:
        return build_snapshot(conn, self.spec.table, has_category=self.spec.table == "places")
