"""Query parameters of the OGC endpoints: parsed, bounded and checked; anything unknown is a 400."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from starlette.datastructures import QueryParams

from poi_service import opening
from poi_service import params as shared_params
from poi_service.config import Settings
from poi_service.errors import invalid
from poi_service.models import Point
from poi_service.ogc import CRS84, DEFAULT_LIMIT, MAX_LIMIT, cql2
from poi_service.ogc.cql2_ast import Expr
from poi_service.ogc.evaluate import bind
from poi_service.ogc.model import Queryable, SortKey
from poi_service.ogc.temporal import Interval, parse_datetime
from poi_service.store import Near

Format = Literal["json", "html"]
Box = tuple[float, float, float, float]

# Parameters of /items besides the collection's queryables (name=value filters).
ITEMS_PARAMS = (
    "f",
    "limit",
    "offset",
    "bbox",
    "bbox-crs",
    "crs",
    "datetime",
    "filter",
    "filter-lang",
    "filter-crs",
    "sortby",
    "properties",
    "skipGeometry",
    "near",
    "radius_m",
)
TEXT_PARAM = "q"
HOURS_PARAMS = ("open_at", "open_now")  # collections with opening hours (places)


@dataclass(frozen=True)
class ItemsRequest:
    """Everything a request to /items asks for, validated."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0
    boxes: tuple[Box, ...] = ()  # one box, or two when the bbox crosses the antimeridian
    interval: Interval | None = None
    near: Near | None = None
    text: str | None = None
    equals: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # queryable -> given values
    filter: Expr | None = None  # bound to the collection's queryables
    sortby: tuple[SortKey, ...] = ()
    properties: tuple[str, ...] | None = None
    skip_geometry: bool = False
    open_at: datetime | None = None  # open_at / open_now of collections with opening hours


def output_format(query: QueryParams, accept: str | None) -> Format:
    """f=json|html wins; otherwise HTML only for clients that ask for it and not for JSON (browsers)."""
    f = query.get("f")
    if f is not None:
        if f.lower() not in ("json", "html"):
            raise invalid("f", "must be json or html")
        return "html" if f.lower() == "html" else "json"
    accept = (accept or "").lower()
    return "html" if "text/html" in accept and "json" not in accept else "json"


def check_known(
    query: QueryParams, allowed: set[str] | tuple[str, ...], repeatable: frozenset[str] = frozenset()
) -> None:
    """400 naming the first parameter this endpoint does not define, or one given twice."""
    for name in query:
        if name not in allowed:
            known = ", ".join(sorted(allowed))
            raise invalid(name, f"unknown query parameter; this endpoint takes: {known}")
        if name not in repeatable and len(query.getlist(name)) > 1:
            raise invalid(name, "must be given at most once")


def _integer(text: str, name: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise invalid(name, "must be an integer") from None


def _numbers(text: str, name: str) -> list[float]:
    try:
        values = [float(p) for p in text.split(",")]
    except ValueError:
        raise invalid(name, "must be comma-separated numbers") from None
    if not all(math.isfinite(v) for v in values):
        raise invalid(name, "numbers must be finite")
    return values


def parse_bbox(text: str) -> tuple[Box, ...]:
    """minx,miny,maxx,maxy (or with minz/maxz) in CRS84; minx > maxx crosses the antimeridian."""
    values = _numbers(text, "bbox")
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    if len(values) != 4:
        raise invalid("bbox", "must be 4 (or 6) numbers: minlon,minlat,maxlon,maxlat in CRS84")
    west, south, east, north = values
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= 90 and -90 <= north <= 90):
        raise invalid("bbox", "longitudes must be within -180..180 and latitudes within -90..90")
    if south > north:
        raise invalid("bbox", "the southern edge (2nd number) must not be north of the northern (4th)")
    if west > east:  # crosses the antimeridian
        return ((west, south, 180.0, north), (-180.0, south, east, north))
    return ((west, south, east, north),)


