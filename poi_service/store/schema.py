"""DDL of the embedded store: GeoPackage layers, full-text tables, change counters, migrations."""

from __future__ import annotations

import sqlite3

from poi_service.errors import PoiError
from poi_service.store.base import SCHEMA_VERSION
from poi_service.store.gpkg import APPLICATION_ID, CORE_DDL, USER_VERSION, feature_table_ddl
from poi_service.store.records import MEMBERSHIPS, PLACES, RecordSpec

_COMMON = """
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  geom POINT,
  id TEXT NOT NULL UNIQUE,
  lon REAL NOT NULL, lat REAL NOT NULL,
  geocode_source TEXT NOT NULL, geocode_precision TEXT NOT NULL,
  geocode_confidence REAL NOT NULL, geocoded_at TEXT NOT NULL,
  external_key TEXT UNIQUE,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL,"""

TABLES = {
    "places": f"""CREATE TABLE places ({_COMMON}
  name TEXT NOT NULL, category TEXT NOT NULL, street TEXT, housenumber TEXT, postcode TEXT,
  locality TEXT, ags TEXT, phone TEXT, website TEXT, description TEXT, source TEXT);
CREATE INDEX places_ags ON places(ags);
CREATE INDEX places_category ON places(category);""",
    "memberships": f"""CREATE TABLE memberships ({_COMMON}
  name TEXT NOT NULL, kind TEXT NOT NULL, country TEXT NOT NULL, ags TEXT, state TEXT, district TEXT,
  alliance TEXT NOT NULL, role TEXT NOT NULL, joined TEXT, joined_precision TEXT, source_url TEXT);
CREATE INDEX memberships_ags ON memberships(ags);
CREATE INDEX memberships_alliance ON memberships(alliance, state);""",
}

_SUPPORT = """
CREATE TABLE poi_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- Registering one attributes table makes GDAL list only gpkg_contents tables, hiding FTS internals.
INSERT INTO gpkg_contents (table_name, data_type, identifier, description)
  VALUES ('poi_meta', 'attributes', 'poi_meta', 'poi-service store metadata (schema version)');
CREATE TABLE poi_changes (collection TEXT PRIMARY KEY, version INTEGER NOT NULL);
CREATE TABLE geocode_cache (provider TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), PRIMARY KEY (provider, key));
"""


def _collection_ddl(spec: RecordSpec) -> str:  # type: ignore[type-arg]
    t = spec.table
    counter = f"UPDATE poi_changes SET version = version + 1 WHERE collection = '{t}';"
    return (
        TABLES[t]
        + feature_table_ddl(t, spec.description)
        + f"""
CREATE VIRTUAL TABLE {t}_fts USING fts5(doc, tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO poi_changes VALUES ('{t}', 0);
CREATE TRIGGER {t}_changed_insert AFTER INSERT ON {t} BEGIN {counter} END;
CREATE TRIGGER {t}_changed_update AFTER UPDATE ON {t} BEGIN {counter} END;
CREATE TRIGGER {t}_changed_delete AFTER DELETE ON {t} BEGIN {counter} END;
"""
    )


def migrate(conn: sqlite3.Connection) -> None:
    """Creates the schema in an empty file; refuses a file from a newer version of the service."""
    has_meta = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'poi_meta'").fetchone()
    if has_meta:
        row = conn.execute("SELECT value FROM poi_meta WHERE key = 'schema_version'").fetchone()
        version = int(row[0])
        if version > SCHEMA_VERSION:
            raise PoiError(f"store schema {version} is newer than this service ({SCHEMA_VERSION})", 500)
        # Future migrations run here, one step per version, inside one transaction.
        return
    script = (
        f"PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {USER_VERSION};"
        + "BEGIN;"
        + CORE_DDL
        + _SUPPORT
        + _collection_ddl(PLACES)
        + _collection_ddl(MEMBERSHIPS)
        + f"INSERT INTO poi_meta VALUES ('schema_version', '{SCHEMA_VERSION}'); COMMIT;"
    )
    conn.executescript(script)
