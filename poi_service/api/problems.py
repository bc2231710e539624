"""One error shape for every failure: RFC 9457 application/problem+json."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from poi_service.errors import InvalidParam, PoiError, store_fault_types, unavailable_for

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("poi_service.api")


def problem_response(
    status: int,
    title: str,
    detail: str,
    code: str,
    request: Request,
    params: list[InvalidParam] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """An RFC 9457 body: type, title, status, detail, instance, plus code and invalid_params."""
    body: dict[str, Any] = {
        "type": f"https://poi-service.invalid/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "code": code,
    }
    if params:
        body["invalid_params"] = [{"name": p.name, "reason": p.reason} for p in params]
    return Response(orjson.dumps(body), status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _location_name(loc: tuple[Any, ...] | list[Any]) -> str:
    """('query', 'lat') -> 'lat'; ('body',) -> 'body'; ('body', 'coordinates') -> 'body.coordinates'."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("query", "path", "header") and len(parts) > 1:
        parts = parts[1:]
    return ".".join(parts) or "request"


def allowed_methods(request: Request) -> str:
    """The Allow header of a 405: the methods of every route at the path (Starlette names only the
    first route that matched, e.g. GET for DELETE /places though POST is allowed too); HEAD with GET."""
    routes = request.app.router.routes
    methods = {
        method
        for method in ("DELETE", "GET", "PATCH", "POST", "PUT")
        if any(r.matches({**request.scope, "method": method})[0] == Match.FULL for r in routes)
    }
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


def problem_for(request: Request, exc: Exception) -> Response:
    """The problem+json answer to an exception raised while handling `request`."""
    if isinstance(exc, PoiError):
        return problem_response(
            exc.status, exc.title, exc.detail, exc.code, request, exc.invalid_params, exc.headers
        )
    if isinstance(exc, RequestValidationError):
        params = [
            InvalidParam(_location_name(e.get("loc", ())), str(e.get("msg", "invalid"))) for e in exc.errors()
        ]
        detail = "; ".join(f"{p.name}: {p.reason}" for p in params)
        return problem_response(400, "Invalid parameter", detail, "invalid-parameter", request, params)
    if isinstance(exc, StarletteHTTPException):
        status = exc.status_code
        code = {
            404: "not-found",
            405: "method-not-allowed",
            401: "unauthorized",
            403: "forbidden",
            413: "payload-too-large",
        }.get(status, "http-error")
        title = {404: "Not found", 413: "Payload too large"}.get(status, str(exc.detail))
        detail = str(exc.detail) if status != 404 else f"no resource at {request.url.path}"
        headers = dict(exc.headers or {})
        if status == 405:
            headers["Allow"] = allowed_methods(request)
        return problem_response(status, title, detail, code, request, headers=headers)
    fault = unavailable_for(exc)  # a locked, full or read-only store, a database restarting: 503
    if fault is not None:
        log.warning("store fault on %s: %s", request.url.path, exc)
        return problem_for(request, fault)
    # Never leak a stack trace; the log keeps it for the operator.
    log.error("unhandled error on %s", request.url.path, exc_info=exc)
    return problem_response(500, "Internal error", "the server failed; see its log", "internal", request)


def install_problem_handlers(app: FastAPI) -> None:
    """Replaces FastAPI's default error bodies (including its 422) with problem+json."""

    async def handler(request: Request, exc: Exception) -> Response:
        return problem_for(request, exc)

    for kind in (PoiError, RequestValidationError, StarletteHTTPException, *store_fault_types(), Exception):
        app.add_exception_handler(kind, handler)
