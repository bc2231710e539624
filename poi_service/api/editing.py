"""The write operations behind both write routers: ETags, If-Match, create/replace/patch/delete.

Preconditions come before the body is looked at (RFC 9110 §13.2.2): 428 without If-Match, 412
when it does not name the current ETag. The version read here goes to the store as
expected_version, which checks it again inside the write transaction, so two editors who read
the same version cannot both write: the second gets 412.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response

from poi_service.api.responses import GeoJSONResponse, JSONResponse
from poi_service.errors import PreconditionFailed, PreconditionRequired, Unprocessable
from poi_service.ingest.edit import Context, EditSpec, fields_of, patched, unpinned
from poi_service.models import Membership, Place
from poi_service.services import Services
from poi_service.store.base import Change, Collection

Record = Place | Membership
AnyCollection = Collection[Any, Any, Any]


def etag(record: Record) -> str:
    """A strong ETag that changes with every write of the record (also a delete or a restore)."""
    token = hashlib.sha256(f"{record.id}\n{record.version}\n{record.created_at.isoformat()}".encode())
    return f'"v{record.version}-{token.hexdigest()[:16]}"'


def expected_version(record: Record, if_match: str | None, *, required: bool = True) -> int | None:
    """The version the client's If-Match names (None for '*' or, when optional, no header)."""
    if if_match is None or not if_match.strip():
        if required:
            _require(if_match)
        return None
    # An unquoted tag (a shell ate the quotes) names the same entity tag: compare it quoted.
    tags = [
        t if t.startswith(('"', "W/")) or t == "*" else f'"{t}"'
        for t in (t.strip() for t in if_match.split(","))
    ]
    if "*" in tags:
        return None
    if etag(record) not in tags:  # strong comparison: weak (W/) tags never match
        raise PreconditionFailed(
            f"If-Match {if_match} is not the current ETag {etag(record)}: the record changed since "
            "it was read; fetch it again and reapply the edit"
        )
    return record.version


def context(services: Services) -> Context:
    """Vocabulary, geocoder and boundaries for building records, stamped now."""
    return Context(services.vocabulary, services.geocoder, services.settings.data_dir, datetime.now(UTC))


def create(
    spec: EditSpec[Any, Any],
    collection: AnyCollection,
    body: Mapping[str, object],
    services: Services,
    actor: str,
    force: bool = False,
) -> Any:
    """A new record from a body (its external key derived like an import's; 409 if taken)."""
    data = spec.build(*fields_of(body, spec), context(services), None, None)
    _confirm(spec, data, None, services, force)
    return collection.add(replace(data, external_key=spec.new_key(data)), actor=actor)


def replace_record(
    spec: EditSpec[Any, Any],
    collection: AnyCollection,
    record_id: str,
    body: Mapping[str, object],
    if_match: str | None,
    services: Services,
    actor: str,
    force: bool = False,
) -> Any:
    """PUT: the body replaces every editable field; no coordinates means geocode."""
    current, version = _checked(collection, record_id, if_match)
    fields, unknown = fields_of(body, spec)
    data = spec.build(unpinned(fields, current), unknown, context(services), None, current.external_key)
    data = spec.carry(data, current)
    _confirm(spec, data, current, services, force)
    return collection.update(record_id, data, expected_version=version, actor=actor)


def patch_record(
    spec: EditSpec[Any, Any],
    collection: AnyCollection,
    record_id: str,
    patch: Mapping[str, object],
    if_match: str | None,
    services: Services,
    actor: str,
    force: bool = False,
) -> Any:
    """PATCH: an RFC 7396 merge patch over the editable fields."""
    current, version = _checked(collection, record_id, if_match)
    fields, unknown = fields_of(patch, spec)
    merged, keep_point = patched(spec, current, fields)
    data = spec.build(
        merged, unknown, context(services), current if keep_point else None, current.external_key
    )
    data = spec.carry(data, current)
    _confirm(spec, data, current, services, force)
    return collection.update(record_id, data, expected_version=version, actor=actor)


def _confirm(spec: EditSpec[Any, Any], data: Any, before: Any, services: Services, force: bool) -> None:
    """422 naming the doubtful fields (a postcode of another town, a pin far away) unless force=true."""
    doubts = [] if force else spec.doubts(data, before, services.settings.data_dir)
    if doubts:
        detail = "; ".join(dict.fromkeys(d.reason for d in doubts))
        raise Unprocessable(f"{detail}; check it, or send force=true to save it as it is", doubts)


def delete_record(
    collection: AnyCollection, record_id: str, if_match: str | None, actor: str, purge: bool
) -> Record | None:
    """Soft delete (returns the deleted state, for its ETag) or purge (returns None)."""
    _require(if_match)
    current = collection.get(record_id, include_deleted=purge)
    version = expected_version(current, if_match)
    collection.delete(record_id, expected_version=version, actor=actor, purge=purge)
    if purge:
        return None
    deleted: Record = collection.get(record_id, include_deleted=True)
    return deleted


def restore_record(collection: AnyCollection, record_id: str, if_match: str | None, actor: str) -> Any:
    """Undoes a soft delete; If-Match is optional here (the ETag is in the DELETE answer)."""
    current = collection.get(record_id, include_deleted=True)
    version = expected_version(current, if_match, required=False)
    return collection.restore(record_id, expected_version=version, actor=actor)


def _checked(collection: AnyCollection, record_id: str, if_match: str | None) -> tuple[Any, int | None]:
    """The live record an update applies to, and the version its If-Match names (428 / 404 / 412)."""
    _require(if_match)
    current = collection.get(record_id)
    return current, expected_version(current, if_match)


def _require(if_match: str | None) -> None:
    """428 before anything else is looked at."""
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(
            "send If-Match with the ETag of the record as last read (GET it first), so that "
            "no other editor's change is overwritten"
        )


def written(
    feature: dict[str, Any], record: Record, status: int = 200, location: str | None = None
) -> Response:
    """A write's answer: the record as a Feature, its new ETag, and Location for a create."""
    headers = {"ETag": etag(record)}
    if location:
        headers["Location"] = location
    return GeoJSONResponse(feature, status_code=status, headers=headers)


def deleted_response(record: Record | None) -> Response:
    """204; after a soft delete the ETag of the deleted state, for an If-Match on restore."""
    return Response(status_code=204, headers={"ETag": etag(record)} if record else None)


def history_response(record_id: str, changes: list[Change]) -> JSONResponse:
    """GET .../history: every change, oldest first."""
    return JSONResponse({"id": record_id, "changes": [change_json(c) for c in changes]})


def change_json(c: Change) -> dict[str, Any]:
    """One history entry as JSON."""
    return {
        "seq": c.seq,
        "action": c.action,
        "version": c.version,
        "actor": c.actor,
        "at": c.at.isoformat(),
        "before": c.before,
        "after": c.after,
    }
