"""Interactive maps for notebooks that work offline: the service's own self-hosted Leaflet (the
xstatic-leaflet files it serves), inlined as data: URLs, never folium's CDN defaults; no tiles.

Markers are drawn as circle markers: Leaflet's default marker icon is an image resolved relative to its
stylesheet, which an inlined stylesheet does not have.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from html import escape
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
import shapely
import shapely.geometry

from poi_service.attribution import DATA_ATTRIBUTIONS
from poi_service.boundaries import Boundaries, Level
from poi_service.maps.assets import find
from poi_service.maps.page import offline_map as offline_map_class

HEIGHT_PX = 480
SIMPLIFY_DEG = 0.0005  # about 50 m: below what the map shows at street zoom


def _data_url(package: str, name: str) -> str:
    found = find(package, name)
    if found is None:
        raise FileNotFoundError(f"self-hosted asset {package}/{name} is missing")
    path, media = found
    return f"data:{media.split(';')[0]};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def offline_map(center: tuple[float, float], zoom: int = 13, *, label: str = "Karte") -> folium.Map:
    """A folium map (center = (lat, lon)) whose only scripts and styles are the inlined self-hosted
    Leaflet files; the data credits go into the attribution control."""
    js = [("leaflet", _data_url("leaflet", "leaflet.js"))]
    css = [("leaflet_css", _data_url("leaflet", "leaflet.css"))]
    m: folium.Map = offline_map_class()(
        aria_label=label,
        js=js,
        css=css,
        location=list(center),
        zoom_start=zoom,
        control_scale=True,
        maxZoom=19,
        minZoom=5,
        attr=" | ".join(DATA_ATTRIBUTIONS),
    )
    style = f"<style>.poi-map {{ width: 100%; height: {HEIGHT_PX}px; background: #f4f1ea; }}</style>"
    root = m.get_root()
    assert isinstance(root, folium.Figure)
    root.header.add_child(folium.Element(style), name="poi_map_style")
    root.header.add_child(folium.Element(_attribution_script(m.get_name())), name="poi_attrib")
    return m


def _attribution_script(map_name: str) -> str:
    # tiles=None leaves Leaflet's attribution control empty; the shipped data must still be credited.
    lines = ";".join(
        f"{map_name}.attributionControl.addAttribution({_js(text)})" for text in DATA_ATTRIBUTIONS
    )
    return f"<script>window.addEventListener('load', function () {{ {lines}; }});</script>"


def _js(text: str) -> str:
    return json.dumps(text).replace("<", "\\u003c")


def add_boundaries(m: folium.Map, data_dir: Path, bbox: tuple[float, float, float, float]) -> None:
    """Municipality outlines (the shipped BKG boundaries, simplified) meeting bbox (minx, miny, maxx, maxy)."""
    box = shapely.box(*bbox)
    areas = [
        a
        for a in Boundaries.load(data_dir).areas
        if a.level == Level.MUNICIPALITY and a.geometry.intersects(box)
    ]
    features = [
        {
            "type": "Feature",
            "properties": {"ags": a.ags, "name": a.name},
            "geometry": shapely.geometry.mapping(
                shapely.simplify(a.geometry, SIMPLIFY_DEG, preserve_topology=True)
            ),
        }
        for a in areas
    ]
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name="Gemeinden",
        style_function=lambda _: {"color": "#555", "weight": 1, "fillColor": "#e8e4da", "fillOpacity": 0.5},
        tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["Gemeinde"]),
    ).add_to(m)


def add_points(
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    *,
    label: str = "name",
    fields: Iterable[str] = (),
    color: str = "#b03a2e",
    radius: int = 6,
) -> None:
    """One circle marker per point with a tooltip: the label in bold, then the given fields.

    Tooltips, not popups: folium's HTML popups need jQuery, which the offline map does not load.
    """
    for _, row in gdf.iterrows():
        lines = [f"<b>{_escape(row[label])}</b>"]
        lines += [f"{_escape(f)}: {_escape(row[f])}" for f in fields if not pd.isna(row[f])]
        folium.CircleMarker(
            location=[row.geometry.y, row.geometry.x],
            radius=radius,
            color=color,
            weight=2,
            fill=True,
            fill_opacity=0.8,
            tooltip=folium.Tooltip("<br>".join(lines), sticky=True),
        ).add_to(m)


def _escape(value: Any) -> str:
    return escape("" if value is None or value is pd.NA else str(value))


def external_urls(html: str) -> list[str]:
    """The http(s) URLs a page would load scripts or stylesheets from (empty for an offline map)."""
    return re.findall(r"""<(?:script|link)[^>]*(?:src|href)=["']?(https?://[^"' >]+)""", html, re.IGNORECASE)


def offline_problems(html: str) -> list[str]:
    """Why a rendered map would not work offline: external scripts or stylesheets, or code that needs a
    library the page does not load (jQuery's $, used by folium's HTML popups)."""
    problems = [f"loads {url}" for url in external_urls(html)]
    if re.search(r"(?<![\w.])\$\(", html) or "jQuery" in html:
        problems.append("uses jQuery, which is not loaded")
    return problems
