"""The three maps as pages, for the running service (data fetched from it) and for static files
(data inline, assets and basemap beside the file)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from poi_service.categories import Vocabulary
from poi_service.config import Settings
from poi_service.maps.assets import AssetUrls
from poi_service.maps.i18n import ALLIANCE, Lang, texts
from poi_service.maps.page import Page, folium_parts, render

OTHER: dict[Lang, Lang] = {"de": "en", "en": "de"}
LANG_NAME: dict[Lang, str] = {"de": "Deutsch", "en": "English"}
NOSCRIPT: dict[Lang, str] = {
    "de": "Die Karte und die Liste brauchen JavaScript. Die Daten gibt es auch als GeoJSON: /places, "
    "/alliance/members.",
    "en": "The map and the list need JavaScript. The data is also available as GeoJSON: /places, "
    "/alliance/members.",
}
NAV_LABEL: dict[Lang, str] = {"de": "Sprache und weitere Karten", "en": "Language and other maps"}


@dataclass(frozen=True)
class Target:
    """Where a page gets its assets, data and basemap: the service, or files beside a static page."""

    assets: AssetUrls
    static: bool = False
    basemap: dict[str, Any] = field(default_factory=dict)  # level -> {"url"|"inline"|"global": ...}
    scripts: tuple[str, ...] = ()  # extra <script src> before the map scripts (static basemap files)


@dataclass(frozen=True)
class Link:
    """A navigation link of the page header."""

    href: str
    text: str
    lang: str | None = None


def served_basemap(with_municipalities: bool = True) -> dict[str, Any]:
    """The basemap levels fetched from the service's compact GeoJSON endpoints."""
    spec: dict[str, Any] = {
        "state": {"url": "/maps/basemap/state.json"},
        "district": {"url": "/maps/basemap/district.json"},
    }
    if with_municipalities:
        spec["municipality"] = {"url": "/maps/basemap/municipality.json"}
    return spec


def places_page(
    settings: Settings,
    target: Target,
    *,
    lang: Lang,
    nav: list[Link],
    data: dict[str, Any] | None = None,
    data_url: str | None = None,
    embed: bool = False,
    q: str = "",
    categories: tuple[str, ...] = (),
    center: tuple[float, float] | None = None,
    zoom: int | None = None,
    radius_m: float | None = None,
    full_map_url: str | None = None,
    frame_ancestors: str | None = "'self'",
) -> Page:
    """The resident map (embed=False) or the embeddable widget (embed=True)."""
    t = texts(lang)
    parts = folium_parts(
        target.assets,
        label=t["map_label"],
        cluster=True,
        center=center or (51.16, 10.45),
        zoom=zoom or (13 if center else 6),
    )
    config = {
        "page": "embed" if embed else "places",
        "data": data,
        "dataUrl": data_url,
        "basemap": target.basemap,
        "filter": {"categories": list(categories)},
        "view": {"center": list(center) if center else None, "zoom": zoom, "radius_m": radius_m},
    }
    return render(
        "embed.html" if embed else "places.html",
        lang=lang,
        assets=target.assets,
        parts=parts,
        config=config,
        settings=settings,
        frame_ancestors=frame_ancestors,
        meta_csp=target.static,
        page="embed" if embed else "places",
        title=t["embed_title" if embed else "places_title"],
        nav=nav,
        nav_label=NAV_LABEL[lang],
        q=q,
        full_map_url=full_map_url,
        noscript=NOSCRIPT[lang],
        extra_scripts=target.scripts,
        preload=data_url,
    )


def alliance_page(
    settings: Settings,
    target: Target,
    *,
    lang: Lang,
    nav: list[Link],
    data: dict[str, Any] | None = None,
    data_url: str | None = None,
    frame_ancestors: str | None = "'self'",
) -> Page:
    """The membership map with choropleth, year slider, legend and table."""
    t = texts(lang)
    parts = folium_parts(target.assets, label=t["map_label"], cluster=False)
    config = {
        "page": "alliance",
        "data": data,
        "dataUrl": data_url,
        "basemap": target.basemap,
        "states": target.basemap.get("state"),
    }
    alliances = [{"code": code, "label": label} for code, label in ALLIANCE[lang].items()]
    return render(
        "alliance.html",
        lang=lang,
        assets=target.assets,
        parts=parts,
        config=config,
        settings=settings,
        frame_ancestors=frame_ancestors,
        meta_csp=target.static,
        page="alliance",
        title=t["alliance_title"],
        nav=nav,
        nav_label=NAV_LABEL[lang],
        alliances=alliances,
        noscript=NOSCRIPT[lang],
        extra_scripts=target.scripts,
        preload=data_url,
    )


