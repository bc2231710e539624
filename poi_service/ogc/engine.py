"""Answers /items: the backend's selection, then filter, property parameters and sortby in memory."""

from __future__ import annotations

from typing import Any

import shapely

from poi_service import params as shared_params
from poi_service.errors import InvalidInput, InvalidParam, NotFound
from poi_service.ogc import MAX_EVALUATED
from poi_service.ogc.areas import DISTRICTS, STATES
from poi_service.ogc.cql2_ast import BoolOp, Compare, DWithin, Expr, Lit, Prop, Spatial
from poi_service.ogc.evaluate import circle_bounds, coerce, evaluate, sort_items
from poi_service.ogc.model import Item
from poi_service.ogc.request import ItemsRequest
from poi_service.ogc.sources import Hints, MembershipsSource, PlacesSource, Source
from poi_service.services import Services

CATALOG: dict[str, Source] = {s.id: s for s in (PlacesSource(), MembershipsSource(), STATES, DISTRICTS)}


def source(collection_id: str) -> Source:
    """The collection with this id; 404 problem otherwise."""
    found = CATALOG.get(collection_id)
    if found is None:
        raise NotFound(f"no collection {collection_id!r}; the collections are {', '.join(CATALOG)}")
    return found


def residual(src: Source, services: Services, req: ItemsRequest) -> Expr | None:
    """What the backend does not answer: property parameters outside store_params, and the filter."""
    qs = src.queryables(services)
    conds: list[Expr] = []
    for name, values in req.equals.items():
        if name in src.store_params:
            continue
        if name == "state":  # the forms /alliance/members takes (NI, DE-NI, 03, any case), else 400
            values = tuple(shared_params.state(v, services.settings.data_dir) or v for v in values)
        alternatives: list[Expr] = [Compare("=", Prop(name), Lit(coerce(v, qs[name], name))) for v in values]
        conds.append(alternatives[0] if len(alternatives) == 1 else BoolOp("or", tuple(alternatives)))
    if req.filter is not None:
        conds.append(req.filter)
    if not conds:
        return None
    return conds[0] if len(conds) == 1 else BoolOp("and", tuple(conds))


def hints(expr: Expr | None) -> Hints:
    """Polygons every match must touch, from the spatial terms of the filter's top-level AND."""
    if expr is None:
        return Hints()
    terms = expr.items if isinstance(expr, BoolOp) and expr.op == "and" else (expr,)
    polygons = []
    for term in terms:
        if isinstance(term, Spatial) and (
            term.op == "S_INTERSECTS" or (term.op == "S_WITHIN" and not term.swapped)
        ):
            if term.shape.geom_type in ("Polygon", "MultiPolygon") and term.shape.is_valid:
                polygons.append(term.shape)
        elif isinstance(term, DWithin):
            box = circle_bounds(term.lon, term.lat, term.distance_m)
            if box is not None:
                polygons.append(shapely.box(*box))
    return Hints(tuple(polygons))


def _too_many(req: ItemsRequest, total: int) -> InvalidInput:
    name = (
        "filter" if req.filter is not None else ("sortby" if req.sortby else next(iter(req.equals), "filter"))
    )
    reason = (
        f"filter, sortby and property parameters are evaluated over at most {MAX_EVALUATED} features; "
        f"{total} match the other conditions: narrow them with bbox, near, datetime, q or category"
    )
    return InvalidInput(f"{name}: {reason}", [InvalidParam(name, reason)])


def run(src: Source, services: Services, req: ItemsRequest) -> tuple[list[Item], int]:
    """One page of matching items in order, and the exact number of all matches."""
    expr = residual(src, services, req)
    if expr is None and not req.sortby:
        return src.select(services, req, req.limit, req.offset, Hints())
    items, total = src.select(services, req, MAX_EVALUATED, 0, hints(expr))
    if total > MAX_EVALUATED:
        raise _too_many(req, total)
    qs = src.queryables(services)
    if expr is not None:
        items = [i for i in items if evaluate(expr, i, qs) is True]
    if req.sortby:
        items = sort_items(items, req.sortby, qs)
    return items[req.offset : req.offset + req.limit], len(items)


def render(item: Item, req: ItemsRequest | None = None) -> dict[str, Any]:
    """The served feature: properties= keeps only the named properties, skipGeometry drops the geometry."""
    feature = dict(item.feature)
    if req is not None and req.properties is not None:
        keep = set(req.properties)
        feature["properties"] = {k: v for k, v in feature["properties"].items() if k in keep}
    if req is not None and req.skip_geometry:
        feature["geometry"] = None
    return feature
