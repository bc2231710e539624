"""ASGI middleware: the documented request-body limit, HEAD as GET, and security headers on every response."""

from __future__ import annotations

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
)


def bodiless(scope: Scope) -> bool:
    """The request can carry no body: neither Content-Length (other than 0) nor Transfer-Encoding
    (RFC 9112 §6.3), so uvicorn hands the app one empty http.request message."""
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
            return False
    return True


class BodyTooLarge(HTTPException):
    """A streamed (chunked) body went over the limit while the app read it.

    An HTTPException because FastAPI re-raises those from its body parsing (any other error there
    becomes a 400 "error parsing the body"); problems.problem_for renders it as the documented 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body is over {limit} bytes")


class BodyLimit:
    """Refuses bodies over max_bytes (413 problem) by Content-Length and by counting streamed bytes;
    requests to upload_paths (file uploads) get upload_bytes instead."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        upload_bytes: int | None = None,
        upload_paths: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_bytes = upload_bytes if upload_bytes is not None else max_bytes
        self.upload_paths = upload_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if bodiless(scope):  # nothing to count (most GETs: the hot routes' wrapper costs)
            await self.app(scope, receive, send)
            return
        limit = self.upload_bytes if scope["path"] in self.upload_paths else self.max_bytes
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await self._refuse(scope, send, limit)
                return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counting_receive, send)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        import orjson

        body = orjson.dumps(
            {
                "type": "https://poi-service.invalid/problems/payload-too-large",
                "title": "Payload too large",
                "status": 413,
                "detail": f"request body is over {limit} bytes",
                "instance": scope["path"],
                "code": "payload-too-large",
            }
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """nosniff and a strict referrer policy everywhere; pages set their own CSP."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HeadAsGet:
    """HEAD is answered as GET without the body (RFC 9110 §9.3.2): headers, ETag and Content-Length
    as for GET. FastAPI routes declare GET only, so without this every HEAD answered 405."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b""})
                return
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)
