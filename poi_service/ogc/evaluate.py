"""Binds a CQL2 tree to a collection's queryables (names and types checked, literals coerced) and
evaluates it on items with SQL's three-valued logic (a comparison with a missing value is unknown)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from poi_service.errors import invalid
from poi_service.geo import R_LOW_M, geodesic_pair_m
from poi_service.ogc.cql2_ast import (
    Between,
    BoolOp,
    Compare,
    DWithin,
    Expr,
    InList,
    IsNull,
    Like,
    Lit,
    Not,
    Operand,
    Prop,
    Spatial,
)
from poi_service.ogc.like import like_pattern
from poi_service.ogc.model import Item, Queryable, SortKey
from poi_service.ogc.temporal import parse_date, parse_timestamp

Queryables = Mapping[str, Queryable]
_PREDICATES: dict[str, Callable[[Any, Any], Any]] = {
    "S_INTERSECTS": shapely.intersects,
    "S_DISJOINT": shapely.disjoint,
    "S_EQUALS": shapely.equals,
    "S_TOUCHES": shapely.touches,
    "S_OVERLAPS": shapely.overlaps,
    "S_CROSSES": shapely.crosses,
    "S_WITHIN": shapely.within,
    "S_CONTAINS": shapely.contains,
}
_ORDER = {
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _queryable(name: str, queryables: Queryables, geometry: bool) -> Queryable:
    q = queryables.get(name)
    if q is None or (q.type == "geometry") != geometry:
        kind = "geometry" if geometry else "queryable"
        names = ", ".join(n for n, x in queryables.items() if (x.type == "geometry") == geometry)
        raise invalid("filter", f"{name!r} is not a {kind} property of this collection (use: {names})")
    return q


def coerce(value: Any, q: Queryable, param: str) -> Any:
    """A literal (or query-parameter text) as a value of the queryable's type; 400 if it is not one."""
    t = q.type
    if t == "string" and isinstance(value, str):
        return value
    if t in ("number", "integer") and isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if t in ("number", "integer") and isinstance(value, str):
        try:
            return int(value) if t == "integer" else float(value)
        except ValueError:
            pass
    if t == "boolean" and isinstance(value, bool):
        return value
    if t == "boolean" and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if t == "date" and isinstance(value, date) and not isinstance(value, datetime):
        return value
    if t == "date" and isinstance(value, str):
        return parse_date(value, param)
    if t == "date-time" and isinstance(value, datetime):
        return value
    if t == "date-time" and isinstance(value, str):
        return parse_timestamp(value, param)
    raise invalid(param, f"{value!r} is not a {t} value, as property {q.name!r} needs")


def _operand(op: Operand, queryables: Queryables) -> Operand:
    if isinstance(op, Prop):
        _queryable(op.name, queryables, geometry=False)
    return op


def _pair(left: Operand, right: Operand, qs: Queryables) -> tuple[Operand, Operand]:
    """Operands with the literal coerced to the property's type (e.g. '2019-01-01' to a date)."""
    left, right = _operand(left, qs), _operand(right, qs)
    if isinstance(left, Prop) and isinstance(right, Lit):
        return left, Lit(coerce(right.value, qs[left.name], "filter"))
    if isinstance(left, Lit) and isinstance(right, Prop):
        return Lit(coerce(left.value, qs[right.name], "filter")), right
    if isinstance(left, Prop) and isinstance(right, Prop):
        types = {qs[left.name].type, qs[right.name].type}
        if len(types) > 1 and types != {"integer", "number"}:
            raise invalid("filter", f"cannot compare {left.name!r} with {right.name!r}: different types")
    if isinstance(left, Lit) and isinstance(right, Lit) and not _same_kind(left.value, right.value):
        raise invalid("filter", f"cannot compare {left.value!r} with {right.value!r}: different types")
    return left, right


def _same_kind(a: Any, b: Any) -> bool:
    def kind(v: Any) -> str:
        if isinstance(v, bool):
            return "bool"
        return "number" if isinstance(v, int | float) else type(v).__name__

    return kind(a) == kind(b)


def bind(expr: Expr, qs: Queryables) -> Expr:
    """The expression with every property checked against the queryables and literals typed."""
    if isinstance(expr, Compare):
        left, right = _pair(expr.left, expr.right, qs)
        return Compare(expr.op, left, right)
    if isinstance(expr, Like):
        operand = _operand(expr.operand, qs)
        if isinstance(operand, Prop) and qs[operand.name].type != "string":
            raise invalid("filter", f"LIKE needs a text property; {operand.name!r} is not one")
        return Like(operand, expr.pattern, expr.negate)
    if isinstance(expr, Between):
        operand, low = _pair(expr.operand, expr.low, qs)
        operand, high = _pair(operand, expr.high, qs)
        return Between(operand, low, high, expr.negate)
    if isinstance(expr, InList):
        values = tuple(_pair(expr.operand, v, qs)[1] for v in expr.values)
        return InList(_operand(expr.operand, qs), values, expr.negate)
    if isinstance(expr, IsNull):
        return IsNull(_operand(expr.operand, qs), expr.negate)
    if isinstance(expr, Spatial | DWithin):
        _queryable(expr.prop.name, qs, geometry=True)
        if isinstance(expr, Spatial):
            shapely.prepare(expr.shape)
        return expr
    if isinstance(expr, BoolOp):
        return BoolOp(expr.op, tuple(bind(e, qs) for e in expr.items))
    if isinstance(expr, Not):
        return Not(bind(expr.item, qs))
    return expr


