"""Write endpoints for places (editor key): create, replace, merge-patch, delete, restore, history.

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
from poi_service.api.geojson import place_feature
from poi_service.api.responses import JSONResponse
from poi_service.ingest.edit import PLACE_EDIT
from poi_service.models import KeyRole

router = APIRouter(tags=["editing"])

PlaceBody = Annotated[
    dict[str, Any],
    Body(
        description="Editable fields (name, category, street, housenumber, postcode, locality, phone, website, "
        "description, source, lat, lon) as an object, or a GeoJSON Feature with them as properties and a Point. "
        "Without lat/lon the address is geocoded.",
        examples=[{"name": "Fahrschule Simonsen", "category": "driving_school", "street": "Süderstraße",
                   "housenumber": "66", "postcode": "24955", "locality": "Harrislee"}],
    ),
]  # fmt: skip
IfMatch = Annotated[
    str | None,
    Header(description="The ETag of the record as last read; required (428 without, 412 if stale)."),
]
IfMatchOptional = Annotated[str | None, Header(description="The ETag of the deleted record (optional).")]


@router.post("/places", status_code=201, summary="Create a place (editor)")
def create_place(services: ServicesDep, request: Request, key: EditorKey, body: PlaceBody) -> Response:
    """201 with the new place, its ETag and Location; 409 if a place with its key exists."""
    place = editing.create(PLACE_EDIT, services.store.places, body, services, key.id)
    location = str(request.url_for("get_place", place_id=place.id))
    return editing.written(place_feature(place, services.vocabulary), place, 201, location)


@router.put("/places/{place_id}", summary="Replace a place (editor, If-Match)")
def replace_place(
    services: ServicesDep, key: EditorKey, place_id: str, body: PlaceBody, if_match: IfMatch = None
) -> Response:
    """Every editable field from the body; fields left out become empty."""
    place = editing.replace_record(
        PLACE_EDIT, services.store.places, place_id, body, if_match, services, key.id
    )
    return editing.written(place_feature(place, services.vocabulary), place)


@router.patch("/places/{place_id}", summary="Change some fields of a place (editor, If-Match)")
def patch_place(
    services: ServicesDep, key: EditorKey, place_id: str,
    patch: Annotated[dict[str, Any], Body(description="RFC 7396 merge patch: given fields change, null clears.",
                                          media_type="application/merge-patch+json")],
    if_match: IfMatch = None,
) -> Response:  # fmt: skip
    """Only the given fields change; lat/lon move the pin (null for both: geocode the address)."""
    place = editing.patch_record(
        PLACE_EDIT, services.store.places, place_id, patch, if_match, services, key.id
    )
    return editing.written(place_feature(place, services.vocabulary), place)


@router.delete("/places/{place_id}", status_code=204, summary="Delete a place (editor, If-Match)")
def delete_place(
    services: ServicesDep, key: EditorKey, place_id: str, if_match: IfMatch = None,
    purge: Annotated[bool, Query(description="Remove for good instead of a soft delete (admin).")] = False,
) -> Response:  # fmt: skip
    """A soft delete (undo with POST .../restore) unless purge=true."""
    if purge:
        ensure_role(key, KeyRole.ADMIN, "purge=true")
    return editing.deleted_response(
        editing.delete_record(services.store.places, place_id, if_match, key.id, purge)
    )


@router.post("/places/{place_id}/restore", summary="Undo the deletion of a place (editor)")
def restore_place(
    services: ServicesDep, key: EditorKey, place_id: str, if_match: IfMatchOptional = None
) -> Response:
    """The place is live again (409 if it is not deleted)."""
    place = editing.restore_record(services.store.places, place_id, if_match, key.id)
    return editing.written(place_feature(place, services.vocabulary), place)


@router.get("/places/{place_id}/history", summary="Every change of a place (editor)")
def place_history(services: ServicesDep, key: EditorKey, place_id: str) -> JSONResponse:
    """Who (key id), when, action, and the states before and after, oldest first."""
    return editing.history_response(place_id, services.store.places.history(place_id))
