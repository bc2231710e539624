"""Query-string reading for the hot GET routes, documented in OpenAPI from the same declarations.

FastAPI validates every declared query parameter through pydantic and re-inspects its annotation on
each request: about 40 % of an in-process GET /places/nearby (bench/http_bench.py --profile). These
routes read the query string once with float()/int() instead and refuse bad input exactly as the
declared parameters did: one 400 problem+json naming every bad parameter, in pydantic's wording."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Query

from poi_service.errors import InvalidInput, InvalidParam

MISSING = "Field required"
NOT_NUMBER = "Input should be a valid number, unable to parse string as a number"
NOT_FINITE = "Input should be a finite number"
NOT_INTEGER = "Input should be a valid integer, unable to parse string as an integer"
_SCHEMA: dict[str, dict[str, Any]] = {
    "number": {"type": "number"},
    "integer": {"type": "integer"},
    "string": {"type": "string"},
    "array": {"type": "array", "items": {"type": "string"}},
}


@dataclass(frozen=True, slots=True)
class Param:
    """One query parameter: its OpenAPI description and the default when it is absent."""

    name: str
    kind: str  # number | integer | string | array
    description: str
    required: bool = False
    default: Any = None

    def query(self, **options: Any) -> Any:
        """FastAPI's Query(...) of this parameter, for routes that declare it the ordinary way: one
        description for both kinds of route."""
        return Query(description=self.description, **options)

    def openapi(self) -> dict[str, Any]:
        schema: dict[str, Any] = dict(_SCHEMA[self.kind])
        if self.default is not None:
            schema["default"] = self.default
        return {
            "name": self.name,
            "in": "query",
            "required": self.required,
            "description": self.description,
            "schema": schema,
        }


def openapi(*params: Param) -> dict[str, Any]:
    """`openapi_extra` of a route that reads these parameters itself."""
    return {"parameters": [p.openapi() for p in params]}


def query_pairs(raw: bytes) -> list[tuple[str, str]]:
    """(name, value) pairs of a raw query string, as Starlette's QueryParams reads them
    (parse_qsl of the latin-1 text, blank values kept); plain strings are split directly."""
    text = raw.decode("latin-1")
    if "%" in text or "+" in text:
        return parse_qsl(text, keep_blank_values=True)
    return [(name, value) for name, _, value in (p.partition("=") for p in text.split("&") if p)]


@dataclass
class Reader:
    """Reads parameters of one query string; `done()` raises every problem found at once."""

    values: dict[str, list[str]]
    errors: list[InvalidParam] = field(default_factory=list)

    @classmethod
    def of(cls, raw_query: bytes) -> Reader:
        """A reader of the raw query string (scope["query_string"])."""
        values: dict[str, list[str]] = {}
        for name, value in query_pairs(raw_query):
            values.setdefault(name, []).append(value)
        return cls(values)

    def _raw(self, p: Param) -> str | None:
        got = self.values.get(p.name)
        value = got[-1] if got else None  # the last one when repeated, as FastAPI does
        if value is None and p.required:
            self.errors.append(InvalidParam(p.name, MISSING))
        return value

    def number(self, p: Param) -> float:
        """A finite float (absent: the default; a refused value reads as nan)."""
        raw = self._raw(p)
        if raw is None:
            return float(p.default) if p.default is not None else math.nan
        try:
            value = float(raw)
        except ValueError:
            self.errors.append(InvalidParam(p.name, NOT_NUMBER))
            return math.nan
        if not math.isfinite(value):
            self.errors.append(InvalidParam(p.name, NOT_FINITE))
        return value

    def optional_integer(self, p: Param) -> int | None:
        """An int, or the default (None when there is none)."""
        raw = self._raw(p)
        if raw is None:
            return None if p.default is None else int(p.default)
        try:
            return int(raw)
        except ValueError:
            self.errors.append(InvalidParam(p.name, NOT_INTEGER))
            return None

    def integer(self, p: Param) -> int:
        """An int of a parameter with a default (a refused value reads as 0 until done() raises)."""
        value = self.optional_integer(p)
        return 0 if value is None else value

    def text(self, p: Param) -> str | None:
        return self._raw(p)

    def texts(self, p: Param) -> list[str] | None:
        """Every value of a repeatable parameter, None when absent."""
        return self.values.get(p.name) or None

    def done(self) -> None:
        if self.errors:
            raise InvalidInput("; ".join(f"{e.name}: {e.reason}" for e in self.errors), self.errors)
