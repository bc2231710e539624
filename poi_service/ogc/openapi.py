"""The OpenAPI 3.0 definition of /ogc (service-desc), one path per collection with its parameters."""

from __future__ import annotations

from typing import Any

from poi_service import __version__
from poi_service.ogc import (
    DEFAULT_LIMIT,
    GEOJSON,
    HTML,
    JSON,
    MAX_EVALUATED,
    MAX_LIMIT,
    OPENAPI_JSON,
    SCHEMA_JSON,
)
from poi_service.ogc.documents import DESCRIPTION, TITLE
from poi_service.ogc.request import HOURS_PARAMS, ITEMS_PARAMS
from poi_service.ogc.sources import Source
from poi_service.services import Services

_REF = "#/components/parameters/"
_OPEN = {"type": "object", "additionalProperties": True}


def _param(name: str, description: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
        "style": "form",
        "explode": False,
        **extra,
    }


PARAMETERS: dict[str, dict[str, Any]] = {
    "f": _param(
        "f",
        "Output format; without it JSON, or HTML for clients that accept text/html only.",
        {"type": "string", "enum": ["json", "html"]},
    ),
    "limit": _param(
        "limit",
        f"Page size. Minimum = 1. Maximum = {MAX_LIMIT}. Default = {DEFAULT_LIMIT}. "
        "Larger values are refused (400); follow the next links to page.",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    ),
    "offset": _param(
        "offset",
        "Features to skip (the next/prev links set it).",
        {"type": "integer", "minimum": 0, "default": 0},
    ),
    "bbox": _param(
        "bbox",
        "minlon,minlat,maxlon,maxlat (4 or 6 numbers) in CRS84. Features whose geometry "
        "intersects the box (boundary included); minlon > maxlon crosses the antimeridian.",
        {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
    ),
    "bbox-crs": _param("bbox-crs", "Only CRS84 is supported.", {"type": "string", "format": "uri"}),
    "crs": _param("crs", "Only CRS84 is supported.", {"type": "string", "format": "uri"}),
    "datetime": _param(
        "datetime",
        "RFC 3339 instant or interval (start/end, '..' for an open end); a "
        "date stands for its whole UTC day. Applies to the collection's temporal property "
        "(alliance-members: joined_date); collections without one keep every feature.",
        {"type": "string"},
    ),
    "filter": _param(
        "filter",
        "CQL2-text filter on the queryables: comparisons, LIKE, BETWEEN, IN, "
        "IS NULL, AND/OR/NOT, S_INTERSECTS and the other S_* functions with WKT or BBOX(...) "
        "literals in CRS84; extension: S_DWITHIN(geometry, POINT(lon lat), metres). Evaluated "
        f"over at most {MAX_EVALUATED} features matching the other parameters.",
        {"type": "string"},
    ),
    "filter-lang": _param("filter-lang", "Only cql2-text.", {"type": "string", "enum": ["cql2-text"]}),
    "filter-crs": _param("filter-crs", "Only CRS84 is supported.", {"type": "string", "format": "uri"}),
    "sortby": _param(
        "sortby",
        "Comma-separated queryables, '-' for descending (e.g. -joined_date,name); "
        f"missing values last. Evaluated over at most {MAX_EVALUATED} matching features.",
        {"type": "array", "items": {"type": "string", "pattern": "[+-]?[A-Za-z_].*"}},
    ),
    "properties": _param(
        "properties",
        "Comma-separated properties to return (empty: none).",
        {"type": "array", "items": {"type": "string"}},
    ),
    "skipGeometry": _param(
        "skipGeometry", "true returns features without geometry.", {"type": "boolean", "default": False}
    ),
    "near": _param(
        "near",
        "Extension (OGC API – Features has no point-radius query): lon,lat in CRS84; "
        "with radius_m, features within that geodesic distance (WGS84), nearest first unless "
        "sortby is given, each with properties.distance_m.",
        {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "number"}},
    ),
    "radius_m": _param(
        "radius_m",
        "Radius of near= in metres, > 0 and at most POI_MAX_RADIUS_M.",
        {"type": "number", "exclusiveMinimum": True, "minimum": 0},
    ),
    "q": _param(
        "q", "Words that must all occur (prefix match, case- and accent-insensitive).", {"type": "string"}
    ),
    "open_at": _param(
        "open_at",
        "Extension: only places whose opening_hours say open at this RFC 3339 date-time "
        "(with offset), in each place's local time; features then carry open and next_change.",
        {"type": "string", "format": "date-time"},
    ),
    "open_now": _param("open_now", "Extension: true is open_at with the current time.", {"type": "boolean"}),
}
_F = {"$ref": _REF + "f"}


