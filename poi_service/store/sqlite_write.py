"""Writes of one record kind in the embedded store: versions, soft delete, history, bulk upsert.

Every write runs in one transaction with its history row (poi_history), so a change and its
record of who made it commit or vanish together.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import cached_property
from itertools import islice
from typing import Any, Protocol

import orjson

from poi_service.errors import Conflict
from poi_service.store import archive
from poi_service.store.base import Action
from poi_service.store.collection import LIVE
from poi_service.store.gpkg import point_blob
from poi_service.store.history import encode, same_data, snapshot
from poi_service.store.key_reads import KeyReads
from poi_service.store.records import D, F, R, new_id, utcnow
from poi_service.store.schema import insert_triggers
from poi_service.store.sqlite_bulk import BulkIndexes, Staging, new_rows_sql, rtree_sql
from poi_service.store.sqlite_rows import Connections
from poi_service.store.text import fold_text
from poi_service.store.writes import HISTORY_COLUMNS, RecordWrites

BATCH = 1000
HISTORY_INSERT = f"INSERT INTO poi_history ({HISTORY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608


class WriteConnections(Connections, Protocol):
    """What the writes need besides the reads': the writing connection and its transactions."""

    conn: sqlite3.Connection

    def transaction(self) -> AbstractContextManager[None]: ...


