"""Set-wise work of the embedded store's bulk import (add_many).

Per-row B-tree inserts into the secondary indexes and building each history snapshot in Python
dominated large imports. Here the indexes are dropped for the bulk of a large import and
rebuilt by one sorted CREATE INDEX, and the history rows of new records are built in SQL from the
stored rows. Everything runs inside the import's transaction: DDL is transactional in SQLite, so
a failure or a crash leaves the file as it was, and other connections never see it without them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from poi_service.store.records import RecordSpec

# Imports at least this large (and at least a quarter of what is stored, since rebuilding an index
# reads the whole table) drop the secondary indexes and rebuild them at the end.
BULK_ROWS = 10_000
# Page cache while the indexes are dropped: random uuid keys touch pages all over the unique index.
BULK_CACHE_KIB = 262_144
HISTORY = "poi_history"
# REAL columns: written with 17 significant digits, which read back as the identical double (SQLite's
# JSON functions would round them to 15).
_REALS = frozenset({"lon", "lat", "geocode_confidence"})


def snapshot_sql(spec: RecordSpec[Any, Any, Any]) -> str:
    """SQL expression: the JSON text of history.snapshot() for a row of the spec's table (same keys, same order).

    Runs of non-REAL columns go through json_object (fast, escapes text); its braces are trimmed
    and the REAL columns are spliced in between with printf. json_object never ends a value in '}'
    or starts one with '{' here (no nested objects), so rtrim/ltrim remove exactly one brace.
    """
    cols = ("id", "version", *spec.columns, "created_at", "updated_at", "deleted_at")
    parts: list[str] = []
    run: list[str] = []
    for c in (*cols, None):
        if c is not None and c not in _REALS:
            run.append(f"'{c}', {c}")
            continue
        if run:
            parts.append(f"json_object({', '.join(run)})")
            run = []
        if c is not None:
            parts.append(f"'\"{c}\":' || printf('%!.17g', {c})")
    inner = [p if not p.startswith("json_object") else f"ltrim(rtrim({p}, '}}'), '{{')" for p in parts]
    return "'{' || " + " || ',' || ".join(inner) + " || '}'"


def new_rows_sql(spec: RecordSpec[Any, Any, Any]) -> tuple[str, ...]:
    """Statements completing the rows with fid > :top (a flush's inserts; the insert triggers are
    dropped): one 'import' history row each (by :actor at :at) and the full-text entry.

    Run per flush, not once per import: a key repeated later in the import updates its row, and
    the update trigger then deletes the row's full-text entry, which must exist by then.
    """
    t = spec.table
    return (
        f"INSERT INTO {HISTORY} (collection, record_id, version, action, actor, at, before, after) "  # noqa: S608
        f"SELECT '{t}', id, version, 'import', :actor, :at, NULL, {snapshot_sql(spec)} FROM {t} "
        "WHERE fid > :top ORDER BY fid",
        f"INSERT INTO {t}_fts (rowid, search_text) SELECT fid, search_text FROM {t} WHERE fid > :top",  # noqa: S608
    )


def rtree_sql(table: str) -> str:
    """The R*Tree entries of the rows with fid > ? (once per import: one statement measured ~30 %
    cheaper per row than one per flush; the update triggers need no entry to exist)."""
    return (
        f"INSERT OR REPLACE INTO rtree_{table}_geom SELECT fid, lon, lon, lat, lat FROM {table} WHERE fid > ?"  # noqa: S608
    )


def stored_rows(conn: sqlite3.Connection, table: str) -> int:
    """Rows the import's tables hold (by their largest rowid), to weigh against rebuilding their indexes."""
    top = conn.execute(f"SELECT coalesce(max(fid), 0) FROM {table}").fetchone()[0]  # noqa: S608
    seq = conn.execute(f"SELECT coalesce(max(seq), 0) FROM {HISTORY}").fetchone()[0]  # noqa: S608
    return max(int(top), int(seq))


class BulkIndexes:
    """The secondary indexes of a table and of the history, dropped once an import turns out large."""

    def __init__(self, conn: sqlite3.Connection, table: str) -> None:
        self.conn = conn
        self.table = table
        self.threshold = max(BULK_ROWS, stored_rows(conn, table) // 4)
        self.dropped: list[str] = []
        self._cache: int | None = None

    def written(self, count: int) -> None:
        """Called with the rows written so far; drops the indexes when the import is large."""
        if self.dropped or count < self.threshold:
            return
        # Unique constraints (autoindexes, sql IS NULL) stay: they are checked as rows go in.
        rows = self.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (?, ?)",
            (self.table, HISTORY),
        ).fetchall()
        self._cache = int(self.conn.execute("PRAGMA cache_size").fetchone()[0])
        self.conn.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        for name, sql in rows:
            self.conn.execute(f"DROP INDEX {name}")
            self.dropped.append(sql)

    def rebuild(self) -> None:
        """Recreates the dropped indexes (one sorted build each)."""
        for sql in self.dropped:
            self.conn.execute(sql)

    def close(self) -> None:
        """Restores the page cache size (a connection setting, not rolled back with the transaction)."""
        if self._cache is not None:
            self.conn.execute(f"PRAGMA cache_size = {self._cache}")
            self._cache = None


class Staging:
    """A temp table each flush of an import goes through, so the table gets one INSERT ... SELECT.

    One statement instead of one per row: per-statement work (the AUTOINCREMENT counter in
    sqlite_sequence, statement setup) is paid once per flush. The temp table is in memory
    (temp_store) and part of the transaction.
    """

    def __init__(
        self, conn: sqlite3.Connection, table: str, columns: Sequence[str], on_conflict: str
    ) -> None:
        self.conn = conn
        self.name = f"temp.import_{table}"
        cols = ", ".join(columns)
        # No declared types: values keep their Python types until the table's own affinity applies.
        self._create = f"CREATE TABLE IF NOT EXISTS {self.name} ({cols})"
        self._load = f"INSERT INTO {self.name} VALUES ({', '.join('?' for _ in columns)})"  # noqa: S608
        # WHERE true: an INSERT ... SELECT followed by ON CONFLICT needs it to parse.
        self._move = f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {self.name} WHERE true ORDER BY rowid {on_conflict}"  # noqa: S608
        self._values = itemgetter(*columns)

    def create(self) -> None:
        """The empty staging table (kept for the import's transaction)."""
        self.conn.execute(self._create)

    def write(self, rows: list[dict[str, Any]]) -> None:
        """Upserts rows (column dicts; each external key at most once) in their order."""
        self.conn.executemany(self._load, map(self._values, rows))
        self.conn.execute(self._move)
        self.conn.execute(f"DELETE FROM {self.name}")  # noqa: S608

    def drop(self) -> None:
        """Removes the staging table."""
        self.conn.execute(f"DROP TABLE IF EXISTS {self.name}")
