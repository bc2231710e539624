"""Slow request bodies: BodyTimeout answers 408 when a body has not fully arrived within its deadline
(slow headers are cut by poi_service.api.protocol)."""

from __future__ import annotations

import asyncio
import time

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from poi_service.api.middleware import bodiless
from poi_service.api.problems import problem_for
from poi_service.errors import PoiError


class RequestTimeout(PoiError):
    """The request did not arrive in time."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, 408, "request-timeout", "Request timeout", [], {"Connection": "close"})


class BodyTimeout:
    """ASGI middleware: a request body must be complete within timeout_s of its first read (408)."""

    def __init__(self, app: ASGIApp, timeout_s: float) -> None:
        self.app = app
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or bodiless(scope):  # no body: nothing to wait for
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
