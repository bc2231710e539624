"""The landing page for browsers: where the maps, the API documentation and the GIS endpoint are."""

from __future__ import annotations

from typing import Any

from poi_service import __version__
from poi_service.maps import assets
from poi_service.maps.i18n import Lang, texts
from poi_service.maps.page import render_plain
from poi_service.maps.pages import LANG_NAME, OTHER

TEXT: dict[Lang, dict[str, str]] = {
    "de": {
        "title": "Orte und Sichere Häfen",
        "intro": "Ein Verzeichnis der Orte einer Gemeinde und der Mitglieder der Bündnisse Sicherer Häfen, "
        "mit Karten und einer offenen Schnittstelle. Alles läuft auf diesem Server; es werden keine Dritten "
        "angefragt.",
        "maps": "Karten",
        "data": "Daten und Schnittstellen",
        "docs": "API-Dokumentation (OpenAPI)",
        "ogc": "OGC API – Features für QGIS, GDAL und ArcGIS",
        "places": "Orte als GeoJSON",
        "members": "Mitgliedschaften als GeoJSON",
        "stats": "Zahlen je Bündnis, Land und Jahr",
        "downloads": "Downloads",
        "about": "Quellen und Lizenzen",
        "health": "Status",
    },
    "en": {
        "title": "Places and Safe Harbours",
        "intro": "A directory of a municipality's places and of the members of the Safe Harbours alliances, "
        "with maps and an open API. Everything runs on this server; no third party is contacted.",
        "maps": "Maps",
        "data": "Data and APIs",
        "docs": "API documentation (OpenAPI)",
        "ogc": "OGC API – Features for QGIS, GDAL and ArcGIS",
        "places": "Places as GeoJSON",
        "members": "Memberships as GeoJSON",
        "stats": "Counts per alliance, state and year",
        "downloads": "Downloads",
        "about": "Sources and licences",
        "health": "Status",
    },
}


def landing_html(root: str, lang: Lang) -> str:
    """The page in one language; links are relative to the service's root path."""
    t, l_ = texts(lang), TEXT[lang]
    maps = [
        {"href": f"{root}/maps/places?lang={lang}", "text": t["places_title"]},
        {"href": f"{root}/maps/alliance?lang={lang}", "text": t["alliance_title"]},
        {"href": f"{root}/embed?lang={lang}", "text": t["embed_help_title"]},
    ]
    data: list[dict[str, Any]] = [
        {"href": f"{root}/docs", "text": l_["docs"]},
        {"href": f"{root}/ogc", "text": l_["ogc"]},
        {"href": f"{root}/places", "text": l_["places"], "note": "/places"},
        {"href": f"{root}/alliance/members", "text": l_["members"], "note": "/alliance/members"},
        {"href": f"{root}/alliance/stats", "text": l_["stats"], "note": "/alliance/stats"},
        {"href": f"{root}/export/places.csv", "text": f"{l_['downloads']}: places.csv"},
        {"href": f"{root}/export/memberships.geojson", "text": f"{l_['downloads']}: memberships.geojson"},
        {"href": f"{root}/about", "text": l_["about"]},
        {"href": f"{root}/health", "text": l_["health"]},
    ]
    other = OTHER[lang]
    return render_plain(
        "landing.html",
        lang=lang,
        l=l_,
        assets=assets.asset_urls(root + "/static"),
        version=__version__,
        sections=[{"heading": l_["maps"], "links": maps}, {"heading": l_["data"], "links": data}],
        other=other,
        other_name=LANG_NAME[other],
        other_href=f"{root}/?lang={other}",
    )
