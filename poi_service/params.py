"""Query-parameter parsing shared by the routers: every refusal names its parameter."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from poi_service.categories import Vocabulary
from poi_service.config import Settings
from poi_service.errors import invalid
from poi_service.geocode.gazetteer import load_gazetteer
from poi_service.geocode.normalize import fold, transliterated
from poi_service.models import BBox, Point
from poi_service.store.base import PlaceFilter

__all__ = [
    "bbox",
    "categories",
    "checked_offset",
    "invalid",
    "k_nearest",
    "page",
    "point",
    "polygon",
    "radius",
    "state",
    "text",
]


def point(lat: float, lon: float) -> Point:
    """A checked point from lat/lon parameters (FastAPI has already refused text)."""
    if not math.isfinite(lat) or not -90.0 <= lat <= 90.0:
        raise invalid("lat", "must be a number between -90 and 90")
    if not math.isfinite(lon) or not -180.0 <= lon <= 180.0:
        raise invalid("lon", "must be a number between -180 and 180")
    return Point(lon, lat)


def radius(radius_m: float, settings: Settings) -> float:
    """A radius within the documented bounds."""
    if not math.isfinite(radius_m) or radius_m <= 0:
        raise invalid("radius_m", "must be a number greater than 0")
    if radius_m > settings.max_radius_m:
        raise invalid("radius_m", f"must be at most {settings.max_radius_m:g} metres")
    return radius_m


def page(limit: int | None, offset: int, settings: Settings) -> tuple[int, int]:
    """(limit, offset) within the documented bounds."""
    size = settings.default_page_size if limit is None else limit
    if not 1 <= size <= settings.max_page_size:
        raise invalid("limit", f"must be between 1 and {settings.max_page_size}")
    return size, checked_offset(offset)


# Stores take offsets as 64-bit integers (SQLite refused 2^63 with an OverflowError: a 500); no
# store holds a billion records, so a larger offset could only ever answer an empty page.
MAX_OFFSET = 1_000_000_000


def checked_offset(offset: int) -> int:
    """An offset within 0..MAX_OFFSET."""
    if not 0 <= offset <= MAX_OFFSET:
        raise invalid("offset", f"must be between 0 and {MAX_OFFSET:,}")
    return offset


def k_nearest(k: int, settings: Settings) -> int:
    """k within the documented bounds."""
    if not 1 <= k <= settings.max_k:
        raise invalid("k", f"must be between 1 and {settings.max_k}")
    return k


def bbox(text: str | None) -> BBox | None:
    """'minx,miny,maxx,maxy' in degrees (lon/lat), min <= max."""
    if text is None:
        return None
    parts = text.split(",")
    if len(parts) != 4:
        raise invalid("bbox", "must be four numbers: minx,miny,maxx,maxy (lon/lat degrees)")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise invalid("bbox", "must be four numbers: minx,miny,maxx,maxy (lon/lat degrees)") from None
    if not all(math.isfinite(v) for v in values):
        raise invalid("bbox", "numbers must be finite")
    try:
        return BBox(*values)
    except ValueError as exc:
        raise invalid("bbox", str(exc)) from None


def categories(values: list[str] | None, vocabulary: Vocabulary) -> tuple[str, ...]:
    """Category slugs (repeated or comma-separated), each from the vocabulary."""
    slugs = [s.strip() for v in values or [] for s in v.split(",") if s.strip()]
    return tuple(vocabulary.require(s).slug for s in slugs)


def place_filter(values: list[str] | None, q: str | None, vocabulary: Vocabulary) -> PlaceFilter:
    """The place filter of category and q parameters; q also finds places of categories it names."""
    text_ = text(q)
    return PlaceFilter(categories(values, vocabulary), text_, vocabulary.matching(text_))


def state(text: str | None, data_dir: Path) -> str | None:
    """A German state by name, ISO 3166-2 code ('NI', 'DE-NI') or AGS ('03') -> the name records store."""
    if text is None or not text.strip():
        return None
    gaz = load_gazetteer(data_dir)
    key = text.strip()
    # state_code folds case, accents and hyphens; transliterated() adds 'Thueringen' for 'Thüringen'.
    code = gaz.state_code(key) or gaz.state_code(transliterated(fold(key)))
    if code is None and len(key) == 2 and key.isdigit():
        code = next((d.state_code for ags, d in gaz.districts.items() if ags[:2] == key), None)
    if code is None:
        raise invalid(
            "state", f"unknown German state {key!r}; give a name, a code (NI, DE-NI) or an AGS (03)"
        )
    return gaz.states[code]


def text(q: str | None) -> str | None:
    """A search text, or None when blank."""
    if q is None or not q.strip():
        return None
    if len(q) > 200:
        raise invalid("q", "must be at most 200 characters")
    return q.strip()


def polygon(body: Any, settings: Settings) -> BaseGeometry:
    """A valid GeoJSON Polygon or MultiPolygon (bare or in a Feature) within the vertex limit."""
    if isinstance(body, dict) and body.get("type") == "Feature":
        body = body.get("geometry")
    if not isinstance(body, dict) or body.get("type") not in ("Polygon", "MultiPolygon"):
        raise invalid("body", "must be a GeoJSON Polygon or MultiPolygon (or a Feature with one)")
    try:
        geom = shapely.geometry.shape(body)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise invalid("body", f"malformed GeoJSON geometry: {exc}") from None
    vertices = int(shapely.get_num_coordinates(geom))
    if vertices > settings.max_polygon_vertices:
        raise invalid(
            "body", f"has {vertices} vertices; at most {settings.max_polygon_vertices} are accepted"
        )
    coords = shapely.get_coordinates(geom)
    if geom.is_empty or not (abs(coords[:, 0]) <= 180).all() or not (abs(coords[:, 1]) <= 90).all():
        raise invalid("body", "coordinates must be lon/lat degrees within -180..180 / -90..90")
    if not geom.is_valid:
        raise invalid("body", f"invalid polygon: {shapely.is_valid_reason(geom)}")
    return geom
