"""DDL and migrations of the PostGIS store.

Migrations are numbered steps recorded in `schema_version`. `migrate` runs them in one transaction
under a transaction-level advisory lock, so several API servers starting at once serialise here:
the first applies the steps, the others wait for its commit and then find nothing to do.

Every text column uses the "C" collation: comparisons and ORDER BY then go by code point like
SQLite's BINARY collation, whatever locale the database was created with, and the AGS prefix
range (`ags >= '03159' AND ags < '0315:'`) means the same as in the embedded store.
"""

from __future__ import annotations

import psycopg
from psycopg.rows import TupleRow

from poi_service.errors import PoiError
from poi_service.store.pg_addresses import ADDRESS_DDL

SCHEMA_VERSION = 4  # as the embedded store's (poi_service/store/schema.py)

# The pg_advisory_xact_lock key of migrations; fixed, so every version of the service agrees.
MIGRATION_LOCK_KEY = 0x706F6931  # "poi1"

_POINT = """
  lon double precision NOT NULL, lat double precision NOT NULL,
  geom geometry(Point, 4326) GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED,
  geog geography(Point, 4326)
    GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography) STORED,"""

_COMMON = f"""
  fid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text COLLATE "C" NOT NULL UNIQUE,{_POINT}
  geocode_source text COLLATE "C" NOT NULL, geocode_precision text COLLATE "C" NOT NULL,
  geocode_confidence double precision NOT NULL, geocoded_at timestamptz NOT NULL,
  external_key text COLLATE "C" UNIQUE,
  created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,
  doc text COLLATE "C" NOT NULL,  -- fold_text(spec.document(data))
  tsv tsvector NOT NULL,          -- its words (poi_service.store.pg_text), prefix-searchable"""


def _indexes(table: str) -> str:
    return f"""
CREATE INDEX {table}_geog ON {table} USING gist (geog);
CREATE INDEX {table}_geom ON {table} USING gist (geom);
CREATE INDEX {table}_tsv ON {table} USING gin (tsv);
CREATE INDEX {table}_ags ON {table} (ags);"""


STEPS: dict[int, str] = {
    1: f"""
CREATE TABLE places ({_COMMON}
  name text COLLATE "C" NOT NULL, category text COLLATE "C" NOT NULL, street text COLLATE "C",
  housenumber text COLLATE "C", postcode text COLLATE "C", locality text COLLATE "C",
  ags text COLLATE "C", phone text COLLATE "C", website text COLLATE "C", description text COLLATE "C",
  source text COLLATE "C");
{_indexes("places")}
CREATE INDEX places_category ON places (category);
CREATE TABLE memberships ({_COMMON}
  name text COLLATE "C" NOT NULL, kind text COLLATE "C" NOT NULL, country text COLLATE "C" NOT NULL,
  ags text COLLATE "C", state text COLLATE "C", district text COLLATE "C",
  alliance text COLLATE "C" NOT NULL, role text COLLATE "C" NOT NULL, joined date,
  joined_precision text COLLATE "C", source_url text COLLATE "C");
{_indexes("memberships")}
CREATE INDEX memberships_alliance ON memberships (alliance, state);
CREATE TABLE geocode_cache (
  provider text COLLATE "C" NOT NULL, key text COLLATE "C" NOT NULL, value text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (provider, key));
""",
    # Versions, soft delete, history and API keys (the editing API).
    2: """
ALTER TABLE places ADD COLUMN version integer NOT NULL DEFAULT 1, ADD COLUMN deleted_at timestamptz;
ALTER TABLE memberships ADD COLUMN version integer NOT NULL DEFAULT 1, ADD COLUMN deleted_at timestamptz;
CREATE INDEX places_deleted ON places (deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX memberships_deleted ON memberships (deleted_at) WHERE deleted_at IS NOT NULL;
-- Area searches count live records: a partial index answers that count without the table.
DROP INDEX places_ags;
CREATE INDEX places_ags ON places (ags) WHERE deleted_at IS NULL;
DROP INDEX memberships_ags;
CREATE INDEX memberships_ags ON memberships (ags) WHERE deleted_at IS NULL;
CREATE TABLE poi_history (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, collection text COLLATE "C" NOT NULL,
  record_id text COLLATE "C" NOT NULL, version integer NOT NULL, action text COLLATE "C" NOT NULL,
  actor text COLLATE "C", at timestamptz NOT NULL, before jsonb, after jsonb);
CREATE INDEX poi_history_record ON poi_history (collection, record_id, seq);
CREATE TABLE poi_keys (
  id text COLLATE "C" PRIMARY KEY, name text NOT NULL, role text COLLATE "C" NOT NULL,
  hash text COLLATE "C" NOT NULL, created_at timestamptz NOT NULL, revoked_at timestamptz);
""",
    # Opening hours, wheelchair access, localized names (JSON text) and OSM provenance of places;
    # store metadata (the OSM replication state).
    3: """
ALTER TABLE places ADD COLUMN opening_hours text COLLATE "C", ADD COLUMN wheelchair text COLLATE "C",
  ADD COLUMN names text COLLATE "C", ADD COLUMN osm_version bigint, ADD COLUMN osm_timestamp text COLLATE "C";
CREATE TABLE poi_meta (key text COLLATE "C" PRIMARY KEY, value text NOT NULL);
""",
    4: ADDRESS_DDL,  # the OSM address index
}
# Change counters (Collection.data_version), idempotent so that databases of either schema get them.
CHANGE_COUNTERS = """
CREATE TABLE IF NOT EXISTS poi_changes (collection text COLLATE "C" PRIMARY KEY, version bigint NOT NULL);
INSERT INTO poi_changes VALUES ('places', 0), ('memberships', 0) ON CONFLICT DO NOTHING;
"""
assert max(STEPS) == SCHEMA_VERSION, "a schema version without its migration step"


def current_version(conn: psycopg.Connection[TupleRow]) -> int:
    """The applied schema version; 0 for an empty database."""
    exists = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: psycopg.Connection[TupleRow]) -> tuple[int, bool]:
    """Brings the database to SCHEMA_VERSION; refuses a database of a newer service.

    Returns (schema version, read-only). A read-only database (a hot-standby replica, or
    default_transaction_read_only) is not changed: it must already be at SCHEMA_VERSION, i.e. the
    primary was migrated by a service of this version first.
    The postgis extension is created when missing, which needs a role allowed to (a superuser,
    or the database owner if postgis is marked trusted); create it beforehand otherwise.
    """
    with conn.transaction():
        row = conn.execute("SELECT current_setting('transaction_read_only') = 'on'").fetchone()
        if row and row[0]:
            version = current_version(conn)
            if version > SCHEMA_VERSION:
                raise PoiError(f"store schema {version} is newer than this service ({SCHEMA_VERSION})", 500)
            if version < SCHEMA_VERSION:
                raise PoiError(
                    f"read-only database at schema {version}: start a service of this version "
                    f"({SCHEMA_VERSION}) against the primary first, so that it migrates",
                    500,
                )
            return version, True
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
        has_postgis = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone()
        if not has_postgis:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            "version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        version = current_version(conn)
        if version > SCHEMA_VERSION:
            raise PoiError(f"store schema {version} is newer than this service ({SCHEMA_VERSION})", 500)
        for step in range(version + 1, SCHEMA_VERSION + 1):
            conn.execute(STEPS[step])  # fixed DDL of this module, no parameters
            conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (step,))
        conn.execute(CHANGE_COUNTERS)
    return max(version, SCHEMA_VERSION), False
