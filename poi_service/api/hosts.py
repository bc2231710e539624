"""Absolute links from the operator's public URL, not from the client's Host header.

Links (landing page, collection self/next/prev, Location, OGC documents, the /embed snippet) are
built from the request's scheme and Host header, which any client can forge. POI_PUBLIC_BASE_URL
fixes both for every request; POI_ALLOWED_HOSTS refuses requests for other hosts (400)."""

from __future__ import annotations

from urllib.parse import urlsplit

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send


def public_origin(base_url: str) -> tuple[str, bytes] | None:
    """(scheme, host[:port]) of POI_PUBLIC_BASE_URL; None when unset."""
    if not base_url:
        return None
    parts = urlsplit(base_url)
    return parts.scheme, parts.netloc.encode("latin-1")


def host_allowed(host: str, allowed: list[str]) -> bool:
    """host (without port) equals an allowed name, or ends with one given as *.example.org."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.lower().rstrip(".")
    for pattern in allowed:
        p = pattern.lower()
        if p == "*" or name == p or (p.startswith("*.") and name.endswith(p[1:])):
            return True
    return False


class PublicHost:
    """Refuses requests for hosts not in `allowed` (when given), then sets scheme and Host to `origin`."""

    def __init__(self, app: ASGIApp, origin: tuple[str, bytes] | None, allowed: list[str]) -> None:
        self.app = app
        self.origin = origin
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
        host = next((v for k, v in headers if k == b"host"), b"").decode("latin-1")
        if self.allowed and not host_allowed(host, self.allowed):
            await _refuse(scope, send, host)
            return
        if self.origin is not None:
            scheme, netloc = self.origin
            kept = [(k, v) for k, v in headers if k != b"host"]
            scope = {**scope, "scheme": scheme, "headers": [(b"host", netloc), *kept]}
        await self.app(scope, receive, send)


async def _refuse(scope: Scope, send: Send, host: str) -> None:
    detail = (
        f"Host: unknown host {host[:100]!r}; this service answers only for the hosts in POI_ALLOWED_HOSTS"
    )
    body = orjson.dumps(
        {
            "type": "https://poi-service.invalid/problems/invalid-host",
            "title": "Invalid host",
            "status": 400,
            "detail": detail,
            "instance": scope["path"],
            "code": "invalid-host",
            "invalid_params": [{"name": "Host", "reason": "not an allowed host"}],
        }
    )
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
