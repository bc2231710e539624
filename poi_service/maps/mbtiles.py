"""Read-only access to the street basemap's MBTiles file (SQLite): tiles by XYZ address and its metadata.

The file may be replaced by a rebuild (`poi-service osm tiles` renames a new file over it); connections are
per thread and reopened when the file's identity changes, so a running service picks up the new tiles."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from poi_service.errors import PoiError, invalid

MAX_ZOOM = 24  # deeper than any vector tile set; larger zooms are refused as absurd
GZIP_MAGIC = b"\x1f\x8b"


class TilesUnavailable(PoiError):
    """The MBTiles file is missing, unreadable or not an MBTiles file."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, 503, "tiles-unavailable", "Street tiles unavailable")


class TilesMissing(PoiError):
    """No MBTiles file: the service has no street basemap (a 404: nothing was built, nothing failed)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, 404, "tiles-missing", "No street tiles")


@dataclass(frozen=True, slots=True)
class Tile:
    """One stored tile: its bytes as stored, whether they are gzipped, and a strong ETag."""

    data: bytes
    gzipped: bool
    etag: str


def check_address(z: int, x: int, y: int) -> None:
    """InvalidInput unless z is 0..MAX_ZOOM and x, y lie inside the 2^z grid."""
    if not 0 <= z <= MAX_ZOOM:
        raise invalid("z", f"zoom must be between 0 and {MAX_ZOOM}")
    n = 1 << z
    if not 0 <= x < n:
        raise invalid("x", f"must be between 0 and {n - 1} at zoom {z}")
    if not 0 <= y < n:
        raise invalid("y", f"must be between 0 and {n - 1} at zoom {z}")


class MBTiles:
    """An MBTiles file opened read-only, one SQLite connection per thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._meta: tuple[tuple[int, int, int], dict[str, Any]] | None = None

    def exists(self) -> bool:
        """Whether the file is there (its content is checked when read)."""
        return self.path.is_file()

    def _identity(self) -> tuple[int, int, int]:
        try:
            st = os.stat(self.path)
        except OSError:
            raise TilesMissing("no street tiles: build them with `poi-service osm tiles`") from None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def _db(self) -> tuple[sqlite3.Connection, tuple[int, int, int]]:
        ident = self._identity()
        held = getattr(self._local, "held", None)
        if held is not None and held[1] == ident:
            return held[0], ident
        if held is not None:
            held[0].close()
        uri = f"file:{self.path.resolve()}?mode=ro"
        db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self._local.held = (db, ident)
        return db, ident

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        db, _ = self._db()
        try:
            return db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:  # not a database, no tiles table, a truncated file
            self._local.held = None
            db.close()
            raise TilesUnavailable(f"the street tiles file is unreadable: {exc}") from None

    def tile(self, z: int, x: int, y: int) -> Tile | None:
        """The tile at XYZ address (z, x, y), or None where the file has none."""
        check_address(z, x, y)
        rows = self._query(
            "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
            (z, x, (1 << z) - 1 - y),  # MBTiles rows count from the south (TMS)
        )
        if not rows or rows[0][0] is None:
            return None
        data = bytes(rows[0][0])
        return Tile(
            data, data[:2] == GZIP_MAGIC, '"' + hashlib.blake2b(data, digest_size=12).hexdigest() + '"'
        )

    def metadata(self) -> dict[str, Any]:
        """The metadata table, with the json field (vector_layers) parsed; cached per file version."""
        _, ident = self._db()
        if self._meta is not None and self._meta[0] == ident:
            return self._meta[1]
        meta: dict[str, Any] = {str(k): v for k, v in self._query("SELECT name, value FROM metadata")}
        try:
            extra = json.loads(meta.pop("json", "{}") or "{}")
        except ValueError:
            raise TilesUnavailable("the street tiles file has malformed metadata (json)") from None
        if isinstance(extra, dict):
            meta.update(extra)
        self._meta = (ident, meta)
        return meta


def _floats(text: Any, count: int) -> list[float] | None:
    try:
        values = [float(v) for v in str(text).split(",")]
    except ValueError:
        return None
    return values if len(values) == count else None


def tilejson(meta: dict[str, Any], tiles_url: str) -> dict[str, Any]:
    """TileJSON 3.0.0 for the file's metadata, its tiles at tiles_url."""
    minzoom = int(meta.get("minzoom", 0))
    maxzoom = int(meta.get("maxzoom", 14))
    bounds = _floats(meta.get("bounds"), 4) or [-180.0, -85.0511, 180.0, 85.0511]
    center = _floats(meta.get("center"), 3)
    if center is None:
        center = [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, float(min(maxzoom, 14))]
    layers = meta.get("vector_layers")
    return {
        "tilejson": "3.0.0",
        "name": str(meta.get("name", "poi-service streets")),
        "description": str(meta.get("description", "")),
        "attribution": "© OpenStreetMap contributors",
        "scheme": "xyz",
        "tiles": [tiles_url],
        "minzoom": minzoom,
        "maxzoom": maxzoom,
        "bounds": bounds,
        "center": [center[0], center[1], int(center[2])],
        "vector_layers": layers if isinstance(layers, list) else [],
    }
