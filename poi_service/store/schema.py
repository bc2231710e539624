"""DDL of the embedded store: GeoPackage layers, full-text tables, change counters, history, keys,
and the migrations between schema versions."""

from __future__ import annotations

import sqlite3

from poi_service.errors import PoiError
from poi_service.store.base import SCHEMA_VERSION
from poi_service.store.gpkg import APPLICATION_ID, CORE_DDL, USER_VERSION, feature_table_ddl
from poi_service.store.records import MEMBERSHIPS, PLACES, RecordSpec
from poi_service.store.sqlite_addresses import ADDRESS_DDL

_COMMON = """
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  geom POINT,
  id TEXT NOT NULL UNIQUE,
  lon REAL NOT NULL, lat REAL NOT NULL,
  geocode_source TEXT NOT NULL, geocode_precision TEXT NOT NULL,
  geocode_confidence REAL NOT NULL, geocoded_at TEXT NOT NULL,
  external_key TEXT UNIQUE,
  search_text TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1, deleted_at TEXT,"""

TABLES = {
    "places": f"""CREATE TABLE places ({_COMMON}
  name TEXT NOT NULL, category TEXT NOT NULL, street TEXT, housenumber TEXT, postcode TEXT,
  locality TEXT, ags TEXT, phone TEXT, website TEXT, description TEXT, source TEXT,
  opening_hours TEXT, wheelchair TEXT, names TEXT, osm_version INTEGER, osm_timestamp TEXT);
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

# Schema 2: versions, soft delete, history and API keys. Neither table is registered in
# gpkg_contents, so GDAL and QGIS do not list them as layers.
_V2_TABLES = (
    """CREATE TABLE poi_history (seq INTEGER PRIMARY KEY AUTOINCREMENT, collection TEXT NOT NULL,
  record_id TEXT NOT NULL, version INTEGER NOT NULL, action TEXT NOT NULL, actor TEXT, at TEXT NOT NULL,
  before TEXT, after TEXT)""",
    "CREATE INDEX poi_history_record ON poi_history (collection, record_id, seq)",
    """CREATE TABLE poi_keys (id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL,
  hash TEXT NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT)""",
)


def _deleted_index(table: str) -> str:
    # Tiny (deleted rows only): live counts are count(*) minus this index's count.
    return f"CREATE INDEX {table}_deleted ON {table} (deleted_at) WHERE deleted_at IS NOT NULL"


# Steps from version n - 1 to n: single statements, run in one transaction.
STEPS: dict[int, tuple[str, ...]] = {
    2: (
        *(
            f"ALTER TABLE {t} ADD COLUMN {column}"
            for t in ("places", "memberships")
            for column in ("version INTEGER NOT NULL DEFAULT 1", "deleted_at TEXT")
        ),
        _deleted_index("places"),
        _deleted_index("memberships"),
        *_V2_TABLES,
    ),
    # Schema 3: opening hours, wheelchair access, localized names and OSM provenance of places.
    3: tuple(
        f"ALTER TABLE places ADD COLUMN {column}"
        for column in (
            "opening_hours TEXT",
            "wheelchair TEXT",
            "names TEXT",
            "osm_version INTEGER",
            "osm_timestamp TEXT",
        )
    ),
    4: ADDRESS_DDL,  # the OSM address index (poi_addresses, its R*Tree, poi_streets)
}
assert max(STEPS) == SCHEMA_VERSION, "a schema version without its migration step"


def insert_triggers(table: str) -> dict[str, str]:
    """Per-row AFTER INSERT triggers; bulk writes drop them and do the same work set-wise.

    `table` is one of our fixed table names. Plain SQL only (the R*Tree one is the GeoPackage
    standard trigger), so GDAL and QGIS can write to the file too.
    """
    rt = f"rtree_{table}_geom"
    counter = f"UPDATE poi_changes SET version = version + 1 WHERE collection = '{table}';"
    return {
        f"{rt}_insert": f"""CREATE TRIGGER {rt}_insert AFTER INSERT ON {table}
  WHEN (NEW.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN INSERT OR REPLACE INTO {rt} VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom),
  ST_MinY(NEW.geom), ST_MaxY(NEW.geom)); END;""",
        f"{table}_fts_insert": f"""CREATE TRIGGER {table}_fts_insert AFTER INSERT ON {table}
BEGIN INSERT INTO {table}_fts (rowid, search_text) VALUES (NEW.fid, NEW.search_text); END;""",
        f"{table}_changed_insert": f"""CREATE TRIGGER {table}_changed_insert AFTER INSERT ON {table}
BEGIN {counter} END;""",
    }


def _collection_ddl(spec: RecordSpec) -> str:  # type: ignore[type-arg]
    t = spec.table
    counter = f"UPDATE poi_changes SET version = version + 1 WHERE collection = '{t}';"
    fts_delete = (
        f"INSERT INTO {t}_fts ({t}_fts, rowid, search_text) VALUES ('delete', OLD.fid, OLD.search_text);"
    )
    return (
        TABLES[t]
        + feature_table_ddl(t, spec.description)
        + f"""
-- External-content full-text index over the folded search_text column (see store/text.py).
CREATE VIRTUAL TABLE {t}_fts USING fts5(search_text, content = '{t}', content_rowid = 'fid',
  tokenize = 'unicode61 remove_diacritics 2');
CREATE TRIGGER {t}_fts_delete AFTER DELETE ON {t} BEGIN {fts_delete} END;
CREATE TRIGGER {t}_fts_update AFTER UPDATE OF search_text ON {t} BEGIN {fts_delete}
  INSERT INTO {t}_fts (rowid, search_text) VALUES (NEW.fid, NEW.search_text); END;
INSERT INTO poi_changes VALUES ('{t}', 0);
CREATE TRIGGER {t}_changed_update AFTER UPDATE ON {t} BEGIN {counter} END;
CREATE TRIGGER {t}_changed_delete AFTER DELETE ON {t} BEGIN {counter} END;
{_deleted_index(t)};
"""
        + "\n".join(insert_triggers(t).values())
    )


def migrate(conn: sqlite3.Connection) -> None:
    """Creates the schema in an empty file, or brings an older file up to SCHEMA_VERSION (all steps
    in one transaction); refuses a file from a newer version of the service."""
    has_meta = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'poi_meta'").fetchone()
    if has_meta:
        if _version(conn) < SCHEMA_VERSION:
            _upgrade(conn)
        _version(conn)
        return
    script = (
        f"PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {USER_VERSION};"
        + "BEGIN;"
        + CORE_DDL
        + _SUPPORT
        + ";\n".join((*_V2_TABLES, *ADDRESS_DDL))
        + ";\n"
        + _collection_ddl(PLACES)
        + _collection_ddl(MEMBERSHIPS)
        + f"INSERT INTO poi_meta VALUES ('schema_version', '{SCHEMA_VERSION}'); COMMIT;"
    )
    conn.executescript(script)


def _version(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT value FROM poi_meta WHERE key = 'schema_version'").fetchone()
    version = int(row[0])
    if version > SCHEMA_VERSION:
        raise PoiError(f"store schema {version} is newer than this service ({SCHEMA_VERSION})", 500)
    return version


def _upgrade(conn: sqlite3.Connection) -> None:
    """Runs the missing steps; several processes starting at once serialise on the write lock."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for step in range(_version(conn) + 1, SCHEMA_VERSION + 1):
            for statement in STEPS[step]:
                conn.execute(statement)
        conn.execute("UPDATE poi_meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
