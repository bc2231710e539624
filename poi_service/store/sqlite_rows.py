"""What the embedded store's reads need: the Connections protocol their store meets (SqliteStore), and
small helpers over (fid, lon, lat, ...) candidate rows."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import shapely

from poi_service.store.index import IntArray


class Connections(Protocol):
    """What the reads need from their store (SqliteStore): snapshots, and when they were taken."""

    data_dir: Path
    path: Path  # the GeoPackage file
    snapshots: Path  # where large collections' snapshots are shared (store/snapshot_file.py)
    snapshot_min_rows: int
    store_id: str
    read_serial: int  # counts read snapshots
    read_lock: threading.RLock

    def reading(self) -> AbstractContextManager[sqlite3.Connection]: ...
    def query(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[sqlite3.Row]: ...
    def in_transaction(self) -> bool: ...
    def read_stamp(self) -> tuple[int, int]: ...
    def latest_version(self, table: str) -> int: ...


def in_polygon(rows: list[sqlite3.Row], polygon: Any) -> IntArray:
    """The fids of (fid, lon, lat) rows inside or on the boundary of polygon."""
    if not rows:
        return np.empty(0, np.int64)
    arr = np.array([(r[0], r[1], r[2]) for r in rows], dtype=np.float64)
    inside = shapely.contains_xy(polygon, arr[:, 1], arr[:, 2]) | shapely.intersects_xy(
        polygon.boundary, arr[:, 1], arr[:, 2]
    )
    fids: IntArray = arr[inside, 0].astype(np.int64)
    return fids


def fids_of(rows: list[sqlite3.Row]) -> IntArray:
    """The first column of rows, as fids."""
    out: IntArray = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    return out


def bounds_of(polygon: Any) -> tuple[float, float, float, float] | None:
    """A polygon's bounds (minx, miny, maxx, maxy), None for none."""
    return None if polygon is None else tuple(polygon.bounds)
