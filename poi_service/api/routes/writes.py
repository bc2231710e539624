"""Write endpoints (editor key) for one resource: create, replace, merge-patch, delete, restore, history.

Places and alliance memberships have the same write semantics, so one factory builds both
routers from a `WriteResource`. Handlers are plain functions, so FastAPI runs them in its
threadpool: geocoding and waiting for the store's write lock never block the event loop that
serves reads.
"""

# No `from __future__ import annotations`: the handlers' annotations use the factory's locals,
# which FastAPI can only see when they are evaluated at definition time.
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from poi_service.api import bodies, editing, schemas
from poi_service.api.auth import EditorKey, ensure_role
from poi_service.api.contract import ETAG, LOCATION, WRITE_ERRORS, answers, headers
from poi_service.api.deps import Services, ServicesDep
from poi_service.api.responses import GeoJSONResponse
from poi_service.ingest.edit import EditSpec
from poi_service.models import KeyRole

IfMatch = Annotated[
    str | None,
    Header(description="The ETag of the record as last read; required (428 without, 412 if stale)."),
]
IfMatchOptional = Annotated[str | None, Header(description="The ETag of the deleted record (optional).")]
Purge = Annotated[bool, Query(description="Remove for good instead of a soft delete (admin).")]
Force = Annotated[
    bool,
    Query(
        description="Save although the postcode is not the locality's or the pin lies far "
        "from it (otherwise 422 naming the fields)."
    ),
]


@dataclass(frozen=True, slots=True)
class WriteResource:
    """What differs between the write routers of places and memberships."""

    noun: str  # "place", "membership": in summaries and docs
    collection_path: str  # "/places", "/alliance/members"
    id_param: str  # the path parameter's name, shared with the read routes ("place_id")
    read_route: str  # name of the GET route of one record, for Location
    spec: EditSpec[Any, Any]
    collection: Callable[[Services], editing.AnyCollection]
    feature: Callable[[Services, Any], dict[str, Any]]
    body_doc: str
    body_example: dict[str, Any]
    input_model: type[BaseModel]  # documentation of the bodies and the answers (api.bodies, api.schemas)
    patch_model: type[BaseModel]
    feature_model: type[BaseModel]


def write_router(res: WriteResource) -> APIRouter:
    """The six write endpoints of one resource."""
    router = APIRouter(tags=["editing"])
    one = f"{res.collection_path}/{{{res.id_param}}}"
    RecordId = Annotated[str, Path(alias=res.id_param, description=f"The {res.noun}'s id.")]
    body = bodies.request_body(res.input_model)
    body["requestBody"].update(description=res.body_doc)
    body["requestBody"]["content"]["application/json"]["example"] = res.body_example
    merge_patch = bodies.request_body(res.patch_model, "application/merge-patch+json")
    merge_patch["requestBody"]["description"] = "RFC 7396 merge patch: given fields change, null clears."
    feature: dict[str, Any] = {"response_class": GeoJSONResponse, "response_model": res.feature_model}

    def answer(services: Services, record: Any, status: int = 200, location: str | None = None) -> Response:
        return editing.written(res.feature(services, record), record, status, location)

    @router.post(
        res.collection_path,
        status_code=201,
        summary=f"Create a {res.noun} (editor)",
        **feature,
        openapi_extra=body,
        responses=answers(*WRITE_ERRORS, 409, 422, more=headers(201, ETag=ETAG, Location=LOCATION)),
    )
    def create(
        services: ServicesDep, request: Request, key: EditorKey, body: bodies.JsonObject, force: Force = False
    ) -> Response:
        """201 with the new record, its ETag and Location; 409 if a record with its key exists."""
        record = editing.create(res.spec, res.collection(services), body, services, key.id, force)
        location = str(request.url_for(res.read_route, **{res.id_param: record.id}))
        return answer(services, record, 201, location)

    @router.put(
        one,
        summary=f"Replace a {res.noun} (editor, If-Match)",
        **feature,
        openapi_extra=body,
        responses=answers(*WRITE_ERRORS, 404, 409, 412, 422, 428, more=headers(200, ETag=ETAG)),
    )
    def replace(
        services: ServicesDep,
        key: EditorKey,
        record_id: RecordId,
        body: bodies.JsonObject,
        if_match: IfMatch = None,
        force: Force = False,
    ) -> Response:
        """Every editable field from the body; fields left out become empty."""
        coll = res.collection(services)
        record = editing.replace_record(res.spec, coll, record_id, body, if_match, services, key.id, force)
        return answer(services, record)

    @router.patch(
        one,
        summary=f"Change some fields of a {res.noun} (editor, If-Match)",
        **feature,
        openapi_extra=merge_patch,
        responses=answers(*WRITE_ERRORS, 404, 409, 412, 422, 428, more=headers(200, ETag=ETAG)),
    )
    def patch(
        services: ServicesDep,
        key: EditorKey,
        record_id: RecordId,
        body: bodies.JsonObject,
        if_match: IfMatch = None,
        force: Force = False,
    ) -> Response:
        """Only the given fields change; lat/lon move the pin (null for both: geocode again)."""
        coll = res.collection(services)
        record = editing.patch_record(res.spec, coll, record_id, body, if_match, services, key.id, force)
        return answer(services, record)

    @router.delete(
        one,
        status_code=204,
        summary=f"Delete a {res.noun} (editor, If-Match)",
        responses=answers(*WRITE_ERRORS, 404, 412, 428),
    )
    def delete(
        services: ServicesDep,
        key: EditorKey,
        record_id: RecordId,
        if_match: IfMatch = None,
        purge: Purge = False,
    ) -> Response:
        """A soft delete (undo with POST .../restore) unless purge=true."""
        if purge:
            ensure_role(key, KeyRole.ADMIN, "purge=true")
        coll = res.collection(services)
        return editing.deleted_response(editing.delete_record(coll, record_id, if_match, key.id, purge))

    @router.post(
        f"{one}/restore",
        summary=f"Undo the deletion of a {res.noun} (editor)",
        **feature,
        responses=answers(*WRITE_ERRORS, 404, 409, 412, more=headers(200, ETag=ETAG)),
    )
    def restore(
        services: ServicesDep, key: EditorKey, record_id: RecordId, if_match: IfMatchOptional = None
    ) -> Response:
        """The record is live again (409 if it is not deleted)."""
        record = editing.restore_record(res.collection(services), record_id, if_match, key.id)
        return answer(services, record)

    @router.get(
        f"{one}/history",
        summary=f"Every change of a {res.noun} (editor)",
        response_model=schemas.History,
        responses=answers(*WRITE_ERRORS, 404),
    )
    def history(services: ServicesDep, key: EditorKey, record_id: RecordId) -> Response:
        """Who (key id), when, action, and the states before and after, oldest first."""
        return editing.history_response(record_id, res.collection(services).history(record_id))

    return router
