"""Read endpoints for Safe Harbours memberships: filters, nearest, statistics."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from poi_service import params
from poi_service.api import schemas
from poi_service.api.calls import store_call
from poi_service.api.contract import ETAG, answers, headers
from poi_service.api.deps import ServicesDep
from poi_service.api.editing import etag
from poi_service.api.links import collection, unpaged
from poi_service.api.responses import GeoJSONResponse, JSONResponse
from poi_service.api.routes.places import Lat, Limit, Lon, Offset, Text
from poi_service.features.geojson import membership_feature, membership_features
from poi_service.models import Alliance, Role
from poi_service.store import MembershipFilter
from poi_service.store import Query as StoreQuery

router = APIRouter(prefix="/alliance", tags=["alliance"])

AllianceQ = Annotated[Alliance | None, Query(description="buendnis, international or seebruecke_declared.")]
# Join dates may be a year or a month; a member matches only if it surely joined within the bounds.
JOINED_AFTER = "YYYY-MM-DD: the whole known join period (day, month or year) starts on or after it."
JOINED_BEFORE = (
    "YYYY-MM-DD: the whole known join period ends on or before it "
    "(a member dated only '2019' matches from 2019-12-31 on)."
)
MEMBERS: dict[str, Any] = {"response_class": GeoJSONResponse, "response_model": schemas.MembershipCollection}
RoleQ = Annotated[Role | None, Query(description="coordinator, state_coordinator or member.")]


@router.get("/members", summary="Memberships matching filters", **MEMBERS)
async def members(
    services: ServicesDep,
    request: Request,
    alliance: AllianceQ = None,
    role: RoleQ = None,
    state: Annotated[
        str | None,
        Query(
            description="German state: name (any case, with or without umlauts), "
            "ISO 3166-2 code (NI, DE-NI) or AGS (03)."
        ),
    ] = None,
    country: Annotated[str | None, Query(description="ISO 3166-1 alpha-2 code, e.g. DE, IT.")] = None,
    joined_after: Annotated[date | None, Query(description=JOINED_AFTER)] = None,
    joined_before: Annotated[date | None, Query(description=JOINED_BEFORE)] = None,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy in lon/lat degrees.")] = None,
    area: Annotated[
        str | None, Query(description="AGS or name of a state, district or municipality.")
    ] = None,
    q: Text = None,
    limit: Limit = None,
    offset: Offset = 0,
) -> JSONResponse:
    """Memberships as GeoJSON; joined dates keep the precision the source gives."""
    size, offset = params.page(limit, offset, services.settings)
    if joined_after and joined_before and joined_after > joined_before:
        raise params.invalid("joined_after", "must not be later than joined_before")
    if state is not None:  # the gazetteer's first load reads files: not on the event loop
        state = await run_in_threadpool(params.state, state, services.settings.data_dir)
    flt = MembershipFilter(
        alliance,
        role,
        state,
        country.upper() if country else None,
        joined_after,
        joined_before,
        params.text(q),
    )
    query = StoreQuery(flt, bbox=params.bbox(bbox), area=area, limit=size, offset=offset)
    result = await run_in_threadpool(services.store.memberships.search, query)
    body = collection(request, membership_features(result.hits), result.total, size, offset)
    return GeoJSONResponse(body)


@router.get("/members/nearest", summary="The k nearest member municipalities", **MEMBERS)
async def nearest_members(
    services: ServicesDep,
    request: Request,
    lat: Lat,
    lon: Lon,
    k: Annotated[int, Query(description="How many, 1..POI_MAX_K.")] = 10,
    alliance: AllianceQ = None,
    role: RoleQ = None,
) -> JSONResponse:
    """Nearest memberships with distance_m (one municipality may appear once per alliance)."""
    flt = MembershipFilter(alliance=alliance, role=role)
    members = services.store.memberships
    hits = await store_call(
        members, members.nearest, params.point(lat, lon), params.k_nearest(k, services.settings), flt
    )
    return GeoJSONResponse(unpaged(request, membership_features(hits)))


@router.get(
    "/members/{member_id}",
    summary="One membership",
    response_class=GeoJSONResponse,
    response_model=schemas.MembershipFeature,
    responses=answers(404, more=headers(200, ETag=ETAG)),
)
async def get_member(services: ServicesDep, member_id: str) -> JSONResponse:
    """A membership as a GeoJSON Feature with its ETag (for If-Match on writes)."""
    member = await store_call(services.store.memberships, services.store.memberships.get, member_id)
    return GeoJSONResponse(membership_feature(member), headers={"ETag": etag(member)})


@router.get(
    "/stats",
    summary="Membership counts per alliance, German state, country and join year",
    response_model=schemas.Stats,
)
async def stats(services: ServicesDep) -> JSONResponse:
    """Counts of the stored (partial, see data/alliance/NOTES.md) dataset; `by_state` counts German members
    ('unknown' without a state), `by_country` every member by ISO country code."""
    s = await run_in_threadpool(services.store.membership_stats)
    body = {
        "by_alliance": s.by_alliance,
        "by_state": s.by_state,
        "by_country": s.by_country,
        "by_year": s.by_year,
    }
    return JSONResponse(body)
