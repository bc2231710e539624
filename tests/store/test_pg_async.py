"""The event loop's connection pool of the PostGIS store (store/pg_async.py): many searches at once on
few connections, a 503 when none frees up in time, a cancelled statement leaves a usable pool, and a
broken connection is replaced."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from poi_service.errors import PoiError
from poi_service.store import Near, PlaceFilter, Query
from poi_service.store.pg_async import LoopPool
from poi_service.store.postgis import PostgisStore
from tests import pg
from tests.conftest import DATA_DIR, run_async
from tests.factories import random_places

pytestmark = pytest.mark.postgis


@pytest.fixture(scope="module")
def store() -> Iterator[PostgisStore]:
    pg.require()
    s = PostgisStore(pg.fresh_database_url() + "?pool_max_size=2&pool_timeout=0.5", DATA_DIR)
    s.places.add_many(random_places(300, seed=11))
    try:
        yield s
    finally:
        s.close()


def nearby(i: int) -> Query[PlaceFilter]:
    place = random_places(300, seed=11)[i]
    return Query(PlaceFilter(), near=Near(place.point, 2000.0), limit=5)


def test_many_searches_share_few_connections(store: PostgisStore) -> None:
    queries = [nearby(i) for i in range(40)]
    want = [store.places.search(q) for q in queries]

    async def run() -> tuple[list[object], int]:
        pages = await asyncio.gather(*(store.places.asearch(q) for q in queries))
        return list(pages), store.loop_pools.current()._size

    pages, size = run_async(run())
    assert pages == want and size <= 2


def test_no_free_connection_is_a_503(store: PostgisStore) -> None:
    async def run() -> None:
        pool = LoopPool(store.loop_pools.conninfo, 1, 0.2)
        held = await pool.get()
        with pytest.raises(PoiError) as err:
            await pool.get()
        assert err.value.status == 503
        pool.put(held)
        again = await pool.get()  # freed: handed out again
        assert again is held
        pool.put(again)
        pool.close()

    run_async(run())


def test_a_cancelled_or_broken_connection_is_replaced(store: PostgisStore) -> None:
    async def run() -> None:
        pool = LoopPool(store.loop_pools.conninfo, 1, 5.0)
        conn = await pool.get()
        task = asyncio.ensure_future(conn.execute("SELECT pg_sleep(5)"))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(BaseException):  # noqa: B017 (cancelled, or the server's cancel error)
            await task
        pool.put(conn)  # psycopg cancels the statement on the server: idle again, or dropped
        assert pool._size == (0 if conn.closed else 1)
        fresh = await pool.get()
        assert (await (await fresh.execute("SELECT 1")).fetchone()) == (1,)
        fresh.pgconn.finish()  # broken under the pool's feet
        pool.put(fresh)
        assert pool._size == 0
        last = await pool.get()
        assert (await (await last.execute("SELECT 2")).fetchone()) == (2,)
        pool.put(last)
        pool.close()

    run_async(run())
