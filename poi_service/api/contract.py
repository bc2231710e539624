"""The OpenAPI document: each route declares its answers (models from api.schemas, request bodies
from api.bodies, error statuses through `answers`); install() adds what holds for every route.

Every route may answer 500 (problem+json), every route with parameters or a body 400 (the service
answers bad input with 400, so FastAPI's generated 422 "HTTPValidationError" is replaced), every
route with a body 413 (POI_MAX_BODY_BYTES)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from poi_service.api import bodies, schemas
from poi_service.api.problems import PROBLEM_JSON

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
METHODS = ("get", "put", "post", "delete", "patch")
# Problems any write may answer: no or a bad key, a missing role, the store busy (Retry-After).
WRITE_ERRORS = (400, 401, 403, 413, 503)


def problem(status: int, description: str | None = None) -> dict[str, Any]:
    """One documented error answer."""
    text = description or HTTPStatus(status).phrase
    return {"description": f"{text} (problem+json)", "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}}}


def answers(
    *statuses: int, more: dict[int | str, dict[str, Any]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """`responses=` of a route: its error statuses (problem+json) and any other answers by status."""
    found: dict[int | str, dict[str, Any]] = {s: problem(s) for s in statuses}
    found.update(more or {})
    return found


def media(*types: str, description: str = "OK") -> dict[str, Any]:
    """An answer in other media types besides the route's own (e.g. text/html of f=html)."""
    return {"description": description, "content": {t: {"schema": {"type": "string"}} for t in types}}


ETAG = {
    "description": "The record's version, for If-Match on writes.",
    "required": True,
    "schema": {"type": "string"},
}
LOCATION = {"description": "The new record's URL.", "required": True, "schema": {"type": "string"}}
NOT_MODIFIED = {"description": "Not modified (If-None-Match matched the ETag)"}


def headers(status: int, **declared: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    """`more=` of answers(): response headers of one status (ETag=ETAG)."""
    return {status: {"headers": declared}}


def _schemas(models: tuple[type[BaseModel], ...]) -> dict[str, Any]:
    _, top = models_json_schema(
        [(m, "validation") for m in models], ref_template="#/components/schemas/{model}"
    )
    defs: dict[str, Any] = top.get("$defs", {})
    return defs


def _complete(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    generated = responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if generated.get("$ref", "").endswith("/HTTPValidationError"):
        del responses["422"]
    if operation.get("parameters") or operation.get("requestBody"):
        responses.setdefault("400", problem(400, "Invalid parameter or field"))
    if operation.get("requestBody"):
        responses.setdefault("413", problem(413, "Body over the documented limit"))
    responses.setdefault("500", problem(500, "The server failed; its log says why"))
    for status, answer in responses.items():
        if status[0] in "45" and "content" not in answer:
            answer["content"] = {PROBLEM_JSON: {"schema": PROBLEM_REF}}


def install(app: FastAPI) -> None:
    """Completes app.openapi() as described above, once (FastAPI caches the document)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        doc = generate()
        components = doc.setdefault("components", {}).setdefault("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        components.update(_schemas((schemas.Problem, *bodies.MODELS)))
        for path in doc.get("paths", {}).values():
            for method in METHODS:
                if method in path:
                    _complete(path[method])
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
