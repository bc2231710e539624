"""Map pages (resident map, embeddable widget, alliance map), their compact data, the offline basemap
and the self-hosted front-end assets. Pages carry a strict CSP; nothing is loaded from third parties."""

from __future__ import annotations

import gzip
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from poi_service import params
from poi_service.api import embed_form, negotiate, schemas
from poi_service.api.contract import NOT_MODIFIED
from poi_service.api.deps import Services, ServicesDep
from poi_service.api.routes.places import Category, Text
from poi_service.api.routes.tiles import with_streets
from poi_service.boundaries import Boundaries, Level
from poi_service.errors import NotFound
from poi_service.maps import assets, basemap
from poi_service.maps.cache import PayloadCache, Prepared, gunzip_chunks, prepare_bytes
from poi_service.maps.data import members_payload, places_payload, select_places
from poi_service.maps.html import frame_sources
from poi_service.maps.i18n import Lang, texts
from poi_service.maps.open_state import OpenStates
from poi_service.maps.page import Page, render_plain
from poi_service.maps.pages import (
    EMBED_HELP,
    Link,
    Target,
    alliance_page,
    category_options,
    lang_links,
    places_page,
    served_basemap,
    snippet,
)
from poi_service.maps.persist import PLACES_KEY
from poi_service.memory import release_free_memory
from poi_service.models import Point
from poi_service.store import Near, PlaceFilter

LangQ = Annotated[
    Lang | None, Query(description="Language of the page: de or en (default: Accept-Language, else de).")
]
CenterQ = Annotated[str | None, Query(description="Map centre as lat,lon (WGS84), e.g. 54.7925,9.4096.")]
ZoomQ = Annotated[int | None, Query(description="Initial zoom level, 3..19.")]
RadiusQ = Annotated[
    float | None, Query(description="Only places within this many metres of center.", allow_inf_nan=False)
]
YEAR = "public, max-age=31536000, immutable"
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Permissions-Policy": "geolocation=(self), camera=(), microphone=()",
    "Vary": "Accept-Language",
}


log = logging.getLogger("poi_service.maps")


def _all_places(s: Services) -> object:
    return places_payload(select_places(s.store, PlaceFilter()), s.vocabulary)


def _build_later(cache_: PayloadCache, s: Services, token: int, open_states: OpenStates) -> None:
    """The places payload when none was kept (seconds at 100k places) and its opening state, then the basemap."""
    try:
        open_states.body(cache_.get(PLACES_KEY, token, lambda: _all_places(s)))
    except Exception:  # the first request builds it then
        log.warning("map payload warm-up failed", exc_info=True)
    basemap.warm(s.settings.data_dir, (Level.STATE,))
    release_free_memory()  # what building the payload and the basemap parsed and dropped


@asynccontextmanager
async def _warm_up(app: FastAPI) -> AsyncIterator[None]:
    """Before serving: compiles the page templates and takes the kept places payload (both well under a
    second), so the first visitor after a restart waits for neither; the rest runs in the background."""
    s: Services | None = getattr(app.state, "services", None)
    if s is not None:
        cache_ = _cache(app)
        places_page(s.settings, _target_at(""), lang="de", nav=[], data_url="")
        token = await run_in_threadpool(s.store.places.data_version)
        try:
            await run_in_threadpool(cache_.restore, PLACES_KEY, token)
        except Exception:  # an unreadable kept payload is rebuilt below
            log.warning("could not read the kept map payload", exc_info=True)
        threading.Thread(
            target=_build_later, args=(cache_, s, token, _open_states(app)), name="poi-maps-warm", daemon=True
        ).start()
    yield


router = APIRouter(tags=["maps"], lifespan=_warm_up)


