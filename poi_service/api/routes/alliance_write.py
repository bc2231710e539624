"""Write endpoints for alliance memberships (editor key): create, replace, patch, delete, restore, history.

Handlers are plain functions, so FastAPI runs them in its threadpool: geocoding and waiting
for the store's write lock never block the event loop that serves reads.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request
from starlette.responses import Response

from poi_service.api import editing
from poi_service.api.auth import EditorKey, ensure_role
from poi_service.api.deps import ServicesDep
from poi_service.api.geojson import membership_feature
from poi_service.api.responses import JSONResponse
from poi_service.ingest.edit import MEMBER_EDIT
from poi_service.models import KeyRole

router = APIRouter(prefix="/alliance", tags=["editing"])

MemberBody = Annotated[
    dict[str, Any],
    Body(
        description="Editable fields (name, kind, country, state, alliance, role, joined, source_url, lat, lon) as "
        "an object, or a GeoJSON Feature with them as properties and a Point. Without lat/lon the municipality "
        "is geocoded by name, kind, state and country.",
        examples=[{"name": "Harrislee", "kind": "Gemeinde", "state": "Schleswig-Holstein", "alliance": "buendnis",
                   "joined": "2024-05"}],
    ),
]  # fmt: skip
IfMatch = Annotated[
    str | None,
    Header(description="The ETag of the record as last read; required (428 without, 412 if stale)."),
]
IfMatchOptional = Annotated[str | None, Header(description="The ETag of the deleted record (optional).")]


@router.post("/members", status_code=201, summary="Create a membership (editor)")
def create_member(services: ServicesDep, request: Request, key: EditorKey, body: MemberBody) -> Response:
    """201 with the new membership, its ETag and Location; 409 if a membership with its key exists."""
    member = editing.create(MEMBER_EDIT, services.store.memberships, body, services, key.id)
    location = str(request.url_for("get_member", member_id=member.id))
    return editing.written(membership_feature(member), member, 201, location)


@router.put("/members/{member_id}", summary="Replace a membership (editor, If-Match)")
def replace_member(
    services: ServicesDep, key: EditorKey, member_id: str, body: MemberBody, if_match: IfMatch = None
) -> Response:
    """Every editable field from the body; fields left out become empty."""
    member = editing.replace_record(
        MEMBER_EDIT, services.store.memberships, member_id, body, if_match, services, key.id
    )
    return editing.written(membership_feature(member), member)


@router.patch("/members/{member_id}", summary="Change some fields of a membership (editor, If-Match)")
def patch_member(
    services: ServicesDep, key: EditorKey, member_id: str,
    patch: Annotated[dict[str, Any], Body(description="RFC 7396 merge patch: given fields change, null clears.",
                                          media_type="application/merge-patch+json")],
    if_match: IfMatch = None,
) -> Response:  # fmt: skip
    """Only the given fields change; lat/lon move the pin (null for both: geocode by name)."""
    member = editing.patch_record(
        MEMBER_EDIT, services.store.memberships, member_id, patch, if_match, services, key.id
    )
    return editing.written(membership_feature(member), member)


@router.delete("/members/{member_id}", status_code=204, summary="Delete a membership (editor, If-Match)")
def delete_member(
    services: ServicesDep, key: EditorKey, member_id: str, if_match: IfMatch = None,
    purge: Annotated[bool, Query(description="Remove for good instead of a soft delete (admin).")] = False,
) -> Response:  # fmt: skip
    """A soft delete (undo with POST .../restore) unless purge=true."""
    if purge:
        ensure_role(key, KeyRole.ADMIN, "purge=true")
    return editing.deleted_response(
        editing.delete_record(services.store.memberships, member_id, if_match, key.id, purge)
    )


@router.post("/members/{member_id}/restore", summary="Undo the deletion of a membership (editor)")
def restore_member(
    services: ServicesDep, key: EditorKey, member_id: str, if_match: IfMatchOptional = None
) -> Response:
    """The membership is live again (409 if it is not deleted)."""
    member = editing.restore_record(services.store.memberships, member_id, if_match, key.id)
    return editing.written(membership_feature(member), member)


@router.get("/members/{member_id}/history", summary="Every change of a membership (editor)")
def member_history(services: ServicesDep, key: EditorKey, member_id: str) -> JSONResponse:
    """Who (key id), when, action, and the states before and after, oldest first."""
    return editing.history_response(member_id, services.store.memberships.history(member_id))
