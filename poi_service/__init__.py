"""poi-service: a geospatial points-of-interest directory with a nearby/within-area API and maps.

The analyst API (GeoDataFrame loaders, an HTTP client, population joins) is re-exported here and
imported on first use, so the CLI and the server do not pay for geopandas and httpx at start-up.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_ANALYSIS = (
    "PoiClient",
    "members_per_state",
    "read_districts",
    "read_gazetteer",
    "read_memberships",
    "read_municipalities",
    "read_places",
    "read_states",
)
__all__ = [
    "PoiClient",
    "__version__",
    "members_per_state",
    "read_districts",
    "read_gazetteer",
    "read_memberships",
    "read_municipalities",
    "read_places",
    "read_states",
]

if TYPE_CHECKING:
    from poi_service.analysis import (
        PoiClient,
        members_per_state,
        read_districts,
        read_gazetteer,
        read_memberships,
        read_municipalities,
        read_places,
        read_states,
    )


def __getattr__(name: str) -> Any:
    if name in _ANALYSIS:
        return getattr(import_module("poi_service.analysis"), name)
    raise AttributeError(f"module 'poi_service' has no attribute {name!r}")