def category_options(vocabulary: Vocabulary, lang: Lang) -> list[dict[str, str]]:
    """Category slugs and labels for the embed help form."""
    return [
        {"slug": c.slug, "label": c.label_de if lang == "de" else c.label_en} for c in vocabulary.categories
    ]


EMBED_HELP: dict[Lang, dict[str, Any]] = {
    "de": {
        "intro": "Binden Sie die Karte mit diesem iframe in Ihre Website ein. Karte, Skripte und Daten kommen "
        "von diesem Dienst; Dritte erhalten keine Anfragen.",
        "snippet": "Code zum Kopieren",
        "configure": "Karte anpassen",
        "all": "alle Kategorien",
        "center": "Mittelpunkt (Breite,Länge)",
        "zoom": "Zoomstufe (3–19)",
        "radius": "Umkreis in Metern",
        "language": "Sprache",
        "update": "Code aktualisieren",
        "parameters": "Parameter",
        "preview": "Vorschau",
        "privacy": "Datenschutz und Einbettung",
        "params": [
            ("category", "Kategorie(n), z. B. church; mehrere mit Komma."),
            ("center", "Mittelpunkt als Breite,Länge (WGS84), z. B. 54.7925,9.4096."),
            ("zoom", "Anfangszoom 3–19."),
            ("radius_m", "Nur Orte in diesem Umkreis um center (Meter)."),
            ("q", "Suchwörter in Name oder Adresse."),
            ("lang", "de oder en."),
        ],
        "privacy_notes": [
            "Ohne konfigurierten Kachelserver lädt die Karte nichts von Dritten.",
            "Ist ein Kachelserver konfiguriert, wird er erst nach zwei Klicks (Einwilligung) angefragt.",
            'Für die Standortfunktion im iframe ergänzen Sie allow="geolocation".',
        ],
        "allowed": "Einbetten erlaubt für (POI_FRAME_ANCESTORS):",
    },
    "en": {
        "intro": "Embed the map in your website with this iframe. Map, scripts and data come from this service; "
        "no third party receives a request.",
        "snippet": "Code to copy",
        "configure": "Configure the map",
        "all": "all categories",
        "center": "Centre (lat,lon)",
        "zoom": "Zoom level (3–19)",
        "radius": "Radius in metres",
        "language": "Language",
        "update": "Update the code",
        "parameters": "Parameters",
        "preview": "Preview",
        "privacy": "Privacy and embedding",
        "params": [
            ("category", "Category slug(s), e.g. church; several comma-separated."),
            ("center", "Centre as lat,lon (WGS84), e.g. 54.7925,9.4096."),
            ("zoom", "Initial zoom 3-19."),
            ("radius_m", "Only places within this radius of center (metres)."),
            ("q", "Words in the name or address."),
            ("lang", "de or en."),
        ],
        "privacy_notes": [
            "Without a configured tile server the map loads nothing from third parties.",
            "With a tile server configured, it is only contacted after two clicks (consent).",
            'For the locate-me button inside the iframe, add allow="geolocation".',
        ],
        "allowed": "Embedding allowed for (POI_FRAME_ANCESTORS):",
    },
}


def snippet(embed_url: str, title: str) -> str:
    """The copy-paste iframe (shown escaped on the help page)."""
    return (
        f'<iframe src="{embed_url}" title="{title}" width="100%" height="450" loading="lazy"\n'
        f'        referrerpolicy="strict-origin-when-cross-origin" style="border:0"></iframe>'
    )


def lang_links(lang: Lang, href_other: str, maps: list[tuple[str, str]]) -> list[Link]:
    """Header links: the other language first, then the other maps."""
    other = OTHER[lang]
    return [Link(href_other, LANG_NAME[other], other), *(Link(h, text) for h, text in maps)]
