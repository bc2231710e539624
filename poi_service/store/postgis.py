"""The PostGIS backend: the Store protocol over PostgreSQL + PostGIS, for several API hosts.

Connections come from a psycopg_pool ConnectionPool (autocommit; sessions in UTC). Writes run
in a transaction on one pooled connection that the calling thread keeps until it ends; nested
`transaction()` blocks become savepoints. Area, bbox, text and k-nearest searches are one
statement each (total and page from one snapshot); so is a radius or polygon search with up to
FEW_CANDIDATES candidates (their whole rows); one with more reads candidates, then its page's rows,
and should a row change in between (its xmin), reruns in a REPEATABLE READ snapshot. Async callers
(GET /places/nearby) run the one statement on their event loop (store/pg_async.py). Every write is
visible to every other PostgisStore on the same database at commit. A read-only database (a hot-standby replica)
serves reads; writes get a 503 PoiError, geocode-cache writes are skipped.

URL: postgresql://user:password@host:port/dbname?sslmode=...; besides libpq's parameters it
takes pool_min_size (default 1), pool_max_size (default 10) and pool_timeout (seconds a request
waits for a free connection, default 30), which are removed before the URL reaches libpq.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from poi_service import keys
from poi_service.errors import NotFound, PoiError
from poi_service.models import KeyInfo, KeyRole, Membership, MembershipData, Place, PlaceData
from poi_service.store.base import MembershipFilter, MembershipStats, PlaceFilter
from poi_service.store.pg_addresses import PgAddresses
from poi_service.store.pg_async import LoopPools
from poi_service.store.pg_collection import Conn
from poi_service.store.pg_schema import migrate
from poi_service.store.pg_write import PgCollection
from poi_service.store.records import MEMBERSHIPS, PLACES, utcnow

POOL_DEFAULTS: dict[str, float] = {"pool_min_size": 1, "pool_max_size": 10, "pool_timeout": 30.0}


def split_url(url: str) -> tuple[str, dict[str, float]]:
    """(libpq URL, pool options): pool_* query parameters are ours, the rest is libpq's."""
    parts = urlsplit(url)
    scheme = "postgresql" if parts.scheme in ("postgresql+psycopg", "postgres") else parts.scheme
    options = dict(POOL_DEFAULTS)
    rest = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in POOL_DEFAULTS:
            try:
                options[key] = float(value)
            except ValueError:
                raise ValueError(f"database URL parameter {key} must be a number, not {value!r}") from None
        else:
            rest.append((key, value))
    return urlunsplit((scheme, parts.netloc, parts.path, urlencode(rest), parts.fragment)), options


