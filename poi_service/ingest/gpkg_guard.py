"""Checks an uploaded GeoPackage before GDAL opens it: uploaded databases are untrusted.

A GeoPackage is an SQLite database, and a database can run code when read: a view (even a recursive
one that never ends, or one calling load_extension()) or a virtual table. The file is opened read-only
and immutable with the Python driver, every statement is bounded in time by a progress handler, and
only files whose layers and GeoPackage tables are plain tables are handed on (no views, no virtual
tables except R*Tree indexes). Triggers only fire on writes, and nothing here writes.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from urllib.parse import quote

from poi_service.errors import ImportFailed

MAX_ROWS = 500_000  # per layer (README, Limits and errors)
MAX_LAYERS = 100
MAX_COLUMNS = 200
TIME_LIMIT_S = 5.0


def _refuse(path: Path, why: str) -> ImportFailed:
    return ImportFailed(f"{path.name}: {why}")


def check_geopackage(path: Path, time_limit_s: float = TIME_LIMIT_S) -> None:
    """ImportFailed (422) unless the file is an SQLite GeoPackage of plain tables within the limits."""
    try:
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro&immutable=1", uri=True, timeout=0)
    except sqlite3.Error as exc:
        raise _refuse(path, "not a readable GeoPackage") from exc
    deadline = time.monotonic() + time_limit_s
    conn.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 1000)
    try:
        _check(conn, path)
    except sqlite3.OperationalError as exc:
        if "interrupted" in str(exc):
            raise _refuse(path, f"reading it took over {time_limit_s:g} s; refused") from exc
        raise _refuse(path, "not a readable GeoPackage") from exc
    except sqlite3.DatabaseError as exc:
        raise _refuse(path, "not a readable GeoPackage (not an SQLite database)") from exc
    finally:
        conn.close()


def _check(conn: sqlite3.Connection, path: Path) -> None:
    objects = conn.execute("SELECT type, name, coalesce(sql, '') FROM sqlite_master").fetchall()
    views = sorted(name for kind, name, _ in objects if kind == "view")
    if views:
        raise _refuse(
            path, f"has views ({', '.join(views[:5])}); only plain tables are read: save the layer as a table"
        )
    virtual = sorted(
        name
        for kind, name, sql in objects
        if kind == "table"
        and sql.upper().startswith("CREATE VIRTUAL TABLE")
        and "USING RTREE" not in sql.upper()
    )
    if virtual:
        raise _refuse(path, f"has virtual tables ({', '.join(virtual[:5])}); only plain tables are read")
    tables = {name for kind, name, _ in objects if kind == "table"}
    if "gpkg_contents" not in tables:
        raise _refuse(path, "not a GeoPackage (no gpkg_contents table)")
    layers = [
        str(r[0]) for r in conn.execute("SELECT table_name FROM gpkg_contents LIMIT ?", (MAX_LAYERS + 1,))
    ]
    if len(layers) > MAX_LAYERS:
        raise _refuse(path, f"has over {MAX_LAYERS} layers")
    for layer in layers:
        if layer not in tables:
            raise _refuse(path, f"layer {layer!r} is not a table; only plain tables are read")
        columns = conn.execute("SELECT count(*) FROM pragma_table_info(?)", (layer,)).fetchone()[0]
        if columns > MAX_COLUMNS:
            raise _refuse(path, f"layer {layer!r} has {columns} columns; at most {MAX_COLUMNS} are read")
        quoted = '"' + layer.replace('"', '""') + '"'
        sql = f"SELECT count(*) FROM (SELECT 1 FROM {quoted} LIMIT {MAX_ROWS + 1})"  # noqa: S608
        rows = conn.execute(sql).fetchone()[0]
        if rows > MAX_ROWS:
            raise _refuse(path, f"layer {layer!r} has over {MAX_ROWS} rows; split the file")
