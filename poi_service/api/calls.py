"""Store calls from async handlers without stalling the event loop.

A query the embedded store answers from its in-memory index takes well under a millisecond, and a
threadpool hop would cost about as much again, so such calls run inline. Anything else (building
the index after another worker's write: seconds at 1M places; a PostGIS round trip) runs in a
worker thread, so that other requests keep being served meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from fastapi.concurrency import run_in_threadpool

from poi_service.store.base import Page

T = TypeVar("T")
Q = TypeVar("Q")


class Ready(Protocol):
    def ready(self) -> bool: ...


async def store_call(collection: Ready, fn: Callable[..., T], *args: object) -> T:
    """fn(*args), inline when the collection answers from memory, else in the threadpool."""
    if collection.ready():
        return fn(*args)
    return await run_in_threadpool(fn, *args)


async def search_call(collection: Ready, query: Q) -> Page[Any]:
    """collection.search(query); on a backend with an async search (PostGIS) that one, which
    answers a radius search on the event loop without a thread hop."""
    asearch = getattr(collection, "asearch", None)
    if asearch is not None:
        page: Page[Any] = await asearch(query)
        return page
    search: Callable[[Q], Page[Any]] = getattr(collection, "search")  # noqa: B009
    return await store_call(collection, search, query)