def _responses(ok: str, media: tuple[str, ...], not_found: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "200": {"description": ok, "content": {m: {"schema": _OPEN} for m in media}},
        "400": {"$ref": "#/components/responses/Problem"},
    }
    if not_found:
        out["404"] = {"$ref": "#/components/responses/Problem"}
    return out


def _get(
    op_id: str, summary: str, params: list[dict[str, Any]], responses: dict[str, Any], tag: str
) -> dict[str, Any]:
    return {
        "get": {
            "operationId": op_id,
            "summary": summary,
            "tags": [tag],
            "parameters": params,
            "responses": responses,
        }
    }


def _property_param(name: str, schema: dict[str, Any], repeatable: bool) -> dict[str, Any]:
    schema = {k: v for k, v in schema.items() if k != "title"}
    if repeatable:
        schema = {"type": "array", "items": schema}
    return _param(
        name,
        f"Features whose {name} equals the value" + (" (any of several)" if repeatable else "") + ".",
        schema,
        explode=repeatable,
    )


def _collection_paths(src: Source, services: Services) -> dict[str, Any]:
    here, tag = f"/collections/{src.id}", src.id
    own = [
        _property_param(n, q.schema(), n in src.repeatable)
        for n, q in src.queryables(services).items()
        if q.type != "geometry"
    ]
    items = (
        [{"$ref": _REF + p} for p in ITEMS_PARAMS] + ([{"$ref": _REF + "q"}] if src.text_search else []) + own
    )
    items += [{"$ref": _REF + p} for p in (HOURS_PARAMS if src.hours else ())]
    fid = {
        "name": "featureId",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": "The feature's id (AGS for states and districts).",
    }
    return {
        here: _get(
            f"describe-{src.id}",
            f"{src.title}: metadata",
            [_F],
            _responses("The collection", (JSON, HTML), True),
            tag,
        ),
        f"{here}/items": _get(
            f"items-{src.id}",
            f"{src.title}: features",
            items,
            _responses("A page of features", (GEOJSON, HTML)),
            tag,
        ),
        f"{here}/items/{{featureId}}": _get(
            f"item-{src.id}",
            f"{src.title}: one feature",
            [fid, _F],
            _responses("A feature", (GEOJSON, HTML), True),
            tag,
        ),
        f"{here}/queryables": _get(
            f"queryables-{src.id}",
            f"{src.title}: queryable properties",
            [_F],
            _responses("The queryables", (SCHEMA_JSON, HTML), True),
            tag,
        ),
    }


def document(base: str, sources: list[Source], services: Services) -> dict[str, Any]:
    """The OpenAPI 3.0.3 document of the OGC API."""
    paths: dict[str, Any] = {
        "/": _get(
            "landing", "Landing page", [_F], _responses("Links to the API", (JSON, HTML)), "capabilities"
        ),
        "/conformance": _get(
            "conformance",
            "Conformance classes",
            [_F],
            _responses("The conformance declaration", (JSON, HTML)),
            "capabilities",
        ),
        "/api": _get(
            "api",
            "This API definition",
            [_F],
            _responses("OpenAPI 3.0", (OPENAPI_JSON, HTML)),
            "capabilities",
        ),
        "/collections": _get(
            "collections",
            "The feature collections",
            [_F],
            _responses("The collections", (JSON, HTML)),
            "capabilities",
        ),
    }
    for src in sources:
        paths.update(_collection_paths(src, services))
    problem = {
        "description": "Bad request (unknown or invalid parameter) or not found, as RFC 9457 problem",
        "content": {"application/problem+json": {"schema": _OPEN}},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": TITLE, "version": __version__, "description": DESCRIPTION},
        "servers": [{"url": base}],
        "tags": [{"name": "capabilities"}, *({"name": s.id, "description": s.title} for s in sources)],
        "paths": paths,
        "components": {"parameters": PARAMETERS, "responses": {"Problem": problem}},
    }
