"""GeoPackage plumbing without SpatiaLite: point blobs, the core tables, the R*Tree extension.

Python's sqlite3 here cannot load extensions, so the ST_* functions the standard R*Tree
triggers call are registered as Python functions on every connection we open.
"""

from __future__ import annotations

import sqlite3
import struct

SRS_WGS84 = 4326
APPLICATION_ID = 0x47504B47  # 'GPKG'
USER_VERSION = 10400  # GeoPackage 1.4

# Header (magic, version, flags, srs_id), then WKB (byte order, type, x, y); "<" means no padding.
_POINT_BLOB = struct.Struct("<2sBBiBIdd")
_ENVELOPE_DOUBLES = {0: 0, 1: 4, 2: 6, 3: 6, 4: 8}
_POINT_FLAGS = 0b0000_0001  # little-endian header, no envelope, not empty


def point_blob(lon: float, lat: float) -> bytes:
    """A GeoPackage geometry blob holding one WGS84 point."""
    return _POINT_BLOB.pack(b"GP", 0, _POINT_FLAGS, SRS_WGS84, 1, 1, lon, lat)


def _envelope(blob: bytes | None) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) of a GeoPackage blob; points and header envelopes only."""
    if not blob or len(blob) < 8 or blob[:2] != b"GP":
        return None
    flags = blob[3]
    if flags & 0b1_0000:
        return None  # empty geometry
    order = "<" if flags & 1 else ">"
    n = _ENVELOPE_DOUBLES.get((flags >> 1) & 0b111, 0)
    if n:
        minx, maxx, miny, maxy = struct.unpack_from(order + "4d", blob, 8)
        return minx, maxx, miny, maxy
    wkb = blob[8:]
    if len(wkb) < 21:
        return None
    wkb_order = "<" if wkb[0] == 1 else ">"
    (geom_type,) = struct.unpack_from(wkb_order + "I", wkb, 1)
    if geom_type % 1000 != 1:
        return None
    x, y = struct.unpack_from(wkb_order + "2d", wkb, 5)
    return x, x, y, y


def _part(index: int) -> object:
    def fn(blob: bytes | None) -> float | None:
        env = _envelope(blob)
        return None if env is None else env[index]

    return fn


def register_functions(conn: sqlite3.Connection) -> None:
    """The ST_* functions the GeoPackage R*Tree triggers call."""
    conn.create_function("ST_IsEmpty", 1, lambda b: 1 if _envelope(b) is None else 0, deterministic=True)
    for i, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        conn.create_function(name, 1, _part(i), deterministic=True)  # type: ignore[arg-type]


CORE_DDL = """
CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES
  ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
  ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
  ('WGS 84 geodetic', 4326, 'EPSG', 4326,
   'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],'
   || 'AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],'
   || 'UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],'
   || 'AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]',
   'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');
CREATE TABLE IF NOT EXISTS gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
  description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
CREATE TABLE IF NOT EXISTS gpkg_extensions (
  table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
  scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
"""


def feature_table_ddl(table: str, description: str) -> str:
    """Registers an existing point table as a GeoPackage layer with an R*Tree index on `geom`.

    `table` is one of our own fixed table names, never user input. The insert trigger lives in
    schema.insert_triggers, since bulk writes drop and recreate it.
    """
    rt = f"rtree_{table}_geom"
    cond = "NEW.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom)"
    return f"""
INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id)
  VALUES ('{table}', 'features', '{table}', '{description}', {SRS_WGS84});
INSERT INTO gpkg_geometry_columns VALUES ('{table}', 'geom', 'POINT', {SRS_WGS84}, 0, 0);
CREATE VIRTUAL TABLE {rt} USING rtree(id, minx, maxx, miny, maxy);
INSERT INTO gpkg_extensions VALUES ('{table}', 'geom', 'gpkg_rtree_index',
  'http://www.geopackage.org/spec120/#extension_rtree', 'write-only');
CREATE TRIGGER {rt}_update6 AFTER UPDATE OF geom ON {table}
  WHEN OLD.fid = NEW.fid AND ({cond})
BEGIN UPDATE {rt} SET minx = ST_MinX(NEW.geom), maxx = ST_MaxX(NEW.geom),
  miny = ST_MinY(NEW.geom), maxy = ST_MaxY(NEW.geom) WHERE id = NEW.fid; END;
CREATE TRIGGER {rt}_update7 AFTER UPDATE OF geom ON {table}
  WHEN OLD.fid = NEW.fid AND (NEW.geom IS NULL OR ST_IsEmpty(NEW.geom))
BEGIN DELETE FROM {rt} WHERE id = OLD.fid; END;
CREATE TRIGGER {rt}_delete AFTER DELETE ON {table} WHEN old.geom NOT NULL
BEGIN DELETE FROM {rt} WHERE id = OLD.fid; END;
"""
