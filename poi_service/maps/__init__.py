"""Interactive maps: the resident map, the embeddable widget and the alliance membership map, rendered
with Folium and self-hosted Leaflet assets, served by the API or written as static files."""

from __future__ import annotations

from typing import Any

__all__ = ["build_static_maps"]


def __getattr__(name: str) -> Any:
    # Imported on use: the page renderer pulls in folium, which the API's workers import only when
    # they render a page (poi_service/maps/page.py).
    if name == "build_static_maps":
        from poi_service.maps.static_build import build_static_maps

        return build_static_maps
    raise AttributeError(name)
