"""Soft-deleted rows of the embedded store live in `deleted_<table>`, outside the GeoPackage layers.

The `places` and `memberships` tables are what QGIS, GDAL and geopandas read; a deleted record must
vanish from them as from every API read. So a soft delete moves the row to an unregistered table of
the same columns (GDAL lists only tables in gpkg_contents), and a restore moves it back. Column lists
are read from the live table, so columns added by later migrations follow on the next open.
"""

from __future__ import annotations

import sqlite3

_ID_INDEX = "CREATE UNIQUE INDEX IF NOT EXISTS {a}_id ON {a} (id)"
_KEY_INDEX = "CREATE UNIQUE INDEX IF NOT EXISTS {a}_key ON {a} (external_key)"


def name(table: str) -> str:
    """The archive table of one of our fixed feature tables."""
    return f"deleted_{table}"


def _columns(conn: sqlite3.Connection, table: str) -> list[tuple[str, str]]:
    return [(str(r[1]), str(r[2])) for r in conn.execute(f"PRAGMA table_info({table})")]


def ensure(conn: sqlite3.Connection, tables: tuple[str, ...]) -> None:
    """Creates the archive tables (idempotent), adds columns the live tables gained, and moves rows a
    file of an older version soft-deleted in place. Writes only when there is something to do."""
    for table in tables:
        archive = name(table)
        live = _columns(conn, table)
        have = {c for c, _ in _columns(conn, archive)}
        stale = conn.execute(f"SELECT 1 FROM {table} WHERE deleted_at IS NOT NULL LIMIT 1").fetchone()  # noqa: S608
        if have and all(c in have for c, _ in live) and stale is None:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            if not have:
                cols = ", ".join(f"{c} {kind}" for c, kind in live if c != "fid")
                conn.execute(f"CREATE TABLE IF NOT EXISTS {archive} (fid INTEGER PRIMARY KEY, {cols})")
                conn.execute(_ID_INDEX.format(a=archive))
                conn.execute(_KEY_INDEX.format(a=archive))
            have = {c for c, _ in _columns(conn, archive)}
            for c, kind in live:
                if c not in have:
                    conn.execute(f"ALTER TABLE {archive} ADD COLUMN {c} {kind}")
            move_out(conn, table, "deleted_at IS NOT NULL", ())
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def move_out(conn: sqlite3.Connection, table: str, where: str, params: tuple[object, ...]) -> None:
    """Moves the live table's rows matching `where` into the archive (inside the caller's transaction)."""
    cols = ", ".join(c for c, _ in _columns(conn, table))
    conn.execute(f"INSERT INTO {name(table)} ({cols}) SELECT {cols} FROM {table} WHERE {where}", params)  # noqa: S608
    conn.execute(f"DELETE FROM {table} WHERE {where}", params)  # noqa: S608


def move_in(conn: sqlite3.Connection, table: str, where: str, params: tuple[object, ...]) -> None:
    """Moves archived rows matching `where` back into the live table (its triggers index them)."""
    cols = ", ".join(c for c, _ in _columns(conn, table))
    conn.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {name(table)} WHERE {where}", params)  # noqa: S608
    conn.execute(f"DELETE FROM {name(table)} WHERE {where}", params)  # noqa: S608
