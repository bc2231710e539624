"""Analysts' API: typed GeoDataFrames (EPSG:4326) of memberships and places from a store or a running
service, the shipped boundaries and gazetteer, population joins and the official alliance counts.

Plotting lives in poi_service.analysis.figures (needs matplotlib, the 'analysis' extra) and offline
interactive maps in poi_service.analysis.webmap; neither is imported here.
"""

from __future__ import annotations

from poi_service.analysis.client import PoiClient, PoiClientError
from poi_service.analysis.loaders import (
    open_shipped_store,
    read_districts,
    read_gazetteer,
    read_memberships,
    read_municipalities,
    read_places,
    read_states,
)
from poi_service.analysis.official import (
    BUENDNIS_TIMELINE,
    OFFICIAL_TOTALS,
    SOURCE_NOTE,
    OfficialCount,
)
from poi_service.analysis.population import (
    covered_ags,
    member_population,
    members_per_state,
    state_population,
    with_state_figures,
)
from poi_service.analysis.service import LocalService
from poi_service.analysis.spatial import (
    coordinator_network,
    distance_by_state,
    distance_to_nearest_member,
    nearest_coordinator,
)
from poi_service.analysis.timeline import cumulative_members, dataset_vs_official, join_years

__all__ = [
    "BUENDNIS_TIMELINE",
    "OFFICIAL_TOTALS",
    "SOURCE_NOTE",
    "LocalService",
    "OfficialCount",
    "PoiClient",
    "PoiClientError",
    "coordinator_network",
    "covered_ags",
    "cumulative_members",
    "dataset_vs_official",
    "distance_by_state",
    "distance_to_nearest_member",
    "join_years",
    "member_population",
    "members_per_state",
    "nearest_coordinator",
    "open_shipped_store",
    "read_districts",
    "read_gazetteer",
    "read_memberships",
    "read_municipalities",
    "read_places",
    "read_states",
    "state_population",
    "with_state_figures",
]
