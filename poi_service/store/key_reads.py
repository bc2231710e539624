"""Distance queries of the embedded store as row keys only (the KeyedReads protocol of store/keyed.py).

The same point index, snapshot and change check as SqliteReads.search / nearest, minus reading and
decoding the records: what a caller that keeps rendered records per data version needs
(features/shared.py). Answers equal the record queries' order, totals and distances
(tests/store/test_key_reads.py).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from poi_service.models import Place, Point
from poi_service.store.base import Near, PlaceFilter
from poi_service.store.collection import KEY_BATCH, LIVE, SqliteReads
from poi_service.store.index import IntArray, PointIndex
from poi_service.store.keyed import KeyPage
from poi_service.store.records import D, F, R
from poi_service.store.snapshot import Snapshot

CHUNK = 4096
CHECK_WAIT_S = 0.001


class KeyReads(SqliteReads[R, D, F]):
    """SqliteReads plus KeyedReads."""

    def near_keys(
        self, near: Near, filter: PlaceFilter, offset: int, limit: int, wait: bool = False
    ) -> KeyPage | None:
        """Keys of the records within near's radius, nearest first, as search() would page them."""
        ready = self._ready_for(filter, wait)
        if not isinstance(ready, tuple):
            return ready
        index, codes, version = ready
        total, fids, distances = index.page_near(
            near.point.lon, near.point.lat, near.radius_m, codes, offset, limit
        )
        return KeyPage(version, total, fids, distances)

    def nearest_keys(self, point: Point, k: int, filter: PlaceFilter, wait: bool = False) -> KeyPage | None:
        """Keys of the k nearest records, as nearest() would return them."""
        ready = self._ready_for(filter, wait)
        if not isinstance(ready, tuple):
            return ready
        index, codes, version = ready
        nb = index.nearest(point.lon, point.lat, k, codes)
        fids = nb.fids.tolist()
        return KeyPage(version, len(fids), fids, nb.distances_m.tolist())

    def latest_version(self) -> int:
        """The committed change counter, read without waiting for an index build."""
        return self.store.latest_version(self.spec.table)

    def index_only(self, filter: PlaceFilter) -> bool:
        """The point index alone answers this filter (near_keys/nearest_keys then answer when it is current)."""
        flt: Any = filter
        return self._index_only(flt)

    def _ready_for(
        self, filter: PlaceFilter, wait: bool
    ) -> tuple[PointIndex, tuple[int, ...], int] | KeyPage | None:
        """(index, category codes, version) to answer from; an empty page when no stored record has the
        filter's categories; None when the index cannot answer alone, or now (see _checked)."""
        flt: Any = filter
        if not self._index_only(flt):
            return None
        found = self._current_waiting() if wait else self._checked()
        if found is None:
            return None
        snap, version = found
        codes = self._category_codes(flt, snap.codes)
        if codes is None:
            return KeyPage(version, 0, [], [])
        return snap.index, codes, version

    def _current_waiting(self) -> tuple[Snapshot, int] | None:
        """The snapshot of the committed state and its version, waiting for the read connection and
        checking (rebuilding if needed) as the record queries do; for worker threads, not the event loop."""
        with self.store.reading():
            if self.store.in_transaction():
                return None
            return self._fresh_index(), self._version

    def _checked(self) -> tuple[Snapshot, int] | None:
        """The built snapshot and its version if nothing was committed since they were checked, from one
        `PRAGMA data_version` (no read transaction: no row is read); None, without waiting more than
        CHECK_WAIT_S, when that cannot be told here (another thread reads, a write is open, something was
        committed): the caller then asks again from a worker thread (wait=True)."""
        store = self.store
        lock = store.read_lock
        # Up to CHECK_WAIT_S for another thread's short read (a record query holds the connection
        # for ~0.1 ms): without it, under load, requests that once went to worker threads kept the
        # connection busy and pushed every later one there too. An index build holds it for seconds.
        if store.in_transaction() or not lock.acquire(timeout=CHECK_WAIT_S):
            return None
        try:
            snap = self._snapshot
            if snap is None or store.read_stamp() != self._stamp:
                return None
            return snap, self._version
        finally:
            lock.release()

    def each_keyed(self, visit: Callable[[int, Place], None], fids: Sequence[int] | None = None) -> int:
        """visit(fid, record) for every live record (or those of `fids`) in fid order, from one read
        snapshot; returns its data version."""
        with self.store.reading() as conn:
            if self.store.in_transaction():
                raise RuntimeError("each_keyed reads committed data only")
            self._sync(conn)
            version = self._version
            cursor = conn.cursor()
            cursor.row_factory = None
            decode = self._decode
            batches: Iterable[Sequence[int] | None] = (
                [None] if fids is None else (fids[i : i + KEY_BATCH] for i in range(0, len(fids), KEY_BATCH))
            )
            for batch in batches:
                if batch is None:
                    cursor.execute(f"{self._select} WHERE {LIVE} ORDER BY fid")
                else:
                    marks = ",".join("?" * len(batch))
                    cursor.execute(
                        f"{self._select} WHERE {LIVE} AND fid IN ({marks}) ORDER BY fid", list(batch)
                    )
                while chunk := cursor.fetchmany(CHUNK):
                    for values in chunk:
                        visit(values[0], decode(values))
        return version

    def row_stamps(self) -> tuple[int, IntArray, IntArray]:
        """(data version, fids, stamps) of every live record in fid order, from one read snapshot; a
        stamp changes whenever its record does (its version, and a CRC of updated_at, which every
        write sets: rows of two copies of a store that were edited apart differ there too)."""
        with self.store.reading() as conn:
            if self.store.in_transaction():
                raise RuntimeError("row_stamps reads committed data only")
            self._sync(conn)
            version = self._version
            cursor = conn.cursor()
            cursor.row_factory = None
            sql = f"SELECT fid, version, updated_at FROM {self.spec.table} WHERE {LIVE} ORDER BY fid"  # noqa: S608
            cursor.execute(sql)
            fids: list[int] = []
            stamps: list[int] = []
            while chunk := cursor.fetchmany(CHUNK):
                for fid, row_version, updated in chunk:
                    fids.append(fid)
                    stamps.append((zlib.crc32(updated.encode()) << 31) ^ row_version)
        return version, np.array(fids, np.int64), np.array(stamps, np.int64)

    def _index_only(self, flt: F) -> bool:
        """True when the point index alone answers the filter (categories at most)."""
        if isinstance(flt, PlaceFilter):  # the hot case, without building the SQL conditions
            return not (flt.wheelchair or flt.text or flt.open_at is not None)
        spec = self.spec
        return not (spec.where(flt)[0] or spec.text(flt) or spec.open_at(flt) is not None)