def _cache(app: Any) -> PayloadCache:
    services: Services = app.state.services
    return services.maps


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def _json(request: Request, prepared: Prepared, cache_control: str = "no-cache") -> Response:
    headers = {"ETag": prepared.etag, "Cache-Control": cache_control, "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == prepared.etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(prepared.body_gz, media_type="application/json", headers=headers)
    # Decompressed as it is sent: the whole body is ~40 MB at 1M places.
    return StreamingResponse(gunzip_chunks(prepared.body_gz), media_type="application/json", headers=headers)


def _html(page: Page, embeddable: bool = False) -> HTMLResponse:
    headers = {**PAGE_HEADERS, "Content-Security-Policy": page.csp}
    if not embeddable:
        headers["X-Frame-Options"] = "SAMEORIGIN"
    return HTMLResponse(page.html, headers=headers)


def _center(center: str | None) -> tuple[float, float] | None:
    if center is None or not center.strip():
        return None
    parts = center.split(",")
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError:
        raise params.invalid("center", "must be lat,lon in degrees, e.g. 54.7925,9.4096") from None
    point = params.point(lat, lon)
    return point.lat, point.lon


def _zoom(zoom: int | None) -> int | None:
    if zoom is not None and not 3 <= zoom <= 19:
        raise params.invalid("zoom", "must be between 3 and 19")
    return zoom


def _target(request: Request) -> Target:
    return _target_at(_root(request))


def _target_at(root: str) -> Target:
    spec = served_basemap()
    return Target(
        assets.asset_urls(root + "/static"), basemap={k: {"url": root + v["url"]} for k, v in spec.items()}
    )


def _nav(request: Request, lang: Lang, here: str) -> list[Link]:
    root = _root(request)
    other = "en" if lang == "de" else "de"
    query = dict(request.query_params)
    query["lang"] = other
    t = texts(lang)
    maps = [
        (f"{root}/maps/places?lang={lang}", t["places_title"]),
        (f"{root}/maps/alliance?lang={lang}", t["alliance_title"]),
        (f"{root}/embed?lang={lang}", t["embed_help_title"]),
    ]
    return lang_links(lang, f"{root}{here}?{urlencode(query)}", [m for m in maps if here not in m[0]])


@router.get("/maps", summary="Index of the maps", response_class=HTMLResponse)
async def maps_index(request: Request, lang: LangQ = None) -> HTMLResponse:
    """Links to the three maps and the embed help."""
    lang = negotiate.language(request, lang)
    root = _root(request)
    t = texts(lang)
    links = [
        {"href": f"{root}/maps/places?lang={lang}", "text": t["places_title"]},
        {"href": f"{root}/maps/alliance?lang={lang}", "text": t["alliance_title"]},
        {"href": f"{root}/embed?lang={lang}", "text": t["embed_help_title"]},
    ]
    html = render_plain("index.html", lang=lang, t=t, assets=assets.asset_urls(root + "/static"), links=links)
    return HTMLResponse(
        html,
        headers={
            **PAGE_HEADERS,
            "X-Frame-Options": "SAMEORIGIN",
            "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src data:; base-uri 'none'; frame-ancestors 'self'",
        },
    )


@router.get("/maps/places", summary="Resident map of the directory", response_class=HTMLResponse)
async def places_map(
    services: ServicesDep,
    request: Request,
    lang: LangQ = None,
    category: Category = None,
    q: Text = None,
    center: CenterQ = None,
    zoom: ZoomQ = None,
) -> HTMLResponse:
    """Clustered markers, a layer per category, search, locate-me and the list; `category` and `q` preset
    the filters, `center`/`zoom` the view (the list is then sorted by distance from center)."""
    lang = negotiate.language(request, lang)
    cats = params.categories(category, services.vocabulary)
    page = places_page(
        services.settings,
        with_streets(request, _target(request)),
        lang=lang,
        nav=_nav(request, lang, "/maps/places"),
        data_url=_root(request) + "/maps/places/data.json",
        q=params.text(q) or "",
        categories=cats,
        center=_center(center),
        zoom=_zoom(zoom),
    )
    return _html(page)


@router.get("/maps/embed", summary="Embeddable map widget", response_class=HTMLResponse)
async def embed_map(
    services: ServicesDep,
    request: Request,
    lang: LangQ = None,
    category: Category = None,
    q: Text = None,
    center: CenterQ = None,
    zoom: ZoomQ = None,
    radius_m: RadiusQ = None,
) -> HTMLResponse:
    """A minimal map for an iframe; framing is allowed for 'self' and POI_FRAME_ANCESTORS only."""
    lang = negotiate.language(request, lang)
    s = services.settings
    cats = params.categories(category, services.vocabulary)
    point = _center(center)
    if radius_m is not None:
        if point is None:
            raise params.invalid("radius_m", "needs center")
        params.radius(radius_m, s)
    query = {
        k: v
        for k, v in (
            ("category", ",".join(cats)),
            ("q", params.text(q) or ""),
            ("center", center or ""),
            ("radius_m", "" if radius_m is None else f"{radius_m:g}"),
        )
        if v
    }
    root = _root(request)
    full = f"{root}/maps/places?" + urlencode(
        {k: v for k, v in {**query, "lang": lang}.items() if k != "radius_m"}
    )
    page = places_page(
        s,
        with_streets(request, _target(request)),
        lang=lang,
        nav=[],
        embed=True,
        q=params.text(q) or "",
        categories=cats,
        data_url=f"{root}/maps/places/data.json" + (f"?{urlencode(query)}" if query else ""),
        center=point,
        zoom=_zoom(zoom),
        radius_m=radius_m,
        full_map_url=full,
        frame_ancestors=frame_sources(s.frame_ancestors),
    )
    return _html(page, embeddable=True)


@router.get(
    "/maps/places/data.json",
    summary="Compact place data of the maps",
    response_model=schemas.PlacesMapData,
    responses={304: NOT_MODIFIED},
)
async def places_data(
    services: ServicesDep,
    request: Request,
    category: Category = None,
    q: Text = None,
    center: CenterQ = None,
    radius_m: RadiusQ = None,
) -> Response:
    """Places as columns (lon, lat, cat, prec, name, addr + sparse phone/web/desc/src/oh/wc), sorted by name."""
    return _json(request, await _places_prepared(services, request, category, q, center, radius_m))


@router.get(
    "/maps/places/open.json",
    summary="Opening state of the map's places now",
    response_model=schemas.PlacesMapOpen,
)
async def places_open(
    services: ServicesDep,
    request: Request,
    category: Category = None,
    q: Text = None,
    center: CenterQ = None,
    radius_m: RadiusQ = None,
) -> Response:
    """For the rows of data.json (same parameters) with opening hours: open (1/0/null), the next change
    as local HH:MM and its weekday (-1: today or a closing soon), at the current minute."""
    prepared = await _places_prepared(services, request, category, q, center, radius_m)
    body = await run_in_threadpool(_open_states(request.app).body, prepared)
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-cache"})


def _open_states(app: Any) -> OpenStates:
    services: Services = app.state.services
    return services.maps_open


async def _places_prepared(
    services: Services,
    request: Request,
    category: list[str] | None,
    q: str | None,
    center: str | None,
    radius_m: float | None,
) -> Prepared:
    s = services
    flt = params.place_filter(category, q, s.vocabulary)
    point = _center(center)
    near = None
    if radius_m is not None:
        if point is None:
            raise params.invalid("radius_m", "needs center")
        near = Near(Point(point[1], point[0]), params.radius(radius_m, s.settings))
    key = ("places", flt.categories, flt.text, near)  # PLACES_KEY without conditions

    def build() -> object:
        return places_payload(select_places(s.store, flt, near), s.vocabulary)

    cache_ = _cache(request.app)
    token = await run_in_threadpool(s.store.places.data_version)
    return await run_in_threadpool(cache_.get, key, token, build)


@router.get("/maps/alliance", summary="Alliance membership map", response_class=HTMLResponse)
async def alliance_map(services: ServicesDep, request: Request, lang: LangQ = None) -> HTMLResponse:
    """A layer per alliance, coordinators highlighted, members per state, a year slider and a table."""
    lang = negotiate.language(request, lang)
    page = alliance_page(
        services.settings,
        _target(request),
        lang=lang,
        nav=_nav(request, lang, "/maps/alliance"),
        data_url=_root(request) + "/maps/alliance/data.json",
    )
    return _html(page)


@router.get(
    "/maps/alliance/data.json",
    summary="Compact membership data of the alliance map",
    response_model=schemas.AllianceMapData,
    responses={304: NOT_MODIFIED},
)
async def alliance_data(services: ServicesDep, request: Request) -> Response:
    """Memberships with alliance, role, join date (source precision), state key and source link."""
    s = services

    def build() -> object:
        return members_payload(s.store.memberships.iter_all(), Boundaries.load(s.settings.data_dir))

    token = await run_in_threadpool(s.store.memberships.data_version)
    return _json(request, await run_in_threadpool(_cache(request.app).get, ("members",), token, build))


@router.get(
    "/maps/basemap/{level}.json",
    summary="Compact boundaries for the offline basemap",
    response_model=schemas.BasemapLayer,
    responses={304: NOT_MODIFIED},
)
async def basemap_layer(
    services: ServicesDep,
    request: Request,
    level: Level,
    bbox: Annotated[
        str | None, Query(description="minx,miny,maxx,maxy; required for municipalities.")
    ] = None,
) -> Response:
    """Simplified, rounded state/district/municipality outlines (municipalities only by bbox)."""
    data_dir = services.settings.data_dir
    if level != Level.MUNICIPALITY:  # the next level is the next a visitor zooming in asks for
        basemap.warm(data_dir, (Level.DISTRICT if level == Level.STATE else Level.MUNICIPALITY,))
    if level != Level.MUNICIPALITY and bbox is None:
        layer = await run_in_threadpool(basemap.layer, data_dir, level)
        return _json(
            request,
            Prepared(layer.body_gz, f'"{level.value}-{len(layer.body)}"', 0, 0),
            "public, max-age=86400",
        )
    box = params.bbox(bbox)
    if box is None:
        raise params.invalid("bbox", "is required for municipalities")
    if (box.maxx - box.minx) * (box.maxy - box.miny) > basemap.MAX_MUNICIPALITY_BOX_DEG2:
        raise params.invalid("bbox", f"covers more than {basemap.MAX_MUNICIPALITY_BOX_DEG2:g} square degrees")
    body, _ = await run_in_threadpool(
        basemap.within, data_dir, level, (box.minx, box.miny, box.maxx, box.maxy)
    )
    return _json(request, prepare_bytes(body), "public, max-age=86400")


@router.get("/embed", summary="How to embed the map widget", response_class=HTMLResponse)
async def embed_help(
    services: ServicesDep,
    request: Request,
    lang: LangQ = None,
    category: str | None = None,
    q: str | None = None,
    center: str | None = None,
    zoom: str | None = None,
    radius_m: str | None = None,
) -> HTMLResponse:
    """The copy-paste iframe snippet, a form to configure it, and a preview."""
    lang = negotiate.language(request, lang)
    s = services.settings
    base = str(getattr(s, "base_url", "") or request.base_url).rstrip("/")
    values = {
        "category": category or "",
        "q": q or "",
        "center": center or "",
        "zoom": zoom or "",
        "radius_m": radius_m or "",
    }
    bad = embed_form.errors(values, services, lang)  # shown in the form; the snippet leaves them out
    query = urlencode(
        {k: v.strip() for k, v in {**values, "lang": lang}.items() if v.strip() and k not in bad}
    )
    embed_path = f"{_root(request)}/maps/embed?{query}"
    t = texts(lang)
    html = render_plain(
        "embed_help.html",
        lang=lang,
        t=t,
        h=EMBED_HELP[lang],
        assets=assets.asset_urls(_root(request) + "/static"),
        snippet=snippet(f"{base}/maps/embed?{query}", t["embed_title"]),
        embed_url=embed_path,
        values=values,
        categories=category_options(services.vocabulary, lang),
        form_action=f"{_root(request)}/embed",
        frame_ancestors=frame_sources(s.frame_ancestors),
        errors=bad,
        error_summary=embed_form.MESSAGES[lang]["summary"],
    )
    csp = (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'self'"
    )
    return HTMLResponse(
        html, headers={**PAGE_HEADERS, "Content-Security-Policy": csp, "X-Frame-Options": "SAMEORIGIN"}
    )


@cache
def _asset_bytes(package: str, path: str) -> tuple[bytes, bytes, str]:
    found = assets.find(package, path)
    if found is None:
        raise NotFound(f"no static file {package}/{path}")
    body = found[0].read_bytes()
    return body, gzip.compress(body, 9), found[1]


@router.get(
    "/static/{package}/{version}/{path:path}", summary="Self-hosted map assets", include_in_schema=False
)
async def static_asset(request: Request, package: str, version: str, path: str) -> Response:
    """Leaflet, Leaflet.markercluster and the map scripts; cached for a year under their version."""
    if assets.find(package, path) is None:
        raise NotFound(f"no static file {package}/{path}")
    body, body_gz, media = await run_in_threadpool(_asset_bytes, package, path)
    current = assets.packages()[package].version
    headers = {"Cache-Control": YEAR if version == current else "no-cache", "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", "") and not media.startswith("image/"):
        headers["Content-Encoding"] = "gzip"
        return Response(body_gz, media_type=media, headers=headers)
    return Response(body, media_type=media, headers=headers)
