"""The expression tree of a CQL2-text filter, as poi_service.ogc.cql2 parses it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from shapely.geometry.base import BaseGeometry

Value = str | int | float | bool | date | datetime


@dataclass(frozen=True, slots=True)
class Prop:
    name: str


@dataclass(frozen=True, slots=True)
class Lit:
    value: Value


Operand = Prop | Lit


@dataclass(frozen=True, slots=True)
class Compare:
    op: str  # =, <>, <, <=, >, >=
    left: Operand
    right: Operand


@dataclass(frozen=True, slots=True)
class Like:
    operand: Operand
    pattern: str
    negate: bool = False


@dataclass(frozen=True, slots=True)
class Between:
    operand: Operand
    low: Operand
    high: Operand
    negate: bool = False


@dataclass(frozen=True, slots=True)
class InList:
    operand: Operand
    values: tuple[Operand, ...]
    negate: bool = False


@dataclass(frozen=True, slots=True)
class IsNull:
    operand: Operand
    negate: bool = False


@dataclass(frozen=True, slots=True)
class Spatial:
    """A spatial predicate between the geometry property and a literal; `swapped` keeps argument order."""

    op: str
    prop: Prop
    shape: BaseGeometry
    swapped: bool = False


@dataclass(frozen=True, slots=True)
class DWithin:
    prop: Prop
    lon: float
    lat: float
    distance_m: float


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: Literal["and", "or"]
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Expr


@dataclass(frozen=True, slots=True)
class Const:
    value: bool


Expr = Compare | Like | Between | InList | IsNull | Spatial | DWithin | BoolOp | Not | Const
