"""The embedded backend: one SQLite file that is also a valid GeoPackage.

Reads and writes share one connection behind a lock (SQLite connections are not thread-safe);
WAL lets other processes read while one writes. Radius and k-nearest queries go through an
in-memory PointIndex that is rebuilt when the change counter (kept by triggers) moves, so
writes made by other processes or workers are seen on the next query.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from poi_service.store.base import MembershipStats
from poi_service.store.collection import SqliteCollection
from poi_service.store.gpkg import register_functions
from poi_service.store.records import MEMBERSHIPS, PLACES
from poi_service.store.schema import migrate

BUSY_TIMEOUT_MS = 10_000


def utcnow() -> datetime:
    """Timestamps are stored in UTC."""
    return datetime.now(UTC)


class SqliteStore:
    """Store protocol over a GeoPackage file."""

    def __init__(self, path: Path, data_dir: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.url = f"sqlite:///{path}"
        self.data_dir = data_dir
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        register_functions(self.conn)
        self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self.lock = threading.RLock()
        self._depth = 0
        with self.lock:
            # The GeoPackage header (application_id) is written before WAL so it lands in the
            # main file, where GDAL and QGIS read it.
            migrate(self.conn)
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
            # Random uuid keys touch index pages all over the file; a 64 MiB page cache keeps
            # bulk imports from spilling (memory is only taken as pages are read).
            self.conn.execute("PRAGMA cache_size = -65536")
            self.conn.execute("PRAGMA temp_store = MEMORY")
        self._places = SqliteCollection(self, PLACES)
        self._memberships = SqliteCollection(self, MEMBERSHIPS)

    @property
    def places(self) -> SqliteCollection:  # type: ignore[type-arg]
        """The places collection."""
        return self._places

    @property
    def memberships(self) -> SqliteCollection:  # type: ignore[type-arg]
        """The memberships collection."""
        return self._memberships

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction; nested calls join the outer one."""
        with self.lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")
            finally:
                self._depth = 0

    def query(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[sqlite3.Row]:
        """Runs a read under the connection lock."""
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

    def membership_stats(self) -> MembershipStats:
        """Counts per alliance, per state and per join year."""
        stats = MembershipStats()
        for row in self.query(
            "SELECT alliance, count(*) FROM memberships GROUP BY alliance ORDER BY alliance"
        ):
            stats.by_alliance[row[0]] = row[1]
        for row in self.query(
            "SELECT alliance, coalesce(state, country), count(*) FROM memberships GROUP BY 1, 2 ORDER BY 1, 2"
        ):
            stats.by_state.setdefault(row[0], {})[row[1]] = row[2]
        for row in self.query(
            "SELECT alliance, coalesce(substr(joined, 1, 4), 'unknown'), count(*) FROM memberships "
            "GROUP BY 1, 2 ORDER BY 1, 2"
        ):
            stats.by_year.setdefault(row[0], {})[row[1]] = row[2]
        return stats

    def cache_get(self, provider: str, key: str) -> str | None:
        """A cached geocoder answer."""
        rows = self.query("SELECT value FROM geocode_cache WHERE provider = ? AND key = ?", (provider, key))
        return str(rows[0][0]) if rows else None

    def cache_put(self, provider: str, key: str, value: str) -> None:
        """Keeps a geocoder answer."""
        with self.transaction():
            self.conn.execute(
                "INSERT OR REPLACE INTO geocode_cache (provider, key, value) VALUES (?, ?, ?)",
                (provider, key, value),
            )

    def info(self) -> dict[str, object]:
        """Backend, schema version and counts."""
        version = self.query("SELECT value FROM poi_meta WHERE key = 'schema_version'")[0][0]
        return {
            "backend": "sqlite-geopackage",
            "schema_version": int(version),
            "places": self._places.count(),
            "memberships": self._memberships.count(),
        }

    def close(self) -> None:
        """Closes the connection."""
        with self.lock:
            self.conn.close()
