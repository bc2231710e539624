"""HTML encoding of every resource: server-side rendered, autoescaped, no external URL; item and items
pages add a Leaflet map when the self-hosted map assets of poi_service.maps are installed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.datastructures import URL, QueryParams
from starlette.requests import Request
from starlette.responses import HTMLResponse

from poi_service.attribution import DATA_ATTRIBUTIONS
from poi_service.ogc.documents import TITLE, with_format
from poi_service.ogc.request import ItemsRequest
from poi_service.ogc.sources import Source
from poi_service.services import Services

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
HEADERS = {"Content-Security-Policy": CSP, "X-Frame-Options": "SAMEORIGIN", "Cache-Control": "no-cache"}
MAP_PREVIEW = 500  # features drawn on a collection's page
# Columns of the items table; other properties are on each feature's own page.
COLUMNS: dict[str, tuple[str, ...]] = {
    "places": ("name", "category_label", "address", "phone_display", "website"),
    "alliance-members": ("name", "state", "country", "alliance", "role", "joined"),
    "states": ("ags", "name", "designation"),
    "districts": ("ags", "name", "designation", "state"),
}


def _show(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _is_http(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://")) and " " not in value


_env = Environment(
    loader=PackageLoader("poi_service.ogc", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["show"] = _show
_env.tests["http"] = _is_http


def _map(request: Request, data_url: str, item_base: str) -> dict[str, Any] | None:
    """Leaflet assets and the map's configuration, or None without poi_service.maps (table only)."""
    try:
        from poi_service.maps import assets
    except ImportError:  # the maps package is optional for the OGC layer
        return None
    root = str(request.scope.get("root_path", "")).rstrip("/")
    urls = assets.asset_urls(root + "/static")
    basemap = {level: {"url": f"{root}/maps/basemap/{level}.json"} for level in ("state", "district")}
    return {
        "leaflet_js": urls.leaflet_js,
        "leaflet_css": urls.leaflet_css,
        "common_js": urls.common_js,
        "config": {
            "dataUrl": data_url,
            "itemBase": item_base,
            "basemap": basemap,
            "attribution": "Leaflet · " + DATA_ATTRIBUTIONS[0],
        },
    }


def _render(
    request: Request,
    template: str,
    title: str,
    crumbs: list[tuple[str, str]],
    body: Mapping[str, Any],
    **context: Any,
) -> HTMLResponse:
    base = str(request.base_url).rstrip("/") + "/ogc"
    json_href = next(
        (x["href"] for x in body.get("links", []) if x["rel"] == "self"), with_format(request.url, "json")
    )
    page = _env.get_template(template).render(
        title=title,
        site=TITLE,
        crumbs=[("OGC API", f"{base}?f=html"), *crumbs],
        json_href=json_href,
        attribution=DATA_ATTRIBUTIONS,
        body=body,
        base=base,
        static=f"{base}/static",
        map=context.pop("map", None),
        **context,
    )
    return HTMLResponse(page, headers=HEADERS)


def landing(request: Request, body: dict[str, Any]) -> HTMLResponse:
    links = [
        x for x in body["links"] if x["rel"] not in ("self", "alternate") and not x["rel"].startswith("http")
    ]
    return _render(request, "landing.html", TITLE, [], body, links=links)


def conformance(request: Request, body: dict[str, Any]) -> HTMLResponse:
    return _render(request, "conformance.html", "Conformance", [], body)


def api(request: Request, body: dict[str, Any]) -> HTMLResponse:
    return _render(request, "api.html", "API definition", [], body)


def collections(request: Request, body: dict[str, Any]) -> HTMLResponse:
    return _render(request, "collections.html", "Collections", [], body)


def _crumbs(request: Request, src: Source) -> list[tuple[str, str]]:
    base = str(request.base_url).rstrip("/") + "/ogc"
    return [("Collections", f"{base}/collections?f=html"), (src.title, f"{base}/collections/{src.id}?f=html")]


def collection(request: Request, body: dict[str, Any], src: Source, services: Services) -> HTMLResponse:
    base = str(request.base_url).rstrip("/") + "/ogc"
    here = f"{base}/collections/{src.id}"
    preview = _map(request, f"{here}/items?f=json&limit={MAP_PREVIEW}", f"{here}/items/")
    return _render(
        request,
        "collection.html",
        src.title,
        _crumbs(request, src)[:1],
        body,
        src=src,
        queryables=src.queryables(services),
        map=preview,
        preview=MAP_PREVIEW,
    )


def queryables(request: Request, body: dict[str, Any], src: Source) -> HTMLResponse:
    return _render(request, "queryables.html", f"{src.title}: queryables", _crumbs(request, src), body)


def items(
    request: Request, body: dict[str, Any], src: Source, services: Services, url: URL, req: ItemsRequest
) -> HTMLResponse:
    base = str(request.base_url).rstrip("/") + "/ogc"
    item_base = f"{base}/collections/{src.id}/items/"
    columns = list(COLUMNS.get(src.id, ("name",)))
    if req.near is not None:
        columns.append("distance_m")
    if req.properties is not None:
        columns = [c for c in columns if c in req.properties]
    pages = {
        x["rel"]: with_format(URL(x["href"]), "html") for x in body["links"] if x["rel"] in ("next", "prev")
    }
    return _render(
        request,
        "items.html",
        f"{src.title}: features",
        _crumbs(request, src),
        body,
        src=src,
        columns=columns,
        item_base=item_base,
        pages=pages,
        form=dict(QueryParams(url.query)),
        limit=req.limit,
        offset=req.offset,
        queryables=src.queryables(services),
        form_action=f"{base}/collections/{src.id}/items",
        map=_map(request, with_format(url, "json"), item_base) if not req.skip_geometry else None,
    )


def item(request: Request, body: dict[str, Any], src: Source) -> HTMLResponse:
    base = str(request.base_url).rstrip("/") + "/ogc"
    props = body.get("properties") or {}
    title = str(props.get("name") or body.get("id"))
    item_base = f"{base}/collections/{src.id}/items/"
    crumbs = [*_crumbs(request, src), ("Features", f"{base}/collections/{src.id}/items?f=html")]
    return _render(
        request,
        "item.html",
        title,
        crumbs,
        body,
        src=src,
        map=_map(request, with_format(request.url, "json"), item_base) if body.get("geometry") else None,
    )
