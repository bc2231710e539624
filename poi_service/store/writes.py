"""The single-record write flows (add, update, delete, restore, history), once for both SQL backends.

Each flow runs in one transaction with its history row, so a change and the record of who made it
commit or vanish together. The backends supply the dialect: their placeholder, their transaction
and connection, how a record is read for a write (PostGIS locks it with FOR UPDATE, so two API
servers updating one record with the same expected version cannot both succeed), how a new or
changed row is written and how a history row is added. Bulk upserts (add_many) stay per backend.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Generic

from poi_service.errors import Conflict
from poi_service.store.base import Action, Change
from poi_service.store.history import change, check_version, same_data
from poi_service.store.records import D, F, R, RecordSpec

HISTORY_COLUMNS = "collection, record_id, version, action, actor, at, before, after"


class RecordWrites(Generic[R, D, F]):
    """add/update/delete/restore/history of the Collection protocol over a dialect's hooks."""

    spec: RecordSpec[R, D, F]
    placeholder: str  # "?" (sqlite3) or "%s" (psycopg)

    # -- dialect hooks -----------------------------------------------------------------------------

    def get(self, record_id: str, *, include_deleted: bool = False) -> R:
        """The record (the read half provides it)."""
        raise NotImplementedError

    def _writing(self) -> AbstractContextManager[Any]:
        """A write transaction, yielding the connection to execute on."""
        raise NotImplementedError

    def _now(self) -> Any:
        """Now, as the dialect stores it."""
        raise NotImplementedError

    def _new_row(self, data: D, now: Any) -> dict[str, Any]:
        """Column values of a write: the data plus id, timestamps and the search columns."""
        raise NotImplementedError

    def _insert_row(self, conn: Any, row: dict[str, Any], data: D) -> None:
        """Inserts a new row; Conflict if its key was taken meanwhile."""
        raise NotImplementedError

    def _update_row(self, conn: Any, row: dict[str, Any], data: D) -> None:
        """Replaces a live row's data; Conflict on a taken external_key."""
        raise NotImplementedError

    def _for_write(self, conn: Any, record_id: str, *, include_deleted: bool) -> R:
        """The record about to be written; NotFound if absent (or deleted unless include_deleted)."""
        raise NotImplementedError

    def _log(
        self, conn: Any, action: Action, before: R | None, after: R | None, actor: str | None, now: Any
    ) -> None:
        """One history row, in the caller's transaction."""
        raise NotImplementedError

    def _history_rows(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        """Rows of a history query."""
        raise NotImplementedError

    # Where a backend keeps soft-deleted rows elsewhere (the embedded store: store/archive.py), it
    # overrides these; by default they stay in the table with deleted_at set.

    def _key_owner(self, conn: Any, key: str) -> Any | None:
        """The row (id, deleted_at) holding an external key, deleted or not; None if free."""
        sql = f"SELECT id, deleted_at FROM {self.spec.table} WHERE external_key = {self.placeholder}"  # noqa: S608
        return conn.execute(sql, (key,)).fetchone()

    def _check_key_free(self, conn: Any, data: D) -> None:
        """Conflict when an update would take a key that a record kept elsewhere holds."""

    def _soft_delete(self, conn: Any, record_id: str, now: Any) -> None:
        t, p = self.spec.table, self.placeholder
        conn.execute(
            f"UPDATE {t} SET deleted_at = {p}, updated_at = {p}, version = version + 1 WHERE id = {p}",  # noqa: S608
            (now, now, record_id),
        )

    def _undelete(self, conn: Any, record_id: str, now: Any) -> None:
        t, p = self.spec.table, self.placeholder
        conn.execute(
            f"UPDATE {t} SET deleted_at = NULL, updated_at = {p}, version = version + 1 WHERE id = {p}",  # noqa: S608
            (now, record_id),
        )

    def _purge(self, conn: Any, before: R) -> None:
        conn.execute(f"DELETE FROM {self.spec.table} WHERE id = {self.placeholder}", (before.id,))  # noqa: S608

    # -- the flows -------------------------------------------------------------------------------

    def add(self, data: D, *, actor: str | None = None) -> R:
        """Stores one new record (version 1); Conflict if its external_key is taken."""
        now = self._now()
        row = self._new_row(data, now)
        with self._writing() as conn:
            if data.external_key is not None:
                taken = self._key_owner(conn, data.external_key)
                if taken is not None:
                    state = " (deleted: restore it)" if taken["deleted_at"] else ""
                    raise Conflict(f"{self.spec.noun} {taken['id']}{state} has this record's key")
            self._insert_row(conn, row, data)
            added = self.get(str(row["id"]))
            self._log(conn, "create", None, added, actor, now)
        return added

    def update(
        self, record_id: str, data: D, *, expected_version: int | None = None, actor: str | None = None
    ) -> R:
        """Replaces a live record's data, keeping id and created_at; version + 1."""
        now = self._now()
        row = self._new_row(data, now)
        row["id"] = record_id
        with self._writing() as conn:
            before = self._for_write(conn, record_id, include_deleted=False)
            check_version(record_id, before.version, expected_version)
            if same_data(self.spec, row, before):  # nothing changes: no new version, no empty history entry
                return before
            self._check_key_free(conn, data)
            self._update_row(conn, row, data)
            after = self.get(record_id)
            self._log(conn, "update", before, after, actor, now)
        return after

    def delete(
        self,
        record_id: str,
        *,
        expected_version: int | None = None,
        actor: str | None = None,
        purge: bool = False,
    ) -> None:
        """Soft-deletes a live record, or (purge) removes any record for good (its history stays)."""
        now = self._now()
        with self._writing() as conn:
            before = self._for_write(conn, record_id, include_deleted=purge)
            check_version(record_id, before.version, expected_version)
            if purge:
                self._purge(conn, before)
                self._log(conn, "purge", before, None, actor, now)
                return
            self._soft_delete(conn, record_id, now)
            self._log(conn, "delete", before, self.get(record_id, include_deleted=True), actor, now)

    def restore(self, record_id: str, *, expected_version: int | None = None, actor: str | None = None) -> R:
        """Brings a soft-deleted record back; Conflict if it is not deleted."""
        now = self._now()
        with self._writing() as conn:
            before = self._for_write(conn, record_id, include_deleted=True)
            if before.deleted_at is None:
                raise Conflict(f"{self.spec.noun} {record_id} is not deleted")
            check_version(record_id, before.version, expected_version)
            self._undelete(conn, record_id, now)
            after = self.get(record_id)
            self._log(conn, "restore", before, after, actor, now)
        return after

    def history(self, record_id: str) -> list[Change]:
        """The record's writes, oldest first; NotFound if there is neither a record nor history."""
        p = self.placeholder
        rows = self._history_rows(
            f"SELECT seq, {HISTORY_COLUMNS} FROM poi_history "  # noqa: S608
            f"WHERE collection = {p} AND record_id = {p} ORDER BY seq",
            (self.spec.table, record_id),
        )
        if not rows:
            self.get(record_id, include_deleted=True)  # NotFound when there is no such record
        return [change(r) for r in rows]
