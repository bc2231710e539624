"""Interactive maps: the resident map, the embeddable widget and the alliance membership map, rendered
with Folium and self-hosted Leaflet assets, served by the API or written as static files."""

from __future__ import annotations

from poi_service.maps.static_build import build_static_maps

__all__ = ["build_static_maps"]