class SqliteCollection(KeyReads[R, D, F], RecordWrites[R, D, F]):
    """Collection protocol over one GeoPackage feature table: the reads plus the writes."""

    store: WriteConnections

    # The write SQL, built once from the spec. Table and column names are fixed constants of the
    # specs; values are always parameters.
    @cached_property
    def _written(self) -> tuple[str, ...]:
        return ("id", *self.spec.columns, "search_text", "created_at", "updated_at", "geom")

    @cached_property
    def _changing(self) -> tuple[str, ...]:
        return (*self.spec.columns, "search_text", "updated_at", "geom")

    @cached_property
    def _on_conflict(self) -> str:
        t, updates = self.spec.table, ", ".join(f"{c} = excluded.{c}" for c in self._changing)
        return (
            f"ON CONFLICT(external_key) DO UPDATE SET {updates}, version = {t}.version + 1, deleted_at = NULL"
        )

    @cached_property
    def _insert(self) -> str:
        cols = self._written
        values = ", ".join(":" + c for c in cols)
        return f"INSERT INTO {self.spec.table} ({', '.join(cols)}) VALUES ({values}) {self._on_conflict}"  # noqa: S608

    @cached_property
    def _update(self) -> str:
        sets = ", ".join(f"{c} = :{c}" for c in self._changing)
        return f"UPDATE {self.spec.table} SET {sets}, version = version + 1 WHERE id = :id AND {LIVE} RETURNING fid"  # noqa: S608

    @cached_property
    def _complete_new(self) -> tuple[str, ...]:
        return new_rows_sql(self.spec)

    @cached_property
    def _staging(self) -> Staging:
        return Staging(self.store.conn, self.spec.table, self._written, self._on_conflict)

    def add_many(self, rows: Iterable[D], *, actor: str | None = None) -> int:
        """Upserts many records atomically, with one 'import' history row per changed record.

        Per-row insert triggers (R*Tree, full text, change counter) are dropped inside the
        transaction and their work (and the new rows' history) is done set-wise; a
        large import also drops and rebuilds the secondary indexes (sqlite_bulk.py). Other
        connections never see the file without them. Upserts still go through the update
        triggers. Rows equal to their stored record (geocoded_at aside) are skipped: a re-import
        changes nothing.
        """
        now = utcnow().isoformat()
        t = self.spec.table
        conn = self.store.conn
        count = 0
        with self.store.transaction():
            last = int(conn.execute(f"SELECT coalesce(max(fid), 0) FROM {t}").fetchone()[0])  # noqa: S608
            triggers = insert_triggers(t)
            for name in triggers:
                conn.execute(f"DROP TRIGGER {name}")
            indexes = BulkIndexes(conn, t)
            self._staging.create()
            try:
                it = iter(rows)
                while batch := list(islice(it, BATCH)):
                    count += len(batch)
                    self._upsert_batch(batch, now, actor)
                    indexes.written(count)
                indexes.rebuild()
                self._staging.drop()
            finally:
                indexes.close()
            conn.execute(rtree_sql(t), (last,))
            conn.execute("UPDATE poi_changes SET version = version + 1 WHERE collection = ?", (t,))
            for ddl in triggers.values():
                conn.execute(ddl)
        return count

    # -- the dialect of writes.RecordWrites -----------------------------------------------------

    placeholder = "?"

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        with self.store.transaction():
            yield self.store.conn

    def _now(self) -> str:
        return utcnow().isoformat()

    def _new_row(self, data: D, now: Any) -> dict[str, Any]:
        return self._row(data, now)

    def _insert_row(self, conn: Any, row: dict[str, Any], data: D) -> None:
        conn.execute(self._insert, row)

    def _update_row(self, conn: Any, row: dict[str, Any], data: D) -> None:
        try:
            conn.execute(self._update, row).fetchone()
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"external_key {data.external_key!r} belongs to another record") from exc

    def _for_write(self, conn: Any, record_id: str, *, include_deleted: bool) -> R:
        return self.get(record_id, include_deleted=include_deleted)  # the writer's own view

    def _history_rows(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        with self.store.reading():
            return self.store.query(sql, params)

    # Soft-deleted rows live in the archive table, outside the GeoPackage layer (store/archive.py).

    def _key_owner(self, conn: Any, key: str) -> Any | None:
        t = self.spec.table
        return conn.execute(
            f"SELECT id, deleted_at FROM {t} WHERE external_key = ? UNION ALL "  # noqa: S608
            f"SELECT id, deleted_at FROM {archive.name(t)} WHERE external_key = ?",
            (key, key),
        ).fetchone()

    def _check_key_free(self, conn: Any, data: D) -> None:
        if data.external_key is not None and self._archived("external_key = ?", (data.external_key,)):
            raise Conflict(f"external_key {data.external_key!r} belongs to a deleted record (restore it)")

    def _soft_delete(self, conn: Any, record_id: str, now: Any) -> None:
        super()._soft_delete(conn, record_id, now)
        archive.move_out(conn, self.spec.table, "id = ?", (record_id,))

    def _undelete(self, conn: Any, record_id: str, now: Any) -> None:
        archive.move_in(conn, self.spec.table, "id = ?", (record_id,))
        super()._undelete(conn, record_id, now)

    def _purge(self, conn: Any, before: R) -> None:
        table = self.spec.table if before.deleted_at is None else archive.name(self.spec.table)
        conn.execute(f"DELETE FROM {table} WHERE id = ?", (before.id,))  # noqa: S608

    def find_keys(self, keys: Iterable[str]) -> dict[str, R]:
        """Stored records (deleted ones too) by external key, read BATCH keys per query."""
        found: dict[str, R] = {}
        it = iter(keys)
        where = " WHERE external_key IN (SELECT value FROM json_each(?))"
        # Only reads: _by_keys would also move archived records back (what an upsert needs, not a lookup).
        while batch := list(islice(it, BATCH)):
            params = (_json_list(batch),)
            for sql in (self._select + where, self._select_deleted + where):
                found.update((r.external_key, r) for _, r in self._records(sql, params) if r.external_key)
        return found

    # -- helpers -------------------------------------------------------------------------------

    def _upsert_batch(self, batch: list[D], now: str, actor: str | None) -> None:
        """Writes one batch of add_many: new rows, changed rows, and their history."""
        stored = self._by_keys([d.external_key for d in batch if d.external_key is not None])
        # The states this batch wrote, as columns: made records only when a key repeats (rarely).
        fresh: dict[str, dict[str, Any]] = {}
        writes: list[dict[str, Any]] = []
        log: list[tuple[Any, ...]] = []
        keys: set[str] = set()
        for data in batch:
            key = data.external_key
            if key is not None and key in keys:  # a key repeated in the batch: its earlier write lands first
                self._write(writes, log, now, actor)
                writes, log, keys = [], [], set()
            cols = self.spec.to_row(data)
            row = self._row(data, now, cols)
            if key is not None and key in fresh:
                stored[key] = self.spec.from_row(fresh.pop(key))
            before = stored.get(key) if key is not None else None
            if before is not None and before.deleted_at is None and same_data(self.spec, row, before):
                continue
            writes.append(row)
            if before is not None:
                after = {
                    "id": before.id,
                    "version": before.version + 1,
                    **cols,
                    "created_at": before.created_at.isoformat(),
                    "updated_at": now,
                    "deleted_at": None,
                }
                log.append(
                    self._history_row("import", before.id, after["version"], before, after, actor, now)
                )
            elif key is not None:  # a new row's history row is built in SQL from the stored row (_write)
                after = {
                    "id": row["id"],
                    "version": 1,
                    **cols,
                    "created_at": now,
                    "updated_at": now,
                    "deleted_at": None,
                }
            if key is not None:
                keys.add(key)
                fresh[key] = after
        self._write(writes, log, now, actor)

    def _write(
        self, writes: list[dict[str, Any]], log: list[tuple[Any, ...]], now: str, actor: str | None
    ) -> None:
        """Upserts rows, each key at most once; new rows get their history from SQL, changed ones from `log`."""
        conn = self.store.conn
        top = conn.execute(f"SELECT coalesce(max(fid), 0) FROM {self.spec.table}").fetchone()[0]  # noqa: S608
        self._staging.write(writes)
        for sql in self._complete_new:  # rows above the old top are this call's inserts
            conn.execute(sql, {"actor": actor, "at": now, "top": top})
        conn.executemany(HISTORY_INSERT, log)

    def _by_keys(self, keys: list[str]) -> dict[str | None, R]:
        """Stored records (deleted ones too) by external key."""
        if not keys:
            return {}
        self._revive(keys)
        found = self._records(
            f"{self._select} WHERE external_key IN (SELECT value FROM json_each(?))",  # noqa: S608
            (_json_list(keys),),
        )
        return {r.external_key: r for _, r in found}

    def _archived(self, where: str, params: tuple[object, ...]) -> bool:
        sql = f"SELECT 1 FROM {archive.name(self.spec.table)} WHERE {where} LIMIT 1"  # noqa: S608
        return self.store.conn.execute(sql, params).fetchone() is not None

    def _revive(self, keys: list[str]) -> None:
        """Moves deleted records an import names back into the live table (the import's upsert then
        undeletes them); the insert triggers are dropped during imports, so their index entries are made here."""
        where = "external_key IN (SELECT value FROM json_each(?))"
        params = (_json_list(keys),)
        if not self._archived(where, params):
            return
        t, conn = self.spec.table, self.store.conn
        archive.move_in(conn, t, where, params)
        rtree = f"INSERT OR REPLACE INTO rtree_{t}_geom SELECT fid, lon, lon, lat, lat FROM {t} WHERE {where}"  # noqa: S608
        fts = f"INSERT INTO {t}_fts (rowid, search_text) SELECT fid, search_text FROM {t} WHERE {where}"  # noqa: S608
        conn.execute(rtree, params)
        conn.execute(fts, params)

    def _history_row(
        self,
        action: Action,
        record_id: str,
        version: int,
        before: R | None,
        after: R | dict[str, Any] | None,
        actor: str | None,
        now: str,
    ) -> tuple[Any, ...]:
        state = after if isinstance(after, dict) or after is None else snapshot(self.spec, after)
        prior = None if before is None else snapshot(self.spec, before)
        return (self.spec.table, record_id, version, action, actor, now, encode(prior), encode(state))

    def _log(
        self, conn: Any, action: Action, before: R | None, after: R | None, actor: str | None, now: Any
    ) -> None:
        """One history row, in the caller's transaction."""
        record = after or before
        assert record is not None
        conn.execute(
            HISTORY_INSERT, self._history_row(action, record.id, record.version, before, after, actor, now)
        )

    def _row(self, data: D, now: str, cols: dict[str, Any] | None = None) -> dict[str, Any]:
        """Column values of a write: the record's data (`cols`, if already mapped) plus id,
        timestamps, geometry, search text."""
        return {
            **(self.spec.to_row(data) if cols is None else cols),
            "id": new_id(data.external_key),
            "created_at": now,
            "updated_at": now,
            "geom": point_blob(data.point.lon, data.point.lat),
            "search_text": fold_text(self.spec.document(data)),
        }


def _json_list(values: list[str]) -> str:
    return orjson.dumps(values).decode()