def redacted(url: str) -> str:
    """The URL without its password (for logs and /health)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _configure(conn: Conn) -> None:
    conn.execute("SET TIME ZONE 'UTC'")
    # Plan each statement for its actual values: a radius of 50 m and one of 50 km, a village and
    # Berlin, want different plans, and psycopg prepares statements that run often.
    conn.execute("SET plan_cache_mode = force_custom_plan")


class PostgisStore:
    """Store protocol over a PostGIS database shared by any number of service processes."""

    def __init__(
        self, url: str, data_dir: Path, *, pool_min_size: int | None = None, pool_max_size: int | None = None
    ) -> None:
        conninfo, options = split_url(url)
        self.url = redacted(url)
        self.data_dir = data_dir
        # A direct connection first: a wrong URL or password fails here with libpq's own message.
        with psycopg.connect(conninfo, autocommit=True) as conn:
            self.schema_version, self.read_only = migrate(conn)
        min_size = pool_min_size if pool_min_size is not None else int(options["pool_min_size"])
        max_size = pool_max_size if pool_max_size is not None else int(options["pool_max_size"])
        self.pool = ConnectionPool[Conn](
            conninfo,
            min_size=min_size,
            max_size=max(min_size, max_size),
            timeout=options["pool_timeout"],
            kwargs={"autocommit": True, "row_factory": dict_row},
            configure=_configure,
            name="poi-service",
            open=True,
        )
        self._local = threading.local()
        self._loop_pools = LoopPools(conninfo, max(min_size, max_size), options["pool_timeout"])
        self._places = PgCollection[Place, PlaceData, PlaceFilter](self, PLACES)
        self._memberships = PgCollection[Membership, MembershipData, MembershipFilter](self, MEMBERSHIPS)
        self._addresses = PgAddresses(self)

    @property
    def loop_pools(self) -> LoopPools:
        """Connections of the async reads (store.pg_async), one pool per event loop."""
        return self._loop_pools

    @property
    def places(self) -> PgCollection[Place, PlaceData, PlaceFilter]:
        """The places collection."""
        return self._places

    @property
    def memberships(self) -> PgCollection[Membership, MembershipData, MembershipFilter]:
        """The memberships collection."""
        return self._memberships

    @property
    def addresses(self) -> PgAddresses:
        """The OSM address index."""
        return self._addresses

    # -- connections and transactions ---------------------------------------------------------

    def _current(self) -> Conn | None:
        conn: Conn | None = getattr(self._local, "conn", None)
        return conn

    @contextmanager
    def _pooled(self) -> Iterator[Conn]:
        """A connection from the pool; 503 when none frees up within pool_timeout."""
        try:
            conn = self.pool.getconn()
        except PoolTimeout as exc:
            raise PoiError(
                f"no database connection free within {self.pool.timeout:g} s",
                503,
                "unavailable",
                "Service unavailable",
            ) from exc
        try:
            yield conn
        finally:
            self.pool.putconn(conn)

    @contextmanager
    def writing(self) -> Iterator[Conn]:
        """A connection in a transaction: the thread's open one (as a savepoint) or a new one."""
        conn = self._current()
        if conn is not None:
            with conn.transaction():
                yield conn
            return
        with self._pooled() as conn:
            self._local.conn = conn
            try:
                with conn.transaction():
                    yield conn
            except psycopg.errors.ReadOnlySqlTransaction as exc:
                raise PoiError(
                    "this server's database is a read-only replica: send writes to a server on the primary",
                    503,
                    "read-only",
                    "Read-only replica",
                ) from exc
            finally:
                self._local.conn = None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Groups writes on both collections: all take effect or none. Nested calls are savepoints."""
        with self.writing():
            yield

    @contextmanager
    def reading(self) -> Iterator[Conn]:
        """A connection for one statement: the thread's transaction if open, else a pooled one."""
        conn = self._current()
        if conn is not None:
            yield conn
            return
        with self._pooled() as conn:
            yield conn

    @contextmanager
    def snapshot(self) -> Iterator[Conn]:
        """A connection whose statements all see one consistent state of the database."""
        conn = self._current()
        if conn is not None:
            yield conn
            return
        with self._pooled() as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                yield conn
            finally:
                if not conn.broken:
                    conn.execute("ROLLBACK")

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[DictRow]:
        with self.reading() as conn:
            return conn.execute(sql.encode(), params).fetchall()

    # -- the rest of the protocol --------------------------------------------------------------

    def membership_stats(self) -> MembershipStats:
        """Counts per alliance, per state and per join year."""
        stats = MembershipStats()
        for row in self._rows(
            "SELECT alliance, count(*) AS n FROM memberships WHERE deleted_at IS NULL GROUP BY 1 ORDER BY 1"
        ):
            stats.by_alliance[row["alliance"]] = row["n"]
        for row in self._rows(
            "SELECT alliance, coalesce(state, 'unknown') AS state, count(*) AS n FROM memberships "
            "WHERE deleted_at IS NULL AND country = 'DE' GROUP BY 1, 2 ORDER BY 1, 2"
        ):
            stats.by_state.setdefault(row["alliance"], {})[row["state"]] = row["n"]
        for row in self._rows(
            "SELECT alliance, country, count(*) AS n FROM memberships WHERE deleted_at IS NULL GROUP BY 1, 2 ORDER BY 1, 2"
        ):
            stats.by_country.setdefault(row["alliance"], {})[row["country"]] = row["n"]
        for row in self._rows(
            "SELECT alliance, coalesce(to_char(joined, 'YYYY'), 'unknown') AS year, count(*) AS n "
            "FROM memberships WHERE deleted_at IS NULL GROUP BY 1, 2 ORDER BY 1, 2"
        ):
            stats.by_year.setdefault(row["alliance"], {})[row["year"]] = row["n"]
        return stats

    def cache_get(self, provider: str, key: str) -> str | None:
        """A cached geocoder answer."""
        rows = self._rows("SELECT value FROM geocode_cache WHERE provider = %s AND key = %s", (provider, key))
        return str(rows[0]["value"]) if rows else None

    def cache_put(self, provider: str, key: str, value: str) -> None:
        """Keeps a geocoder answer; a no-op on a read-only database (a replica), where it is only a cache."""
        if self.read_only:
            return
        with self.writing() as conn:
            conn.execute(
                "INSERT INTO geocode_cache (provider, key, value) VALUES (%s, %s, %s) ON CONFLICT (provider, key) "
                "DO UPDATE SET value = excluded.value, created_at = now()",
                (provider, key, value),
            )

    def info(self) -> dict[str, object]:
        """Backend, schema version and counts."""
        version = self._rows("SELECT max(version) AS v FROM schema_version")[0]["v"]
        return {
            "backend": "postgis",
            "schema_version": int(version),
            **({"read_only": True} if self.read_only else {}),
            "places": self._places.count(),
            "memberships": self._memberships.count(),
        }

    def meta_get(self, key: str) -> str | None:
        """A metadata value (poi_meta)."""
        rows = self._rows("SELECT value FROM poi_meta WHERE key = %s", (key,))
        return str(rows[0]["value"]) if rows else None

    def meta_put(self, key: str, value: str | None) -> None:
        """Keeps or removes a metadata value, in the open transaction if there is one."""
        with self.writing() as conn:
            if value is None:
                conn.execute("DELETE FROM poi_meta WHERE key = %s", (key,))
            else:
                conn.execute(
                    "INSERT INTO poi_meta (key, value) VALUES (%s, %s) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )

    # -- API keys ----------------------------------------------------------------------------

    def create_key(self, name: str, role: KeyRole) -> tuple[KeyInfo, str]:
        """A new key; the full key is returned once, only its SHA-256 is kept."""
        key_id, secret = keys.new_key()
        info = KeyInfo(key_id, keys.check_name(name), KeyRole(role), utcnow())
        with self.writing() as conn:
            conn.execute(
                "INSERT INTO poi_keys (id, name, role, hash, created_at) VALUES (%s, %s, %s, %s, %s)",
                (key_id, info.name, info.role.value, keys.digest(secret), info.created_at),
            )
        return info, secret

    def list_keys(self) -> list[KeyInfo]:
        """Every key, revoked ones included, oldest first."""
        return [_key(r) for r in self._rows("SELECT * FROM poi_keys ORDER BY created_at, id")]

    def find_key(self, key_id: str) -> tuple[KeyInfo, str] | None:
        """A key's info and stored digest."""
        rows = self._rows("SELECT * FROM poi_keys WHERE id = %s", (key_id,))
        return (_key(rows[0]), str(rows[0]["hash"])) if rows else None

    def revoke_key(self, key_id: str) -> KeyInfo:
        """Marks a key revoked (revoking twice keeps the first time)."""
        with self.writing() as conn:
            row = conn.execute(
                "UPDATE poi_keys SET revoked_at = coalesce(revoked_at, %s) WHERE id = %s RETURNING *",
                (utcnow(), key_id),
            ).fetchone()
        if row is None:
            raise NotFound(f"no API key with id {key_id!r}")
        return _key(row)

    def close(self) -> None:
        """Closes the pools' connections."""
        self._loop_pools.close()
        self.pool.close()


def _key(row: DictRow) -> KeyInfo:
    return KeyInfo(row["id"], row["name"], KeyRole(row["role"]), row["created_at"], row["revoked_at"])
