"""The PostGIS backend: the Store protocol over PostgreSQL + PostGIS, for several API hosts.

Connections come from a psycopg_pool ConnectionPool (autocommit; sessions in UTC). Writes run
in a transaction on one pooled connection that the calling thread keeps until it ends; nested
`transaction()` blocks become savepoints. Multi-statement reads (a count and a page, candidates
and their rows) share one REPEATABLE READ snapshot, so totals and pages agree under concurrent
writes. Every write is visible to every other PostgisStore on the same database at commit.

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
from psycopg_pool import ConnectionPool

from poi_service.models import Membership, MembershipData, Place, PlaceData
from poi_service.store.base import MembershipFilter, MembershipStats, PlaceFilter
from poi_service.store.pg_collection import PgCollection
from poi_service.store.pg_schema import migrate
from poi_service.store.records import MEMBERSHIPS, PLACES

Conn = psycopg.Connection[DictRow]

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


class PostgisStore:
    """Store protocol over a PostGIS database shared by any number of service processes."""

    def __init__(self, url: str, data_dir: Path, *, pool_min_size: int | None = None,
                 pool_max_size: int | None = None) -> None:  # fmt: skip
        conninfo, options = split_url(url)
        self.url = redacted(url)
        self.data_dir = data_dir
        # A direct connection first: a wrong URL or password fails here with libpq's own message.
        with psycopg.connect(conninfo, autocommit=True) as conn:
            self.schema_version = migrate(conn)
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
        self._places = PgCollection[Place, PlaceData, PlaceFilter](self, PLACES)
        self._memberships = PgCollection[Membership, MembershipData, MembershipFilter](self, MEMBERSHIPS)

    @property
    def places(self) -> PgCollection[Place, PlaceData, PlaceFilter]:
        """The places collection."""
        return self._places

    @property
    def memberships(self) -> PgCollection[Membership, MembershipData, MembershipFilter]:
        """The memberships collection."""
        return self._memberships

    # -- connections and transactions ---------------------------------------------------------

    def _current(self) -> Conn | None:
        conn: Conn | None = getattr(self._local, "conn", None)
        return conn

    @contextmanager
    def writing(self) -> Iterator[Conn]:
        """A connection in a transaction: the thread's open one (as a savepoint) or a new one."""
        conn = self._current()
        if conn is not None:
            with conn.transaction():
                yield conn
            return
        with self.pool.connection() as conn:
            self._local.conn = conn
            try:
                with conn.transaction():
                    yield conn
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
        with self.pool.connection() as conn:
            yield conn

    @contextmanager
    def snapshot(self) -> Iterator[Conn]:
        """A connection whose statements all see one consistent state of the database."""
        conn = self._current()
        if conn is not None:
            yield conn
            return
        with self.pool.connection() as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                yield conn
            finally:
                conn.execute("ROLLBACK")

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[DictRow]:
        with self.reading() as conn:
            return conn.execute(sql.encode(), params).fetchall()

    # -- the rest of the protocol --------------------------------------------------------------

    def membership_stats(self) -> MembershipStats:
        """Counts per alliance, per state and per join year."""
        stats = MembershipStats()
        for row in self._rows("SELECT alliance, count(*) AS n FROM memberships GROUP BY 1 ORDER BY 1"):
            stats.by_alliance[row["alliance"]] = row["n"]
        for row in self._rows(
            "SELECT alliance, coalesce(state, country) AS state, count(*) AS n FROM memberships "
            "GROUP BY 1, 2 ORDER BY 1, 2"
        ):
            stats.by_state.setdefault(row["alliance"], {})[row["state"]] = row["n"]
        for row in self._rows(
            "SELECT alliance, coalesce(to_char(joined, 'YYYY'), 'unknown') AS year, count(*) AS n "
            "FROM memberships GROUP BY 1, 2 ORDER BY 1, 2"
        ):
            stats.by_year.setdefault(row["alliance"], {})[row["year"]] = row["n"]
        return stats

    def cache_get(self, provider: str, key: str) -> str | None:
        """A cached geocoder answer."""
        rows = self._rows("SELECT value FROM geocode_cache WHERE provider = %s AND key = %s", (provider, key))
        return str(rows[0]["value"]) if rows else None

    def cache_put(self, provider: str, key: str, value: str) -> None:
        """Keeps a geocoder answer."""
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
            "places": self._places.count(),
            "memberships": self._memberships.count(),
        }

    def close(self) -> None:
        """Closes the pool's connections."""
        self.pool.close()