def _crs(query: QueryParams, name: str) -> None:
    value = query.get(name)
    if value is not None and value.strip("<> ") != CRS84:
        raise invalid(name, f"only {CRS84} is supported")


def _near(query: QueryParams, settings: Settings) -> Near | None:
    near, radius = query.get("near"), query.get("radius_m")
    if near is None and radius is None:
        return None
    if near is None or radius is None:
        raise invalid("near" if near is None else "radius_m", "near=lon,lat and radius_m go together")
    values = _numbers(near, "near")
    if len(values) != 2:
        raise invalid("near", "must be lon,lat in CRS84")
    if not (-180 <= values[0] <= 180 and -90 <= values[1] <= 90):
        raise invalid("near", "lon must be within -180..180 and lat within -90..90")
    try:
        radius_m = float(radius)
    except ValueError:
        raise invalid("radius_m", "must be a number") from None
    return Near(Point(values[0], values[1]), shared_params.radius(radius_m, settings))


def _sortby(text: str, queryables: Mapping[str, Queryable]) -> tuple[SortKey, ...]:
    keys = []
    for term in (t.strip() for t in text.split(",")):
        descending = term.startswith("-")
        name = term.lstrip("+-").strip() if term[:1] in "+-" else term
        q = queryables.get(name)
        if q is None or q.type == "geometry":
            names = ", ".join(n for n, x in queryables.items() if x.type != "geometry")
            raise invalid("sortby", f"cannot sort by {name!r}; sortable properties: {names}")
        keys.append(SortKey(name, descending))
    return tuple(keys)


def parse_items(
    query: QueryParams,
    settings: Settings,
    queryables: Mapping[str, Queryable],
    properties: tuple[str, ...],
    repeatable: frozenset[str] = frozenset(),
    text_search: bool = False,
    hours: bool = False,
) -> ItemsRequest:
    """The validated request; 400 problem naming the first bad or unknown parameter."""
    filters = {n for n, q in queryables.items() if q.type != "geometry"}
    allowed = {
        *ITEMS_PARAMS,
        *filters,
        *((TEXT_PARAM,) if text_search else ()),
        *(HOURS_PARAMS if hours else ()),
    }
    check_known(query, allowed, repeatable)
    limit = _integer(query.get("limit", str(DEFAULT_LIMIT)), "limit")
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid("limit", f"must be between 1 and {MAX_LIMIT}")
    offset = shared_params.checked_offset(_integer(query.get("offset", "0"), "offset"))
    for name in ("bbox-crs", "crs", "filter-crs"):
        _crs(query, name)
    if query.get("filter-lang", "cql2-text") != "cql2-text":
        raise invalid("filter-lang", "only cql2-text is supported")
    text = query.get("filter")
    skip = query.get("skipGeometry", "false").lower()
    if skip not in ("true", "false"):
        raise invalid("skipGeometry", "must be true or false")
    props = query.get("properties")
    selected = tuple(p.strip() for p in props.split(",") if p.strip()) if props is not None else None
    for name in selected or ():
        if name not in properties:
            raise invalid("properties", f"{name!r} is not a property of this collection")
    equals = {n: tuple(query.getlist(n)) for n in filters if n in query}
    for name, values in equals.items():
        if not all(v.strip() for v in values):
            raise invalid(name, "must not be empty")
    return ItemsRequest(
        limit=limit,
        offset=offset,
        boxes=parse_bbox(query["bbox"]) if "bbox" in query else (),
        interval=parse_datetime(query["datetime"]) if "datetime" in query else None,
        near=_near(query, settings),
        text=shared_params.text(query.get(TEXT_PARAM)) if text_search else None,
        equals=equals,
        filter=bind(cql2.parse(text), queryables) if text is not None else None,
        sortby=_sortby(query["sortby"], queryables) if query.get("sortby") else (),
        properties=selected,
        skip_geometry=skip == "true",
        open_at=opening.open_at(query.get("open_at"), query.get("open_now")) if hours else None,
    )
