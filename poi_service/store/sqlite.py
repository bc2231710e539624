"""The embedded backend: one SQLite file that is also a valid GeoPackage.

Writes go through one connection behind a lock (SQLite connections are not thread-safe), reads
through a second one behind its own lock, each read in one snapshot (a read transaction): with WAL,
reads never wait for a write, in this process or another, and never see half of one. A thread
inside a write transaction reads through the writing connection and so sees its own writes.
Writers of several processes (`serve --workers N`) serialise on SQLite's write lock, waiting up
to BUSY_TIMEOUT_MS. Radius and k-nearest queries go through an in-memory PointIndex that is
rebuilt when the change counter (kept by triggers) moves, so writes made by other processes or
workers are seen on the next query. The counter is only read when `PRAGMA data_version` on the
read connection (any other connection's commit) or this store's own commit count has moved.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any

from poi_service import keys
from poi_service.errors import NotFound, PoiError
from poi_service.models import KeyInfo, KeyRole
from poi_service.store import archive, snapshot_file
from poi_service.store.base import MembershipStats
from poi_service.store.gpkg import register_functions
from poi_service.store.records import MEMBERSHIPS, PLACES, utcnow
from poi_service.store.schema import migrate
from poi_service.store.sqlite_addresses import SqliteAddresses
from poi_service.store.sqlite_write import SqliteCollection

BUSY_TIMEOUT_MS = 10_000
READ_MMAP_BYTES = 1 << 40  # SQLite caps it at its compile-time maximum (2 GiB in Debian's build)
READ_CACHE_KIB = 8192


class SqliteStore:
    """Store protocol over a GeoPackage file."""

    def __init__(self, path: Path, data_dir: Path, snapshot_min_rows: int = snapshot_file.MIN_ROWS) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # Point indexes of large collections are shared with other processes through files here.
        self.snapshots = path.with_name(path.name + ".snapshots")
        self.snapshot_min_rows = snapshot_min_rows
        self.url = f"sqlite:///{path}"
        self.data_dir = data_dir
        self.conn = self._connect()
        self.lock = threading.RLock()
        self._depth = 0
        self._writer: int | None = None  # thread that holds the open write transaction
        self.commits = 0  # write transactions committed through this store (see SqliteReads._sync)
        with self.lock:
            # The GeoPackage header (application_id) is written before WAL so it lands in the
            # main file, where GDAL and QGIS read it.
            migrate(self.conn)
            archive.ensure(self.conn, (PLACES.table, MEMBERSHIPS.table))
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
            # Random uuid keys touch index pages all over the file; a 64 MiB page cache keeps
            # bulk imports from spilling (memory is only taken as pages are read).
            self.conn.execute("PRAGMA cache_size = -65536")
            self.conn.execute("PRAGMA temp_store = MEMORY")
            self.store_id = _store_id(self.conn)
        self._reader = self._connect()
        # Reads map the file (shared with every process through the page cache) rather than copying
        # its pages into a private cache: ~10 µs less per 10 random rows at 1M places, and a worker
        # no longer grows by the cache's size under random reads.
        self._reader.execute(f"PRAGMA mmap_size = {READ_MMAP_BYTES}")
        self._reader.execute(f"PRAGMA cache_size = -{READ_CACHE_KIB}")
        self.read_lock = threading.RLock()
        self._status: sqlite3.Connection | None = None  # info() only (/health)
        self._status_lock = threading.Lock()
        self._counts: dict[str, tuple[int, int]] = {}  # table -> (change counter, live rows)
        self._read_depth = 0
        self.read_serial = 0  # counts read snapshots, so per-snapshot checks run once per snapshot
        self._places = SqliteCollection(self, PLACES)
        self._memberships = SqliteCollection(self, MEMBERSHIPS)
        self._addresses = SqliteAddresses(self)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.row_factory = sqlite3.Row
        register_functions(conn)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return conn

    @property
    def places(self) -> SqliteCollection:  # type: ignore[type-arg]
        """The places collection."""
        return self._places

    @property
    def memberships(self) -> SqliteCollection:  # type: ignore[type-arg]
        """The memberships collection."""
        return self._memberships

    @property
    def addresses(self) -> SqliteAddresses:
        """The OSM address index."""
        return self._addresses

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
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:  # another process held the write lock too long
                raise PoiError(
                    f"the store is busy ({exc}); try again",
                    503,
                    "busy",
                    "Store busy",
                    headers={"Retry-After": "2"},
                ) from exc
            self._depth = 1
            self._writer = threading.get_ident()
            try:
                yield
            except BaseException:
                with suppress(sqlite3.Error):  # a failing disk must not hide the first error
                    self.conn.execute("ROLLBACK")
                raise
            else:
                try:
                    self.conn.execute("COMMIT")
                except sqlite3.Error:
                    # A full or read-only disk fails the COMMIT and may leave the transaction
                    # open: roll it back, or every later write would fail until a restart.
                    if self.conn.in_transaction:
                        with suppress(sqlite3.Error):
                            self.conn.execute("ROLLBACK")
                    raise
                self.commits += 1
            finally:
                self._depth = 0
                self._writer = None

    def in_transaction(self) -> bool:
        """True on the thread that holds the open write transaction."""
        return self._writer == threading.get_ident()

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A connection whose statements see one committed state (the writer's own inside a write)."""
        if self.in_transaction():
            yield self.conn
            return
        with self.read_lock:
            if self._read_depth:
                self._read_depth += 1
                try:
                    yield self._reader
                finally:
                    self._read_depth -= 1
                return
            self._reader.execute("BEGIN")
            self._read_depth = 1
            self.read_serial += 1
            try:
                yield self._reader
            finally:
                self._read_depth = 0
                self._reader.execute("COMMIT")

    def read_stamp(self) -> tuple[int, int]:
        """Moves on every commit, of this store or of any other connection to the file; call with
        read_lock held. (`PRAGMA data_version` of the read connection sees other connections'
        commits, `commits` this store's own.)"""
        return int(self._reader.execute("PRAGMA data_version").fetchone()[0]), self.commits

    def query(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[sqlite3.Row]:
        """Runs a read in a snapshot."""
        with self.reading() as conn:
            return conn.execute(sql, params).fetchall()

    def membership_stats(self) -> MembershipStats:
        """Counts per alliance, per state and per join year."""
        stats = MembershipStats()
        for row in self.query(
            "SELECT alliance, count(*) FROM memberships WHERE deleted_at IS NULL GROUP BY alliance ORDER BY alliance"
        ):
            stats.by_alliance[row[0]] = row[1]
        for row in self.query(
            "SELECT alliance, coalesce(state, 'unknown'), count(*) FROM memberships WHERE deleted_at IS NULL "
            "AND country = 'DE' GROUP BY 1, 2 ORDER BY 1, 2"
        ):
            stats.by_state.setdefault(row[0], {})[row[1]] = row[2]
        for row in self.query(
            "SELECT alliance, country, count(*) FROM memberships WHERE deleted_at IS NULL GROUP BY 1, 2 ORDER BY 1, 2"
        ):
            stats.by_country.setdefault(row[0], {})[row[1]] = row[2]
        for row in self.query(
            "SELECT alliance, coalesce(substr(joined, 1, 4), 'unknown'), count(*) FROM memberships "
            "WHERE deleted_at IS NULL GROUP BY 1, 2 ORDER BY 1, 2"
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
        """Backend, schema version and counts, through a connection of its own: /health must not wait
        for the read connection while it builds an index (seconds at 1M places). Counts are kept per
        change-counter version (a count of 1M rows takes ~0.2 s)."""
        with self._status_reading() as conn:
            version = conn.execute("SELECT value FROM poi_meta WHERE key = 'schema_version'").fetchone()[0]
            counts = {}
            for table, changes in conn.execute("SELECT collection, version FROM poi_changes").fetchall():
                kept = self._counts.get(table)
                if kept is None or kept[0] != changes:
                    sql = f"SELECT (SELECT count(*) FROM {table}) - (SELECT count(*) FROM {table} WHERE deleted_at IS NOT NULL)"  # noqa: S608
                    kept = self._counts[table] = (changes, int(conn.execute(sql).fetchone()[0]))
                counts[table] = kept[1]
        return {
            "backend": "sqlite-geopackage",
            "schema_version": int(version),
            "places": counts[PLACES.table],
            "memberships": counts[MEMBERSHIPS.table],
        }

    def latest_version(self, table: str) -> int:
        """The collection's committed change counter, without waiting for the read connection (which
        an index build holds for seconds at 1M places)."""
        with self._status_reading() as conn:
            row = conn.execute("SELECT version FROM poi_changes WHERE collection = ?", (table,)).fetchone()
        return int(row[0])

    @contextmanager
    def _status_reading(self) -> Iterator[sqlite3.Connection]:
        """The status connection (info, latest_version) in a read snapshot."""
        with self._status_lock:
            if self._status is None:
                self._status = self._connect()
            conn = self._status
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    def meta_get(self, key: str) -> str | None:
        """A metadata value (poi_meta)."""
        rows = self.query("SELECT value FROM poi_meta WHERE key = ?", (_meta_key(key),))
        return str(rows[0][0]) if rows else None

    def meta_put(self, key: str, value: str | None) -> None:
        """Keeps or removes a metadata value, in the open transaction if there is one."""
        with self.transaction():
            if value is None:
                self.conn.execute("DELETE FROM poi_meta WHERE key = ?", (_meta_key(key),))
            else:
                self.conn.execute(
                    "INSERT OR REPLACE INTO poi_meta (key, value) VALUES (?, ?)", (_meta_key(key), value)
                )

    # -- API keys ----------------------------------------------------------------------------

    def create_key(self, name: str, role: KeyRole) -> tuple[KeyInfo, str]:
        """A new key; the full key is returned once, only its digest is kept."""
        key_id, secret = keys.new_key()
        info = KeyInfo(key_id, keys.check_name(name), KeyRole(role), utcnow())
        with self.transaction():
            self.conn.execute(
                "INSERT INTO poi_keys (id, name, role, hash, created_at) VALUES (?, ?, ?, ?, ?)",
                (key_id, info.name, info.role.value, keys.digest(secret), info.created_at.isoformat()),
            )
        return info, secret

    def list_keys(self) -> list[KeyInfo]:
        """Every key, oldest first."""
        return [_key(r) for r in self.query("SELECT * FROM poi_keys ORDER BY created_at, id")]

    def find_key(self, key_id: str) -> tuple[KeyInfo, str] | None:
        """A key's info and digest."""
        rows = self.query("SELECT * FROM poi_keys WHERE id = ?", (key_id,))
        return (_key(rows[0]), str(rows[0]["hash"])) if rows else None

    def revoke_key(self, key_id: str) -> KeyInfo:
        """Marks a key revoked."""
        with self.transaction():
            row = self.conn.execute(
                "UPDATE poi_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? RETURNING *",
                (utcnow().isoformat(), key_id),
            ).fetchone()
            if row is None:
                raise NotFound(f"no API key with id {key_id!r}")
        return _key(row)

    def close(self) -> None:
        """Closes the connections."""
        with self.lock, self.read_lock, self._status_lock:
            self.conn.close()
            self._reader.close()
            if self._status is not None:
                self._status.close()


def _meta_key(key: str) -> str:
    """The store's own entries (schema_version) are not for callers."""
    if key == "schema_version" or not key:
        raise ValueError(f"{key!r} is not a metadata key callers may use")
    return key


def _key(row: sqlite3.Row) -> KeyInfo:
    revoked = row["revoked_at"]
    return KeyInfo(
        row["id"],
        row["name"],
        KeyRole(row["role"]),
        datetime.fromisoformat(row["created_at"]),
        datetime.fromisoformat(revoked) if revoked else None,
    )


def _store_id(conn: sqlite3.Connection) -> str:
    """The store file's random id (poi_meta), created on first use; it keys the snapshot files."""
    row = conn.execute("SELECT value FROM poi_meta WHERE key = 'store_id'").fetchone()
    if row is not None:
        return str(row[0])
    conn.execute("INSERT OR IGNORE INTO poi_meta VALUES ('store_id', ?)", (uuid.uuid4().hex,))
    return str(conn.execute("SELECT value FROM poi_meta WHERE key = 'store_id'").fetchone()[0])
