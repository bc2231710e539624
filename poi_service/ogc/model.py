"""Shared value types of the OGC layer: queryables, items (a feature and its geometry), sort keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from shapely.geometry.base import BaseGeometry

QueryableType = Literal["string", "integer", "number", "boolean", "date", "date-time", "geometry"]


@dataclass(frozen=True, slots=True)
class Queryable:
    """A feature property a client may filter (filter=, name=value) and sort (sortby=) on."""

    name: str
    type: QueryableType
    title: str
    enum: tuple[str, ...] = ()
    geometry_format: str = "any"  # for the geometry: point, polygon-or-multipolygon, ...

    def schema(self) -> dict[str, Any]:
        """This property as a JSON Schema fragment (OGC API – Features Part 3 queryables)."""
        if self.type == "geometry":
            return {"title": self.title, "format": f"geometry-{self.geometry_format}"}
        out: dict[str, Any] = {"title": self.title}
        if self.type in ("date", "date-time"):
            out.update(type="string", format=self.type)
        else:
            out["type"] = self.type
        if self.enum:
            out["enum"] = list(self.enum)
        return out


@dataclass(slots=True)
class Item:
    """One feature: its GeoJSON dict (as served) and its geometry for spatial tests (None if absent)."""

    feature: dict[str, Any]
    geometry: BaseGeometry | None
    _typed: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.feature["id"])

    def value(self, queryable: Queryable) -> Any:
        """The property's value typed for comparison (dates and timestamps parsed), None if missing."""
        name = queryable.name
        if name in self._typed:
            return self._typed[name]
        raw = self.feature["properties"].get(name)
        value: Any = raw
        if raw is not None and queryable.type == "date":
            value = date.fromisoformat(str(raw)[:10])
        elif raw is not None and queryable.type == "date-time":
            value = datetime.fromisoformat(str(raw))
        self._typed[name] = value
        return value


@dataclass(frozen=True, slots=True)
class SortKey:
    """One sortby term: a property and its direction."""

    name: str
    descending: bool = False
