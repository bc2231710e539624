"""Map pages (resident map, embeddable widget, alliance map, embed help); their data, basemap and assets
are served by map_data.py. Pages carry a strict CSP; nothing is loaded from third parties."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse

from poi_service import params
from poi_service.api import embed_form, negotiate
from poi_service.api.deps import Services, ServicesDep
from poi_service.api.routes.map_data import (
    CenterQ,
    RadiusQ,
    build_later,
    center_of,
    open_states,
    payload_cache,
    root_of,
)
from poi_service.api.routes.places import Category, Text
from poi_service.api.routes.tiles import with_streets
from poi_service.maps import assets
from poi_service.maps.html import frame_sources
from poi_service.maps.i18n import Lang, texts
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

LangQ = Annotated[
    Lang | None, Query(description="Language of the page: de or en (default: Accept-Language, else de).")
]
ZoomQ = Annotated[int | None, Query(description="Initial zoom level, 3..19.")]
log = logging.getLogger("poi_service.maps")
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Permissions-Policy": "geolocation=(self), camera=(), microphone=()",
    "Vary": "Accept-Language",
}


@asynccontextmanager
async def _warm_up(app: FastAPI) -> AsyncIterator[None]:
    """Right after start, in the background (/health answers first): compiles the page templates
    (importing folium), and takes the kept places payload or has it built once for all workers, so the
    first visitor after a restart waits for neither; a map request before that does both itself."""
    s: Services | None = getattr(app.state, "services", None)
    if s is not None:
        cache_ = payload_cache(app)

        def warm() -> None:
            places_page(s.settings, _target_at(""), lang="de", nav=[], data_url="")
            # Read here, not before serving: it waits while the index is built (seconds at 1M places).
            token = s.store.places.data_version()
            build_later(cache_, s, token, open_states(app))

        threading.Thread(target=warm, name="poi-maps-warm", daemon=True).start()
    yield


router = APIRouter(tags=["maps"], lifespan=_warm_up)


def _html(page: Page, embeddable: bool = False) -> HTMLResponse:
    headers = {**PAGE_HEADERS, "Content-Security-Policy": page.csp}
    if not embeddable:
        headers["X-Frame-Options"] = "SAMEORIGIN"
    return HTMLResponse(page.html, headers=headers)


def _zoom(zoom: int | None) -> int | None:
    if zoom is not None and not 3 <= zoom <= 19:
        raise params.invalid("zoom", "must be between 3 and 19")
    return zoom


def _target(request: Request) -> Target:
    return _target_at(root_of(request))


def _target_at(root: str) -> Target:
    spec = served_basemap()
    return Target(
        assets.asset_urls(root + "/static"), basemap={k: {"url": root + v["url"]} for k, v in spec.items()}
    )


def _nav(request: Request, lang: Lang, here: str) -> list[Link]:
    root = root_of(request)
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
    root = root_of(request)
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
        data_url=root_of(request) + "/maps/places/data.json",
        q=params.text(q) or "",
        categories=cats,
        center=center_of(center),
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
    point = center_of(center)
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
    root = root_of(request)
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


@router.get("/maps/alliance", summary="Alliance membership map", response_class=HTMLResponse)
async def alliance_map(services: ServicesDep, request: Request, lang: LangQ = None) -> HTMLResponse:
    """A layer per alliance, coordinators highlighted, members per state, a year slider and a table."""
    lang = negotiate.language(request, lang)
    page = alliance_page(
        services.settings,
        _target(request),
        lang=lang,
        nav=_nav(request, lang, "/maps/alliance"),
        data_url=root_of(request) + "/maps/alliance/data.json",
    )
    return _html(page)


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
    embed_path = f"{root_of(request)}/maps/embed?{query}"
    t = texts(lang)
    html = render_plain(
        "embed_help.html",
        lang=lang,
        t=t,
        h=EMBED_HELP[lang],
        assets=assets.asset_urls(root_of(request) + "/static"),
        snippet=snippet(f"{base}/maps/embed?{query}", t["embed_title"]),
        embed_url=embed_path,
        values=values,
        categories=category_options(services.vocabulary, lang),
        form_action=f"{root_of(request)}/embed",
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
