"""Load shedding for large pages: a weighted, first-come first-served budget of features in flight.

An OGC items request with `limit` above SMALL_LIMIT weighs its limit in features; a worker answers
at most `capacity` features' worth at once. Others wait (at most `max_queued` of them, each at most
`queue_timeout_s`), beyond that they get 503 with Retry-After. A waiting request whose client has left
is dropped before it starts. Small pages, /health and every other route never wait here.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from poi_service.api.problems import problem_response
from poi_service.ogc import MAX_LIMIT

HEAVY_PATH = re.compile(r"^/ogc/collections/[^/]+/items/?$")
SMALL_LIMIT = 100  # pages up to this size (the default is 10) pass freely
RETRY_AFTER_S = 2


def request_weight(scope: Scope, largest: int) -> int:
    """The features a request may produce (its limit), or 0 when it is small or not a large page."""
    if scope["type"] != "http" or not HEAVY_PATH.match(scope["path"]):
        return 0
    limits = [v for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1")) if k == "limit"]
    try:
        limit = int(limits[-1]) if limits else 0
    except ValueError:
        return 0  # the route answers 400
    return min(limit, largest) if limit > SMALL_LIMIT else 0


class HeavyLimiter:
    """ASGI middleware holding large OGC pages to a budget of max_heavy full pages per worker."""

    def __init__(self, app: ASGIApp, max_heavy: int, max_queued: int, queue_timeout_s: float) -> None:
        self.app = app
        self.capacity = max_heavy * MAX_LIMIT  # max_heavy full pages
        self.max_queued = max_queued
        self.queue_timeout_s = queue_timeout_s
        self.in_flight = 0
        self.started = 0  # heavy requests let through (tests)
        self._waiters: deque[tuple[int, asyncio.Future[None]]] = deque()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        weight = request_weight(scope, self.capacity)
        if weight == 0:
            await self.app(scope, receive, send)
            return
        if not self._waiters and self.in_flight + weight <= self.capacity:
            self.in_flight += weight
        else:
            if len(self._waiters) >= self.max_queued:
                await self._busy(scope, receive, send, "too many large pages are queued")
                return
            outcome, receive = await self._wait(weight, receive)
            if outcome == "gone":
                return
            if outcome == "timeout":
                await self._busy(scope, receive, send, "large pages are waiting too long")
                return
        self.started += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self._release(weight)

    async def _wait(self, weight: int, receive: Receive) -> tuple[str, Receive]:
        """Queues the request: 'run' (its weight is now held), 'gone' or 'timeout' (not held)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (weight, future)
        self._waiters.append(entry)
        consumed: list[Message] = []
        listener: asyncio.Future[Any] = asyncio.ensure_future(_until_disconnect(receive, consumed))
        waits: set[asyncio.Future[Any]] = {future, listener}
        try:
            done, _ = await asyncio.wait(
                waits, timeout=self.queue_timeout_s, return_when=asyncio.FIRST_COMPLETED
            )
        except BaseException:
            self._abandon(entry)
            listener.cancel()
            raise
        if future in done and not listener.done():
            listener.cancel()
            return "run", _replaying(consumed, receive)
        self._abandon(entry)
        if listener.done():
            return "gone", receive
        listener.cancel()
        return "timeout", receive

    def _abandon(self, entry: tuple[int, asyncio.Future[None]]) -> None:
        weight, future = entry
        if future.done() and not future.cancelled():
            self._release(weight)  # granted just as the client left: hand it on
        else:
            future.cancel()
            if entry in self._waiters:
                self._waiters.remove(entry)
            self._grant()

    def _release(self, weight: int) -> None:
        self.in_flight -= weight
        self._grant()

    def _grant(self) -> None:
        """Starts waiting requests in order while the head fits (FIFO: a large one is not starved)."""
        while self._waiters and self.in_flight + self._waiters[0][0] <= self.capacity:
            weight, future = self._waiters.popleft()
            if not future.done():
                self.in_flight += weight
                future.set_result(None)

    async def _busy(self, scope: Scope, receive: Receive, send: Send, why: str) -> None:
        detail = f"{why}; retry in {RETRY_AFTER_S} s or ask for a smaller limit"
        response = problem_response(
            503,
            "Service unavailable",
            detail,
            "busy",
            Request(scope),
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
        await response(scope, receive, send)


async def _until_disconnect(receive: Receive, consumed: list[Message]) -> Message:
    """Returns once the client has gone; other messages (a GET's empty body) are kept for the app."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return message
        consumed.append(message)


def _replaying(consumed: list[Message], receive: Receive) -> Receive:
    """A receive that first hands out what the wait consumed."""

    async def replay() -> Message:
        return consumed.pop(0) if consumed else await receive()

    return replay
