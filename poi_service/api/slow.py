"""Slow clients: request headers and bodies must arrive within a deadline, or the connection is cut.

uvicorn bounds only the idle time between requests (timeout_keep_alive); a client that sends its
headers a byte a second would hold a connection forever. HeaderTimeoutProtocol (uvicorn's httptools
protocol plus a timer from the connection's start, or the end of the previous response, to the end
of the headers) closes such connections; BodyTimeout answers 408 when a request body has not fully
arrived within its deadline.
"""

from __future__ import annotations

import asyncio
import os
import time
from functools import cache

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from poi_service.api.problems import problem_for
from poi_service.errors import PoiError

HEADER_TIMEOUT_ENV = "POI_HEADER_TIMEOUT_S"
DEFAULT_HEADER_TIMEOUT_S = 10.0
KEEP_ALIVE_S = 5


class RequestTimeout(PoiError):
    """The request did not arrive in time."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, 408, "request-timeout", "Request timeout", [], {"Connection": "close"})


@cache
def header_timeout_s() -> float:
    """POI_HEADER_TIMEOUT_S as the serve command passed it to this worker (read on first connection)."""
    return float(os.environ.get(HEADER_TIMEOUT_ENV) or DEFAULT_HEADER_TIMEOUT_S)


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's HTTP protocol, closing connections whose request headers take too long."""

    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(header_timeout_s(), self._too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline:
            self._arm()  # the next request's headers get the same deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


class BodyTimeout:
    """ASGI middleware: a request body must be complete within timeout_s of its first read (408)."""

    def __init__(self, app: ASGIApp, timeout_s: float) -> None:
        self.app = app
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline: float | None = None
        complete = started = answered = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if answered:  # the 408 went out: the app's own answer to the failed read is dropped
                return
            started = True
            await send(message)

        async def timed_receive() -> Message:
            nonlocal deadline, complete, answered
            if complete:  # after the body only a disconnect can come: no deadline
                return await receive()
            if deadline is None:
                deadline = time.monotonic() + self.timeout_s
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                error = RequestTimeout(f"the request body did not arrive within {self.timeout_s:g} s")
                if not started:
                    # Answered here: frameworks turn a failing body read into their own 400.
                    response = problem_for(Request(scope), error)
                    await response(scope, receive, send)
                    answered = True
                raise error from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                complete = True
            return message

        try:
            await self.app(scope, timed_receive, guarded_send)
        except RequestTimeout:
            if not answered:
                raise
