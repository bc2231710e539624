"""A CQL2-text parser (OGC 21-065): the Basic CQL2, advanced comparison and spatial function classes.

Grammar covered: AND / OR / NOT and parentheses; =, <>, <, <=, >, >=; [NOT] LIKE (% and _ wildcards,
backslash escape), [NOT] BETWEEN, [NOT] IN (...), IS [NOT] NULL; literals 'text' ('' escapes a quote),
numbers, TRUE / FALSE, DATE('...'), TIMESTAMP('...'); property names bare or "double-quoted";
S_INTERSECTS, S_DISJOINT, S_EQUALS, S_TOUCHES, S_OVERLAPS, S_CROSSES, S_WITHIN, S_CONTAINS with WKT
(POINT ... GEOMETRYCOLLECTION) or BBOX(minx, miny, maxx, maxy) literals in CRS84; and, as a documented
extension outside CQL2 1.0, S_DWITHIN(geometry, POINT(lon lat), distance[, meters|kilometers]) with
geodesic distance on WGS84. Parsing only; poi_service.ogc.evaluate binds and evaluates the tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import shapely
from shapely.errors import ShapelyError
from shapely.geometry.base import BaseGeometry

from poi_service.errors import invalid
from poi_service.ogc.cql2_ast import (
    Between,
    BoolOp,
    Compare,
    Const,
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
from poi_service.ogc.temporal import parse_date, parse_timestamp

SPATIAL = (
    "S_INTERSECTS",
    "S_DISJOINT",
    "S_EQUALS",
    "S_TOUCHES",
    "S_OVERLAPS",
    "S_CROSSES",
    "S_WITHIN",
    "S_CONTAINS",
)
_WKT = (
    "POINT",
    "LINESTRING",
    "POLYGON",
    "MULTIPOINT",
    "MULTILINESTRING",
    "MULTIPOLYGON",
    "GEOMETRYCOLLECTION",
)
_KEYWORDS = {"AND", "OR", "NOT", "LIKE", "BETWEEN", "IN", "IS", "NULL", "TRUE", "FALSE"}
# Parsing recurses once per parenthesis or NOT (and binding and evaluation once per level again):
# 1,000 of them ran out of Python's stack (a 500 and a 265 KB traceback per request).
MAX_NESTING = 100
_UNITS = {"meters": 1.0, "metres": 1.0, "m": 1.0, "kilometers": 1000.0, "kilometres": 1000.0, "km": 1000.0}
_TOKEN = re.compile(
    r"\s*(?:(?P<num>-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<str>'(?:[^']|'')*')"
    r"|(?P<qid>\"[^\"]+\")|(?P<id>[A-Za-z_][A-Za-z0-9_.:]*)|(?P<op><>|!=|<=|>=|[=<>(),]))"
)


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # num, str, qid, id, op, geom, end
    text: str
    pos: int
    shape: BaseGeometry | None = None


def _error(reason: str) -> Exception:
    return invalid("filter", reason)


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None:
            raise _error(f"unexpected character {text[pos:].lstrip()[:1]!r} at position {pos}")
        kind = m.lastgroup or "op"
        start, pos = m.start(kind), m.end()
        word = m.group(kind)
        if kind == "id" and word.upper() in _WKT:
            pos = _wkt_end(text, pos, start)
            try:
                out.append(_Tok("geom", text[start:pos], start, shapely.from_wkt(text[start:pos])))
            except (ShapelyError, ValueError) as exc:
                raise _error(f"invalid WKT at position {start}: {exc}") from None
            continue
        out.append(_Tok(kind, word, start))
    out.append(_Tok("end", "", len(text)))
    return out


def _wkt_end(text: str, pos: int, start: int) -> int:
    """The end of the WKT literal whose keyword ends at pos (balanced parentheses or EMPTY)."""
    rest = text[pos:]
    m = re.match(r"\s*(?:(ZM|Z|M)\s*)?(EMPTY\b|\()", rest, re.IGNORECASE)
    if m is None:
        raise _error(f"a WKT geometry at position {start} needs coordinates in parentheses")
    if m.group(2).upper() == "EMPTY":
        return pos + m.end()
    depth, i = 0, pos + m.end() - 1
    while i < len(text):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i + 1
        i += 1
    raise _error(f"unbalanced parentheses in the WKT geometry at position {start}")


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def kw(self, *words: str) -> bool:
        return self.tok.kind == "id" and self.tok.text.upper() in words

    def take(self) -> _Tok:
        tok = self.tok
        self.i += 1
        return tok

    def expect(self, text: str) -> None:
        if not (self.tok.text.upper() == text and self.tok.kind in ("op", "id")):
            raise _error(
                f"expected {text!r} at position {self.tok.pos}, found {self.tok.text or 'the end'!r}"
            )
        self.i += 1

    def parse(self) -> Expr:
        expr = self.or_expr()
        if self.tok.kind != "end":
            raise _error(f"unexpected {self.tok.text!r} at position {self.tok.pos}")
        return expr

    def or_expr(self) -> Expr:
        items = [self.and_expr()]
        while self.kw("OR"):
            self.take()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else BoolOp("or", tuple(items))

    def and_expr(self) -> Expr:
        items = [self.not_expr()]
        while self.kw("AND"):
            self.take()
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else BoolOp("and", tuple(items))

    def nested(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise _error(
                f"nests parentheses and NOT more than {MAX_NESTING} levels deep (at position {self.tok.pos})"
            )

    def not_expr(self) -> Expr:
        if self.kw("NOT"):
            self.nested()
            self.take()
            negated = Not(self.not_expr())
            self.depth -= 1
            return negated
        if self.tok.text == "(" and self.tok.kind == "op":
            self.nested()
            self.take()
            inner = self.or_expr()
            self.expect(")")
            self.depth -= 1
            return inner
        if self.kw(*SPATIAL, "S_DWITHIN"):
            return self.spatial()
        return self.predicate()

    def predicate(self) -> Expr:
        left = self.scalar()
        negate = False
        if self.kw("NOT") and self.toks[self.i + 1].text.upper() in ("LIKE", "BETWEEN", "IN"):
            self.take()
            negate = True
        if self.tok.kind == "op" and self.tok.text in ("=", "<>", "!=", "<", "<=", ">", ">="):
            op = self.take().text
            return Compare("<>" if op == "!=" else op, left, self.scalar())
        if self.kw("LIKE"):
            self.take()
            pattern = self.scalar()
            if not (isinstance(pattern, Lit) and isinstance(pattern.value, str)):
                raise _error("LIKE needs a 'quoted' pattern")
            return Like(left, pattern.value, negate)
        if self.kw("BETWEEN"):
            self.take()
            low = self.scalar()
            self.expect("AND")
            return Between(left, low, self.scalar(), negate)
        if self.kw("IN"):
            self.take()
            self.expect("(")
            values = [self.scalar()]
            while self.tok.text == ",":
                self.take()
                values.append(self.scalar())
            self.expect(")")
            return InList(left, tuple(values), negate)
        if self.kw("IS"):
            self.take()
            negated = self.kw("NOT")
            if negated:
                self.take()
            self.expect("NULL")
            return IsNull(left, negated)
        if isinstance(left, Lit) and isinstance(left.value, bool):
            return Const(left.value)
        raise _error(
            f"expected a comparison at position {self.tok.pos}, found {self.tok.text or 'the end'!r}"
        )

    def scalar(self) -> Operand:
        tok = self.take()
        if tok.kind == "str":
            return Lit(tok.text[1:-1].replace("''", "'"))
        if tok.kind == "num":
            number = float(tok.text)
            return Lit(int(number) if number.is_integer() and re.fullmatch(r"-?\d+", tok.text) else number)
        if tok.kind == "qid":
            return Prop(tok.text[1:-1])
        if tok.kind == "id":
            word = tok.text.upper()
            if word in ("TRUE", "FALSE"):
                return Lit(word == "TRUE")
            if word in ("DATE", "TIMESTAMP") and self.tok.text == "(":
                self.take()
                arg = self.take()
                self.expect(")")
                if arg.kind != "str":
                    raise _error(f"{word} needs a 'quoted' value")
                value = arg.text[1:-1]
                return Lit(
                    parse_date(value, "filter") if word == "DATE" else parse_timestamp(value, "filter")
                )
            if self.tok.text == "(":
                raise _error(f"function {tok.text}() is not supported")
            if word in _KEYWORDS:
                raise _error(f"unexpected {tok.text!r} at position {tok.pos}")
            return Prop(tok.text)
        raise _error(f"expected a property or a value at position {tok.pos}, found {tok.text or 'the end'!r}")

    def geometry_arg(self) -> Prop | BaseGeometry:
        tok = self.tok
        if tok.kind == "geom" and tok.shape is not None:
            self.take()
            return tok.shape
        if self.kw("BBOX"):
            self.take()
            self.expect("(")
            nums = [self.number()]
            while self.tok.text == ",":
                self.take()
                nums.append(self.number())
            self.expect(")")
            if len(nums) not in (4, 6):
                raise _error("BBOX takes 4 (or 6) numbers")
            west, south, east, north = (
                (nums[0], nums[1], nums[2], nums[3])
                if len(nums) == 4
                else (nums[0], nums[1], nums[3], nums[4])
            )
            return shapely.box(west, south, east, north)
        operand = self.scalar()
        if not isinstance(operand, Prop):
            raise _error(f"expected a geometry at position {tok.pos}")
        return operand

    def number(self) -> float:
        tok = self.take()
        if tok.kind != "num":
            raise _error(f"expected a number at position {tok.pos}")
        return float(tok.text)

    def spatial(self) -> Expr:
        name = self.take().text.upper()
        self.expect("(")
        first = self.geometry_arg()
        self.expect(",")
        second = self.geometry_arg()
        if name == "S_DWITHIN":
            self.expect(",")
            distance = self.number()
            if self.tok.text == ",":
                self.take()
                unit = self.take().text.lower()
                if unit not in _UNITS:
                    raise _error(f"S_DWITHIN unit must be one of {', '.join(sorted(_UNITS))}")
                distance *= _UNITS[unit]
        self.expect(")")
        if isinstance(first, Prop) == isinstance(second, Prop):
            raise _error(f"{name} compares the geometry property with a geometry literal")
        prop, shape = (first, second) if isinstance(first, Prop) else (second, first)
        assert isinstance(prop, Prop) and isinstance(shape, BaseGeometry)
        if name != "S_DWITHIN":
            return Spatial(name, prop, shape, swapped=not isinstance(first, Prop))
        if shape.geom_type != "Point" or shape.is_empty:
            raise _error("S_DWITHIN takes a POINT(lon lat)")
        if distance < 0:
            raise _error("S_DWITHIN distance must not be negative")
        return DWithin(prop, float(shape.x), float(shape.y), distance)


def parse(text: str) -> Expr:
    """The expression tree of a CQL2-text filter; 400 (parameter `filter`) on any syntax error."""
    if not text.strip():
        raise _error("must not be empty")
    if len(text) > 20_000:
        raise _error("must be at most 20,000 characters")
    return _Parser(text).parse()
