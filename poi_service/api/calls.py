"""Store calls from async handlers without stalling the event loop.

A query the embedded store answers from its in-memory index takes well under a millisecond, and a
threadpool hop would cost about as much again, so such calls run inline. Anything else (building
the index after another worker's write: seconds at 1M places; a PostGIS round trip) runs in a
worker thread, so that other requests keep being served meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from fastapi.concurrency import run_in_threadpool

T = TypeVar("T")


class Ready(Protocol):
    def ready(self) -> bool: ...


async def store_call(collection: Ready, fn: Callable[..., T], *args: object) -> T:
    """fn(*args), inline when the collection answers from memory, else in the threadpool."""
    if collection.ready():
        return fn(*args)
    return await run_in_threadpool(fn, *args)
