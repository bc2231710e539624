"""Writes of one record kind in the embedded store: versions, soft delete, history, bulk upsert.

Every write runs in one transaction with its history row (poi_history), so a change and its
record of who made it commit or vanish together.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cached_property
from itertools import islice
from typing import Any

import orjson

from poi_service.errors import Conflict, PreconditionFailed
from poi_service.store.base import Action, Change
from poi_service.store.collection import SqliteReads
from poi_service.store.gpkg import point_blob
from poi_service.store.history import change, encode, same_data, snapshot
from poi_service.store.records import D, F, R, new_id
from poi_service.store.schema import insert_triggers
from poi_service.store.sqlite_bulk import BulkIndexes, Staging, new_rows_sql, rtree_sql
from poi_service.store.text import fold_text

BATCH = 1000
HISTORY_INSERT = (
    "INSERT INTO poi_history (collection, record_id, version, action, actor, at, before, after) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def check_version(record_id: str, stored: int, expected: int | None) -> None:
    """PreconditionFailed unless expected is None or the stored version."""
    if expected is not None and expected != stored:
        raise PreconditionFailed(
            f"{record_id} is at version {stored}, not {expected}: it changed since it was read; "
            "fetch it again and reapply the edit"
        )


class SqliteCollection(SqliteReads[R, D, F]):
    """Collection protocol over one GeoPackage feature table: the reads plus the writes."""

    @cached_property
    def _complete_new(self) -> tuple[str, ...]:
        return new_rows_sql(self.spec)

    @cached_property
    def _staging(self) -> Staging:
        return Staging(self.store.conn, self.spec.table, self._written, self._on_conflict)

    def add(self, data: D, *, actor: str | None = None) -> R:
        """Stores one new record; Conflict if its external_key is taken."""
        now = _now()
        row = self._row(data, now)
        with self.store.transaction():
            if data.external_key is not None:
                taken = self.store.conn.execute(
                    f"SELECT id, deleted_at FROM {self.spec.table} WHERE external_key = ?",  # noqa: S608
                    (data.external_key,),
                ).fetchone()
                if taken is not None:
                    state = " (deleted: restore it)" if taken["deleted_at"] else ""
                    raise Conflict(f"{self.spec.table[:-1]} {taken['id']}{state} has this record's key")
            self.store.conn.execute(self._insert, row)
            added = self.get(str(row["id"]))
            self._log("create", None, added, actor, now)
        return added

    def add_many(self, rows: Iterable[D], *, actor: str | None = None) -> int:
        """Upserts many records atomically, with one 'import' history row per changed record.

        Per-row insert triggers (R*Tree, full text, change counter) are dropped inside the
        transaction and their work (and the new rows' history) is done set-wise; a
        large import also drops and rebuilds the secondary indexes (sqlite_bulk.py). Other
        connections never see the file without them. Upserts still go through the update
        triggers. Rows equal to their stored record (geocoded_at aside) are skipped: a re-import
        changes nothing.
        """
        now = _now()
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

    def update(
        self, record_id: str, data: D, *, expected_version: int | None = None, actor: str | None = None
    ) -> R:
        """Replaces a live record's data, keeping id and created_at; version + 1."""
        now = _now()
        row = self._row(data, now)
        row["id"] = record_id
        with self.store.transaction():
            before = self.get(record_id)
            check_version(record_id, before.version, expected_version)
            try:
                self.store.conn.execute(self._update, row).fetchone()
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"external_key {data.external_key!r} belongs to another record") from exc
            after = self.get(record_id)
            self._log("update", before, after, actor, now)
        return after

    def delete(
        self, record_id: str, *, expected_version: int | None = None, actor: str | None = None,
        purge: bool = False,
    ) -> None:  # fmt: skip
        """Soft-deletes a live record, or (purge) removes any record for good."""
        now = _now()
        t = self.spec.table
        with self.store.transaction():
            before = self.get(record_id, include_deleted=purge)
            check_version(record_id, before.version, expected_version)
            if purge:
                self.store.conn.execute(f"DELETE FROM {t} WHERE id = ?", (record_id,))  # noqa: S608
                self._log("purge", before, None, actor, now)
                return
            self.store.conn.execute(
                f"UPDATE {t} SET deleted_at = ?, updated_at = ?, version = version + 1 WHERE id = ?",  # noqa: S608
                (now, now, record_id),
            )
            self._log("delete", before, self.get(record_id, include_deleted=True), actor, now)

    def restore(self, record_id: str, *, expected_version: int | None = None, actor: str | None = None) -> R:
        """Brings a soft-deleted record back."""
        now = _now()
        t = self.spec.table
        with self.store.transaction():
            before = self.get(record_id, include_deleted=True)
            if before.deleted_at is None:
                raise Conflict(f"{t[:-1]} {record_id} is not deleted")
            check_version(record_id, before.version, expected_version)
            self.store.conn.execute(
                f"UPDATE {t} SET deleted_at = NULL, updated_at = ?, version = version + 1 WHERE id = ?",  # noqa: S608
                (now, record_id),
            )
            after = self.get(record_id)
            self._log("restore", before, after, actor, now)
        return after

    def history(self, record_id: str) -> list[Change]:
        """The record's writes, oldest first."""
        with self.store.reading():
            rows = self.store.query(
                "SELECT * FROM poi_history WHERE collection = ? AND record_id = ? ORDER BY seq",
                (self.spec.table, record_id),
            )
            if not rows:
                self.get(record_id, include_deleted=True)  # NotFound when there is no such record
        return [change(r) for r in rows]

    def find_keys(self, keys: Iterable[str]) -> dict[str, R]:
        """Stored records (deleted ones too) by external key, read BATCH keys per query."""
        found: dict[str, R] = {}
        it = iter(keys)
        while batch := list(islice(it, BATCH)):
            found.update((k, r) for k, r in self._by_keys(batch).items() if k is not None)
        return found

    # -- helpers -------------------------------------------------------------------------------

    def _upsert_batch(self, batch: list[D], now: str, actor: str | None) -> None:
        """Writes one batch of add_many: new rows, changed rows, and their history."""
        stored = self._by_keys([d.external_key for d in batch if d.external_key is not None])
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
            before = stored.get(key) if key is not None else None
            if before is not None and before.deleted_at is None and same_data(self.spec, row, before):
                continue
            writes.append(row)
            if before is not None:
                after = {"id": before.id, "version": before.version + 1, **cols,
                         "created_at": before.created_at.isoformat(), "updated_at": now, "deleted_at": None}  # fmt: skip
                log.append(
                    self._history_row("import", before.id, after["version"], before, after, actor, now)
                )
            elif key is not None:  # a new row's history row is built in SQL from the stored row (_write)
                after = {"id": row["id"], "version": 1, **cols, "created_at": now, "updated_at": now,
                         "deleted_at": None}  # fmt: skip
            if key is not None:
                keys.add(key)
                stored[key] = self.spec.from_row(after)
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
        found = self._records(
            f"{self._select} WHERE external_key IN (SELECT value FROM json_each(?))",  # noqa: S608
            (_json_list(keys),),
        )
        return {r.external_key: r for _, r in found}

    def _history_row(
        self, action: Action, record_id: str, version: int, before: R | None, after: R | dict[str, Any] | None,
        actor: str | None, now: str,
    ) -> tuple[Any, ...]:  # fmt: skip
        state = after if isinstance(after, dict) or after is None else snapshot(self.spec, after)
        prior = None if before is None else snapshot(self.spec, before)
        return (self.spec.table, record_id, version, action, actor, now, encode(prior), encode(state))

    def _log(self, action: Action, before: R | None, after: R | None, actor: str | None, now: str) -> None:
        """One history row, in the caller's transaction."""
        record = after or before
        assert record is not None
        version = record.version
        self.store.conn.execute(
            HISTORY_INSERT, self._history_row(action, record.id, version, before, after, actor, now)
        )

    def _row(self, data: D, now: str, cols: dict[str, Any] | None = None) -> dict[str, Any]:
        """Column values of a write: the record's data (`cols`, if already mapped) plus id,
        timestamps, geometry, search text."""
        return {
            **(self.spec.to_row(data) if cols is None else cols), "id": new_id(data.external_key),
            "created_at": now, "updated_at": now,
            "geom": point_blob(data.point.lon, data.point.lat), "search_text": fold_text(self.spec.document(data)),
        }  # fmt: skip


def _json_list(values: list[str]) -> str:
    return orjson.dumps(values).decode()


def _now() -> str:
    return datetime.now(UTC).isoformat()
