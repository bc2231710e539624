"""PostGIS reads on the caller's event loop: a request's query without a thread hop.

A query in a worker thread costs the API process about 0.2 ms of CPU in thread hand-offs and
wake-ups (bench/postgis_http_bench.py), as much as the query's own client work; an AsyncConnection
on the serving event loop does without. Each event loop gets its own small pool (LoopPool): asyncio
connections cannot move between loops, and a uvicorn worker has one loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import TupleRow

from poi_service.errors import PoiError

AsyncConn = psycopg.AsyncConnection[TupleRow]
# Sessions in UTC as PostgisStore's pooled connections (postgis._configure), but with generic plans:
# the one statement these connections run (PgReads.asearch: a geometry-index box, live rows,
# maybe categories, LIMIT 201) has one good plan for every box, while planning it anew each time
# (custom plans) costs the database as much as running it (0.08 of 0.18 ms, pg_stat_statements).
SETUP = ("SET TIME ZONE 'UTC'", "SET plan_cache_mode = force_generic_plan")


class LoopPool:
    """At most max_size autocommit AsyncConnections of one event loop, the most recent one first.

    A connection that comes back broken, closed or inside a transaction (its task cancelled in
    the middle of a statement) is dropped, so a restarted server costs only the statements that
    were under way; the next request connects anew."""

    def __init__(self, conninfo: str, max_size: int, timeout_s: float) -> None:
        self.loop = asyncio.get_running_loop()
        self.conninfo, self.max_size, self.timeout_s = conninfo, max(1, max_size), timeout_s
        self._idle: list[AsyncConn] = []
        self._size = 0  # idle + in use + connecting
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def get(self) -> AsyncConn:
        """A connection; 503 when none frees up within timeout_s."""
        deadline = self.loop.time() + self.timeout_s
        while True:
            if self._idle:
                return self._idle.pop()
            if self._size < self.max_size:
                self._size += 1
                try:
                    return await self._connect()
                except BaseException:
                    self._size -= 1
                    self._wake()
                    raise
            waiter = self.loop.create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, max(0.0, deadline - self.loop.time()))
            except TimeoutError:
                raise PoiError(
                    f"no database connection free within {self.timeout_s:g} s",
                    503,
                    "unavailable",
                    "Service unavailable",
                ) from None
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                elif waiter.done() and not waiter.cancelled() and self._idle:
                    self._wake()  # woken but leaving (cancelled): pass the turn on

    def put(self, conn: AsyncConn) -> None:
        """Takes a connection back (or drops it, see the class) and wakes one waiting request."""
        if conn.closed or conn.broken or conn.info.transaction_status != TransactionStatus.IDLE:
            self._size -= 1
            conn.pgconn.finish()
        else:
            self._idle.append(conn)
        self._wake()

    def close(self) -> None:
        """Closes the idle connections (libpq's close needs no event loop)."""
        while self._idle:
            self._idle.pop().pgconn.finish()
            self._size -= 1

    async def _connect(self) -> AsyncConn:
        conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        try:
            for statement in SETUP:
                await conn.execute(statement)
        except BaseException:
            conn.pgconn.finish()
            raise
        return conn

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return


class LoopPools:
    """One LoopPool per running event loop; pools of loops that have closed are closed."""

    def __init__(self, conninfo: str, max_size: int, timeout_s: float) -> None:
        self.conninfo, self.max_size, self.timeout_s = conninfo, max_size, timeout_s
        self._pools: dict[asyncio.AbstractEventLoop, LoopPool] = {}
        self._lock = threading.Lock()

    def current(self) -> LoopPool:
        """The running loop's pool (made on first use)."""
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is not None:
            return pool
        with self._lock:
            for old in [p for p in self._pools if p.is_closed()]:
                self._pools.pop(old).close()
            pool = self._pools[loop] = LoopPool(self.conninfo, self.max_size, self.timeout_s)
        return pool

    def close(self) -> None:
        """Closes every pool's idle connections."""
        with self._lock:
            for pool in self._pools.values():
                pool.close()
            self._pools.clear()
