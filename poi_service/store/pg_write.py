"""Writes of one record kind in the PostGIS store: versions, preconditions, soft delete, history,
bulk upsert.

Every write runs in one transaction with its poi_history row, so a change and the record of who
made it commit or vanish together. A write locks its record (SELECT ... FOR UPDATE) before it
checks the expected version: two API servers that update one record with the same expected
version cannot both succeed; the second waits for the first to commit and then gets 412.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from itertools import islice
from typing import Any

import psycopg

from poi_service.errors import Conflict, NotFound
from poi_service.store.base import Action
from poi_service.store.history import encode, same_data, snapshot
from poi_service.store.pg_collection import BATCH, CHANGE_BUMP, LIVE, Conn, PgReads
from poi_service.store.pg_helpers import copy_rows
from poi_service.store.pg_text import tsvectors
from poi_service.store.records import D, F, R, new_id, utcnow
from poi_service.store.writes import HISTORY_COLUMNS, RecordWrites

HISTORY_INSERT = f"INSERT INTO poi_history ({HISTORY_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"  # noqa: S608


@dataclass(frozen=True)
class WriteSql:
    """The write statements of one table (names from the fixed RecordSpec; values are parameters)."""

    cols: tuple[str, ...]
    insert: str
    update: str
    stage_ddl: str
    copy: str
    upsert_staged: str
    clear_stage: str

    @classmethod
    def of(cls, t: str, columns: tuple[str, ...]) -> WriteSql:
        cols = ("id", *columns, "created_at", "updated_at", "doc", "tsv")
        changed = (*columns, "updated_at", "doc", "tsv")
        values = ", ".join(f"%({c})s::tsvector" if c == "tsv" else f"%({c})s" for c in cols)
        assigns = ", ".join(f"{c} = %({c})s::tsvector" if c == "tsv" else f"{c} = %({c})s" for c in changed)
        stage = f"poi_stage_{t}"
        return cls(
            cols=cols,
            insert=f"INSERT INTO {t} ({', '.join(cols)}) VALUES ({values})",  # noqa: S608
            update=f"UPDATE {t} SET {assigns}, version = version + 1 WHERE id = %(id)s AND {LIVE}",  # noqa: S608
            stage_ddl=(
                f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "  # noqa: S608
                f"SELECT 0::bigint AS seq, {', '.join(cols)} FROM {t} WITH NO DATA"
            ),
            copy=f"COPY {stage} (seq, {', '.join(cols)}) FROM STDIN",
            upsert_staged=(
                f"INSERT INTO {t} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM {stage} ORDER BY seq "  # noqa: S608
                f"ON CONFLICT (external_key) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in changed)}, "
                f"version = {t}.version + 1, deleted_at = NULL"
            ),
            clear_stage=f"TRUNCATE {stage}",
        )


class PgCollection(PgReads[R, D, F], RecordWrites[R, D, F]):
    """Collection protocol over one PostGIS table: the reads plus the writes."""

    @cached_property
    def _sql(self) -> WriteSql:
        return WriteSql.of(self.spec.table, self.spec.columns)

    def add_many(self, rows: Iterable[D], *, actor: str | None = None) -> int:
        """Upserts many records atomically, with one 'import' history row per changed record.

        Batches are COPYed into a staging table and upserted from there in input order (fids follow
        the input). Rows equal to their live stored record (geocoded_at aside) are skipped; a
        deleted record with the row's key comes back. Returns the number of rows given.
        """
        now = utcnow()
        count = 0
        it = iter(rows)
        with self.store.writing() as conn:
            conn.execute(self._sql.stage_ddl)
            while batch := list(islice(it, BATCH)):
                count += len(batch)
                self._upsert_batch(conn, batch, now, actor)
        return count

    def find_keys(self, keys: Iterable[str]) -> dict[str, R]:
        """Stored records (deleted ones too) by external key, BATCH keys per query."""
        found: dict[str, R] = {}
        it = iter(keys)
        with self.store.reading() as conn:
            while batch := list(islice(it, BATCH)):
                rows = conn.execute(f"{self._from} WHERE external_key = ANY(%s)", (batch,)).fetchall()
                found.update((r["external_key"], self.spec.from_row(r)) for r in rows)
        return found

    # -- helpers -------------------------------------------------------------------------------

    # -- the dialect of writes.RecordWrites -----------------------------------------------------

    placeholder = "%s"

    def _writing(self) -> AbstractContextManager[Conn]:
        return self.store.writing()

    def _now(self) -> datetime:
        return utcnow()

    def _new_row(self, data: D, now: Any) -> dict[str, Any]:
        return self._row(data, now, *tsvectors([self.spec.document(data)])[0])

    def _insert_row(self, conn: Any, row: dict[str, Any], data: D) -> None:
        try:
            conn.execute(self._sql.insert, row)
        except psycopg.errors.UniqueViolation as exc:  # the same key, written a moment ago
            raise Conflict(f"external_key {data.external_key!r} belongs to another record") from exc

    def _update_row(self, conn: Any, row: dict[str, Any], data: D) -> None:
        try:
            conn.execute(self._sql.update, row)
        except psycopg.errors.UniqueViolation as exc:
            raise Conflict(f"external_key {data.external_key!r} belongs to another record") from exc

    def _history_rows(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        with self.store.reading() as conn:
            return conn.execute(sql, params).fetchall()

    def _for_write(self, conn: Conn, record_id: str, *, include_deleted: bool) -> R:
        """The record, locked until the transaction ends; NotFound if absent (or deleted)."""
        row = conn.execute(f"{self._from} WHERE id = %s FOR UPDATE", (record_id,)).fetchone()
        if row is None or (row["deleted_at"] is not None and not include_deleted):
            raise NotFound(f"no {self.spec.noun} with id {record_id!r}")
        return self.spec.from_row(row)

    def _upsert_batch(self, conn: Conn, batch: list[D], now: datetime, actor: str | None) -> None:
        """One batch of add_many: new and changed rows, then their history (COPY both)."""
        keys = [d.external_key for d in batch if d.external_key is not None]
        stored: dict[str | None, R] = {}
        if keys:
            found = conn.execute(f"{self._from} WHERE external_key = ANY(%s)", (keys,)).fetchall()
            stored = {r["external_key"]: self.spec.from_row(r) for r in found}
        texts = tsvectors([self.spec.document(d) for d in batch])
        writes: list[dict[str, Any]] = []
        pending: set[str] = set()
        log: list[tuple[Any, ...]] = []
        for data, (doc, tsv) in zip(batch, texts, strict=True):
            row = self._row(data, now, doc, tsv)
            key = data.external_key
            before = stored.get(key) if key is not None else None
            if before is not None and before.deleted_at is None and same_data(self.spec, row, before):
                continue
            if key is not None and key in pending:  # one statement may touch a row once: flush first
                self._write_staged(conn, writes)
                writes, pending = [], set()
            writes.append(row)
            stamp = now.isoformat()
            if before is None:
                after = {
                    "id": row["id"],
                    "version": 1,
                    **self.spec.to_row(data),
                    "created_at": stamp,
                    "updated_at": stamp,
                    "deleted_at": None,
                }
            else:
                after = {
                    "id": before.id,
                    "version": before.version + 1,
                    **self.spec.to_row(data),
                    "created_at": before.created_at.isoformat(),
                    "updated_at": stamp,
                    "deleted_at": None,
                }
            prior = None if before is None else snapshot(self.spec, before)
            log.append(
                (
                    self.spec.table,
                    after["id"],
                    after["version"],
                    "import",
                    actor,
                    now,
                    encode(prior),
                    encode(after),
                )
            )
            if key is not None:
                pending.add(key)
                stored[key] = self.spec.from_row(after)
        self._write_staged(conn, writes)
        if log:
            with conn.cursor().copy(f"COPY poi_history ({HISTORY_COLUMNS}) FROM STDIN") as copy:
                for entry in log:
                    copy.write_row(entry)
            conn.execute(CHANGE_BUMP, (self.spec.table,))

    def _write_staged(self, conn: Conn, rows: list[dict[str, Any]]) -> None:
        if rows:
            copy_rows(conn, self._sql.copy, self._sql.cols, rows)
            conn.execute(self._sql.upsert_staged)
            conn.execute(self._sql.clear_stage)

    def _log(
        self, conn: Any, action: Action, before: R | None, after: R | None, actor: str | None, now: Any
    ) -> None:
        """One history row, in the caller's transaction."""
        record = after or before
        assert record is not None
        prior = None if before is None else snapshot(self.spec, before)
        state = None if after is None else snapshot(self.spec, after)
        conn.execute(
            HISTORY_INSERT,
            (self.spec.table, record.id, record.version, action, actor, now, encode(prior), encode(state)),
        )
        conn.execute(CHANGE_BUMP, (self.spec.table,))

    def _row(self, data: D, now: datetime, doc: str, tsv: str) -> dict[str, Any]:
        return {
            **self.spec.to_row(data),
            "id": new_id(data.external_key),
            "created_at": now,
            "updated_at": now,
            "doc": doc,
            "tsv": tsv,
        }
