"""The JSON documents of the API: landing page, conformance, collections, items, queryables."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any
from urllib.parse import quote

from starlette.datastructures import URL

from poi_service import __version__
from poi_service.attribution import DATA_ATTRIBUTIONS
from poi_service.ogc import (
    CONFORMANCE,
    CRS84,
    GEOJSON,
    GREGORIAN,
    HTML,
    JSON,
    OPENAPI_JSON,
    REL_CONFORMANCE,
    REL_DATA,
    REL_QUERYABLES,
    SCHEMA_JSON,
)
from poi_service.ogc.sources import Source
from poi_service.ogc.temporal import iso_utc
from poi_service.services import Services

TITLE = "poi-service: OGC API – Features"
DESCRIPTION = (
    "Places of the municipality, the members of the Safe Harbours alliances and the German "
    "state and district boundaries, as OGC API – Features collections (GeoJSON, CRS84)."
)


def link(href: str, rel: str, type_: str, title: str | None = None) -> dict[str, str]:
    """One link object."""
    out = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    return out


def with_format(url: URL, f: str) -> str:
    """The URL with every query parameter kept and f set."""
    return str(url.include_query_params(f=f))


def self_links(url: URL, json_type: str = JSON) -> list[dict[str, str]]:
    """self (JSON) and alternate (HTML) of the current resource, query parameters kept."""
    return [
        link(with_format(url, "json"), "self", json_type, "This document as JSON"),
        link(with_format(url, "html"), "alternate", HTML, "This document as HTML"),
    ]


def landing(base: str, url: URL) -> dict[str, Any]:
    """The landing page with service-desc, service-doc, conformance and data links."""
    links = [
        *self_links(url),
        link(f"{base}/api", "service-desc", OPENAPI_JSON, "The API definition (OpenAPI 3.0)"),
        link(f"{base}/api?f=html", "service-doc", HTML, "The API documentation"),
        link(f"{base}/conformance", "conformance", JSON, "Conformance classes implemented"),
        link(f"{base}/conformance", REL_CONFORMANCE, JSON, "Conformance classes implemented"),
        link(f"{base}/collections", "data", JSON, "The feature collections"),
        link(f"{base}/collections", REL_DATA, JSON, "The feature collections"),
    ]
    return {
        "title": TITLE,
        "description": DESCRIPTION,
        "version": __version__,
        "attribution": " · ".join(DATA_ATTRIBUTIONS),
        "links": links,
    }


def conformance(url: URL) -> dict[str, Any]:
    """The conformance declaration."""
    return {"conformsTo": list(CONFORMANCE), "links": self_links(url)}


def _extent(src: Source, services: Services) -> dict[str, Any] | None:
    extent = src.extent(services)
    if extent is None or extent.bbox is None:
        return None
    out: dict[str, Any] = {"spatial": {"bbox": [list(extent.bbox)], "crs": CRS84}}
    if src.temporal is not None:
        interval: list[str | None] = [None, None]
        if extent.interval is not None:
            start, end = extent.interval
            interval = [
                iso_utc(datetime.combine(start, time(0), UTC)),
                iso_utc(datetime.combine(end, time(0), UTC)),
            ]
        out["temporal"] = {"interval": [interval], "trs": GREGORIAN}
    return out


def collection(base: str, src: Source, services: Services, self_url: URL | None = None) -> dict[str, Any]:
    """One collection's metadata with its typed items and queryables links."""
    here = f"{base}/collections/{src.id}"
    links = (
        self_links(self_url)
        if self_url is not None
        else [link(here, "self", JSON, src.title), link(f"{here}?f=html", "alternate", HTML, src.title)]
    )
    links += [
        link(f"{here}/items", "items", GEOJSON, f"{src.title} as GeoJSON"),
        link(f"{here}/items?f=html", "items", HTML, f"{src.title} as HTML"),
        link(f"{here}/queryables", REL_QUERYABLES, SCHEMA_JSON, "Queryable properties"),
        link(f"{here}/queryables?f=html", REL_QUERYABLES, HTML, "Queryable properties as HTML"),
    ]
    out: dict[str, Any] = {
        "id": src.id,
        "title": src.title,
        "description": src.description,
        "itemType": "feature",
        "crs": [CRS84],
        "links": links,
    }
    extent = _extent(src, services)
    if extent is not None:
        out["extent"] = extent
    return out


def collections(base: str, sources: list[Source], services: Services, url: URL) -> dict[str, Any]:
    """Every collection."""
    return {"links": self_links(url), "collections": [collection(base, s, services) for s in sources]}


def items(
    base: str, src: Source, url: URL, features: list[dict[str, Any]], matched: int, limit: int, offset: int
) -> dict[str, Any]:
    """A page of features with exact counts; next/prev keep every query parameter of the request."""
    links = [*self_links(url, GEOJSON), link(f"{base}/collections/{src.id}", "collection", JSON, src.title)]
    if offset + len(features) < matched:
        links.append(
            link(
                str(url.include_query_params(offset=offset + limit, limit=limit, f="json")),
                "next",
                GEOJSON,
                "Next page",
            )
        )
    if offset > 0:
        links.append(
            link(
                str(url.include_query_params(offset=max(0, offset - limit), limit=limit, f="json")),
                "prev",
                GEOJSON,
                "Previous page",
            )
        )
    return {
        "type": "FeatureCollection",
        "timeStamp": iso_utc(datetime.now(UTC)),
        "numberMatched": matched,
        "numberReturned": len(features),
        "features": features,
        "links": links,
    }


def item_url(base: str, src: Source, feature_id: str) -> str:
    """The canonical URL of a feature."""
    return f"{base}/collections/{src.id}/items/{quote(feature_id, safe='')}"


def item(base: str, src: Source, feature: dict[str, Any], url: URL) -> dict[str, Any]:
    """One feature with self, alternate and collection links."""
    links = [*self_links(url, GEOJSON), link(f"{base}/collections/{src.id}", "collection", JSON, src.title)]
    return {**feature, "links": links}


def queryables(base: str, src: Source, services: Services) -> dict[str, Any]:
    """The queryables as a JSON Schema (OGC API – Features Part 3)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}/collections/{src.id}/queryables",
        "type": "object",
        "title": src.title,
        "properties": {n: q.schema() for n, q in src.queryables(services).items()},
        "additionalProperties": False,
    }
