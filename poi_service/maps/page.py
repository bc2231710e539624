"""Page rendering: a Folium map object with self-hosted assets inside the service's own accessible page
templates, plus the strict Content-Security-Policy that matches the rendered page."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from poi_service.attribution import DATA_ATTRIBUTIONS
from poi_service.config import Settings
from poi_service.maps.assets import AssetUrls
from poi_service.maps.html import content_security_policy, linkify, script_json, tile_host
from poi_service.maps.i18n import Lang, texts

TEMPLATES = Path(__file__).with_name("templates")
GERMANY = (51.16, 10.45)
MAP_ID = "poi"  # folium names the map variable map_poi: stable output, stable CSP hash

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True
)


@lru_cache(maxsize=1)
def offline_map() -> type[Any]:
    """The folium.Map subclass below, made on first use: importing folium (and the pandas it pulls in)
    costs ~0.4 s and ~90 MB, which a worker that renders no map page (or not yet, while it starts and
    must answer /health) need not pay."""
    import folium
    from folium.template import Template

    class OfflineMap(folium.Map):  # type: ignore[misc]
        """folium.Map without folium's CDN defaults (Leaflet, jQuery, Bootstrap, awesome-markers, Font Awesome),
        without its viewport meta that forbids zooming (WCAG 1.4.4) and without inline styles."""

        _template = Template(
            """
            {% macro header(this, kwargs) %}{% endmacro %}
            {% macro html(this, kwargs) %}
            <div class="folium-map poi-map" id={{ this.get_name()|tojson }} aria-label="{{ this.aria_label|e }}"
                 role="region"></div>
            {% endmacro %}
            {% macro script(this, kwargs) %}
                var {{ this.get_name() }} = L.map(
                    {{ this.get_name()|tojson }},
                    {
                        center: {{ this.location|tojson }},
                        crs: L.CRS.{{ this.crs }},
                        ...{{ this.options|tojavascript }}
                    }
                );
                {%- if this.control_scale %}
                L.control.scale({imperial: false}).addTo({{ this.get_name() }});
                {%- endif %}
            {% endmacro %}
            """
        )

        def __init__(
            self, *, aria_label: str, js: list[tuple[str, str]], css: list[tuple[str, str]], **kwargs: Any
        ) -> None:
            super().__init__(tiles=None, **kwargs)
            self._id = MAP_ID
            self.aria_label = aria_label
            self.default_js = js
            self.default_css = css

    return OfflineMap


@dataclass(frozen=True, slots=True)
class MapParts:
    """The rendered pieces of a folium figure: <head> links, the map <div>, the map-creating script."""

    name: str
    header: str
    html: str
    script: str


@lru_cache(maxsize=64)  # the same few views again and again; rendering a folium figure takes ~20 ms
def folium_parts(
    assets: AssetUrls,
    *,
    label: str,
    cluster: bool,
    center: tuple[float, float] = GERMANY,
    zoom: int = 6,
    min_zoom: int = 3,
) -> MapParts:
    """Builds the Folium map with self-hosted Leaflet (and markercluster) and renders its parts."""
    js = [("leaflet", assets.leaflet_js)]
    css = [("leaflet_css", assets.leaflet_css)]
    if cluster:
        js.append(("markercluster", assets.cluster_js))
        css.append(("markercluster_css", assets.cluster_css))
    from branca.element import Figure

    m = offline_map()(
        aria_label=label,
        js=js,
        css=css,
        location=list(center),
        zoom_start=zoom,
        control_scale=True,
        maxZoom=19,
        minZoom=min_zoom,
    )
    figure = m.get_root()
    assert isinstance(figure, Figure)
    figure.header._children.pop("meta_http", None)  # the page template writes <meta charset>
    figure.render()
    return MapParts(m.get_name(), figure.header.render(), figure.html.render(), figure.script.render())


def attribution_html(lang: Lang) -> str:
    """The data credits for the attribution control: a visible summary and every full line."""
    items = "".join(f"<li>{linkify(line)}</li>" for line in DATA_ATTRIBUTIONS)
    summary = texts(lang)["attribution_summary"]
    return f'<details class="poi-credits"><summary>{linkify(summary)}</summary><ul>{items}</ul></details>'


def tiles_config(settings: Settings) -> dict[str, str] | None:
    """The operator's tile server for the consent control, or None (vector basemap only)."""
    if not settings.tile_url:
        return None
    return {
        "url": settings.tile_url,
        "host": tile_host(settings.tile_url),
        "attribution": linkify(settings.tile_attribution),
    }


@dataclass(frozen=True, slots=True)
class Page:
    """A rendered map page and the CSP header value that goes with it."""

    html: str
    csp: str


def render(
    template: str,
    *,
    lang: Lang,
    assets: AssetUrls,
    parts: MapParts,
    config: dict[str, Any],
    settings: Settings,
    frame_ancestors: str | None,
    meta_csp: bool = False,
    **context: Any,
) -> Page:
    """Renders a page template; with meta_csp the policy is also written into a <meta> tag (static files)."""
    config = {
        **config,
        "lang": lang,
        "t": texts(lang),
        "map": parts.name,
        "attribution": attribution_html(lang),
        "tiles": tiles_config(settings),
    }
    values = dict(
        context,
        lang=lang,
        t=texts(lang),
        assets=assets,
        map_header=Markup(parts.header),
        map_html=Markup(parts.html),
        map_script=Markup(parts.script),
        config_json=Markup(script_json(config)),
    )
    tmpl = _env.get_template(template)
    html = tmpl.render(values, meta_csp=None)
    self_source = "'self'"
    policy = content_security_policy(
        html, tile_url=settings.tile_url, frame_ancestors=frame_ancestors, self_source=self_source
    )
    if meta_csp:
        meta = content_security_policy(html, tile_url=settings.tile_url, frame_ancestors=None)
        html = tmpl.render(values, meta_csp=meta)
    return Page(html, policy)


def render_plain(template: str, **context: Any) -> str:
    """A page without a map (the embed help page)."""
    return _env.get_template(template).render(context)