def _value(op: Operand, item: Item, qs: Queryables) -> Any:
    return item.value(qs[op.name]) if isinstance(op, Prop) else op.value


def _negate(result: bool | None, negate: bool) -> bool | None:
    return None if result is None else (not result if negate else result)


def evaluate(expr: Expr, item: Item, qs: Queryables) -> bool | None:
    """True, False or None (unknown) for a bound expression on one item."""
    if isinstance(expr, Compare):
        a, b = _value(expr.left, item, qs), _value(expr.right, item, qs)
        return None if a is None or b is None else bool(_ORDER[expr.op](a, b))
    if isinstance(expr, Like):
        v = _value(expr.operand, item, qs)
        return None if v is None else _negate(like_pattern(expr.pattern).matches(str(v)), expr.negate)
    if isinstance(expr, Between):
        v, lo, hi = (_value(o, item, qs) for o in (expr.operand, expr.low, expr.high))
        return None if v is None or lo is None or hi is None else _negate(lo <= v <= hi, expr.negate)
    if isinstance(expr, InList):
        v = _value(expr.operand, item, qs)
        return None if v is None else _negate(v in {_value(o, item, qs) for o in expr.values}, expr.negate)
    if isinstance(expr, IsNull):
        return _negate(_value(expr.operand, item, qs) is None, expr.negate)
    if isinstance(expr, Spatial):
        if item.geometry is None:
            return None
        a, b = (expr.shape, item.geometry) if expr.swapped else (item.geometry, expr.shape)
        return bool(_PREDICATES[expr.op](a, b))
    if isinstance(expr, DWithin):
        if item.geometry is None:
            return None
        return distance_m(expr.lon, expr.lat, item.geometry) <= expr.distance_m
    if isinstance(expr, BoolOp):
        results = [evaluate(e, item, qs) for e in expr.items]
        if expr.op == "and":
            return False if False in results else (None if None in results else True)
        return True if True in results else (None if None in results else False)
    if isinstance(expr, Not):
        inner = evaluate(expr.item, item, qs)
        return None if inner is None else not inner
    return expr.value


@lru_cache(maxsize=32)
def _aeqd(lon: float, lat: float) -> Transformer:
    return Transformer.from_crs(
        "EPSG:4326", f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m", always_xy=True
    )


def distance_m(lon: float, lat: float, geom: BaseGeometry) -> float:
    """Geodesic metres on WGS84 from a point to a geometry (0 inside it).

    Points: Karney's geodesic. Other shapes: the distance in an azimuthal equidistant projection
    centred on the point, which is the exact geodesic distance to every vertex.
    """
    if geom.geom_type == "Point":
        return geodesic_pair_m(lon, lat, float(geom.x), float(geom.y))  # type: ignore[attr-defined]
    if shapely.intersects_xy(geom, lon, lat):
        return 0.0
    transformer = _aeqd(lon, lat)

    def project(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack((x, y))

    return float(shapely.distance(shapely.transform(geom, project), shapely.Point(0.0, 0.0)))


def _sort_value(value: Any) -> Any:
    return (value.casefold(), value) if isinstance(value, str) else value


def sort_items(items: Sequence[Item], keys: Sequence[SortKey], qs: Queryables) -> list[Item]:
    """Items ordered by the keys (first key first); missing values last in either direction; stable."""
    out = list(items)
    for key in reversed(keys):
        q = qs[key.name]
        present = [i for i in out if i.value(q) is not None]
        missing = [i for i in out if i.value(q) is None]
        present.sort(key=lambda i: _sort_value(i.value(q)), reverse=key.descending)
        out = present + missing
    return out


def circle_bounds(lon: float, lat: float, radius_m: float) -> tuple[float, float, float, float] | None:
    """A lon/lat box holding every point within radius_m (geodesic) of (lon, lat); None if it would
    cross a pole or the antimeridian. Uses the sphere bound of poi_service.geo (R_LOW_M)."""
    theta = radius_m / R_LOW_M
    dlat = math.degrees(theta)
    if abs(lat) + dlat >= 90.0 or theta >= math.pi / 2:
        return None
    dlon = math.degrees(math.asin(min(1.0, math.sin(theta) / math.cos(math.radians(lat)))))
    if lon - dlon < -180.0 or lon + dlon > 180.0:
        return None
    return (lon - dlon, lat - dlat, lon + dlon, lat + dlat)
