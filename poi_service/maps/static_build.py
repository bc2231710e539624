"""`poi-service maps build`: the maps as static HTML files for static hosting or opening from disk.

Layout of out_dir:
    index.html                      links to the maps
    places.html, places.en.html     resident map (German, English)
    embed.html, embed.en.html       the minimal widget
    alliance.html, alliance.en.html membership map
    assets/<package>/...            Leaflet, markercluster, the map scripts and CSS (copied, not linked)
    assets/basemap/*.js             compact state and district outlines

Data is inline in each page (browsers refuse fetch() from file://); scripts beside the pages load from
file:// as well. Each page carries its CSP as a <meta> tag.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

import orjson

from poi_service.boundaries import Boundaries, Level
from poi_service.categories import Vocabulary
from poi_service.config import Settings
from poi_service.maps import basemap
from poi_service.maps.assets import asset_urls, copy_assets
from poi_service.maps.data import members_payload, places_payload, select_places
from poi_service.maps.html import script_safe
from poi_service.maps.i18n import LANGS, Lang, texts
from poi_service.maps.pages import Link, Target, alliance_page, lang_links, places_page
from poi_service.store import PlaceFilter, Store

MAX_INLINE_MUNICIPALITIES = 1500
MARGIN_DEG = 0.2


def _suffix(lang: Lang) -> str:
    return "" if lang == "de" else ".en"


def _write(path: Path, text: str, written: list[Path]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    written.append(path)


def _municipalities(data_dir: Path, payload: dict[str, Any]) -> orjson.Fragment | None:
    """Municipality outlines around the places, when few enough to inline."""
    if not payload["n"]:
        return None
    box = (
        min(payload["lon"]) - MARGIN_DEG,
        min(payload["lat"]) - MARGIN_DEG,
        max(payload["lon"]) + MARGIN_DEG,
        max(payload["lat"]) + MARGIN_DEG,
    )
    body, count = basemap.within(data_dir, Level.MUNICIPALITY, box)
    return None if count > MAX_INLINE_MUNICIPALITIES else orjson.Fragment(body)


def _nav(lang: Lang, page: str) -> list[Link]:
    t = texts(lang)
    other: Lang = "en" if lang == "de" else "de"
    maps = [
        (f"places{_suffix(lang)}.html", t["places_title"]),
        (f"alliance{_suffix(lang)}.html", t["alliance_title"]),
    ]
    return lang_links(lang, f"{page}{_suffix(other)}.html", [m for m in maps if not m[0].startswith(page)])


def build_static_maps(store: Store, settings: Settings, out_dir: Path) -> list[Path]:
    """Writes the resident map, the widget and the alliance map (de and en) with their assets into out_dir;
    returns the files written. Needs no network; the pages load nothing from third parties."""
    out_dir = Path(out_dir)
    written: list[Path] = copy_assets(out_dir / "assets")
    for level in (Level.STATE, Level.DISTRICT):
        body = script_safe(basemap.layer(settings.data_dir, level).body.decode("utf-8"))
        js = f"window.POI_BASEMAP = window.POI_BASEMAP || {{}};\nwindow.POI_BASEMAP[{level.value!r}] = {body};\n"
        _write(out_dir / "assets" / "basemap" / f"{level.value}.js", js, written)
    scripts = ("assets/basemap/state.js", "assets/basemap/district.js")
    spec: dict[str, Any] = {"state": {"global": "state"}, "district": {"global": "district"}}

    places = places_payload(select_places(store, PlaceFilter()), Vocabulary.from_settings(settings))
    members = members_payload(store.memberships.iter_all(), Boundaries.load(settings.data_dir))
    munis = _municipalities(settings.data_dir, places)
    places_target = Target(
        asset_urls("assets", versioned=False),
        static=True,
        basemap={**spec, "municipality": {"inline": munis}} if munis else spec,
        scripts=scripts,
    )
    alliance_target = Target(
        asset_urls("assets", versioned=False), static=True, basemap=spec, scripts=scripts
    )
    links = []
    for lang in LANGS:
        sfx = _suffix(lang)
        t = texts(lang)
        page = places_page(
            settings, places_target, lang=lang, nav=_nav(lang, "places"), data=places, frame_ancestors=None
        )
        _write(out_dir / f"places{sfx}.html", page.html, written)
        page = places_page(
            settings,
            places_target,
            lang=lang,
            nav=[],
            data=places,
            embed=True,
            full_map_url=f"places{sfx}.html",
            frame_ancestors=None,
        )
        _write(out_dir / f"embed{sfx}.html", page.html, written)
        page = alliance_page(
            settings,
            alliance_target,
            lang=lang,
            nav=_nav(lang, "alliance"),
            data=members,
            frame_ancestors=None,
        )
        _write(out_dir / f"alliance{sfx}.html", page.html, written)
        for name, key in (
            ("places", "places_title"),
            ("embed", "embed_title"),
            ("alliance", "alliance_title"),
        ):
            links.append(f'<li lang="{lang}"><a href="{name}{sfx}.html">{escape(t[key])}</a></li>')
    index = (
        '<!DOCTYPE html>\n<html lang="de">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>Karten / Maps</title>\n'
        '<link rel="stylesheet" href="assets/poi-maps/maps.css">\n</head>\n<body class="poi-page poi-doc">\n'
        '<main class="poi-doc-main">\n<h1>Karten / Maps</h1>\n<ul>\n'
        + "\n".join(links)
        + "\n</ul>\n</main>\n</body>\n</html>\n"
    )
    _write(out_dir / "index.html", index, written)
    return written
