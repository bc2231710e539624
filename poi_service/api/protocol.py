"""Slow request headers: uvicorn's HTTP protocol with a deadline for the headers of every request.

uvicorn bounds only the idle time between requests (timeout_keep_alive); a client that sends its
headers a byte a second would hold a connection forever. HeaderTimeoutProtocol starts a timer when
the connection opens (and again when a response is complete) and closes the connection unless the
request headers are complete in time. This module stays light: uvicorn imports it in each worker
before the worker answers its supervisor's health checks.
"""

from __future__ import annotations

import asyncio
import os
from functools import cache

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_TIMEOUT_ENV = "POI_HEADER_TIMEOUT_S"
DEFAULT_HEADER_TIMEOUT_S = 10.0
KEEP_ALIVE_S = 5
WORKER_HEALTHCHECK_S = 30


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
